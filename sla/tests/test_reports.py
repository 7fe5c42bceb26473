"""Reports → Service levels: attainment per policy/agent/inbox/priority, breached list, CSV, CSAT."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from sla import satisfaction, services
from sla.models import SlaPolicy
from tickets import services as ticket_services
from tickets.actors import Actor
from tickets.models import Inbox
from tickets.tests import factories

NOW = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture
def month(inbox, agent, make_policy, time_machine):
    """Four tickets with an SLA: one answered late (breached), three in time; two rated."""
    Inbox.objects.filter(pk=inbox.pk).update(satisfaction_survey=True)
    make_policy("Standard", targets={"first_reply_minutes": 30})
    time_machine.move_to(NOW, tick=False)
    tickets = [
        factories.make_ticket(inbox, subject=f"Question {n}", priority="high" if n == 0 else "normal")
        for n in range(4)
    ]
    for number, ticket in enumerate(tickets):
        ticket_services.assign(ticket=ticket, assignee=agent, actor=Actor.system("Tests"))
        time_machine.move_to(NOW + timedelta(minutes=45 if number == 0 else 10), tick=False)
        ticket_services.add_message(ticket=ticket, actor=Actor.agent(agent), body="Answer")
        ticket_services.update_ticket(ticket=ticket, actor=Actor.agent(agent), status="resolved")
    satisfaction.rate(
        ticket=tickets[0], rating="bad", comment="Too slow", actor=Actor.for_customer(tickets[0].customer)
    )
    satisfaction.rate(ticket=tickets[1], rating="good", actor=Actor.for_customer(tickets[1].customer))
    time_machine.move_to(NOW + timedelta(days=1), tick=False)
    return tickets


def test_the_report_shows_attainment_the_breached_tickets_and_csat(agent_client, month):
    response = agent_client.get(reverse("sla-reports:report"), {"days": "7"})
    assert response.status_code == 200
    html = response.content.decode()
    assert response.context["overall"].percent == 75.0
    assert "3 of 4 tickets met every target" in html
    priorities = {share.label: share.percent for share in dict(response.context["groups"])["Priority"]}
    assert priorities == {"high": 0.0, "normal": 100.0}
    assert [ticket.subject for ticket in response.context["breached"]] == ["Question 0"]
    assert response.context["csat"].percent == 50.0
    assert "Too slow" in html
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]


def test_the_csv_has_attainment_csat_and_the_breached_list(agent_client, month):
    response = agent_client.get(reverse("sla-reports:csv"), {"days": "30"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert ["all", "All", "4", "3", "75.0"] in rows
    assert ["policy", "Standard", "4", "3", "75.0"] in rows
    assert any(row[:2] == ["agent", "agent@acme.test"] and row[4] == "50.0" for row in rows)
    breached = [row for row in rows if row and row[0] == month[0].reference]
    assert breached and breached[0][3] == "first_reply"


def test_the_csv_has_the_csat_comments_and_names_unassigned_tickets_alike(agent_client, month, agent):
    ticket_services.assign(ticket=month[2], assignee=None, actor=Actor.agent(agent))
    rows = list(
        csv.reader(io.StringIO(agent_client.get(reverse("sla-reports:csv"), {"days": "30"}).content.decode()))
    )
    header = rows.index(["comment_ticket", "rating", "comment", "rated_at", "assignee", "inbox"])
    assert [row[:3] for row in rows[header + 1 :]] == [[month[0].reference, "bad", "Too slow"]]
    assert ["agent", "Unassigned", "1", "1", "100.0"] in rows


def test_reports_need_a_sign_in(client):
    response = client.get(reverse("sla-reports:report"))
    assert response.status_code == 302


def test_a_deleted_policy_still_counts_under_its_name(agent_client, month, organization, owner):
    services.delete_policy(policy=SlaPolicy.objects.get(name="Standard"), actor=Actor.agent(owner))

    response = agent_client.get(reverse("sla-reports:report"), {"days": "7"})
    assert response.context["overall"].total == 4
    assert response.context["overall"].percent == 75.0
    policies = {share.label: share.percent for share in dict(response.context["groups"])["Policy"]}
    assert policies == {"Standard (deleted)": 75.0}
    assert "Standard (deleted)" in response.content.decode()
    rows = list(
        csv.reader(io.StringIO(agent_client.get(reverse("sla-reports:csv"), {"days": "30"}).content.decode()))
    )
    assert ["policy", "Standard (deleted)", "4", "3", "75.0"] in rows
    breached = [row for row in rows if row and row[0] == month[0].reference]
    assert breached[0][2] == "Standard (deleted)"
