"""Text messages through a provider speaking Twilio's Programmable Messaging API, and a local stand-in for it.

The API notify speaks (https://www.twilio.com/docs/messaging/api/message-resource):

    POST {api}/2010-04-01/Accounts/{AccountSid}/Messages.json      HTTP basic auth: AccountSid / AuthToken
         To=+447700900123 & From=+447700900000 (or MessagingServiceSid=MG…) & Body=… & StatusCallback=<url>
    201  {"sid": "SM…", "status": "queued", …}
    4xx  {"code": 21211, "message": "The 'To' number … is not a valid phone number.", "status": 400}

The provider then reports each message's fate to its ``StatusCallback``: a form POST with ``MessageSid``,
``MessageStatus`` (queued, sent, delivered, undelivered, failed) and, when it failed, ``ErrorCode``, signed in
``X-Twilio-Signature``: base64 of HMAC-SHA1, keyed with the auth token, over the callback URL followed by every
posted parameter, sorted by name, as name and value with nothing between.

:class:`LocalSmsProvider` is that API on this machine, for tests and ``make up`` (no SMS leaves it): it checks the
credentials and the number, records every message (in memory and, given a path, one JSON line each), and reports
each one ``sent`` and then ``delivered`` to its callback, signed as the real one signs. A number starting ``+99``
(a country code no one has) is reported ``undelivered`` (error 30003, unreachable handset), so a bounce can be
tried. Run it alone with ``python -m trip_shared.sms_provider --port 8125``.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
import urllib.request
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

SIGNATURE_HEADER = "X-Twilio-Signature"
API_VERSION = "2010-04-01"
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
UNREACHABLE_PREFIX = "+99"
MESSAGES_PATH = re.compile(rf"^/{API_VERSION}/Accounts/(?P<account>[^/]+)/Messages\.json$")


def request_signature(auth_token: str, url: str, params: dict[str, str]) -> str:
    """What the provider puts in ``X-Twilio-Signature`` for a form POST of ``params`` to ``url``."""
    signed = url + "".join(f"{name}{params[name]}" for name in sorted(params))
    return base64.b64encode(hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()).decode()


def signature_matches(auth_token: str, url: str, params: dict[str, str], given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(request_signature(auth_token, url, params), given or "")


class LocalSmsProvider:
    """A real HTTP server with the provider's API; ``messages`` holds what it was asked to send."""

    def __init__(self, account_sid: str, auth_token: str, *, port: int = 0, log_path: str | Path | None = None,
                 report_delay_s: float = 0.05) -> None:
        self.account_sid, self.auth_token = account_sid, auth_token
        self.messages: list[dict] = []
        self.reports: list[dict] = []  # the status callbacks it made, with the answer each got
        self.log_path = Path(log_path) if log_path else None
        self.report_delay_s = report_delay_s
        self._lock = threading.Lock()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's hook name)
                form = dict(parse_qsl(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode(),
                                      keep_blank_values=True))
                status, answer = provider._create(self.path, self.headers.get("Authorization"), form)
                self._answer(status, answer)

            def do_GET(self):  # noqa: N802
                match = MESSAGES_PATH.match(self.path.split("?")[0])
                if not match or not provider._authorised(self.headers.get("Authorization")):
                    self._answer(404 if not match else 401, _error(20404 if not match else 20003,
                                                                   "Not found" if not match else "Authenticate"))
                    return
                with provider._lock:
                    self._answer(200, {"messages": list(reversed(provider.messages))})

            def _answer(self, status: int, answer: dict) -> None:
                body = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):  # quiet: what it received is in messages and the log file
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def to(self, number: str) -> list[dict]:
        with self._lock:
            return [message for message in self.messages if message["to"] == number]

    def _authorised(self, header: str | None) -> bool:
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return bool(header) and hmac.compare_digest(header or "", expected)

    def _create(self, path: str, authorization: str | None, form: dict[str, str]) -> tuple[int, dict]:
        match = MESSAGES_PATH.match(path.split("?")[0])
        if not match:
            return 404, _error(20404, f"The requested resource {path} was not found")
        if match["account"] != self.account_sid or not self._authorised(authorization):
            return 401, _error(20003, "Authenticate")
        to, body = form.get("To", ""), form.get("Body", "")
        if not E164.match(to):
            return 400, _error(21211, f"The 'To' number {to} is not a valid phone number.")
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return 400, _error(21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message.")
        if not body.strip():
            return 400, _error(21602, "Message body is required.")
        if len(body) > 1600:
            return 400, _error(21617, "The concatenated message body exceeds the 1600 character limit.")
        message = {"sid": "SM" + secrets.token_hex(16), "account_sid": self.account_sid, "to": to,
                   "from": form.get("From") or None, "messaging_service_sid": form.get("MessagingServiceSid"),
                   "body": body, "status": "queued", "num_segments": str(_segments(body)),
                   "date_created": formatdate(usegmt=True), "api_version": API_VERSION, "direction": "outbound-api",
                   "status_callback": form.get("StatusCallback") or None}
        with self._lock:
            self.messages.append(message)
            if self.log_path:
                with self.log_path.open("a", encoding="utf-8") as log:
                    log.write(json.dumps(message, ensure_ascii=False) + "\n")
        if message["status_callback"]:
            threading.Thread(target=self._report, args=(message,), daemon=True).start()
        return 201, {**message, "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{message['sid']}.json"}

    def _report(self, message: dict) -> None:
        """Tell the sender what became of the message, as the provider does: sent, then its fate."""
        fate = ("undelivered", "30003") if message["to"].startswith(UNREACHABLE_PREFIX) else ("delivered", None)
        for status, error_code in (("sent", None), fate):
            time.sleep(self.report_delay_s)
            params = {"MessageSid": message["sid"], "SmsSid": message["sid"], "AccountSid": self.account_sid,
                      "MessageStatus": status, "SmsStatus": status, "To": message["to"],
                      "From": message["from"] or "", "ApiVersion": API_VERSION}
            if error_code:
                params["ErrorCode"] = error_code
            url = message["status_callback"]
            request = urllib.request.Request(url, data=urlencode(params).encode(), method="POST", headers={
                "Content-Type": "application/x-www-form-urlencoded",
                SIGNATURE_HEADER: request_signature(self.auth_token, url, params)})
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    answer = response.status
            except Exception as exc:  # noqa: BLE001 (the provider logs its callback failures and moves on)
                answer = getattr(exc, "code", None) or type(exc).__name__
            with self._lock:
                self.reports.append({"sid": message["sid"], "status": status, "answer": answer})

    def __enter__(self) -> LocalSmsProvider:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


def _error(code: int, message: str) -> dict:
    status = 404 if code == 20404 else 401 if code == 20003 else 400
    return {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status}


def _segments(body: str) -> int:
    """GSM-7 text fits 153 characters a segment when split, anything else (Chinese) 67."""
    per, single = (153, 160) if all(ord(char) < 128 for char in body) else (67, 70)
    return 1 if len(body) <= single else -(-len(body) // per)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8125)
    parser.add_argument("--account-sid", default="AC" + "0" * 32)
    parser.add_argument("--auth-token", default=os.environ.get("SMS_AUTH_TOKEN"),
                        help="the account's token (default: $SMS_AUTH_TOKEN, which keeps it out of the process list)")
    parser.add_argument("--log", help="append each message here, one JSON line each")
    args = parser.parse_args()
    if not args.auth_token:
        parser.error("give the account's token: --auth-token or SMS_AUTH_TOKEN")
    with LocalSmsProvider(args.account_sid, args.auth_token, port=args.port, log_path=args.log) as provider:
        print(f"local SMS provider on {provider.url} (account {args.account_sid})", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
