"""The header: the bell with its live unread count, and the agent's availability."""

import pytest
from django.urls import reverse

from accounts.models import Membership
from tickets import services
from tickets.actors import Actor
from tickets.models import Notification
from tickets.tests import factories


@pytest.fixture
def assigned(inbox, agent, owner, django_capture_on_commit_callbacks):
    """Two tickets assigned to the agent by someone else: two notifications, after commit."""
    tickets = [factories.make_ticket(inbox, subject=f"Assigned {number}") for number in range(2)]
    with django_capture_on_commit_callbacks(execute=True):
        for ticket in tickets:
            services.assign(ticket=ticket, assignee=agent, actor=Actor.agent(owner))
    return tickets


def test_assignment_shows_in_the_bell_count(agent_client, assigned):
    html = agent_client.get(reverse("dashboard:queue")).content.decode()
    assert 'data-testid="bell-count"' in html
    response = agent_client.get(reverse("dashboard:bell"), headers={"HX-Request": "true"})
    html = response.content.decode().strip()
    assert html.startswith('<span id="bell-badge"')
    assert ">2</span>" in html
    assert 'hx-trigger="every 10s' in html


def test_bell_count_is_empty_when_all_is_read(agent_client, agent, assigned):
    services.mark_notifications_read(user=agent)
    html = agent_client.get(reverse("dashboard:bell")).content.decode()
    assert "is-empty" in html


def test_bell_panel_and_page_list_the_agents_notifications_only(
    agent_client, assigned, owner, inbox, django_capture_on_commit_callbacks
):
    other = factories.make_ticket(inbox, subject="For the owner")
    with django_capture_on_commit_callbacks(execute=True):
        services.assign(ticket=other, assignee=owner, actor=Actor.system())
    panel = agent_client.get(reverse("dashboard:bell_panel")).content.decode()
    assert assigned[0].reference in panel
    assert other.reference not in panel
    page = agent_client.get(reverse("dashboard:notifications"))
    assert page.status_code == 200
    assert len(page.context["notifications"]) == 2


def test_mark_all_read_goes_through_the_service(agent_client, agent, assigned):
    response = agent_client.post(reverse("dashboard:mark_read"))
    assert response.status_code == 302
    assert not Notification.objects.filter(user=agent, read_at__isnull=True).exists()


def test_mark_read_by_htmx_answers_the_new_badge(agent_client, agent, assigned):
    first = Notification.objects.filter(user=agent).first()
    response = agent_client.post(
        reverse("dashboard:mark_read"), {"notification": [first.pk]}, headers={"HX-Request": "true"}
    )
    assert ">1</span>" in response.content.decode()


def test_opening_a_notification_marks_it_read_and_leads_to_its_ticket(agent_client, agent, assigned):
    notification = Notification.objects.get(user=agent, ticket=assigned[0])
    response = agent_client.post(reverse("dashboard:open_notification", args=[notification.pk]))
    assert response["Location"] == reverse("dashboard:ticket", args=[assigned[0].public_id])
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_one_cannot_open_someone_elses_notification(
    agent_client, owner, inbox, django_capture_on_commit_callbacks
):
    ticket = factories.make_ticket(inbox)
    with django_capture_on_commit_callbacks(execute=True):
        services.assign(ticket=ticket, assignee=owner, actor=Actor.system())
    notification = Notification.objects.get(user=owner)
    agent_client.post(reverse("dashboard:open_notification", args=[notification.pk]))
    notification.refresh_from_db()
    assert notification.read_at is None


def test_bell_query_count_does_not_grow_with_notifications(
    agent_client, agent, inbox, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(12):
            services.assign(ticket=factories.make_ticket(inbox), assignee=agent, actor=Actor.system())
    assert Notification.objects.filter(user=agent).count() == 12
    with django_assert_max_num_queries(6):
        agent_client.get(reverse("dashboard:bell_panel"))
    with django_assert_max_num_queries(5):
        agent_client.get(reverse("dashboard:bell"))


# Availability --------------------------------------------------------------------------


def test_agent_goes_away_and_back_through_the_service(agent_client, agent, organization):
    membership = Membership.objects.get(user=agent, organization=organization)
    assert membership.is_available
    response = agent_client.post(reverse("dashboard:availability"), {"is_available": "0", "next": "/desk/"})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert not membership.is_available
    html = agent_client.get(reverse("dashboard:queue")).content.decode()
    assert "is-away" in html

    response = agent_client.post(
        reverse("dashboard:availability"), {"is_available": "1"}, headers={"HX-Request": "true"}
    )
    assert 'class="availability-toggle is-available"' in response.content.decode()
    membership.refresh_from_db()
    assert membership.is_available


def test_away_agents_are_passed_by_auto_assignment(agent_client, agent, organization, inbox):
    inbox.auto_assignment = "least_loaded_n1"
    inbox.save()
    colleague = factories.make_agent(organization, email="colleague@acme.test")
    agent_client.post(reverse("dashboard:availability"), {"is_available": "0"})
    ticket = factories.make_ticket(inbox)
    assert ticket.assignee == colleague
    agent_client.post(reverse("dashboard:availability"), {"is_available": "1"})
    Membership.objects.filter(user=colleague).update(is_available=False)
    assert factories.make_ticket(inbox).assignee == agent


def test_availability_is_per_organization(agent_client, agent, organization, other_organization):
    Membership.objects.create(user=agent, organization=other_organization)
    agent_client.post(reverse("dashboard:availability"), {"is_available": "0"})
    assert not Membership.objects.get(user=agent, organization=organization).is_available
    assert Membership.objects.get(user=agent, organization=other_organization).is_available


# Membership at read time ---------------------------------------------------------------


def test_a_removed_member_no_longer_sees_the_old_organizations_notifications(
    agent_client, agent, assigned, owner, organization, other_organization, django_capture_on_commit_callbacks
):
    from accounts import services as account_services

    factories.make_agent(other_organization, email=agent.email)
    globex_ticket = factories.make_ticket(
        factories.make_inbox(other_organization, prefix="GLX"), subject="Globex question"
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.assign(ticket=globex_ticket, assignee=agent, actor=Actor.system())
    account_services.remove_member(
        membership=Membership.objects.get(user=agent, organization=organization), actor=Actor.agent(owner)
    )

    # Before: the bell still showed Acme's references and subjects.
    panel = agent_client.get(reverse("dashboard:bell_panel")).content.decode()
    page = agent_client.get(reverse("dashboard:notifications")).content.decode()
    badge = agent_client.get(reverse("dashboard:bell")).content.decode()
    for html in (panel, page):
        assert globex_ticket.reference in html
        for ticket in assigned:
            assert ticket.reference not in html
            assert ticket.subject not in html
    assert ">1</span>" in badge
    acme_notification = Notification.objects.get(user=agent, ticket=assigned[0])
    opened = agent_client.post(reverse("dashboard:open_notification", args=[acme_notification.pk]))
    assert opened["Location"] == reverse("dashboard:notifications")
