"""The index that finds a policy's tickets when the policy is deleted, built CONCURRENTLY
on PostgreSQL (hence ``atomic = False``) so a live database keeps taking writes while it
is built. Partial: tickets without a policy add no entry."""

from django.db import migrations, models

INDEX = models.Index(
    condition=models.Q(("sla_policy__isnull", False)), fields=["sla_policy"], name="ticket_sla_policy"
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

    dependencies = [("tickets", "0035_add_ticket_sla_deleted_policy_name")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="ticket", index=INDEX)],
            database_operations=[migrations.RunPython(create, drop)],
        )
    ]
