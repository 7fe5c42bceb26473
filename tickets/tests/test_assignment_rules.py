"""Who gets a ticket: the agent who answers it, and never someone who cannot sign in."""

import pytest
from django.urls import reverse

from accounts.models import Membership
from tickets import services
from tickets.actors import Actor
from tickets.models import Inbox, Notification, Ticket
from tickets.tests import factories

pytestmark = pytest.mark.django_db


def reload(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


# An agent's reply assigns (item 8) -----------------------------------------------------------


def test_an_agent_public_reply_on_an_unassigned_ticket_makes_it_theirs(ticket, agent):
    services.add_message(ticket=ticket, body="On it.", actor=Actor.agent(agent))

    ticket = reload(ticket)
    assert ticket.assignee == agent
    assert ticket.status == "in_progress"
    assert not Notification.objects.filter(user=agent).exists(), "nobody is told of their own action"


def test_a_note_or_an_assigned_ticket_keeps_its_assignee(ticket, agent, owner):
    services.add_message(ticket=ticket, body="Looking", kind="note", actor=Actor.agent(agent))
    assert reload(ticket).assignee is None

    services.assign(ticket=ticket, assignee=owner, actor=Actor.agent(owner))
    services.add_message(ticket=ticket, body="Answer", actor=Actor.agent(agent))
    assert reload(ticket).assignee == owner


def test_an_inbox_may_turn_assign_on_reply_off(organization, agent, owner):
    inbox = factories.make_inbox(organization)
    services.update_inbox(inbox=inbox, actor=Actor.agent(owner), assign_on_reply=False)
    ticket = factories.make_ticket(inbox)

    services.add_message(ticket=ticket, body="Answer", actor=Actor.agent(agent))

    assert reload(ticket).assignee is None


def test_assign_on_reply_is_on_for_a_new_inbox(organization, owner):
    inbox = services.create_inbox(
        organization=organization, actor=Actor.agent(owner), name="Sales", prefix="SAL"
    )
    assert inbox.assign_on_reply is True


def test_a_customer_or_system_reply_assigns_nobody(ticket):
    services.add_message(ticket=ticket, body="Hello?", actor=Actor.for_customer(ticket.customer))
    services.add_message(ticket=ticket, body="Automatic", actor=Actor.system("Automation"))
    assert reload(ticket).assignee is None


def test_the_dashboard_reply_assigns_the_agent_who_sent_it(agent_client, ticket, agent):
    response = agent_client.post(
        reverse("dashboard:add_message", args=[ticket.public_id]), {"kind": "reply", "body": "On it."}
    )
    assert response.status_code == 302
    assert reload(ticket).assignee == agent
    unassigned = agent_client.get(reverse("dashboard:queue"), {"view": "unassigned"})
    assert ticket.public_id not in [row.public_id for row in unassigned.context["tickets"]]


# Auto-assignment skips who cannot sign in (item 14) --------------------------------------------


@pytest.fixture
def auto_inbox(organization):
    return factories.make_inbox(organization, auto_assignment=Inbox.AutoAssignment.LEAST_LOADED_N1)


def test_auto_assignment_skips_an_invited_agent_who_has_not_accepted(organization, owner, auto_inbox):
    from accounts import services as account_services

    Membership.objects.filter(organization=organization).update(is_available=False)
    invited, _ = account_services.invite_member(
        organization=organization, actor=Actor.agent(owner), email="new@example.test"
    )
    assert invited.is_available

    ticket = factories.make_ticket(auto_inbox)
    assert reload(ticket).assignee is None

    # Once they chose a password (their acceptance), they take tickets.
    invited.user.set_password("a long enough password 1")
    invited.user.save()
    assert reload(factories.make_ticket(auto_inbox)).assignee == invited.user


def test_auto_assignment_skips_an_inactive_account(organization, auto_inbox):
    idle = factories.make_agent(organization)
    idle.is_active = False
    idle.save()

    assert reload(factories.make_ticket(auto_inbox)).assignee is None


def test_the_members_page_does_not_call_an_invited_or_inactive_agent_available(client, organization, owner):
    from accounts import services as account_services

    account_services.invite_member(
        organization=organization, actor=Actor.agent(owner), email="new@example.test"
    )
    idle = factories.make_agent(organization, email="idle@example.test")
    idle.is_active = False
    idle.save()
    client.force_login(owner)

    page = client.get(reverse("dashboard:settings-members")).content.decode()

    assert "Inactive" in page
    new_row = next(row for row in page.split("<tr") if "new@example.test" in row)
    idle_row = next(row for row in page.split("<tr") if "idle@example.test" in row)
    assert "Available" not in new_row
    assert "Available" not in idle_row
