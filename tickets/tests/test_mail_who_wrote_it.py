"""Who wrote an inbound email (issue 14, "Agent impersonation"): a mail counts as an
agent's only when it arrives at the reply address issued to that agent and its From is
that agent, and never when the provider reports it failed SPF, DKIM, DMARC or spam."""

import pytest
from django.core import mail

from tickets import services
from tickets.actors import Actor
from tickets.mail import addresses
from tickets.models import Message
from tickets.tests import factories
from tickets.tests.test_mail_inbound import (
    INBOUND_DOMAIN,
    mail_settings,  # noqa: F401 - the same provider settings as the inbound tests
    make_email,
    only_new_message,
    post_postmark,
    post_sendgrid,
)


@pytest.fixture
def ticket(inbox, agent, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = factories.make_ticket(
            inbox, email="jane@example.com", subject="Refund please", name="Jane Doe"
        )
        services.assign(ticket=ticket, assignee=agent, actor=Actor.agent(owner))
    mail.outbox.clear()
    return ticket


def agents_address(ticket, agent):
    return addresses.reply_address(ticket, addresses.issued_to_agent(agent))


def assert_held_and_nothing_sent(ticket, text):
    message = only_new_message(ticket)
    assert message.kind == Message.Kind.NOTE
    assert message.author_user is None
    assert text in message.body
    assert "jane@example.com" not in [address for email in mail.outbox for address in email.to]


def test_the_agents_from_on_the_customers_reply_address_is_not_the_agents_reply(
    client, ticket, agent, django_capture_on_commit_callbacks
):
    forged = make_email(
        sender="Alice Agent <agent@acme.test>",
        to=addresses.reply_address(ticket),  # the address every mail to Jane carries
        text="Please pay the refund fee at http://evil.test/pay",
    )

    with django_capture_on_commit_callbacks(execute=True):
        post_sendgrid(client, forged)

    assert_held_and_nothing_sent(ticket, "http://evil.test/pay")


def test_another_agents_from_on_an_agents_reply_address_is_not_a_reply(
    client, ticket, agent, owner, django_capture_on_commit_callbacks
):
    email = make_email(sender="Olga Owner <owner@acme.test>", to=agents_address(ticket, agent), text="Done.")

    with django_capture_on_commit_callbacks(execute=True):
        post_sendgrid(client, email)

    assert_held_and_nothing_sent(ticket, "Done.")


def test_the_agents_own_address_and_from_make_a_public_reply(
    client, ticket, agent, django_capture_on_commit_callbacks
):
    email = make_email(sender="Alice Agent <agent@acme.test>", to=agents_address(ticket, agent), text="Sent.")

    with django_capture_on_commit_callbacks(execute=True):
        post_sendgrid(client, email)

    message = only_new_message(ticket)
    assert (message.kind, message.author_user) == (Message.Kind.REPLY, agent)
    assert [email.to for email in mail.outbox] == [["jane@example.com"]]


@pytest.mark.parametrize(
    "header",
    [
        "mx.example.net; spf=fail smtp.mailfrom=acme.test; dkim=none",
        "mx.example.net; spf=pass smtp.mailfrom=acme.test; dkim=fail header.d=acme.test",
        "mx.example.net; dmarc=fail (p=reject) header.from=acme.test",
    ],
)
def test_an_agents_mail_failing_spf_dkim_or_dmarc_is_held_for_review(
    client, ticket, agent, header, django_capture_on_commit_callbacks
):
    email = make_email(
        sender="Alice Agent <agent@acme.test>",
        to=agents_address(ticket, agent),
        text="Refund sent.",
        headers={"Authentication-Results": header},
    )

    with django_capture_on_commit_callbacks(execute=True):
        post_sendgrid(client, email)

    assert_held_and_nothing_sent(ticket, "Held for review")


def test_sendgrids_own_spf_verdict_holds_an_agents_mail(
    client, ticket, agent, django_capture_on_commit_callbacks
):
    email = make_email(sender="agent@acme.test", to=agents_address(ticket, agent), text="Refund sent.")

    with django_capture_on_commit_callbacks(execute=True):
        post_sendgrid(client, email, extra={"SPF": "softfail"})

    assert_held_and_nothing_sent(ticket, "SPF softfail")


def test_mail_the_provider_calls_spam_is_never_an_agents(
    client, ticket, agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_postmark(
            client,
            sender_email="agent@acme.test",
            sender_name="Alice Agent",
            to=agents_address(ticket, agent),
            subject="Re: [INV-1] Refund please",
            text="Refund sent.",
            headers={"X-Spam-Status": "Yes", "X-Spam-Score": "9.1"},
        )

    assert_held_and_nothing_sent(ticket, "spam")


def test_the_support_mailboxs_from_on_the_customers_address_is_not_sent_on(
    client, ticket, django_capture_on_commit_callbacks
):
    email = make_email(sender="support@acme.test", to=addresses.reply_address(ticket), text="Pay here.")

    with django_capture_on_commit_callbacks(execute=True):
        post_sendgrid(client, email)

    assert_held_and_nothing_sent(ticket, "Pay here.")


def test_an_older_per_ticket_reply_address_still_threads_the_customer_but_makes_nobody_an_agent(
    client, ticket, agent, django_capture_on_commit_callbacks
):
    legacy = f"reply+{ticket.public_id.lower()}-{addresses._signature(ticket.public_id)}@{INBOUND_DOMAIN}"

    with django_capture_on_commit_callbacks(execute=True):
        post_sendgrid(client, make_email(to=legacy, text="Still broken.", message_id="<c1@example.com>"))
        post_sendgrid(
            client, make_email(sender="agent@acme.test", to=legacy, text="Sent.", message_id="<a1@x>")
        )

    customer_reply, agent_attempt = ticket.messages.order_by("created_at", "id")[1:]
    assert (customer_reply.kind, customer_reply.author_customer) == (Message.Kind.REPLY, ticket.customer)
    assert (agent_attempt.kind, agent_attempt.author_user) == (Message.Kind.NOTE, None)


def test_the_recipient_part_of_a_reply_address_cannot_be_swapped(ticket, agent):
    customers = addresses.reply_address(ticket)
    signature = customers.rpartition("-")[2]
    swapped = f"reply+{ticket.public_id.lower()}-{addresses.issued_to_agent(agent)}-{signature}"

    assert addresses.parse_reply_address(swapped) is None
    assert addresses.parse_reply_address(customers).issued_to == addresses.ISSUED_TO_CUSTOMER


def test_each_recipient_gets_a_reply_address_of_their_own(ticket, agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.add_message(ticket=ticket, body="Any news?", actor=Actor.for_customer(ticket.customer))
        services.add_message(ticket=ticket, body="Soon.", actor=Actor.agent(agent))

    reply_to = {email.to[0]: email.reply_to[0] for email in mail.outbox}
    assert reply_to["agent@acme.test"] == agents_address(ticket, agent)
    assert reply_to["jane@example.com"] == addresses.reply_address(ticket)
    assert reply_to["agent@acme.test"] != reply_to["jane@example.com"]
