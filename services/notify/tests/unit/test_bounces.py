"""Reading a mail server's delivery status notification (RFC 3464), as Postfix writes one."""
import pytest

from notify.domain.bounces import NotADeliveryReport, parse_report

POSTFIX = b"""From: MAILER-DAEMON@mx.example (Mail Delivery System)
To: trips@agency.example
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

This is the mail system at host mx.example. I'm sorry to have to inform you that your message could not be
delivered to one or more recipients.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example
Arrival-Date: Wed,  2 Dec 2026 17:00:00 +0000

Final-Recipient: rfc822; mei@example.com
Original-Recipient: rfc822;mei@example.com
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <mei@example.com>: Recipient address rejected

Final-Recipient: rfc822; bo@example.com
Action: delayed
Status: 4.4.1
Diagnostic-Code: X-Postfix; connect to mx.bo.example: Connection timed out

--B
Content-Type: text/rfc822-headers

From: Lotus & Maple Travel <trips@agency.example>
To: mei@example.com
Subject: Changes to your trip Kyoto in autumn
Message-ID: <trip_changes.changes.it-1.e1.c1@agency.example>
X-Notification-Id: trip_changes:changes:it-1:e1:c1

--B--
"""


def test_a_failed_recipient_is_a_bounce_with_the_servers_words_and_a_delay_is_nothing_yet():
    [bounce] = parse_report(POSTFIX)
    assert bounce.notification_id == "trip_changes:changes:it-1:e1:c1"
    assert bounce.message_id == "<trip_changes.changes.it-1.e1.c1@agency.example>"
    assert bounce.status == "bounced" and bounce.detail.startswith("5.1.1 smtp; 550 5.1.1")


def test_a_success_report_is_a_delivery():
    [delivered] = parse_report(POSTFIX.replace(b"Action: failed", b"Action: delivered"))
    assert delivered.status == "delivered"


def test_anything_but_a_delivery_report_is_refused():
    with pytest.raises(NotADeliveryReport):
        parse_report(b"Subject: out of office\n\nI am away until Monday.\n")
    with pytest.raises(NotADeliveryReport):
        parse_report(POSTFIX.split(b"--B\nContent-Type: text/rfc822-headers")[0] + b"--B--\n")


def test_a_report_about_mail_notify_did_not_send_names_nothing():
    assert parse_report(POSTFIX.replace(b"X-Notification-Id: trip_changes:changes:it-1:e1:c1\n", b"")) == []
