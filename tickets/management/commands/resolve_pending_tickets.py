from django.core.management.base import BaseCommand

from tickets.services.tickets import resolve_due_pending_tickets


class Command(BaseCommand):
    help = (
        "Resolve the pending tickets left unanswered past their inbox's auto-resolve days. "
        "Workers do this on their own with the database or rq task backend; run it from cron "
        "(e.g. hourly) with TASKS_BACKEND=immediate, or to catch up."
    )

    def handle(self, **options):
        total = 0
        while resolved := resolve_due_pending_tickets():
            total += resolved
        self.stdout.write(f"Resolved {total} pending ticket{'' if total == 1 else 's'}.")
