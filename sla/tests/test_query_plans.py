"""The "due soonest" lists, the escalation scan and a policy's deletion are served by their
indexes, never by a scan of the ticket table (PostgreSQL; ``make bench`` checks the same at a million)."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sla import escalation, services
from sla.models import SlaPolicy
from tickets.models import Ticket
from tickets.tests import factories

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def tickets_with_clocks(inbox, make_policy):
    """A few hundred tickets, some with running clocks, and fresh statistics."""
    make_policy(targets={"first_reply_minutes": 60, "resolution_minutes": 600})
    for _ in range(3):
        factories.make_ticket(inbox)
    template = Ticket.objects.filter(organization=inbox.organization).values_list("pk", flat=True).first()
    # Copies of one ticket, made by the database: every tenth has running clocks.
    factories.copy_ticket_in_the_database(
        template,
        400,
        sla_due_at="CASE WHEN g %% 10 = 0 THEN now() + g * interval '1 minute' END",
        sla_check_at="CASE WHEN g %% 10 = 0 THEN now() + (g - 50) * interval '1 minute' END",
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_ticket")


def plan_of(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def ordered_by_due(statements) -> list[str]:
    return [sql for sql in statements if "ORDER BY" in sql and '"sla_due_at" ASC' in sql]


def test_the_apis_due_soonest_list_reads_the_organizations_due_index(api, tickets_with_clocks):
    with CaptureQueriesContext(connection) as captured:
        response = api.get("/api/v1/tickets?sort=sla_due_at")
    assert response.status_code == 200
    (listing, *_) = ordered_by_due(query["sql"] for query in captured.captured_queries)
    plan = plan_of(listing)
    assert "Seq Scan on tickets_ticket" not in plan
    assert "ticket_org_sla_due" in plan


def test_the_queues_due_soonest_view_reads_the_organizations_due_index(agent_client, tickets_with_clocks):
    with CaptureQueriesContext(connection) as captured:
        response = agent_client.get("/desk/?view=open&sort=due")
    assert response.status_code == 200
    statements = ordered_by_due(query["sql"] for query in captured.captured_queries)
    assert statements
    for sql in statements:
        plan = plan_of(sql)
        assert "Seq Scan on tickets_ticket" not in plan
        assert "ticket_org_sla_due" in plan


def test_the_escalation_scan_reads_the_check_index(tickets_with_clocks):
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        due = list(escalation.due_for_check(timezone.now()))
    assert len(due) == 5  # the copies whose check came 50 minutes before their due time
    (scan,) = [query["sql"] for query in captured.captured_queries if "FOR UPDATE" in query["sql"]]
    plan = plan_of(scan)
    assert "Seq Scan on tickets_ticket" not in plan
    assert "sla_check_at" in plan  # the index on sla_check_at (Django names it by hash)


def test_deleting_a_policy_finds_its_tickets_through_the_policy_index(tickets_with_clocks, manager):
    policy = SlaPolicy.objects.get()
    with CaptureQueriesContext(connection) as captured:
        services.delete_policy(policy=policy, actor=manager)
    updates = [
        sql
        for sql in (query["sql"] for query in captured.captured_queries)
        if sql.startswith('UPDATE "tickets_ticket"') and '"sla_policy_id"' in sql.split("WHERE")[-1]
    ]
    assert updates  # the service's own, and Django's SET_NULL after it
    for sql in updates:
        plan = plan_of(sql)
        assert "Seq Scan on tickets_ticket" not in plan
        assert "ticket_sla_policy" in plan
    assert Ticket.objects.filter(sla_deleted_policy_name=policy.name).count() == 403
