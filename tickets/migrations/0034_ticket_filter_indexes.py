"""The filters' indexes, built CONCURRENTLY on PostgreSQL (hence ``atomic = False``) so a
live database keeps taking writes while they are built: the inbox's and the assignee's,
and the status index extended with the priority (built before the old one is dropped, so
the status filter always has an index)."""

from django.db import migrations, models

INDEXES = [
    models.Index(
        fields=["organization", "status", "-created_at", "-id", "priority"], name="ticket_org_status_created"
    ),
    models.Index(fields=["organization", "inbox", "-created_at", "-id", "status"], name="ticket_org_inbox_created"),
    models.Index(
        fields=["organization", "assignee", "-created_at", "-id", "status"], name="ticket_org_assignee_created"
    ),
]

REPLACED = models.Index(fields=["organization", "status", "-created_at"], name="ticket_org_status")


def _concurrently(schema_editor) -> dict:
    return {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}


def create(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    for index in INDEXES:
        schema_editor.add_index(Ticket, index, **_concurrently(schema_editor))
    schema_editor.remove_index(Ticket, REPLACED, **_concurrently(schema_editor))


def drop(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    schema_editor.add_index(Ticket, REPLACED, **_concurrently(schema_editor))
    for index in INDEXES:
        schema_editor.remove_index(Ticket, index, **_concurrently(schema_editor))


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("tickets", "0033_add_ticket_dialect")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                *(migrations.AddIndex(model_name="ticket", index=index) for index in INDEXES),
                migrations.RemoveIndex(model_name="ticket", name=REPLACED.name),
            ],
            database_operations=[migrations.RunPython(create, drop)],
        )
    ]
