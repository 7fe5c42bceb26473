"""Inboxes: an organization's queues, each with its prefix, address and limits.

A support address is an inbox's only once it is verified (issue 14): typing one marks it
unverified and mails a signed link to it (the ``InboxAddressClaimed`` event; the mail is
``tickets/notifications.py``), unless its domain is one the operator lists in
``SUPPORT_EMAIL_VERIFIED_DOMAINS``. Until then mail to it opens nothing and nothing is
sent to it. The platform's own addresses can never be claimed, and an address verified by
one inbox cannot be verified by another.
"""

import re
import secrets
from datetime import timedelta
from email.utils import parseaddr

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.audit import record_audit_event, require_manager
from accounts.models import AuditEvent, Organization
from tickets import events
from tickets.actors import Actor
from tickets.exceptions import InvalidInput
from tickets.models import Inbox

ADDRESS_VERIFICATION_SALT = "tickets.inbox-address-verification"
ADDRESS_VERIFICATION_MAX_AGE = timedelta(days=7)
_REPLY_LOCAL_PART = "reply+"


def _platform_addresses() -> set[str]:
    values = [settings.SUPPORT_EMAIL, settings.DEFAULT_FROM_EMAIL, getattr(settings, "SERVER_EMAIL", "")]
    return {parseaddr(value)[1].strip().lower() for value in values if value} - {""}


def is_our_address(address: str) -> bool:
    """The platform's own addresses, a verified inbox's, and the inbound domain's: mail to
    them would only come back to us."""
    address = (address or "").strip().lower()
    domain = address.rpartition("@")[2]
    if address in _platform_addresses():
        return True
    # Everything at the inbound domain arrives at our webhook.
    if settings.INBOUND_EMAIL_DOMAIN and domain == settings.INBOUND_EMAIL_DOMAIN.lower():
        return True
    return _verified_elsewhere(address, None).exists()


def is_auto_verified(address: str) -> bool:
    """An address of a domain the operator vouches for (SUPPORT_EMAIL_VERIFIED_DOMAINS)."""
    domain = address.rpartition("@")[2].lower()
    return domain in {item.lower() for item in settings.SUPPORT_EMAIL_VERIFIED_DOMAINS}


def _verified_elsewhere(address: str, inbox: Inbox | None):
    taken = Inbox.objects.filter(support_email__iexact=address, support_email_verified_at__isnull=False)
    return taken.exclude(pk=inbox.pk) if inbox is not None else taken


def _clean_support_email(value: str, inbox: Inbox | None) -> str:
    address = (value or "").strip().lower()
    if not address:
        return ""
    try:
        validate_email(address)
    except ValidationError as error:
        raise InvalidInput("support_email", "Enter a valid email address.") from error
    local_part, _, domain = address.rpartition("@")
    if address in _platform_addresses():
        raise InvalidInput(
            "support_email", "This is the platform's own address; leave the field empty to use it."
        )
    if domain == settings.INBOUND_EMAIL_DOMAIN or local_part.startswith(_REPLY_LOCAL_PART):
        raise InvalidInput("support_email", "Addresses of the reply domain cannot be a support address.")
    if _verified_elsewhere(address, inbox).exists():
        raise InvalidInput("support_email", "Another inbox already uses this address.")
    return address


PREFIX_PATTERN = re.compile(r"[A-Z][A-Z0-9]{0,9}")


def _clean_inbox_fields(organization: Organization, fields: dict, *, inbox: Inbox | None = None) -> dict:
    cleaned = dict(fields)
    if "support_email" in cleaned:
        cleaned["support_email"] = _clean_support_email(cleaned["support_email"], inbox)
    if "name" in cleaned:
        cleaned["name"] = (cleaned["name"] or "").strip()
        if not cleaned["name"] or len(cleaned["name"]) > 100:
            raise InvalidInput("name", "An inbox needs a name of at most 100 characters.")
    if "prefix" in cleaned:
        cleaned["prefix"] = (cleaned["prefix"] or "").strip().upper()
        if not PREFIX_PATTERN.fullmatch(cleaned["prefix"]):
            raise InvalidInput("prefix", "Use 1–10 capital letters or digits, starting with a letter.")
        clash = Inbox.objects.filter(organization=organization, prefix=cleaned["prefix"])
        if inbox is not None:
            clash = clash.exclude(pk=inbox.pk)
        if clash.exists():
            raise InvalidInput("prefix", "Another inbox of this organization uses this prefix.")
    if "auto_assignment" in cleaned and cleaned["auto_assignment"] not in Inbox.AutoAssignment.values:
        raise InvalidInput("auto_assignment", "Unknown auto-assignment mode.")
    if "daily_limit_per_customer" in cleaned:
        limit = cleaned["daily_limit_per_customer"]
        if limit is not None and limit < 1:
            raise InvalidInput("daily_limit_per_customer", "Use at least 1, or leave empty for no limit.")
    if "auto_resolve_pending_days" in cleaned:
        days = cleaned["auto_resolve_pending_days"]
        if days is not None and not 1 <= days <= 365:
            raise InvalidInput(
                "auto_resolve_pending_days", "Use 1 to 365 days, or leave empty to keep tickets pending."
            )
    return cleaned


def inboxes_changed(organization_id: int) -> None:
    """A new version of the organization's inboxes, in the change's transaction: from its
    commit every process reads the inbox of a create anew (``selectors.resolve_inbox``).
    Random, not counted up: a rolled-back change's version never comes back to name other
    settings. Every write of an inbox calls this."""
    Organization.objects.filter(pk=organization_id).update(inboxes_version=secrets.randbits(62) + 1)


def set_inbox_business_hours_id(inbox: Inbox, business_hours_id: int | None) -> None:
    """Which business hours ``inbox`` counts working time in (None: 24/7). The sla app owns
    the calendars: it checks the one given and records the change
    (``sla.services.set_inbox_business_hours``)."""
    Inbox.objects.filter(pk=inbox.pk).update(business_hours_id=business_hours_id)
    inboxes_changed(inbox.organization_id)


def _take_default(organization: Organization, inbox: Inbox) -> None:
    # One default per organization (a partial unique constraint): clear the old one first.
    Inbox.objects.filter(organization=organization, is_default=True).exclude(pk=inbox.pk).update(
        is_default=False
    )


def create_inbox(
    *,
    organization: Organization,
    actor: Actor,
    name: str,
    prefix: str,
    support_email: str = "",
    daily_limit_per_customer: int | None = None,
    auto_assignment: str = Inbox.AutoAssignment.OFF,
    auto_resolve_pending_days: int | None = None,
    assign_on_reply: bool = True,
    is_default: bool = False,
) -> Inbox:
    """Add an inbox; making it the default takes that role from the previous default."""
    fields = _clean_inbox_fields(
        organization,
        {
            "name": name,
            "prefix": prefix,
            "support_email": support_email,
            "daily_limit_per_customer": daily_limit_per_customer,
            "auto_assignment": auto_assignment,
            "auto_resolve_pending_days": auto_resolve_pending_days,
            "assign_on_reply": assign_on_reply,
            "is_default": is_default,
        },
    )
    if fields["support_email"] and is_auto_verified(fields["support_email"]):
        fields["support_email_verified_at"] = timezone.now()
    with transaction.atomic():
        require_manager(organization, actor)
        Organization.objects.select_for_update().filter(pk=organization.pk).first()
        inbox = Inbox(organization=organization, **fields)
        if is_default:
            _take_default(organization, inbox)
        _save_guarding_the_address(inbox)
        record_audit_event(
            organization=organization,
            actor=actor,
            action=AuditEvent.Action.INBOX_CREATED,
            target=str(inbox),
            changes={key: value for key, value in fields.items() if key != "support_email_verified_at"},
        )
        if inbox.support_email:
            _address_claimed(inbox, actor)
    return inbox


def _save_guarding_the_address(inbox: Inbox, **kwargs) -> None:
    """Save, naming the organization's inboxes' new version; two inboxes verifying one
    address at once meet the database's constraint."""
    try:
        with transaction.atomic():
            inbox.save(**kwargs)
            inboxes_changed(inbox.organization_id)
    except IntegrityError as error:
        if not _verified_elsewhere(inbox.support_email, inbox).exists():
            raise
        raise InvalidInput("support_email", "Another inbox already uses this address.") from error


def _address_claimed(inbox: Inbox, actor: Actor) -> None:
    """A new support address: verified at once for an operator-listed domain, else a link
    is mailed to it (after commit)."""
    if inbox.support_email_verified:
        record_audit_event(
            organization=inbox.organization,
            actor=actor,
            action=AuditEvent.Action.INBOX_ADDRESS_VERIFIED,
            target=str(inbox),
            changes={"support_email": inbox.support_email, "how": "domain in SUPPORT_EMAIL_VERIFIED_DOMAINS"},
        )
        return
    events.publish(
        events.InboxAddressClaimed(
            actor=actor, organization_id=inbox.organization_id, inbox_id=inbox.pk, address=inbox.support_email
        )
    )


INBOX_EDITABLE_FIELDS = (
    "name",
    "prefix",
    "support_email",
    "daily_limit_per_customer",
    "auto_assignment",
    "auto_resolve_pending_days",
    "assign_on_reply",
    "is_default",
)


SURVEY_MAX_DELAY_MINUTES = 30 * 24 * 60


def validate_survey_delay(delay_minutes) -> int:
    if (
        isinstance(delay_minutes, bool)
        or not isinstance(delay_minutes, int)
        or not 0 <= delay_minutes <= SURVEY_MAX_DELAY_MINUTES
    ):
        raise InvalidInput(
            "satisfaction_delay_minutes", f"Whole minutes from 0 to {SURVEY_MAX_DELAY_MINUTES} (30 days)."
        )
    return delay_minutes


def set_inbox_survey(*, inbox: Inbox, ask: bool, delay_minutes: int, actor: Actor) -> Inbox:
    """Whether ``inbox`` asks the customer for a rating when a ticket is resolved, and how
    many minutes after (the sla app sends the survey). Apart from ``update_inbox``: a form
    of the other settings, which has no such fields, never turns a survey off."""
    require_manager(inbox.organization, actor)
    if not isinstance(ask, bool):
        raise InvalidInput("satisfaction_survey", "Must be true or false.")
    validate_survey_delay(delay_minutes)
    wanted = {"satisfaction_survey": ask, "satisfaction_delay_minutes": delay_minutes}
    with transaction.atomic():
        locked = Inbox.objects.select_for_update().get(pk=inbox.pk)
        changes = {
            name: {"before": getattr(locked, name), "after": value}
            for name, value in wanted.items()
            if getattr(locked, name) != value
        }
        if changes:
            Inbox.objects.filter(pk=inbox.pk).update(**{name: wanted[name] for name in changes})
            inboxes_changed(inbox.organization_id)
            record_audit_event(
                organization=inbox.organization,
                actor=actor,
                action=AuditEvent.Action.INBOX_UPDATED,
                target=str(locked),
                changes=changes,
            )
    for name, value in wanted.items():
        setattr(inbox, name, value)
    return inbox


def update_inbox(*, inbox: Inbox, actor: Actor, **fields) -> Inbox:
    """Change an inbox's settings; the audit event lists each changed field, before and after.

    A prefix change applies to new tickets; existing references keep the old prefix.
    """
    unknown = set(fields) - set(INBOX_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"update_inbox() got unexpected fields: {', '.join(sorted(unknown))}")
    organization = inbox.organization
    fields = _clean_inbox_fields(organization, fields, inbox=inbox)
    with transaction.atomic():
        require_manager(organization, actor)
        Organization.objects.select_for_update().filter(pk=organization.pk).first()
        inbox = Inbox.objects.select_for_update().get(pk=inbox.pk)
        changes = {}
        for name, value in fields.items():
            before = getattr(inbox, name)
            if before != value:
                changes[name] = {"before": before, "after": value}
                setattr(inbox, name, value)
        if changes:
            if changes.get("is_default", {}).get("after"):
                _take_default(organization, inbox)
            update_fields = list(changes)
            if "support_email" in changes:
                # A new address is proven afresh; the old one's verification does not carry.
                address = inbox.support_email
                inbox.support_email_verified_at = (
                    timezone.now() if address and is_auto_verified(address) else None
                )
                update_fields.append("support_email_verified_at")
            _save_guarding_the_address(inbox, update_fields=update_fields)
            record_audit_event(
                organization=organization,
                actor=actor,
                action=AuditEvent.Action.INBOX_UPDATED,
                target=str(inbox),
                changes=changes,
            )
            if "support_email" in changes and inbox.support_email:
                _address_claimed(inbox, actor)
    return inbox


def address_verification_token(inbox: Inbox) -> str:
    """The signed token of the verification link: names the inbox and the address, so a
    link for an address the inbox no longer uses verifies nothing."""
    payload = {"inbox": inbox.public_id, "address": inbox.support_email.lower()}
    return signing.dumps(payload, salt=ADDRESS_VERIFICATION_SALT, compress=True)


def inbox_for_verification(token: str) -> Inbox:
    """The inbox a verification link is for; InvalidInput for a bad, expired or stale one."""
    try:
        payload = signing.loads(token, salt=ADDRESS_VERIFICATION_SALT, max_age=ADDRESS_VERIFICATION_MAX_AGE)
    except signing.SignatureExpired as error:
        raise InvalidInput("token", "This verification link has expired; ask for a new one.") from error
    except (signing.BadSignature, ValueError) as error:
        raise InvalidInput("token", "This verification link is not valid.") from error
    if not isinstance(payload, dict):
        raise InvalidInput("token", "This verification link is not valid.")
    inbox = (
        Inbox.objects.select_related("organization").filter(public_id=str(payload.get("inbox", ""))).first()
    )
    if inbox is None or inbox.support_email.lower() != str(payload.get("address", "")):
        raise InvalidInput("token", "This link is for an address the inbox no longer uses.")
    return inbox


def verify_support_address(*, token: str) -> Inbox:
    """Whoever reads the mailbox followed the link: the address is the inbox's from now on."""
    inbox = inbox_for_verification(token)
    with transaction.atomic():
        inbox = Inbox.objects.select_for_update().select_related("organization").get(pk=inbox.pk)
        if inbox.support_email_verified:
            return inbox
        if _verified_elsewhere(inbox.support_email, inbox).exists():
            raise InvalidInput("support_email", "Another inbox has already verified this address.")
        inbox.support_email_verified_at = timezone.now()
        _save_guarding_the_address(inbox, update_fields=["support_email_verified_at"])
        record_audit_event(
            organization=inbox.organization,
            actor=Actor.system(f"Verification link mailed to {inbox.support_email}"),
            action=AuditEvent.Action.INBOX_ADDRESS_VERIFIED,
            target=str(inbox),
            changes={"support_email": inbox.support_email, "how": "link mailed to the address"},
        )
    return inbox


def request_address_verification(*, inbox: Inbox, actor: Actor) -> None:
    """Mail the verification link again (the first may be lost or expired)."""
    with transaction.atomic():
        require_manager(inbox.organization, actor)
        inbox = Inbox.objects.select_for_update().get(pk=inbox.pk)
        if not inbox.support_email or inbox.support_email_verified:
            raise InvalidInput("support_email", "There is no address waiting for verification.")
        events.publish(
            events.InboxAddressClaimed(
                actor=actor,
                organization_id=inbox.organization_id,
                inbox_id=inbox.pk,
                address=inbox.support_email,
            )
        )


def delete_inbox(*, inbox: Inbox, actor: Actor) -> None:
    """Remove an inbox that was set up by mistake or never used.

    Refused while it holds tickets (their references and history live in it: close them
    instead, or keep the inbox), while an API key is restricted to it (deleting the inbox
    would delete the key with it: a working key would stop without a revocation, a revoked
    one would leave no record), and for the default inbox while the organization has
    others (make another one the default first: the API and the portal send tickets
    without an inbox there).
    """
    organization = inbox.organization
    with transaction.atomic():
        require_manager(organization, actor)
        # The organization's lock serializes this with create_inbox/update_inbox's default switch.
        Organization.objects.select_for_update().filter(pk=organization.pk).first()
        inbox = Inbox.objects.select_for_update().get(pk=inbox.pk)
        if inbox.tickets.exists():
            raise InvalidInput("inbox", f"The inbox {inbox.name} has tickets; an inbox with tickets is kept.")
        if inbox.api_keys.exists():
            raise InvalidInput(
                "inbox", f"API keys are restricted to the inbox {inbox.name}; an inbox with keys is kept."
            )
        if inbox.is_default and Inbox.objects.filter(organization=organization).exclude(pk=inbox.pk).exists():
            raise InvalidInput(
                "inbox", f"The inbox {inbox.name} is the default; make another inbox the default first."
            )
        record_audit_event(
            organization=organization,
            actor=actor,
            action=AuditEvent.Action.INBOX_DELETED,
            target=str(inbox),
            changes={"name": inbox.name, "prefix": inbox.prefix, "was_default": inbox.is_default},
        )
        inbox.delete()
        inboxes_changed(organization.pk)
