"""Threading that survives real mail clients (issue 14, item 9): replies as Outlook and
Gmail really send them — "RE:", "AW:", "WG:", "Fwd:", a missing In-Reply-To, a provider
that replaced our Message-ID — find their ticket, in the documented order."""

import pytest
from django.core import mail

from tickets.mail import addresses
from tickets.models import Delivery, Message, Ticket
from tickets.tests import factories
from tickets.tests.test_mail_inbound import (
    mail_settings,  # noqa: F401 - the same provider settings as the inbound tests
    make_email,
    post_sendgrid,
)

OUTLOOK_QUOTE = """{answer}

________________________________
From: Acme Support <helpdesk@acme.test>
Sent: Monday, November 30, 2026 10:00 AM
To: Jane Doe <jane@example.com>
Subject: [INV-1] We received your request: Refund please

{quoted}
"""
GMAIL_QUOTE = """{answer}

On Mon, 30 Nov 2026 at 10:00, Acme Support <helpdesk@acme.test> wrote:
{quoted}
"""


@pytest.fixture
def ticket(inbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = factories.make_ticket(
            inbox, email="jane@example.com", subject="Refund please", name="Jane Doe"
        )
    return ticket


@pytest.fixture
def confirmation(ticket):
    """The acknowledgement Jane received, as her client shows it."""
    email = next(email for email in mail.outbox if email.to == ["jane@example.com"])
    mail.outbox.clear()
    return email


def quoted(email) -> str:
    return "\n".join(f"> {line}" for line in email.body.splitlines())


def reply(
    client,
    django_capture_on_commit_callbacks,
    *,
    text,
    subject,
    headers,
    sender="Jane Doe <jane@example.com>",
):
    email = make_email(
        sender=sender, to="support@acme.test", subject=subject, text=text, headers=headers, message_id=None
    )
    del email["Message-ID"]
    email["Message-ID"] = f"<{abs(hash((text, subject)))}@mail.example.com>"
    with django_capture_on_commit_callbacks(execute=True):
        assert post_sendgrid(client, email).status_code == 200


def last_reply(ticket) -> Message:
    return ticket.messages.order_by("created_at", "id").last()


def test_outlook_re_with_thread_index_threads_by_in_reply_to(
    client, ticket, confirmation, django_capture_on_commit_callbacks
):
    message_id = confirmation.extra_headers["Message-ID"]
    reply(
        client,
        django_capture_on_commit_callbacks,
        subject="RE: [INV-1] We received your request: Refund please",
        text=OUTLOOK_QUOTE.format(answer="Thanks, any news?", quoted=confirmation.body),
        headers={
            "Thread-Topic": "[INV-1] We received your request: Refund please",
            "Thread-Index": "AQHZ1a2b3c4d5e6f7g8h9i0jKLMNOPQRSTUV",
            "In-Reply-To": message_id,
            "References": f"{addresses.thread_root_id(ticket)} {message_id}",
            "X-MS-Has-Attach": "",
            "Content-Language": "en-US",
        },
    )

    assert Ticket.objects.count() == 1
    assert last_reply(ticket).body == "Thanks, any news?"


def test_outlook_aw_without_in_reply_to_threads_by_references(
    client, ticket, confirmation, django_capture_on_commit_callbacks
):
    reply(
        client,
        django_capture_on_commit_callbacks,
        subject="AW: Ihre Anfrage",
        text="Danke, wann kommt das Geld?",
        headers={"References": confirmation.extra_headers["Message-ID"], "Thread-Index": "AQHZ9zzz"},
    )

    assert Ticket.objects.count() == 1
    assert last_reply(ticket).body == "Danke, wann kommt das Geld?"


def test_outlook_wg_forward_by_the_requester_threads_by_the_marker_in_the_quote(
    client, ticket, confirmation, django_capture_on_commit_callbacks
):
    reply(
        client,
        django_capture_on_commit_callbacks,
        subject="WG: Ihre Anfrage",
        text=OUTLOOK_QUOTE.format(answer="Bitte nochmal ansehen.", quoted=confirmation.body),
        headers={"Thread-Index": "AQHZ9yyy"},
    )

    assert Ticket.objects.count() == 1
    assert last_reply(ticket).body == "Bitte nochmal ansehen."


def test_gmail_re_with_a_quoted_html_part_threads(
    client, ticket, confirmation, django_capture_on_commit_callbacks
):
    message_id = confirmation.extra_headers["Message-ID"]
    reply(
        client,
        django_capture_on_commit_callbacks,
        subject="Re: [INV-1] We received your request: Refund please",
        text=GMAIL_QUOTE.format(answer="Got it, thanks.", quoted=quoted(confirmation)),
        headers={"In-Reply-To": message_id, "References": message_id},
    )

    assert last_reply(ticket).body == "Got it, thanks."


def test_a_reply_with_no_threading_headers_and_no_quote_threads_by_the_subject_tag(
    client, ticket, confirmation, django_capture_on_commit_callbacks
):
    reply(
        client,
        django_capture_on_commit_callbacks,
        subject="Re: [INV-1] Refund please",
        text="Hello?",
        headers={},
    )

    assert Ticket.objects.count() == 1
    assert last_reply(ticket).body == "Hello?"


def test_a_message_id_the_provider_replaced_still_threads(
    client, ticket, confirmation, django_capture_on_commit_callbacks
):
    delivery = Delivery.objects.get(ticket=ticket, kind=Delivery.Kind.CONFIRMATION)
    delivery.provider_message_id = "0100018c2b9f3e1a-7d1e4f0a-1111-2222-3333-444455556666-000000"
    delivery.save()
    ses_id = f"<{delivery.provider_message_id}@email.amazonses.com>"

    reply(
        client,
        django_capture_on_commit_callbacks,
        subject="Re: your request",
        text="Replying to the SES copy.",
        headers={"In-Reply-To": ses_id, "References": ses_id},
    )

    assert Ticket.objects.count() == 1
    assert last_reply(ticket).body == "Replying to the SES copy."


def test_the_marker_threads_when_the_subject_and_headers_are_gone(
    client, ticket, confirmation, django_capture_on_commit_callbacks
):
    assert f"[{addresses.thread_marker(ticket)}]" in confirmation.body
    reply(
        client,
        django_capture_on_commit_callbacks,
        subject="my refund",
        text=GMAIL_QUOTE.format(answer="Still nothing.", quoted=quoted(confirmation)),
        headers={},
    )

    assert Ticket.objects.count() == 1
    assert last_reply(ticket).body == "Still nothing."


def test_a_forged_marker_threads_nothing(client, ticket, django_capture_on_commit_callbacks):
    forged = f"[hd-{ticket.public_id.lower()}-000000000000]"
    reply(client, django_capture_on_commit_callbacks, subject="Hi", text=f"Hello\n\n> {forged}", headers={})

    assert Ticket.objects.count() == 2


def test_a_strangers_fwd_carrying_the_marker_opens_their_own_ticket(
    client, ticket, confirmation, django_capture_on_commit_callbacks
):
    reply(
        client,
        django_capture_on_commit_callbacks,
        sender="Bob <bob@example.org>",
        subject="Fwd: [INV-1] We received your request: Refund please",
        text="---------- Forwarded message ---------\n" + confirmation.body,
        headers={},
    )

    assert ticket.messages.count() == 1
    assert Ticket.objects.exclude(pk=ticket.pk).get().customer.email == "bob@example.org"


def test_the_order_is_reply_address_first_then_headers(
    client, ticket, inbox, confirmation, django_capture_on_commit_callbacks
):
    other = factories.make_ticket(inbox, email="jane@example.com", subject="Another matter")
    email = make_email(
        to=addresses.reply_address(other),
        subject="Re: [INV-1] Refund please",
        text="For the other one.",
        headers={"In-Reply-To": confirmation.extra_headers["Message-ID"]},
    )
    with django_capture_on_commit_callbacks(execute=True):
        post_sendgrid(client, email)

    assert last_reply(other).body == "For the other one."
    assert ticket.messages.count() == 1
