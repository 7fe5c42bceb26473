"""Existing inboxes keep their mail on upgrade: their support addresses become verified.

Before 0009 every inbox's support_email was used as soon as it was typed. An installation
that works today must not lose mail, so each address already in use is marked verified
now — for exactly one inbox per address (compared case-insensitively): the oldest (lowest
id), which is also the one inbound mail was routed to before (``inbox_for`` preferred
it). Any later inbox naming the same address, in whatever organization, keeps the
address but stays unverified (no mail routed by it, none sent to it), and its
organization's activity log says so. An owner can verify it again only once the first
inbox gives the address up. docs/deploy.md ("Support addresses") describes this.
"""

from django.db import migrations
from django.utils import timezone

UPGRADE_ACTOR = "Upgrade (tickets migration 0010)"


def verify_existing_addresses(apps, schema_editor):
    Inbox = apps.get_model("tickets", "Inbox")
    AuditEvent = apps.get_model("accounts", "AuditEvent")
    now = timezone.now()
    owners = {}
    for inbox in Inbox.objects.exclude(support_email="").order_by("pk").iterator():
        address = inbox.support_email.strip().lower()
        if address in owners:
            AuditEvent.objects.create(
                organization_id=inbox.organization_id,
                actor_label=UPGRADE_ACTOR,
                action="inbox_updated",
                target=f"{inbox.name} ({inbox.prefix})",
                changes={
                    "support_email_verified": {"before": None, "after": False},
                    "reason": f"{inbox.support_email} is used by an older inbox of the installation",
                },
            )
            continue
        owners[address] = inbox.pk
        Inbox.objects.filter(pk=inbox.pk).update(support_email_verified_at=now)


def forget_verifications(apps, schema_editor):
    apps.get_model("tickets", "Inbox").objects.update(support_email_verified_at=None)
    apps.get_model("accounts", "AuditEvent").objects.filter(actor_label=UPGRADE_ACTOR).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0010_add_inbox_address_verified_action'),
        ('tickets', '0009_add_inbox_support_email_verified_at'),
    ]

    operations = [
        migrations.RunPython(verify_existing_addresses, forget_verifications),
    ]
