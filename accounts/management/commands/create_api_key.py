"""Mint an organization API key from the command line and print it, once.

python manage.py create_api_key --organization acme [--inbox SUP] [--name "Billing backend"]
KEY=$(python manage.py create_api_key --organization acme --quiet)
"""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone

from accounts.models import ApiKey, Organization
from tickets.models import Inbox

LISTED = 20


class Command(BaseCommand):
    help = (
        "Create an API key for an organization (optionally restricted to one inbox) and print it. "
        "Only its hash is stored: the key cannot be shown again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--organization", required=True, help="The organization's slug (or public id).")
        parser.add_argument(
            "--inbox",
            default="",
            help="Restrict the key to this inbox: its public id or its ticket prefix (e.g. SUP).",
        )
        parser.add_argument("--name", default="Command-line key", help="A name to recognise the key by.")
        parser.add_argument(
            "--expires-in-days", type=int, default=None, help="Make the key stop working after N days."
        )
        parser.add_argument(
            "--quiet", action="store_true", help="Print the key alone, for scripts: KEY=$(... --quiet)."
        )

    def handle(self, *args, organization, inbox, name, expires_in_days, quiet, **options):
        found = self._organization(organization)
        restricted_to = self._inbox(found, inbox) if inbox else None
        name = name.strip()
        if not 1 <= len(name) <= ApiKey._meta.get_field("name").max_length:
            raise CommandError("--name must be 1 to 50 characters.")
        expiry_date = None
        if expires_in_days is not None:
            if expires_in_days < 1:
                raise CommandError("--expires-in-days must be 1 or more.")
            expiry_date = timezone.now() + timedelta(days=expires_in_days)

        api_key, key = ApiKey.objects.create_key(
            organization=found, inbox=restricted_to, name=name, expiry_date=expiry_date
        )

        if quiet:
            self.stdout.write(key)
            return
        scope = f"inbox {restricted_to.name} ({restricted_to.prefix})" if restricted_to else "all inboxes"
        expiry = f", expires {expiry_date:%Y-%m-%d %H:%M %Z}" if expiry_date else ""
        self.stdout.write(
            f'Created API key "{api_key.name}" for {found.name} ({found.slug}): {scope}{expiry}.'
        )
        self.stdout.write("")
        self.stdout.write(f"    {key}")
        self.stdout.write("")
        self.stdout.write("Store it now: only its hash is kept, so it cannot be shown again.")
        self.stdout.write("Send it as 'X-API-Key: <key>' or 'Authorization: Bearer <key>'.")

    def _organization(self, slug_or_id: str) -> Organization:
        value = slug_or_id.strip()
        found = Organization.objects.filter(Q(slug=value) | Q(public_id=value)).first()
        if found is None:
            slugs = list(Organization.objects.order_by("slug").values_list("slug", flat=True)[: LISTED + 1])
            known = ", ".join(slugs[:LISTED]) + (", …" if len(slugs) > LISTED else "")
            raise CommandError(f'Unknown organization "{value}". Known organizations: {known or "none yet"}.')
        return found

    def _inbox(self, organization: Organization, public_id_or_prefix: str) -> Inbox:
        value = public_id_or_prefix.strip()
        inboxes = Inbox.objects.filter(organization=organization)
        found = inboxes.filter(Q(public_id=value) | Q(prefix=value.upper())).first()
        if found is None:
            listed = ", ".join(f"{inbox.prefix} ({inbox.public_id})" for inbox in inboxes[:LISTED])
            raise CommandError(
                f'No inbox "{value}" in {organization.slug}. Its inboxes: {listed or "none yet"}.'
            )
        return found
