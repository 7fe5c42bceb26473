"""The ticket's full-text search document on PostgreSQL.

Each ticket stores one ``tsvector`` (``Ticket.search_document``): its reference, subject
and every message body, notes included. The services write it in the same statement as
the row they already write (the ticket's INSERT, the UPDATE of ``updated_at`` when a
message is added), so a search is one GIN-indexed predicate on the tickets table.

A tsvector's lexemes may not exceed 1 MB, so each message contributes its first
``MESSAGE_INDEXED_CHARS`` characters and a document stops growing at
``DOCUMENT_MAX_BYTES`` (as text): a later message of such a ticket is still stored, only
not searchable. On other databases nothing is stored and the search falls back to
``icontains`` (``TicketQuerySet.search``).
"""

from django.apps import apps
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import connection
from django.db.models import (
    Case,
    F,
    Func,
    IntegerField,
    OuterRef,
    StringAgg,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Concat, Left
from django.db.models.lookups import LessThan

SEARCH_CONFIG = "english"
# Characters, so at most four times as many bytes: the sums below stay under 1 MB.
MESSAGE_INDEXED_CHARS = 20_000
REBUILT_SOURCE_MAX_CHARS = 200_000
# Bytes of the document's text form (lexemes, positions and quotes).
DOCUMENT_MAX_BYTES = 600_000


# Every ticket's document from its stored rows at once (bench/dataset.py after a bulk
# load); the same document as rebuilt_document(), set-based.
FILL_ALL_SQL = f"""
UPDATE tickets_ticket AS ticket
SET search_document = to_tsvector('{SEARCH_CONFIG}', left(
    ticket.reference || ' ' || ticket.subject || E'\\n' || bodies.text, {REBUILT_SOURCE_MAX_CHARS}))
FROM (
    SELECT ticket_id, string_agg(left(body, {MESSAGE_INDEXED_CHARS}), E'\\n' ORDER BY id) AS text
    FROM tickets_message GROUP BY ticket_id
) AS bodies
WHERE bodies.ticket_id = ticket.id
"""  # noqa: S608 - module constants only


def is_supported() -> bool:
    return connection.vendor == "postgresql"


def _vector(text) -> SearchVector:
    return SearchVector(text, config=SEARCH_CONFIG)


def new_document(*, reference: str, subject: str, body: str) -> SearchVector:
    """The document of a new ticket, as an expression for its INSERT."""
    return _vector(Value(f"{reference} {subject}\n{body[:MESSAGE_INDEXED_CHARS]}"))


def document_with(body: str) -> Case:
    """``search_document`` plus one more message body, as an expression for an UPDATE."""
    current = Coalesce(F("search_document"), Value("", output_field=SearchVectorField()))
    appended = Func(
        current,
        _vector(Value(body[:MESSAGE_INDEXED_CHARS])),
        template="(%(expressions)s)",
        arg_joiner=" || ",
        output_field=SearchVectorField(),
    )
    size = Func(Cast(current, output_field=TextField()), function="octet_length", output_field=IntegerField())
    return Case(When(LessThan(size, DOCUMENT_MAX_BYTES), then=appended), default=F("search_document"))


def rebuilt_document() -> SearchVector:
    """The document from the ticket's reference, subject and stored messages (an UPDATE)."""
    # By name: the models module (through its manager) imports this one.
    Message = apps.get_model("tickets", "Message")
    bodies = (
        Message.objects.filter(ticket=OuterRef("pk"))
        .order_by()
        .values("ticket")
        .annotate(text=StringAgg(Left("body", MESSAGE_INDEXED_CHARS), delimiter=Value("\n"), order_by="id"))
        .values("text")
    )
    source = Concat(
        F("reference"),
        Value(" "),
        F("subject"),
        Value("\n"),
        Coalesce(Subquery(bodies), Value(""), output_field=TextField()),
        output_field=TextField(),
    )
    return _vector(Left(source, REBUILT_SOURCE_MAX_CHARS))
