"""Store what every read used to recompute: each message's rendered HTML, and each
ticket's full-text search document (PostgreSQL only; filled here for existing tickets and
kept up to date by tickets/services.py from now on)."""

import django.contrib.postgres.search
from django.db import migrations, models

FILL_SEARCH_DOCUMENTS = r"""
UPDATE tickets_ticket AS ticket
SET search_document = to_tsvector('english', left(
    ticket.reference || ' ' || ticket.subject || E'\n' || COALESCE(
        (SELECT string_agg(left(message.body, 20000), E'\n' ORDER BY message.id)
         FROM tickets_message AS message WHERE message.ticket_id = ticket.id),
        ''),
    200000))
"""


def render_bodies(apps, schema_editor):
    from tickets.rendering import render_markdown

    Message = apps.get_model("tickets", "Message")
    pending = Message.objects.filter(body_html="").exclude(body="").only("pk", "body").order_by("pk")
    batch = []
    for message in pending.iterator(chunk_size=2000):
        message.body_html = render_markdown(message.body)
        batch.append(message)
        if len(batch) == 2000:
            Message.objects.bulk_update(batch, ["body_html"])
            batch = []
    Message.objects.bulk_update(batch, ["body_html"])


def fill_search_documents(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FILL_SEARCH_DOCUMENTS)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0003_add_audit_event"),
        ("tickets", "0004_add_search_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="body_html",
            field=models.TextField(
                blank=True, editable=False, help_text="The body rendered and sanitized, once, when written."
            ),
        ),
        migrations.AddField(
            model_name="ticket",
            name="search_document",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["email"], name="customer_email"),
        ),
        migrations.RunPython(render_bodies, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(fill_search_documents, migrations.RunPython.noop, elidable=True),
    ]
