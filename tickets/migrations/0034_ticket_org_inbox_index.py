"""The inbox filter's index, built CONCURRENTLY on PostgreSQL (hence ``atomic = False``) so
a live database keeps taking writes while it is built."""

from django.db import migrations, models

INDEX = models.Index(
    fields=["organization", "inbox", "-created_at", "-id", "status"], name="ticket_org_inbox_created"
)


def create(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(Ticket, INDEX, concurrently=True)
    else:
        schema_editor.add_index(Ticket, INDEX)


def drop(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(Ticket, INDEX, concurrently=True)
    else:
        schema_editor.remove_index(Ticket, INDEX)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("tickets", "0033_add_ticket_dialect")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="ticket", index=INDEX)],
            database_operations=[migrations.RunPython(create, drop)],
        )
    ]
