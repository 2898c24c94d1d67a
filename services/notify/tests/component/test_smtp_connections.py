"""The mailer keeps its SMTP connections between messages, against a real server (aiosmtpd)."""
from aiosmtpd.controller import Controller

from notify.adapters import smtp as smtp_adapter
from notify.adapters.smtp import SmtpMailer
from trip_shared.embedded import free_port


class Sessions:
    """Which client connection (its port) carried each message."""

    def __init__(self) -> None:
        self.peers: list[tuple[str, int]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.peers.append(session.peer)
        return "250 OK"


def server(handler: Sessions, port: int) -> Controller:
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return controller


async def send(mailer: SmtpMailer, number: int) -> str:
    return await mailer.send(notification_id=f"n{number}", recipient=f"c{number}@example.com",
                             subject=f"Message {number}", body="Hello", headers={})


async def test_messages_in_a_row_share_one_connection_until_the_mailer_closes():
    port, sessions = free_port(), Sessions()
    controller = server(sessions, port)
    mailer = SmtpMailer("127.0.0.1", port, "Agency <desk@agency.example>")
    try:
        for number in range(3):
            await send(mailer, number)
        assert len(sessions.peers) == 3 and len(set(sessions.peers)) == 1
        mailer.close()
        await send(mailer, 3)
        assert len(set(sessions.peers)) == 2, "a closed mailer opens a new connection"
    finally:
        mailer.close()
        controller.stop()


async def test_a_connection_the_server_dropped_is_replaced_and_the_message_still_goes():
    port, first, second = free_port(), Sessions(), Sessions()
    controller = server(first, port)
    mailer = SmtpMailer("127.0.0.1", port, "Agency <desk@agency.example>")
    try:
        await send(mailer, 1)
        controller.stop()  # the kept connection is cut
        controller = server(second, port)
        await send(mailer, 2)
        assert len(first.peers) == 1 and len(second.peers) == 1
    finally:
        mailer.close()
        controller.stop()


async def test_a_connection_idle_too_long_is_not_reused(monkeypatch):
    monkeypatch.setattr(smtp_adapter, "IDLE_CONNECTION_S", 0.0)
    port, sessions = free_port(), Sessions()
    controller = server(sessions, port)
    mailer = SmtpMailer("127.0.0.1", port, "Agency <desk@agency.example>")
    try:
        await send(mailer, 1)
        await send(mailer, 2)
        assert len(set(sessions.peers)) == 2
    finally:
        mailer.close()
        controller.stop()
