"""Apply every organization's retention rule to its closed tickets
(tickets/services/data_rights.py)."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand

from tickets import services


class Command(BaseCommand):
    help = (
        "Anonymize or delete closed tickets past each organization's retention rule; --loop "
        "keeps applying them (the Procfile's retention process, and `make worker`)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep applying the rules until stopped.")
        parser.add_argument(
            "--interval",
            type=int,
            default=None,
            help="Seconds between passes with --loop (default RETENTION_INTERVAL_SECONDS).",
        )

    def handle(self, *args, loop=False, interval=None, **options):
        interval = interval or settings.RETENTION_INTERVAL_SECONDS
        while True:
            for result in services.apply_all_retention():
                if result.tickets:
                    verb = "deleted" if result.action == "delete" else "anonymized"
                    self.stdout.write(
                        f"Organization {result.organization_id}: {result.tickets} tickets {verb}"
                    )
            if not loop:
                return
            try:
                time.sleep(interval)
            except KeyboardInterrupt:
                return
