"""GIN indexes for full-text search on PostgreSQL (nothing on other databases).

The expressions are exactly those ``TicketQuerySet.search()`` filters on, so the planner
can answer a search from the indexes.  Built CONCURRENTLY (hence ``atomic = False``) so
adding them to a live database with millions of messages does not block writes.
"""

from django.db import migrations

INDEXES = {
    "ticket_subject_search": (
        "tickets_ticket",
        "to_tsvector('english'::regconfig, COALESCE(subject, ''::character varying)::text)",
    ),
    "message_body_search": (
        "tickets_message",
        "to_tsvector('english'::regconfig, COALESCE(body, ''::text))",
    ),
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (table, expression) in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} USING gin ({expression})"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("tickets", "0003_add_ticket_resolved_index")]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
