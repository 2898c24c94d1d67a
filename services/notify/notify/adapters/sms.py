"""Sending a text message through the SMS provider's HTTP API (Twilio's shape; see trip_shared.sms_provider)."""
from __future__ import annotations

import httpx

from trip_shared.sms_provider import API_VERSION, signature_matches

# The provider's error codes that say this message can never go, whatever is retried: not a valid or not a mobile
# number, a region the account may not send to, a recipient who replied STOP, an empty or too long body.
PERMANENT_ERRORS = {21211, 21214, 21408, 21602, 21610, 21612, 21614, 21617}


class SmsFailed(Exception):
    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class SmsSender:
    def __init__(self, api_url: str, account_sid: str, auth_token: str, sender: str,
                 timeout_s: float = 10.0) -> None:
        self._url = f"{api_url.rstrip('/')}/{API_VERSION}/Accounts/{account_sid}/Messages.json"
        self._auth = (account_sid, auth_token)
        self._auth_token = auth_token
        # A Messaging Service (MG…) picks the sending number per destination; otherwise it is the number itself.
        self._sender = {"MessagingServiceSid": sender} if sender.startswith("MG") else {"From": sender}
        self._timeout_s = timeout_s

    async def send(self, *, to: str, body: str, status_callback: str | None) -> str:
        """The provider's id for the message (its ``sid``), once it has accepted it."""
        form = {"To": to, "Body": body, **self._sender}
        if status_callback:
            form["StatusCallback"] = status_callback
        try:
            async with httpx.AsyncClient(timeout=self._timeout_s, follow_redirects=False) as client:
                response = await client.post(self._url, data=form, auth=self._auth)
        except httpx.HTTPError as exc:
            raise SmsFailed(f"{type(exc).__name__}: {exc}", permanent=False) from exc
        if response.status_code in (200, 201):
            return response.json()["sid"]
        try:
            error = response.json()
        except ValueError:
            error = {}
        code = error.get("code")
        raise SmsFailed(f"HTTP {response.status_code} {code or ''}: {error.get('message') or response.text[:200]}",
                        permanent=code in PERMANENT_ERRORS)

    def report_is_genuine(self, url: str, params: dict[str, str], signature: str | None) -> bool:
        """A delivery report really from the provider: signed with this account's token over the URL we gave."""
        return signature_matches(self._auth_token, url, params, signature)
