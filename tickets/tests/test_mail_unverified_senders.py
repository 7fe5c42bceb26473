"""Unverified senders and no relay (issue 14, "Support-form impersonation" and "Phishing
relay"): whoever types an address proves nothing until they follow the emailed link or
reply from it, and mail to an unproven address carries none of their words."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from tickets import services
from tickets.actors import Actor
from tickets.mail import addresses
from tickets.models import Customer, Ticket
from tickets.tests import factories
from tickets.tests.test_mail_inbound import (
    mail_settings,  # noqa: F401 - the same provider settings as the inbound tests
    make_email,
    post_sendgrid,
)

PHISH_SUBJECT = "Your account is locked: unlock at http://evil.test/unlock"
PHISH_BODY = "Dear user, verify your password at http://evil.test/login today."


@pytest.fixture
def jane(inbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = factories.make_ticket(
            inbox, email="jane@example.com", subject="Old question", name="Jane Real"
        )
    customer = ticket.customer
    customer.metadata = {"plan": "platinum-secret"}
    customer.save()
    mail.outbox.clear()
    return customer


def submit_form(client, inbox, django_capture_on_commit_callbacks, **fields):
    data = {
        "email": "jane@example.com",
        "name": "Mallory",
        "subject": PHISH_SUBJECT,
        "message": PHISH_BODY,
        "website": "",
        **fields,
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/t/new/{inbox.public_id}/", data)
    assert response.status_code == 302, response.content.decode()[:500]
    return client.get(response["Location"]), Ticket.objects.order_by("-pk").first()


def the_one_to(address):
    found = [email for email in mail.outbox if address in email.to]
    assert len(found) == 1, [(email.to, email.subject) for email in mail.outbox]
    return found[0]


def assert_nothing_of_theirs(email):
    everything = email.subject + email.body + "".join(str(part.content) for part in email.alternatives)
    assert "evil.test" not in everything
    assert "Mallory" not in everything
    assert "locked" not in everything


def test_typing_a_customers_address_reveals_nothing_and_stays_off_their_record(
    client, inbox, jane, agent, django_capture_on_commit_callbacks
):
    page, ticket = submit_form(client, inbox, django_capture_on_commit_callbacks)

    assert ticket.access_key not in page.content.decode()
    assert ticket.customer != jane and ticket.sender_unverified
    agent_page = Client()
    agent_page.force_login(agent)
    html = agent_page.get(reverse("dashboard:ticket", args=[ticket.public_id])).content.decode()
    assert "Unverified sender" in html
    assert "platinum-secret" not in html and "Old question" not in html
    queue = agent_page.get(reverse("dashboard:queue") + "?view=all").content.decode()
    assert "Unverified sender" in queue


def test_the_acknowledgement_to_an_unproven_address_carries_only_the_reference_and_the_link(
    client, inbox, django_capture_on_commit_callbacks
):
    _, ticket = submit_form(client, inbox, django_capture_on_commit_callbacks, email="victim@example.org")

    email = the_one_to("victim@example.org")
    assert_nothing_of_theirs(email)
    assert ticket.reference in email.subject
    assert ticket.private_url in email.body
    assert ticket.private_url in email.alternatives[0].content
    links = re.findall(r"https?://\S+", email.body)
    assert {link.rstrip(".,") for link in links} == {ticket.private_url}


def test_a_new_ticket_by_email_is_unverified_and_its_acknowledgement_quotes_nothing(
    client, inbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_sendgrid(
            client, make_email(sender="Mallory <victim@example.org>", subject=PHISH_SUBJECT, text=PHISH_BODY)
        )

    ticket = Ticket.objects.get()
    assert ticket.sender_unverified
    assert_nothing_of_theirs(the_one_to("victim@example.org"))


def test_following_the_emailed_link_proves_the_address_and_joins_the_customers_record(
    client, inbox, jane, django_capture_on_commit_callbacks
):
    _, ticket = submit_form(client, inbox, django_capture_on_commit_callbacks)
    provisional = ticket.customer

    Client().get(ticket.private_path)

    ticket.refresh_from_db()
    assert (ticket.sender_unverified, ticket.customer) == (False, jane)
    assert ticket.messages.get().author_customer == jane
    assert not Customer.objects.filter(pk=provisional.pk).exists()


def test_replying_from_the_address_proves_it(client, inbox, jane, django_capture_on_commit_callbacks):
    _, ticket = submit_form(client, inbox, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        post_sendgrid(client, make_email(to=addresses.reply_address(ticket), text="Yes, that was me."))

    ticket.refresh_from_db()
    assert (ticket.sender_unverified, ticket.customer) == (False, jane)
    assert ticket.messages.order_by("created_at", "id").last().author_customer == jane


def test_a_from_header_alone_proves_nothing(client, inbox, jane, django_capture_on_commit_callbacks):
    _, ticket = submit_form(client, inbox, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        post_sendgrid(client, make_email(subject=f"Re: [{ticket.reference}] x", text="It was me, honest."))

    ticket.refresh_from_db()
    assert ticket.sender_unverified and ticket.customer != jane


def test_the_status_mail_to_an_unproven_address_quotes_nothing(
    client, inbox, agent, django_capture_on_commit_callbacks
):
    _, ticket = submit_form(client, inbox, django_capture_on_commit_callbacks, email="victim@example.org")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.change_status(ticket=ticket, status=Ticket.Status.RESOLVED, actor=Actor.agent(agent))

    assert_nothing_of_theirs(the_one_to("victim@example.org"))


def test_tickets_from_the_api_are_not_marked_unverified(api, inbox):
    response = api.post(
        "/api/v1/tickets",
        {"subject": "Refund please", "message": "Twice.", "customer": {"email": "jane@example.com"}},
        format="json",
    )

    assert response.status_code == 201
    assert not Ticket.objects.get().sender_unverified
