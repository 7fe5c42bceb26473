from datetime import timedelta

from django.core.management.base import BaseCommand

from tickets.models import Delivery
from tickets.tasks import retry_deliveries


class Command(BaseCommand):
    help = (
        "Send failed email deliveries again (after the provider recovered), and queued ones "
        "stuck longer than --stale-minutes (e.g. the task queue was down when they were queued)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--stale-minutes", type=int, default=60)
        parser.add_argument("--ticket", help="Only this ticket's deliveries (its reference, e.g. INV-1042).")

    def handle(self, *, stale_minutes, ticket, **options):
        deliveries = Delivery.objects.all()
        if ticket:
            deliveries = deliveries.filter(ticket__reference=ticket)
        count = retry_deliveries(deliveries, stale_after=timedelta(minutes=stale_minutes))
        self.stdout.write(f"Queued {count} deliver{'y' if count == 1 else 'ies'} again.")
