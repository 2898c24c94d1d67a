"""A trip approved the way its point of contact does it: from the link in the proposal e-mail (end-to-end tests)."""
from __future__ import annotations

import re
from pathlib import Path

import httpx

from trip_shared.testing.maildir import mails_to, subject, text_of
from trip_shared.testing.polling import eventually


def approve_from_the_email(api, maildir: Path, base: str, poc_email: str) -> None:
    """Plan and propose the trip at ``base`` (``/v1/itineraries/{id}``), then approve its one option as the POC
    at ``poc_email``, reading the link from the e-mail in the SMTP sink's Maildir."""
    api.ok("POST", "itinerary", f"{base}/stage", json={"stage": "planning"})
    proposal = api.ok("POST", "itinerary", f"{base}/proposals", 201, json={"options": [{"title": "As discussed"}]})
    [mail] = eventually(lambda: [m for m in mails_to(maildir, poc_email) if "proposal" in subject(m)
                                 or "的方案等待您确认" in subject(m)],  # in English or in Chinese
                        message="the POC never received the proposal")
    url = re.search(r"(http://\S+/proposals/\S+)", text_of(mail)).group(1)
    assert httpx.post(url, data={"action": "approve", "option": proposal["options"][0]["id"]}).status_code == 200
