"""The pure parts of the comparison with django-helpdesk: the maps and the SQL that copies
our data set into their schema. No network and no scratch virtualenv needed."""

import pytest
from django.db import connection

from bench.compare import mapping
from tickets import services
from tickets.actors import Actor
from tickets.models import Message, Ticket
from tickets.querysets import OPEN_STATUSES
from tickets.tests.factories import make_ticket


def test_every_status_of_ours_has_one_of_theirs():
    assert set(mapping.STATUS_MAP) == set(Ticket.Status.values)
    assert set(mapping.STATUS_MAP.values()) <= {1, 2, 3, 4}


def test_our_open_statuses_are_exactly_the_ones_their_list_shows_by_default():
    theirs = {mapping.STATUS_MAP[status] for status in OPEN_STATUSES}
    assert theirs == set(mapping.THEIR_OPEN_STATUSES)
    closed = {mapping.STATUS_MAP[status] for status in set(Ticket.Status.values) - OPEN_STATUSES}
    assert not closed & set(mapping.THEIR_OPEN_STATUSES)


def test_every_priority_of_ours_has_one_of_theirs_in_the_same_order():
    assert set(mapping.PRIORITY_MAP) == set(Ticket.Priority.values)
    ordered = ["low", "normal", "high", "urgent", "critical"]
    # Theirs counts down: 1 is Critical. A more urgent ticket never gets a lower rank.
    ranks = [mapping.PRIORITY_MAP[name] for name in ordered]
    assert ranks == sorted(ranks, reverse=True)


def test_case_sql_maps_each_value_and_refuses_one_that_is_not_plain():
    assert mapping.case_sql("t.status", {"open": 1, "in_progress": 2}) == (
        "CASE t.status WHEN 'open' THEN 1 WHEN 'in_progress' THEN 2 END"
    )
    with pytest.raises(ValueError, match="not a plain value"):
        mapping.case_sql("t.status", {"open'; DROP TABLE x; --": 1})


def test_the_script_finds_what_it_reuses_from_the_bench():
    # run.py borrows bench/run.py's loader, driver and helpers: a rename there breaks the
    # comparison, and this says so in the normal suite rather than on the next rerun.
    from bench.compare import run

    assert callable(run.main)
    assert run.OURS_DB != run.THEIRS_DB


def test_ratio_says_how_many_times_faster_ours_is_or_that_theirs_timed_out():
    assert mapping.ratio(10.0, 80.0) == "8.0x"
    assert mapping.ratio(40.0, 20.0) == "0.50x"
    assert mapping.ratio(10.0, float("inf")) == "timeout"
    assert mapping.ratio(0.0, 5.0) == "-"


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_copy_queries_give_their_columns_from_our_schema(inbox, agent):
    ticket = make_ticket(
        inbox, email="ana@example.test", subject="Refund", message="First words.", priority="urgent"
    )
    services.add_message(
        ticket=ticket, body="A private note.", actor=Actor.agent(agent), kind=Message.Kind.NOTE
    )
    with connection.cursor() as cursor:
        cursor.execute(mapping.tickets_sql(inbox.organization_id))
        (row,) = cursor.fetchall()
        cursor.execute(mapping.followups_sql(inbox.organization_id))
        followups = cursor.fetchall()

    copied = dict(zip(mapping.TICKET_COLUMNS, row, strict=True))
    assert copied["submitter_email"] == "ana@example.test"
    assert copied["description"] == "First words."
    assert copied["status"] == mapping.STATUS_MAP[ticket.status]
    assert copied["priority"] == 1
    assert copied["queue_id"] == inbox.pk
    assert [len(followup) for followup in followups] == [len(mapping.FOLLOWUP_COLUMNS)] * 2
    public = [dict(zip(mapping.FOLLOWUP_COLUMNS, followup, strict=True))["public"] for followup in followups]
    assert public == [True, False]
