"""Notes that a trigger or an API key wrote before ``Message.author_label`` existed take
the name their ``note_added`` event recorded (``Trigger: <name>``), instead of
"Helpdesk"."""

from collections import defaultdict

from django.db import migrations

BATCH = 1000


def backfill(apps, schema_editor):
    TicketEvent = apps.get_model("tickets", "TicketEvent")
    Message = apps.get_model("tickets", "Message")
    events = (
        TicketEvent.objects.filter(action="note_added", actor_user__isnull=True, actor_customer__isnull=True)
        .exclude(actor_label__in=["", "Helpdesk"])
        .values_list("after", "actor_label")
    )
    by_label = defaultdict(list)
    for after, label in events.iterator(chunk_size=BATCH):
        if isinstance(after, dict) and after.get("message"):
            by_label[label].append(after["message"])
    for label, public_ids in by_label.items():
        for start in range(0, len(public_ids), BATCH):
            Message.objects.filter(
                public_id__in=public_ids[start : start + BATCH],
                kind="note",
                author_user__isnull=True,
                author_customer__isnull=True,
                author_label="",
            ).update(author_label=label)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0037_add_message_author_label")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
