"""Who spoke last: the ticket remembers it, and the queue lists longest waits first."""

from datetime import UTC, datetime, timedelta
from importlib import import_module

import pytest
from django.apps import apps as global_apps
from django.db import connection
from django.urls import reverse

from tickets import services
from tickets.actors import Actor
from tickets.dashboard.filters import ordered
from tickets.models import Message, Ticket
from tickets.tests import factories

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


def reload(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


def test_a_new_ticket_waits_for_us_from_the_customer_first_message(inbox, time_machine):
    time_machine.move_to(START, tick=False)
    ticket = factories.make_ticket(inbox)

    assert ticket.last_customer_message_at == START
    assert ticket.customer_waiting_since == START
    assert ticket.last_agent_reply_at is None


def test_our_reply_ends_the_wait_and_the_next_customer_message_starts_another(inbox, agent, time_machine):
    time_machine.move_to(START, tick=False)
    ticket = factories.make_ticket(inbox)
    customer = Actor.for_customer(ticket.customer)

    time_machine.move_to(START + timedelta(hours=1), tick=False)
    services.add_message(ticket=ticket, body="A second thought", actor=customer)
    assert reload(ticket).customer_waiting_since == START, "the wait runs from the first unanswered message"
    assert reload(ticket).last_customer_message_at == START + timedelta(hours=1)

    time_machine.move_to(START + timedelta(hours=2), tick=False)
    services.add_message(ticket=ticket, body="Only agents see this", kind="note", actor=Actor.agent(agent))
    assert reload(ticket).customer_waiting_since == START, "a note answers nobody"

    services.add_message(ticket=ticket, body="Here is the fix", actor=Actor.agent(agent))
    ticket = reload(ticket)
    assert ticket.customer_waiting_since is None
    assert ticket.last_agent_reply_at == START + timedelta(hours=2)

    time_machine.move_to(START + timedelta(hours=5), tick=False)
    services.add_message(ticket=ticket, body="Thanks, but", actor=customer)
    assert reload(ticket).customer_waiting_since == START + timedelta(hours=5)


def make_conversation(inbox, agent, *, opened_hours_ago, customer_replied_hours_ago=None, answered=False):
    now = datetime.now(UTC)
    ticket = factories.make_ticket(inbox, subject=f"Opened {opened_hours_ago} h ago")
    Ticket.objects.filter(pk=ticket.pk).update(
        created_at=now - timedelta(hours=opened_hours_ago),
        last_customer_message_at=now - timedelta(hours=opened_hours_ago),
        customer_waiting_since=now - timedelta(hours=opened_hours_ago),
    )
    if answered:
        services.add_message(ticket=ticket, body="Answered", actor=Actor.agent(agent))
    if customer_replied_hours_ago is not None:
        services.add_message(ticket=ticket, body="Any news?", actor=Actor.for_customer(ticket.customer))
        at = now - timedelta(hours=customer_replied_hours_ago)
        Ticket.objects.filter(pk=ticket.pk).update(last_customer_message_at=at, customer_waiting_since=at)
    return reload(ticket)


def test_the_default_view_lists_the_longest_wait_first_and_says_so(agent_client, inbox, agent):
    # An old ticket answered, then the customer replied 5 days in: it must not sink below
    # new tickets, nor look answered.
    old_reply = make_conversation(
        inbox, agent, opened_hours_ago=120, answered=True, customer_replied_hours_ago=30
    )
    answered = make_conversation(inbox, agent, opened_hours_ago=200, answered=True)
    fresh = make_conversation(inbox, agent, opened_hours_ago=1)
    older_new = make_conversation(inbox, agent, opened_hours_ago=5)

    response = agent_client.get(reverse("dashboard:queue"))

    assert response.context["sort"] == "waiting"
    rows = [ticket.public_id for ticket in response.context["tickets"]]
    assert rows == [old_reply.public_id, older_new.public_id, fresh.public_id, answered.public_id]
    html = response.content.decode()
    assert "<th" in html and ">Waiting</th>" in html
    assert "waiting 30 h" in html and "customer replied 1" in html  # "1 day ago"
    assert "waiting 1 h" in html
    assert "we replied just now" in html


@pytest.mark.parametrize("view", ["mine", "unassigned", "open"])
def test_every_unsolved_view_sorts_by_waiting_and_the_column_follows_another_sort(agent_client, view):
    response = agent_client.get(reverse("dashboard:queue"), {"view": view})
    assert response.context["sort"] == "waiting"
    assert response.context["time_column"] == "Waiting"

    response = agent_client.get(reverse("dashboard:queue"), {"view": view, "sort": "-created"})
    assert response.context["time_column"] == "Created"


def test_the_queue_with_who_spoke_last_costs_what_it_did(
    agent_client, inbox, agent, django_assert_max_num_queries
):
    for hours in range(8):
        make_conversation(inbox, agent, opened_hours_ago=hours + 1, answered=hours % 2 == 0)
    with django_assert_max_num_queries(13):
        response = agent_client.get(reverse("dashboard:queue"))
    assert len(response.context["tickets"]) == 8


def test_a_deep_waiting_page_holds_the_rows_an_offset_would(agent_client, inbox, agent, monkeypatch):
    monkeypatch.setattr("tickets.dashboard.queue.PER_PAGE", 2)
    for hours in range(7):
        make_conversation(inbox, agent, opened_hours_ago=hours + 1, answered=hours % 3 == 0)
    expected = list(ordered(Ticket.objects.open(), "waiting").values_list("public_id", flat=True)[4:6])

    response = agent_client.get(reverse("dashboard:queue"), {"page": 3})

    assert [ticket.public_id for ticket in response.context["tickets"]] == expected


@pytest.mark.postgres
@pytest.mark.parametrize("view", ["open", "mine", "unassigned"])
def test_the_waiting_sort_reads_its_index_not_the_table(inbox, agent, view):
    from tickets.dashboard.filters import apply_saved_view

    factories.make_ticket(inbox)
    tickets = ordered(
        apply_saved_view(Ticket.objects.filter(organization=inbox.organization), view, agent), "waiting"
    )
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = tickets.values("pk")[25:50].query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan" not in plan
    if view == "open":
        # The whole organization's unsolved tickets: walked in order along the index, no sort.
        assert "ticket_org_waiting" in plan
        assert "Sort Key" not in plan


def test_the_backfill_fills_who_spoke_last_from_the_messages(inbox, agent, time_machine):
    time_machine.move_to(START, tick=False)
    waiting = factories.make_ticket(inbox)
    time_machine.move_to(START + timedelta(hours=1), tick=False)
    answered = factories.make_ticket(inbox)
    services.add_message(ticket=answered, body="Done", actor=Actor.agent(agent))
    time_machine.move_to(START + timedelta(hours=2), tick=False)
    services.add_message(ticket=waiting, body="Hello?", actor=Actor.for_customer(waiting.customer))
    Message.objects.create(
        ticket=answered, kind="note", author_type="agent", author_user=agent, body="note", created_at=START
    )
    Ticket.objects.update(
        last_customer_message_at=None, last_agent_reply_at=None, customer_waiting_since=None
    )

    migration = import_module("tickets.migrations.0025_backfill_ticket_who_spoke_last")
    migration.backfill(global_apps, None)

    waiting, answered = reload(waiting), reload(answered)
    assert (waiting.customer_waiting_since, waiting.last_customer_message_at) == (
        START,
        START + timedelta(hours=2),
    )
    assert waiting.last_agent_reply_at is None
    assert answered.customer_waiting_since is None
    assert answered.last_agent_reply_at == START + timedelta(hours=1)
    assert answered.last_customer_message_at == START + timedelta(hours=1)
