"""Search tickets through one GIN index on ``Ticket.search_document`` (PostgreSQL only).

The expression indexes of migration 0004 are dropped: the search no longer reads
messages, and the index on every message body cost each new message a GIN insert. Built
and dropped CONCURRENTLY (hence ``atomic = False``) so a live database keeps taking writes.
"""

from django.db import migrations

OLD_INDEXES = {
    "ticket_subject_search": (
        "tickets_ticket",
        "to_tsvector('english'::regconfig, COALESCE(subject, ''::character varying)::text)",
    ),
    "message_body_search": (
        "tickets_message",
        "to_tsvector('english'::regconfig, COALESCE(body, ''::text))",
    ),
}


def use_document_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS ticket_search_document "
        "ON tickets_ticket USING gin (search_document)"
    )
    # With the default statistics a word that is rare or absent is estimated to match
    # thousands of tickets, and the planner walks the newest tickets looking for 20 matches:
    # 13 s at a million tickets for a word found nowhere. A longer list of most common
    # lexemes makes the estimate right, and such a search a bitmap scan of the index.
    schema_editor.execute("ALTER TABLE tickets_ticket ALTER COLUMN search_document SET STATISTICS 1000")
    for name in OLD_INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


def use_expression_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (table, expression) in OLD_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} USING gin ({expression})"
        )
    schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS ticket_search_document")
    schema_editor.execute("ALTER TABLE tickets_ticket ALTER COLUMN search_document SET STATISTICS -1")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("tickets", "0005_search_document_and_rendered_bodies")]

    operations = [migrations.RunPython(use_document_index, use_expression_indexes, elidable=False)]
