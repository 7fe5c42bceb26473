"""A GIN index (jsonb_path_ops) on ``Ticket.custom_fields``, PostgreSQL only.

``?cf.order_id=A-1042`` is ``custom_fields @> '{"order_id": "A-1042"}'``, which this
index answers at a million tickets. Built CONCURRENTLY (hence ``atomic = False``) so a
live database keeps taking writes.
"""

from django.db import migrations


def add_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS ticket_custom_fields "
        "ON tickets_ticket USING gin (custom_fields jsonb_path_ops)"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS ticket_custom_fields")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("tickets", "0018_add_custom_fields")]

    operations = [migrations.RunPython(add_index, drop_index)]
