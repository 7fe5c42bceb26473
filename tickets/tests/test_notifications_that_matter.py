"""The bell and the mail tell agents what concerns them, and never what they did themselves."""

import pytest
from django.urls import reverse

from tickets import services
from tickets.actors import Actor
from tickets.models import Delivery, Notification
from tickets.tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def sam(organization):
    return factories.make_agent(organization, email="sam@acme.test", name="Sam Smith")


@pytest.fixture(autouse=True)
def sending(settings):
    settings.SUPPORT_EMAIL_SENDER = "console"  # deliveries recorded; tests send to memory


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run what a change hands over after its commit (the notification tasks), at once."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def bell(user, kind=None):
    rows = Notification.objects.filter(user=user)
    return list((rows.filter(kind=kind) if kind else rows).values_list("text", flat=True))


def test_a_customer_reply_reaches_the_assignee_in_the_bell_and_by_mail(ticket, agent, sam, run):
    with run():
        services.assign(ticket=ticket, assignee=sam, actor=Actor.agent(agent))

    with run():
        services.add_message(ticket=ticket, body="Any news?", actor=Actor.for_customer(ticket.customer))

    assert bell(sam, Notification.Kind.CUSTOMER_REPLY) == [
        f"{ticket.customer.display_name} replied on {ticket.reference}: {ticket.subject}"
    ]
    assert bell(agent, Notification.Kind.CUSTOMER_REPLY) == []
    assert Delivery.objects.filter(kind=Delivery.Kind.CUSTOMER_REPLY, recipient="sam@acme.test").exists()


def test_a_customer_reply_on_an_unassigned_ticket_reaches_every_agent(ticket, agent, sam, run):
    with run():
        services.add_message(ticket=ticket, body="Hello?", actor=Actor.for_customer(ticket.customer))

    assert len(bell(agent, Notification.Kind.CUSTOMER_REPLY)) == 1
    assert len(bell(sam, Notification.Kind.CUSTOMER_REPLY)) == 1


def test_a_mention_in_a_note_reaches_the_agent_mentioned_and_nobody_else(ticket, agent, sam, owner, run):
    with run():
        services.add_message(
            ticket=ticket, body="@Sam can you check the refund?", kind="note", actor=Actor.agent(agent)
        )

    assert bell(sam, Notification.Kind.MENTION) == [
        f"Alice Agent mentioned you on {ticket.reference}: {ticket.subject}"
    ]
    assert bell(owner) == [] and bell(agent) == []
    mention = Delivery.objects.get(kind=Delivery.Kind.MENTION)
    assert mention.recipient == "sam@acme.test"
    assert "@Sam can you check the refund?" in mention.body_text


def test_a_mention_by_email_works_and_a_stranger_name_does_nothing(ticket, agent, sam, run):
    with run():
        services.add_message(
            ticket=ticket, body="Ping @sam@acme.test and @Nobody", kind="note", actor=Actor.agent(agent)
        )
    assert len(bell(sam, Notification.Kind.MENTION)) == 1
    assert Notification.objects.filter(kind=Notification.Kind.MENTION).count() == 1


def test_mentioning_yourself_or_taking_a_ticket_tells_you_nothing(client, ticket, agent, run):
    with run():
        services.add_message(ticket=ticket, body="Note to @Alice", kind="note", actor=Actor.agent(agent))
    client.force_login(agent)
    with run():
        client.post(reverse("dashboard:take_ticket", args=[ticket.public_id]))

    assert bell(agent) == []


def test_followers_hear_replies_and_notes_until_they_unfollow(client, ticket, agent, sam, run):
    client.force_login(sam)
    with run():
        client.post(reverse("dashboard:follow_ticket", args=[ticket.public_id]))
    with run():
        services.assign(ticket=ticket, assignee=agent, actor=Actor.agent(agent))

    with run():
        services.add_message(ticket=ticket, body="More details", actor=Actor.for_customer(ticket.customer))
    with run():
        services.add_message(ticket=ticket, body="Investigating", kind="note", actor=Actor.agent(agent))
    assert len(bell(sam, Notification.Kind.FOLLOWING)) == 2

    with run():
        client.post(reverse("dashboard:follow_ticket", args=[ticket.public_id]), {"unfollow": "1"})
    with run():
        services.add_message(ticket=ticket, body="Still there?", actor=Actor.for_customer(ticket.customer))
    assert len(bell(sam, Notification.Kind.FOLLOWING)) == 2


def test_preferences_choose_the_bell_and_the_mail_per_kind(client, ticket, agent, sam, run):
    client.force_login(sam)
    page = client.get(reverse("dashboard:profile")).content.decode()
    assert 'name="customer_reply-email"' in page

    # Customer replies: the bell only; mentions: the mail only.
    response = client.post(
        reverse("dashboard:profile-notifications"),
        {
            "customer_reply-in_app": "on",
            "mention-email": "on",
            "assigned-in_app": "on",
            "assigned-email": "on",
        },
    )
    assert response.status_code == 302
    with run():
        services.assign(ticket=ticket, assignee=sam, actor=Actor.agent(agent))
    with run():
        services.add_message(ticket=ticket, body="Any news?", actor=Actor.for_customer(ticket.customer))
    with run():
        services.add_message(ticket=ticket, body="@Sam look", kind="note", actor=Actor.agent(agent))

    assert len(bell(sam, Notification.Kind.CUSTOMER_REPLY)) == 1
    assert not Delivery.objects.filter(kind=Delivery.Kind.CUSTOMER_REPLY, recipient="sam@acme.test").exists()
    assert bell(sam, Notification.Kind.MENTION) == []
    assert Delivery.objects.filter(kind=Delivery.Kind.MENTION, recipient="sam@acme.test").exists()


def test_the_ticket_page_offers_follow_and_the_composer_knows_the_team(agent_client, ticket, sam, run):
    page = agent_client.get(reverse("dashboard:ticket", args=[ticket.public_id])).content.decode()
    assert 'data-testid="follow"' in page
    assert "data-mention-agents=" in page and "sam@acme.test" in page


def test_the_tab_title_script_reads_the_bell():
    from pathlib import Path

    script = (Path(__file__).resolve().parents[2] / "static/js/dashboard.js").read_text()
    assert "showUnreadInTitle" in script and "document.title" in script
