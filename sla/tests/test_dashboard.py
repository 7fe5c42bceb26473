"""The queue's "due soonest" sort, its SLA filters, and the badges with working time left."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from sla import services
from sla.models import SlaPolicy
from tickets import services as ticket_services
from tickets.actors import Actor
from tickets.tests import factories

NOW = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)  # a Wednesday


def queue_url(name="dashboard:queue", **params):
    return reverse(name) + ("?" + urlencode(params, doseq=True) if params else "")


@pytest.fixture
def desk(inbox, agent, make_policy, time_machine, django_capture_on_commit_callbacks):
    """Three tickets: one overdue (breached), one due in 30 minutes, one due in 4 hours;
    and one without any SLA."""
    make_policy(
        "Urgent", position=0, conditions={"priority": ["urgent"]}, targets={"first_reply_minutes": 30}
    )
    make_policy("Tagged", position=1, conditions={"tag": ["slow"]}, targets={"first_reply_minutes": 240})
    make_policy("Late", position=2, conditions={"priority": ["high"]}, targets={"first_reply_minutes": 10})
    time_machine.move_to(NOW - timedelta(minutes=60), tick=False)
    overdue = factories.make_ticket(inbox, subject="Overdue one", priority="high")
    time_machine.move_to(NOW, tick=False)
    soon = factories.make_ticket(inbox, subject="Due soon", priority="urgent")
    later = factories.make_ticket(inbox, subject="Due later", tags=["slow"])
    none = factories.make_ticket(inbox, subject="No SLA", priority="low")
    from sla.escalation import escalate_due

    with django_capture_on_commit_callbacks(execute=True):
        escalate_due(now=NOW)
    return {"overdue": overdue, "soon": soon, "later": later, "none": none}


def subjects(response):
    return [ticket.subject for ticket in response.context["tickets"]]


@pytest.mark.django_db
def test_due_soonest_sorts_by_the_stored_due_time_with_no_sla_last(agent_client, desk):
    response = agent_client.get(queue_url(view="all", sort="due"))
    assert subjects(response) == ["Overdue one", "Due soon", "Due later", "No SLA"]


@pytest.mark.django_db
def test_the_breached_and_due_within_an_hour_filters(agent_client, desk):
    assert subjects(agent_client.get(queue_url(view="all", sla="breached"))) == ["Overdue one"]
    due = subjects(agent_client.get(queue_url(view="all", sla="due_1h", sort="due")))
    assert due == ["Overdue one", "Due soon"]


@pytest.mark.django_db
def test_queue_rows_show_badges_whose_state_stands_out(agent_client, desk):
    html = agent_client.get(queue_url(view="all", sort="due")).content.decode()
    assert 'data-sla-state="breached"' in html and "First reply overdue 50 m" in html
    assert 'data-sla-state="warning"' in html and "First reply in 30 m" in html
    assert 'data-sla-state="ok"' in html and "First reply in 4 h 0 m" in html
    assert html.count('data-testid="sla-badge"') == 3
    assert 'id="f-sla"' in html and 'value="due_1h"' in html


@pytest.mark.django_db
def test_the_badge_counts_working_time(inbox, agent_client, make_policy, make_hours, manager, time_machine):
    from sla import services

    services.set_inbox_business_hours(inbox=inbox, business_hours=make_hours(), actor=manager)

    make_policy(targets={"first_reply_minutes": 120})
    # Friday 15:30 in Berlin: 90 minutes today, 30 on Monday.
    time_machine.move_to(datetime(2026, 3, 6, 14, 30, tzinfo=UTC), tick=False)
    ticket = factories.make_ticket(inbox, subject="Before the weekend")
    time_machine.move_to(datetime(2026, 3, 7, 12, 0, tzinfo=UTC), tick=False)  # Saturday
    html = agent_client.get(reverse("dashboard:ticket", args=[ticket.public_id])).content.decode()
    # Saturday: 30 working minutes left (Monday 09:00-09:30), though it is two days away.
    assert "First reply in 30 m" in html
    assert 'data-testid="sla-panel"' in html


@pytest.mark.django_db
def test_the_ticket_page_shows_what_was_breached(agent_client, agent, desk):
    ticket = desk["overdue"]
    ticket_services.add_message(ticket=ticket, actor=Actor.agent(agent), body="Sorry for the wait")
    html = agent_client.get(reverse("dashboard:ticket", args=[ticket.public_id])).content.decode()
    assert 'data-testid="sla-breached"' in html and "First reply" in html
    assert "SLA breached" in html  # the history lists the event


@pytest.mark.django_db
def test_the_ticket_page_names_a_deleted_policy_and_its_clock_runs_on(agent_client, manager, desk):
    ticket = desk["soon"]
    services.delete_policy(policy=SlaPolicy.objects.get(name="Urgent"), actor=manager)
    html = agent_client.get(reverse("dashboard:ticket", args=[ticket.public_id])).content.decode()
    assert 'data-testid="sla-panel"' in html
    assert "<dd>Urgent (deleted)</dd>" in html
    assert "First reply due" in html


@pytest.mark.django_db
def test_badges_add_no_query_per_row(agent_client, inbox, make_policy, django_assert_max_num_queries):
    make_policy(targets={"first_reply_minutes": 30})
    for number in range(3):
        factories.make_ticket(inbox, subject=f"Load {number}")
    agent_client.get(queue_url(view="all"))
    with django_assert_max_num_queries(30) as small:
        agent_client.get(queue_url(view="all", sort="due"))
    baseline = len(small.captured_queries)
    for number in range(12):
        factories.make_ticket(inbox, subject=f"More {number}")
    agent_client.get(queue_url(view="all", sort="due"))
    with django_assert_max_num_queries(baseline):
        response = agent_client.get(queue_url(view="all", sort="due"))
    assert response.content.decode().count('data-testid="sla-badge"') == 15
