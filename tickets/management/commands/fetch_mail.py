"""Read new mail from the inboxes' IMAP and POP3 mailboxes (tickets/mail/fetch.py)."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand

from tickets.mail.fetch import fetch_all
from tickets.models import Mailbox


class Command(BaseCommand):
    help = "One pass over every active mailbox; --loop keeps polling (the Procfile's mail worker)."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep polling until stopped.")
        parser.add_argument(
            "--interval",
            type=int,
            default=None,
            help="Seconds between passes with --loop (default MAILBOX_POLL_SECONDS).",
        )
        parser.add_argument("--inbox", help="Only the mailbox of this inbox (public id).")

    def handle(self, *args, loop=False, interval=None, inbox=None, **options):
        interval = interval or settings.MAILBOX_POLL_SECONDS
        while True:
            mailboxes = Mailbox.objects.filter(is_active=True)
            if inbox:
                mailboxes = mailboxes.filter(inbox__public_id=inbox)
            for mailbox, result in fetch_all(mailboxes).items():
                line = f"{mailbox}: {result.imported} imported"
                if result.error:
                    self.stderr.write(f"{line}; {result.error}")
                else:
                    self.stdout.write(line)
            if not loop:
                return
            try:
                time.sleep(interval)
            except KeyboardInterrupt:
                return
