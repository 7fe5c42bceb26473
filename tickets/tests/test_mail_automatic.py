"""Automatic mail (issue 14, item 11, RFC 3834): ours is marked, theirs is never
answered, bounces and complaints come back through the tracking webhook, and one sender
cannot open tickets without bound."""

import json

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from tickets.models import Customer, Delivery, Ticket
from tickets.tests import factories
from tickets.tests.test_mail_inbound import (
    basic_auth,
    mail_settings,  # noqa: F401 - the same provider settings as the inbound tests
    make_email,
    post_sendgrid,
)


@pytest.fixture
def ticket(inbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = factories.make_ticket(inbox, email="jane@example.com", subject="Refund please")
    return ticket


def test_our_automatic_mails_say_so(ticket):
    kinds = {email.extra_headers["X-Helpdesk-Kind"]: email.extra_headers for email in mail.outbox}
    assert kinds["confirmation"]["Auto-Submitted"] == "auto-replied"
    assert kinds["new_ticket"]["Auto-Submitted"] == "auto-generated"


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"Auto-Submitted": "auto-generated"},
        {"Precedence": "bulk"},
        {"Precedence": "junk"},
        {"Precedence": "list"},
        {"X-Autoreply": "yes"},
        {"List-Id": "Announcements <announce.lists.example.org>"},
    ],
)
def test_automatic_or_list_mail_opens_no_ticket_and_is_never_answered(
    client, inbox, headers, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_sendgrid(client, make_email(sender="robot@example.org", subject="Weekly news", headers=headers))

    assert not Ticket.objects.exists()
    assert mail.outbox == []


def test_auto_submitted_no_is_a_person(client, inbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post_sendgrid(
            client, make_email(sender="bob@example.org", subject="Hello", headers={"Auto-Submitted": "no"})
        )

    assert Ticket.objects.count() == 1


def post_postmark_tracking(client, payload, **auth):
    return client.post(
        "/anymail/postmark/tracking/", json.dumps(payload), content_type="application/json", **auth
    )


@pytest.mark.parametrize(
    ("record", "kind", "status", "problem"),
    [
        ("Bounce", "HardBounce", Delivery.Status.BOUNCED, Customer.EmailProblem.BOUNCED),
        ("SpamComplaint", "SpamComplaint", Delivery.Status.COMPLAINED, Customer.EmailProblem.COMPLAINED),
    ],
)
def test_a_bounce_or_complaint_marks_the_delivery_and_flags_the_customer(
    client, ticket, agent, record, kind, status, problem
):
    confirmation = Delivery.objects.get(ticket=ticket, kind=Delivery.Kind.CONFIRMATION)
    confirmation.provider_message_id = "883953f4-6105-42a2-a16a-77a8eac79483"
    confirmation.save()
    payload = {
        "RecordType": record,
        "Type": kind,
        "MessageID": confirmation.provider_message_id,
        "Email": "jane@example.com",
        "Description": "The server was unable to deliver your message.",
        "BouncedAt": "2026-11-30T10:00:00Z",
    }

    assert post_postmark_tracking(client, payload).status_code == 401  # credentials first
    assert post_postmark_tracking(client, payload, **basic_auth()).status_code == 200

    confirmation.refresh_from_db()
    assert confirmation.status == status
    customer = ticket.customer
    customer.refresh_from_db()
    assert customer.email_problem == problem and customer.email_problem_at is not None
    agent_client = Client()
    agent_client.force_login(agent)
    page = agent_client.get(reverse("dashboard:ticket", args=[ticket.public_id])).content.decode()
    assert customer.get_email_problem_display() in page


def test_a_report_for_a_message_we_never_sent_changes_nothing(client, ticket):
    payload = {
        "RecordType": "Bounce",
        "Type": "HardBounce",
        "MessageID": "not-ours",
        "Email": "jane@example.com",
    }

    assert post_postmark_tracking(client, payload, **basic_auth()).status_code == 200

    assert not Delivery.objects.exclude(status=Delivery.Status.SENT).exists()
    assert Customer.objects.get().email_problem == ""


def test_one_sender_opens_at_most_the_hourly_number_of_tickets_and_loses_no_mail(
    client, inbox, settings, django_capture_on_commit_callbacks
):
    settings.INBOUND_EMAIL_NEW_TICKETS_PER_HOUR = 3
    with django_capture_on_commit_callbacks(execute=True):
        for number in range(5):
            post_sendgrid(
                client,
                make_email(
                    sender="loop@example.org",
                    subject=f"Question number {number}",
                    text=f"Body {number}",
                    message_id=f"<q{number}@example.org>",
                ),
            )

    assert Ticket.objects.count() == 3
    latest = Ticket.objects.order_by("-created_at", "-pk").first()
    assert [message.body.split("\n")[-1] for message in latest.messages.order_by("created_at", "id")] == [
        "Body 2",
        "Body 3",
        "Body 4",
    ]
    acknowledgements = [email for email in mail.outbox if email.to == ["loop@example.org"]]
    assert len(acknowledgements) == 3
