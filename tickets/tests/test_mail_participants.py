"""Participants (issue 14, item 10): the customer's Cc's join the ticket, agents see and
edit them, replies go to everyone, and a participant's answer is theirs."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from tickets import exceptions, services
from tickets.actors import Actor
from tickets.mail import addresses
from tickets.models import Message, Participant, Ticket
from tickets.tests.test_mail_inbound import (
    mail_settings,  # noqa: F401 - the same provider settings as the inbound tests
    make_email,
    post_sendgrid,
)


@pytest.fixture
def ticket(client, inbox, agent, django_capture_on_commit_callbacks):
    email = make_email(subject="Invoice is wrong", text="Please fix the invoice.")
    email["Cc"] = "Bob Boss <bob@example.org>, support@acme.test, Alice <agent@acme.test>, carol@example.org"
    with django_capture_on_commit_callbacks(execute=True):
        post_sendgrid(client, email)
    mail.outbox.clear()
    return Ticket.objects.get()


def emails(ticket):
    return sorted(
        participant.customer.email for participant in ticket.participants.select_related("customer")
    )


def test_the_customers_ccs_become_participants_but_never_our_addresses_or_agents(ticket):
    assert emails(ticket) == ["bob@example.org", "carol@example.org"]


def test_an_agents_reply_goes_to_the_requester_and_each_participant_with_their_own_reply_address(
    ticket, agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.add_message(ticket=ticket, body="Fixed, see attached.", actor=Actor.agent(agent))

    reply_to = {email.to[0]: email.reply_to[0] for email in mail.outbox}
    assert set(reply_to) == {"jane@example.com", "bob@example.org", "carol@example.org"}
    bob = ticket.participants.get(customer__email="bob@example.org")
    assert reply_to["bob@example.org"] == addresses.reply_address(
        ticket, addresses.issued_to_participant(bob)
    )
    assert len(set(reply_to.values())) == 3
    assert all("Fixed, see attached." in email.body for email in mail.outbox)


def test_a_participants_answer_is_threaded_and_attributed_to_them(
    client, ticket, django_capture_on_commit_callbacks
):
    bob = ticket.participants.select_related("customer").get(customer__email="bob@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        post_sendgrid(
            client,
            make_email(
                sender="Bob Boss <bob@example.org>",
                to=addresses.reply_address(ticket, addresses.issued_to_participant(bob)),
                subject="Re: Invoice is wrong",
                text="I approve the correction.",
                message_id="<bob-1@example.org>",
            ),
        )

    message = ticket.messages.order_by("created_at", "id").last()
    assert (message.kind, message.author_customer, message.body) == (
        Message.Kind.REPLY,
        bob.customer,
        "I approve the correction.",
    )
    assert Ticket.objects.count() == 1


def test_someone_else_on_a_participants_address_is_only_a_note(
    client, ticket, django_capture_on_commit_callbacks
):
    bob = ticket.participants.get(customer__email="bob@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        post_sendgrid(
            client,
            make_email(
                sender="mallory@evil.test",
                to=addresses.reply_address(ticket, addresses.issued_to_participant(bob)),
                text="Pay me.",
                message_id="<m-1@evil.test>",
            ),
        )

    assert ticket.messages.order_by("created_at", "id").last().kind == Message.Kind.NOTE


def test_agents_see_add_and_remove_participants(ticket, agent):
    client = Client()
    client.force_login(agent)
    page = reverse("dashboard:ticket", args=[ticket.public_id])
    assert "carol@example.org" in client.get(page).content.decode()

    client.post(reverse("dashboard:add_participant", args=[ticket.public_id]), {"email": "dave@example.org"})
    carol = ticket.participants.get(customer__email="carol@example.org")
    client.post(reverse("dashboard:remove_participant", args=[ticket.public_id, carol.pk]))

    assert emails(ticket) == ["bob@example.org", "dave@example.org"]
    listed = re.findall(r'data-testid="participant">([^<]+)', client.get(page).content.decode())
    assert listed == ["bob@example.org", "dave@example.org"]


def test_bad_participant_input_is_refused_and_changes_nothing(ticket, agent):
    for email in ["not-an-address", "jane@example.com", ""]:
        with pytest.raises(exceptions.InvalidInput):
            services.add_participant(ticket=ticket, email=email, actor=Actor.agent(agent))
    with pytest.raises(exceptions.PermissionDenied):
        services.remove_participant(
            ticket=ticket, participant=ticket.participants.first(), actor=Actor.for_customer(ticket.customer)
        )
    assert Participant.objects.filter(ticket=ticket).count() == 2
