"""The inbox and assignee filters' indexes, built CONCURRENTLY on PostgreSQL (hence
``atomic = False``) so a live database keeps taking writes while they are built."""

from django.db import migrations, models

INDEXES = [
    models.Index(fields=["organization", "inbox", "-created_at", "-id", "status"], name="ticket_org_inbox_created"),
    models.Index(
        fields=["organization", "assignee", "-created_at", "-id", "status"], name="ticket_org_assignee_created"
    ),
]


def create(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    concurrently = {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}
    for index in INDEXES:
        schema_editor.add_index(Ticket, index, **concurrently)


def drop(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    concurrently = {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}
    for index in INDEXES:
        schema_editor.remove_index(Ticket, index, **concurrently)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("tickets", "0033_add_ticket_dialect")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="ticket", index=index) for index in INDEXES],
            database_operations=[migrations.RunPython(create, drop)],
        )
    ]
