"""Send the webhook deliveries that are due, and forget events past their retention.

With the database task backend the worker sends and retries by itself; run this from
cron (every minute) where the backend cannot wait (``TASKS_BACKEND=immediate``), and
daily anywhere for ``--prune``.
"""

from django.core.management.base import BaseCommand

from webhooks import services


class Command(BaseCommand):
    help = "Send due webhook deliveries (retries too); --prune also deletes events past their retention."

    def add_arguments(self, parser):
        parser.add_argument(
            "--prune", action="store_true", help="Also delete events older than the retention."
        )

    def handle(self, *args, prune=False, **options):
        delivered = sum(services.drain(endpoint_id) for endpoint_id in services.due_endpoint_ids())
        self.stdout.write(f"{delivered} webhook deliveries sent.")
        if prune:
            removed = services.prune_events()
            self.stdout.write(f"{removed} events past their retention deleted.")
