"""Merge, split and link in Django admin go through the same services (issue 16, item 9)."""

import pytest
from django.contrib.admin import helpers

from accounts.models import Membership, User
from tickets import services
from tickets.actors import Actor
from tickets.models import Message, Ticket, TicketEvent, TicketLink
from tickets.tests import factories
from tickets.tests.admin_helpers import admin_url, messages_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(organization):
    user = User.objects.create_superuser(email="admin@acme.test", password="pw", name="Ada Admin")
    Membership.objects.create(user=user, organization=organization, role=Membership.Role.ADMIN)
    return user


@pytest.fixture
def pair(inbox):
    first = factories.make_ticket(inbox, email="jane@example.com", subject="Refund please")
    second = factories.make_ticket(inbox, email="jane@example.com", subject="Refund again", message="Hello?")
    return first, second


def run_action(client, model, action, objects, **extra):
    data = {"action": action, helpers.ACTION_CHECKBOX_NAME: [obj.pk for obj in objects], **extra}
    return client.post(admin_url(model), data, follow=True)


def test_merge_asks_which_ticket_to_keep_then_merges_the_others(staff_client, pair):
    first, second = pair

    asked = run_action(staff_client, Ticket, "merge_tickets", pair)
    assert asked.status_code == 200
    assert f'value="{first.reference}"' in asked.content.decode()

    done = run_action(staff_client, Ticket, "merge_tickets", pair, apply="1", into=first.reference)

    assert f"Merged into {first.reference}: {second.reference}." in messages_of(done)
    second.refresh_from_db()
    assert second.merged_into_id == first.pk
    assert second.status == Ticket.Status.CLOSED
    assert first.messages.count() == 2
    event = second.events.get(action=TicketEvent.Action.MERGED)
    assert event.actor_label == "Ada Admin"


def test_merge_into_an_unknown_ticket_changes_nothing(staff_client, pair, other_inbox):
    foreign = factories.make_ticket(other_inbox)
    done = run_action(staff_client, Ticket, "merge_tickets", pair, apply="1", into=foreign.reference + "x")
    assert any("No ticket" in text for text in messages_of(done))
    assert not Ticket.objects.filter(merged_into__isnull=False).exists()


def test_link_action_and_the_inline_and_unlink(staff_client, pair):
    first, second = pair
    run_action(staff_client, Ticket, "link_as_related", pair)

    page = staff_client.get(admin_url(Ticket, "change", first.pk)).content.decode()
    assert "linked tickets" in page.lower()
    assert second.reference in page

    links = TicketLink.objects.filter(kind="related")
    assert links.count() == 2
    run_action(staff_client, TicketLink, "unlink", [links.first()])
    assert not TicketLink.objects.exists()


def test_split_action_on_messages(staff_client, pair, agent):
    first, _ = pair
    later, _ = services.add_message(
        ticket=first, body="Another question", actor=Actor.for_customer(first.customer)
    )
    opening = first.messages.order_by("created_at").first()

    done = run_action(staff_client, Message, "split_into_new_ticket", [opening, later])

    texts = " ".join(messages_of(done))
    assert "New tickets:" in texts
    assert "first message" in texts
    later.refresh_from_db()
    assert later.ticket_id not in {first.pk}
    assert TicketLink.objects.filter(ticket=first, kind="split_into").exists()


def test_linked_tickets_in_admin_read_by_reference_not_database_id(staff_client, pair, agent):
    first, second = pair
    services.link_tickets(ticket=first, other=second, actor=Actor.agent(agent))

    page = staff_client.get(admin_url(Ticket, "change", first.pk)).content.decode()

    assert f"{first.reference} related to {second.reference}" in page
