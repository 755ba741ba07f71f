"""The apprise boundary: the idempotency key travels wherever the channel can carry it.

E-mail is checked against a real SMTP conversation on a local socket (what a mail relay
would receive); webhooks against a real HTTP receiver in test_alerting_end_to_end.
"""

from __future__ import annotations

import asyncio
import email
from email.message import Message

from alerting.channels import IDEMPOTENCY_HEADER, AppriseNotifier, channel
from chaos.sockets import LocalSocketServer
from eldercare.broker import free_port
from tests.alerting_support import WebhookReceiver

KEY = "01JDKEY.t1.contact:2"


class SmtpSink(LocalSocketServer):
    """Just enough SMTP to take one message: ``async with SmtpSink() as sink``."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def say(line: str) -> None:
            writer.write(f"{line}\r\n".encode())
            await writer.drain()

        await say("220 sink ready")
        while line := (await reader.readline()).decode().strip():
            verb = line.split()[0].upper()
            if verb == "EHLO":
                await say("250-sink")
                await say("250 AUTH PLAIN")
            elif verb == "AUTH":
                await say("235 welcome")
            elif verb == "DATA":
                await say("354 go on")
                data = b""
                while (chunk := await reader.readline()) != b".\r\n":
                    data += chunk
                self.messages.append(email.message_from_bytes(data))
                await say("250 queued")
            elif verb == "QUIT":
                await say("221 bye")
                break
            else:
                await say("250 ok")
        writer.close()


def test_the_key_rides_as_a_header_where_the_service_takes_headers() -> None:
    for url in (
        "json://hooks.example/a?x=1",
        "form://hooks.example/a",
        "xml://hooks.example/a",
        "mailto://u:p@example.com",
        "mailgun://u@ex.com/k/",
    ):
        plugin = channel(url, KEY)
        assert plugin is not None
        assert plugin.headers == {IDEMPOTENCY_HEADER: KEY}, url  # type: ignore[attr-defined]
    # SMS gateways and most push services have no headers: no key (the body names the alert)
    for url in ("ntfy://alerts", "tgram://123456789:abcdefg_hijklmnop/12315544/"):
        plugin = channel(url, KEY)
        assert plugin is not None and not getattr(plugin, "headers", None), url
    assert channel("nonsense://x", KEY) is None


async def test_an_email_carries_the_key_in_its_headers() -> None:
    async with SmtpSink() as sink:
        url = (
            f"mailto://care:pw@127.0.0.1:{sink.port}"
            "?from=care@example.com&to=liming@example.com&mode=insecure"
        )
        delivery = await AppriseNotifier().send(
            url, "【紧急】一键呼叫：张秀英", "告警编号 01JDKEY", KEY
        )
        assert delivery.ok, delivery.error
        [message] = sink.messages
    assert message[IDEMPOTENCY_HEADER] == KEY
    assert len(message.get_all("Message-ID") or []) == 1  # apprise's own, not a second one


SECRETS = ("s3cret", "token", "abc", "user", "inbox", "station", "://")


async def test_a_delivery_names_its_channel_without_the_url_or_its_secrets() -> None:
    """What a delivery records (and so every note, row and page after it) is the channel's
    kind and a masked target: delivered, refused by the provider, or nobody listening."""
    async with WebhookReceiver(failing={"/inbox/refused"}) as hooks:
        base = f"json://user:s3cret@127.0.0.1:{hooks.port}"
        closed = f"json://user:s3cret@127.0.0.1:{free_port()}/inbox/station?token=abc"
        deliveries = [
            await AppriseNotifier().send(f"{base}/inbox/station?token=abc", "t", "b", KEY),
            await AppriseNotifier().send(f"{base}/inbox/refused?token=abc", "t", "b", KEY),
            await AppriseNotifier().send(closed, "t", "b", KEY),
        ]
    assert [d.ok for d in deliveries] == [True, False, False]
    for delivery in deliveries:
        assert delivery.channel == "json …0.1"
        for secret in SECRETS:
            assert secret not in (delivery.error or ""), delivery.error
