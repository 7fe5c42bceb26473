"""Fill who spoke last on existing tickets from their public messages, in batches of ids
so a large table is never locked whole."""

from django.db import migrations
from django.db.models import Max, Min, OuterRef, Q, Subquery

BATCH = 5_000


def backfill(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    Message = apps.get_model("tickets", "Message")
    public = Message.objects.filter(ticket=OuterRef("pk"), kind="reply").order_by().values("ticket")
    customer = public.filter(author_type="customer")
    ours = public.exclude(author_type="customer")
    last_customer = customer.annotate(at=Max("created_at")).values("at")
    last_ours = ours.annotate(at=Max("created_at")).values("at")
    last_id = 0
    while True:
        ids = list(
            Ticket.objects.filter(pk__gt=last_id).order_by("pk").values_list("pk", flat=True)[:BATCH]
        )
        if not ids:
            break
        batch = Ticket.objects.filter(pk__in=ids)
        batch.update(last_customer_message_at=Subquery(last_customer), last_agent_reply_at=Subquery(last_ours))
        # The first customer message after our last public reply (any, when we never replied).
        unanswered = customer.filter(
            Q(created_at__gt=OuterRef("last_agent_reply_at")) | Q(ticket__last_agent_reply_at__isnull=True)
        )
        batch.update(customer_waiting_since=Subquery(unanswered.annotate(at=Min("created_at")).values("at")))
        last_id = ids[-1]


def forget(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    Ticket.objects.update(last_customer_message_at=None, last_agent_reply_at=None, customer_waiting_since=None)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0024_add_ticket_who_spoke_last")]

    operations = [migrations.RunPython(backfill, forget)]
