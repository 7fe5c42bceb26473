"""Full-text search through each ticket's stored search document (PostgreSQL)."""

import pytest
from django.db import connection

from tickets import search, services
from tickets.actors import Actor
from tickets.models import Ticket

from . import factories

pytestmark = pytest.mark.postgres


def found(text: str) -> set[str]:
    return set(Ticket.objects.search(text).values_list("reference", flat=True))


def test_a_new_ticket_is_found_by_its_subject_first_message_and_reference(inbox):
    ticket = factories.make_ticket(inbox, subject="Refund for a double charge", message="Paid twice in March")

    assert found("refunds") == {ticket.reference}  # stemmed: "refunds" matches "Refund"
    assert found("march") == {ticket.reference}
    assert found(ticket.reference) == {ticket.reference}
    assert found("password") == set()


def test_replies_and_internal_notes_become_searchable_when_added(inbox, agent):
    ticket = factories.make_ticket(inbox, subject="Question", message="Hello")
    services.add_message(ticket=ticket, body="The warehouse lost the parcel", actor=Actor.agent(agent))
    services.add_message(ticket=ticket, body="Escalated to logistics", kind="note", actor=Actor.agent(agent))

    assert found("parcel") == {ticket.reference}
    assert found("logistics") == {ticket.reference}
    assert found("hello") == {ticket.reference}, "the first message is still in the document"


def test_a_changed_subject_replaces_the_old_words(inbox, agent):
    ticket = factories.make_ticket(inbox, subject="Printer jammed", message="It beeps")
    services.add_message(ticket=ticket, body="Tried a restart", actor=Actor.agent(agent))

    services.update_ticket(ticket=ticket, subject="Scanner offline", actor=Actor.agent(agent))

    assert found("printer") == set()
    assert found("scanner") == {ticket.reference}
    assert found("restart") == {ticket.reference}, "messages are kept when the subject changes"


def test_quoted_phrases_match_words_in_that_order_only(inbox):
    in_order = factories.make_ticket(inbox, subject="Hello", message="the invoice download fails")
    factories.make_ticket(inbox, subject="Hello", message="download the invoice again")

    assert found('"invoice download"') == {in_order.reference}


def test_a_customer_email_finds_that_customers_tickets(inbox):
    ticket = factories.make_ticket(
        inbox, email="jane@example.com", subject="Hello there", message="Nothing special"
    )
    factories.make_ticket(inbox, email="john@example.com", subject="Hello there", message="Nothing special")

    assert found("Jane@Example.com") == {ticket.reference}


def test_a_very_long_thread_keeps_taking_messages_once_its_document_is_full(inbox, agent):
    ticket = factories.make_ticket(inbox, subject="Log dump", message="first")
    # Made-up words, distinct in every message, so the document grows past its cap.
    for number in range(100):
        body = " ".join(f"m{number}w{word}" for word in range(600))
        services.add_message(ticket=ticket, body=body, actor=Actor.agent(agent))

    message, created = services.add_message(ticket=ticket, body="latecomer", actor=Actor.agent(agent))

    assert created and ticket.messages.count() == 102
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT octet_length(search_document::text) FROM tickets_ticket WHERE id = %s", [ticket.pk]
        )
        (size,) = cursor.fetchone()
    assert search.DOCUMENT_MAX_BYTES <= size < search.DOCUMENT_MAX_BYTES + 4 * search.MESSAGE_INDEXED_CHARS
    assert found("first") == {ticket.reference}
    assert found("m0w1") == {ticket.reference}
    assert found("latecomer") == set(), "past the cap a message is stored but not indexed"


def test_the_search_reads_one_gin_index_not_every_ticket(inbox):
    factories.make_ticket(inbox, subject="Warranty claim", message="Broken hinge")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = Ticket.objects.search("hinge").query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "ticket_search_document" in plan
