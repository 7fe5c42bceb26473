"""Tickets whose SLA policy was deleted before ``Ticket.sla_deleted_policy_name`` existed
lost the policy with it. Where a ticket's events still name it, it is kept: a ticket with
no policy whose latest ``sla_applied`` event chose one had that policy deleted (a choice
of no policy is an event too). A ticket that kept the policy chosen at its creation has
no such event, and stays without a name. Reversed, the names stay (0035 drops them)."""

from collections import defaultdict

from django.db import migrations

BATCH = 1000


def backfill(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    TicketEvent = apps.get_model("tickets", "TicketEvent")
    latest = {}
    events = (
        TicketEvent.objects.filter(action="sla_applied", ticket__sla_policy__isnull=True)
        .order_by("ticket_id", "created_at", "pk")
        .values_list("ticket_id", "after")
    )
    for ticket_id, after in events.iterator(chunk_size=BATCH):
        latest[ticket_id] = after
    by_name = defaultdict(list)
    for ticket_id, name in latest.items():
        if isinstance(name, str) and name:
            by_name[name[:100]].append(ticket_id)
    for name, ticket_ids in by_name.items():
        for start in range(0, len(ticket_ids), BATCH):
            Ticket.objects.filter(
                pk__in=ticket_ids[start : start + BATCH], sla_policy__isnull=True, sla_deleted_policy_name=""
            ).update(sla_deleted_policy_name=name)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0038_backfill_note_author_labels")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
