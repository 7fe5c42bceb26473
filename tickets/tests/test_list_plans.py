"""The queue's and the API's tag filter reads the tag's rows by key, in the list and in its
capped count, never the whole tickets_ticket_tags table (PostgreSQL; ``make bench`` checks
every list at 100,000 tickets and more).

At this size reading a table whole is often the planner's right choice, so each statement
is asked with ``enable_seqscan`` off whether an index CAN answer it."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tickets.tests import factories

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def many_tickets(inbox):
    """A few hundred tickets, every third tagged "vip", fresh statistics."""
    template = factories.make_ticket(inbox, tags=["vip"])
    factories.make_ticket(inbox, tags=["bug"])
    factories.copy_ticket_in_the_database(template.pk, 600)
    tag_id = template.tags.get().pk
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO tickets_ticket_tags (ticket_id, tag_id) SELECT id, %s FROM tickets_ticket "
            "WHERE number %% 3 = 0 AND id <> %s",
            [tag_id, template.pk],
        )
        cursor.execute("ANALYZE tickets_ticket")
        cursor.execute("ANALYZE tickets_ticket_tags")


def plan_nodes(sql: str) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    nodes, waiting = [], [plan[0]["Plan"]]
    while waiting:
        node = waiting.pop()
        nodes.append(node)
        waiting.extend(node.get("Plans", []))
    return nodes


def whole_reads(sql: str, relation: str) -> list[str]:
    """The scans of ``relation`` that read it whole: with no key to look rows up by."""
    return [
        node["Node Type"]
        for node in plan_nodes(sql)
        if node.get("Relation Name") == relation and not ({"Index Cond", "Recheck Cond"} & node.keys())
    ]


def statements_of(client, path: str, relation: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    statements = [query["sql"] for query in captured.captured_queries if f'"{relation}"' in query["sql"]]
    assert statements
    return statements


@pytest.mark.parametrize("path", ["/desk/?view=all&tag=vip", "/api/v1/tickets?tag=vip"])
def test_the_tag_filter_reads_the_tags_rows_by_key(request, many_tickets, path):
    client = request.getfixturevalue("agent_client" if path.startswith("/desk/") else "api")
    # The list and its capped count.
    for sql in statements_of(client, path, "tickets_ticket_tags"):
        if "EXISTS" in sql:
            assert whole_reads(sql, "tickets_ticket_tags") == []
