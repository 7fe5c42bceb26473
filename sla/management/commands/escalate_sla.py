import signal
import time

from django.core.management.base import BaseCommand

from sla.escalation import escalate_due
from sla.satisfaction import send_due_surveys


class Command(BaseCommand):
    help = (
        "Fire the SLA warnings and breaches that are due (each exactly once per ticket and target, "
        "safe with many workers) and send due satisfaction surveys; --loop keeps going (the "
        "Procfile's sla process, make worker)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep checking until stopped.")
        parser.add_argument(
            "--interval", type=float, default=30, help="Seconds between passes with --loop (default 30)."
        )

    def handle(self, *args, loop=False, interval=30, **options):
        stopping = []
        if loop:
            # Finish the batch in hand, then stop: SIGTERM from the process manager.
            signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        while True:
            fired = escalate_due()
            surveys = send_due_surveys()
            if fired or not loop:
                self.stdout.write(f"{fired} SLA warning(s)/breach(es) fired.")
            if surveys:
                self.stdout.write(f"{surveys} satisfaction survey(s) sent.")
            if not loop or stopping:
                return
            slept = 0.0
            while slept < interval and not stopping:
                time.sleep(min(1.0, interval - slept))
                slept += 1.0
