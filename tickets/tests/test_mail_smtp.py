"""End to end with SUPPORT_EMAIL_SENDER=smtp: a real SMTP server (aiosmtpd) on 127.0.0.1
receives what we send, and a reply to it comes back through the inbound webhook."""

import base64
import json
import socket
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from django.core import mail

from helpdesk import settings as project_settings
from tickets import services
from tickets.actors import Actor
from tickets.models import Delivery, Ticket


class Collector:
    def __init__(self):
        self.received = []
        self.sessions = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802 - aiosmtpd's hook name
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, collector
    finally:
        controller.stop()


@pytest.fixture
def smtp_settings(settings, monkeypatch, smtp_server):
    controller, _ = smtp_server
    monkeypatch.setenv("EMAIL_HOST", "127.0.0.1")
    monkeypatch.setenv("EMAIL_PORT", str(controller.port))
    monkeypatch.setenv("EMAIL_TIMEOUT", "5")
    # The same mapping settings.py applies to the environment at start-up.
    settings.MAILERS = {"default": project_settings._mailer("smtp")}
    settings.SUPPORT_EMAIL_SENDER = "smtp"
    settings.SUPPORT_EMAIL = "support@acme.test"
    settings.DEFAULT_FROM_EMAIL = "helpdesk@acme.test"
    settings.INBOUND_EMAIL_DOMAIN = "reply.acme.test"
    settings.ANYMAIL = {"WEBHOOK_SECRET": ["anymail:secret"]}
    return settings


def received_emails(collector):
    return [
        (mail_from, rcpt_tos, message_from_bytes(content, policy=default_policy))
        for mail_from, rcpt_tos, content in collector.received
    ]


def to(collector, address):
    found = [email for _, rcpt_tos, email in received_emails(collector) if rcpt_tos == [address]]
    assert len(found) == 1, [rcpt for _, rcpt, _ in received_emails(collector)]
    return found[0]


def test_notifications_travel_through_a_real_smtp_server_and_replies_thread_back(
    api, inbox, agent, client, smtp_settings, smtp_server, django_capture_on_commit_callbacks
):
    _, collector = smtp_server
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/tickets",
            {
                "customer": {"email": "jane@example.com", "name": "Jane Doe"},
                "subject": "Refund please",
                "message": "I was charged twice.",
            },
            format="json",
        )
    assert response.status_code == 201
    ticket = Ticket.objects.get(public_id=response.json()["id"])

    assert len(collector.received) == 2
    # The copy to the support address and the acknowledgement (a trigger's mail) are two
    # notifications of one change: the worker sends them in one batch, over one session.
    assert collector.sessions == 1
    assert mail.outbox == []  # it really went over SMTP, not to Django's test outbox
    support = to(collector, "support@acme.test")
    assert support["Subject"] == "[INV-1] Refund please"
    assert support["From"] == "Jane Doe via Acme <helpdesk@acme.test>"
    confirmation = to(collector, "jane@example.com")
    assert confirmation["Subject"] == "[INV-1] We received your request: Refund please"
    assert confirmation["Auto-Submitted"] == "auto-replied"
    reply_address = str(confirmation["Reply-To"])
    assert reply_address.startswith(f"reply+{ticket.public_id.lower()}-")
    delivery = Delivery.objects.get(ticket=ticket, kind=Delivery.Kind.CONFIRMATION)
    assert confirmation["Message-ID"] == delivery.message_id_header
    assert delivery.status == Delivery.Status.SENT
    text = confirmation.get_body(preferencelist=("plain",)).get_content()
    html = confirmation.get_body(preferencelist=("html",)).get_content()
    assert ticket.private_url in text and ticket.private_url in html
    assert "I was charged twice." in text

    # Jane answers from her mail client; SendGrid posts it to our inbound webhook.
    answer = EmailMessage()
    answer["From"] = "Jane Doe <jane@example.com>"
    answer["To"] = reply_address
    answer["Subject"] = f"Re: {confirmation['Subject']}"
    answer["Message-ID"] = "<jane-answer@example.com>"
    answer["In-Reply-To"] = confirmation["Message-ID"]
    answer["References"] = f"{confirmation['References']} {confirmation['Message-ID']}"
    quoted = "\n".join(f"> {line}" for line in text.splitlines())
    answer.set_content(f"It was order 1042.\n\nOn Monday, Acme Support wrote:\n{quoted}\n")
    with django_capture_on_commit_callbacks(execute=True):
        webhook = client.post(
            "/anymail/sendgrid/inbound/",
            {
                "email": answer.as_string(),
                "envelope": json.dumps({"to": [reply_address], "from": "jane@example.com"}),
            },
            HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"anymail:secret").decode(),
        )
    assert webhook.status_code == 200
    assert ticket.messages.order_by("created_at", "id").last().body == "It was order 1042."
    _, rcpt_tos, forwarded = received_emails(collector)[-1]
    assert rcpt_tos == ["support@acme.test"]  # unassigned: the support address hears
    assert forwarded["Subject"] == "Re: [INV-1] Refund please"
    assert forwarded["In-Reply-To"] == "<jane-answer@example.com>"

    # The agent answers in the dashboard; the customer's mail client threads it.
    with django_capture_on_commit_callbacks(execute=True):
        services.add_message(ticket=ticket, body="Refunded!", actor=Actor.agent(agent))
    mail_from, rcpt_tos, reply = received_emails(collector)[-1]
    assert rcpt_tos == ["jane@example.com"]
    assert mail_from == "helpdesk@acme.test"
    assert reply["Subject"] == "Re: [INV-1] Refund please"
    references = reply["References"].split()
    assert confirmation["Message-ID"] in references
    assert references[0] == confirmation["References"].split()[0]
    assert "Refunded!" in reply.get_body(preferencelist=("plain",)).get_content()
