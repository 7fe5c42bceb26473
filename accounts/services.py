"""Changes to who may act: every write to credentials and organization settings goes here.

Like ``tickets/services.py``: keyword-only functions, one transaction each, row locks
where an invariant spans rows (the last owner), domain errors from
``tickets/exceptions.py``. Organization settings also leave a record of what changed: an
``AuditEvent`` in the organization's audit log. Faces (dashboard settings, admin, the
API) call these; they never save these rows themselves.
"""

import re
from datetime import datetime, timedelta
from functools import partial

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.db import transaction
from django.utils import timezone

from tickets.actors import Actor
from tickets.exceptions import InvalidInput, PermissionDenied
from tickets.models import Inbox

from .invitations import send_invitation
from .models import (
    AgentToken,
    ApiKey,
    AuditEvent,
    CustomerToken,
    Membership,
    Organization,
    User,
    new_jwt_secret,
)

_UNSET = object()

# Customer tokens --------------------------------------------------------------------------
# Minted by an integrator (organization API key) so its customer can call the customer API
# (``/api/v1/me/...``) for themselves. The plaintext is returned once and stored hashed.

CUSTOMER_TOKEN_DEFAULT_LIFETIME = timedelta(days=30)
CUSTOMER_TOKEN_MIN_LIFETIME = timedelta(minutes=1)
CUSTOMER_TOKEN_MAX_LIFETIME = timedelta(days=365)


def customer_token_expiry(*, expires_in: int | None = None, expires_at: datetime | None = None) -> datetime:
    """When a new token expires: ``expires_in`` seconds from now, or ``expires_at``, or the default."""
    now = timezone.now()
    if expires_in is not None and expires_at is not None:
        raise InvalidInput("expires_in", "Give expires_in or expires_at, not both.")
    if expires_at is not None:
        if timezone.is_naive(expires_at):
            raise InvalidInput("expires_at", "Include a time zone (e.g. 2026-12-31T23:59:59Z).")
        lifetime = expires_at - now
        field_name = "expires_at"
    elif expires_in is not None:
        lifetime = timedelta(seconds=expires_in)
        field_name = "expires_in"
    else:
        lifetime = CUSTOMER_TOKEN_DEFAULT_LIFETIME
        field_name = "expires_in"
    if lifetime < CUSTOMER_TOKEN_MIN_LIFETIME:
        raise InvalidInput(field_name, "A customer token must live at least 60 seconds.")
    if lifetime > CUSTOMER_TOKEN_MAX_LIFETIME:
        raise InvalidInput(field_name, "A customer token may live at most 365 days.")
    return now + lifetime


def mint_customer_token(*, customer, expires_at: datetime) -> tuple[CustomerToken, str]:
    """A new token for ``customer``; returns ``(token, plaintext)`` — show the plaintext once."""
    if expires_at <= timezone.now():
        raise InvalidInput("expires_at", "Must be in the future.")
    with transaction.atomic():
        token = CustomerToken(
            organization_id=customer.organization_id, customer=customer, expires_at=expires_at
        )
        plaintext = token.assign_secret()
        token.save()
    return token, plaintext


def revoke_customer_token(*, token: CustomerToken) -> CustomerToken:
    """Stop a token working at once; revoking twice keeps the first revocation time."""
    with transaction.atomic():
        token = CustomerToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
    return token


# Availability (the agent dashboard) ---------------------------------------------------


def set_availability(*, membership: Membership, is_available: bool) -> Membership:
    """Say whether this agent takes auto-assigned tickets in this organization."""
    with transaction.atomic():
        locked = Membership.objects.select_for_update().select_related("organization").get(pk=membership.pk)
        if locked.is_available != is_available:
            locked.is_available = is_available
            locked.save(update_fields=["is_available"])
        return locked


# Organization settings ----------------------------------------------------------------


def record_audit_event(
    *, organization: Organization | None, actor: Actor, action: str, target: str = "", changes=None
) -> AuditEvent:
    return AuditEvent.objects.create(
        organization=organization,
        actor_user=actor.user,
        actor_label=actor.label[:200],
        action=action,
        target=target[:200],
        changes=changes or {},
    )


def _actor_role(organization: Organization, actor: Actor) -> str | None:
    if actor.user is None:
        return None
    return (
        Membership.objects.filter(organization=organization, user=actor.user)
        .values_list("role", flat=True)
        .first()
    )


def require_manager(organization: Organization, actor: Actor) -> str | None:
    """The actor's role; agents are refused. A system actor (staff, scripts) may act."""
    if actor.is_customer:
        raise PermissionDenied("Customers cannot change organization settings.")
    role = _actor_role(organization, actor)
    if (
        actor.user is not None
        and not actor.user.is_staff
        and role
        not in {
            Membership.Role.OWNER,
            Membership.Role.ADMIN,
        }
    ):
        raise PermissionDenied("Only owners and admins can change organization settings.")
    return role


# Inboxes


PREFIX_PATTERN = re.compile(r"[A-Z][A-Z0-9]{0,9}")


def _clean_inbox_fields(organization: Organization, fields: dict, *, inbox: Inbox | None = None) -> dict:
    cleaned = dict(fields)
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
    return cleaned


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
            "is_default": is_default,
        },
    )
    with transaction.atomic():
        require_manager(organization, actor)
        Organization.objects.select_for_update().filter(pk=organization.pk).first()
        inbox = Inbox(organization=organization, **fields)
        if is_default:
            _take_default(organization, inbox)
        inbox.save()
        record_audit_event(
            organization=organization,
            actor=actor,
            action=AuditEvent.Action.INBOX_CREATED,
            target=str(inbox),
            changes={key: value for key, value in fields.items()},
        )
    return inbox


INBOX_EDITABLE_FIELDS = (
    "name",
    "prefix",
    "support_email",
    "daily_limit_per_customer",
    "auto_assignment",
    "is_default",
)


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
            inbox.save(update_fields=list(changes))
            record_audit_event(
                organization=organization,
                actor=actor,
                action=AuditEvent.Action.INBOX_UPDATED,
                target=str(inbox),
                changes=changes,
            )
    return inbox


# Members


def _lock_owners(organization: Organization) -> list[Membership]:
    """Lock the organization's row so concurrent demotions cannot both leave it ownerless."""
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    return list(Membership.objects.filter(organization=organization, role=Membership.Role.OWNER))


def _check_owner_rules(membership: Membership, actor_role: str | None, actor: Actor, new_role=None):
    touching_owner = membership.role == Membership.Role.OWNER or new_role == Membership.Role.OWNER
    is_staff = actor.user is None or actor.user.is_staff
    if touching_owner and actor_role != Membership.Role.OWNER and not is_staff:
        raise PermissionDenied("Only an owner can grant, change or remove the owner role.")


def invite_member(
    *,
    organization: Organization,
    actor: Actor,
    email: str,
    name: str = "",
    role: str = Membership.Role.AGENT,
    tier: str = Membership.Tier.N1,
) -> tuple[Membership, bool]:
    """Add a person to the organization by email; returns ``(membership, user_created)``.

    A new person gets a user with an unusable password and an email with a link to set
    one; someone who already has an account is told they were added.
    """
    from tickets.services import normalize_email

    email = normalize_email(email)
    if not email:
        raise InvalidInput("email", "An email address is required.")
    if role not in Membership.Role.values:
        raise InvalidInput("role", "Unknown role.")
    if tier not in Membership.Tier.values:
        raise InvalidInput("tier", "Unknown tier.")
    with transaction.atomic():
        actor_role = require_manager(organization, actor)
        if role == Membership.Role.OWNER and actor_role != Membership.Role.OWNER:
            if actor.user is not None and not actor.user.is_staff:
                raise PermissionDenied("Only an owner can make someone an owner.")
        user = User.objects.filter(email__iexact=email).first()
        user_created = user is None
        if user_created:
            user = User(email=email, name=name.strip()[:150])
            user.set_unusable_password()
            user.save()
        elif Membership.objects.filter(organization=organization, user=user).exists():
            raise InvalidInput("email", "This person is already a member of the organization.")
        membership = Membership.objects.create(user=user, organization=organization, role=role, tier=tier)
        record_audit_event(
            organization=organization,
            actor=actor,
            action=AuditEvent.Action.MEMBER_INVITED,
            target=email,
            changes={"role": role, "tier": tier, "new_user": user_created},
        )
        transaction.on_commit(
            partial(send_invitation, membership_id=membership.pk, inviter=actor.label, new_user=user_created)
        )
    return membership, user_created


def resend_invitation(*, membership: Membership, actor: Actor) -> None:
    """Send the set-password email again to someone who has not chosen a password yet.

    A fresh link replaces nothing: every link made for the same password hash works
    until the password is set or the link expires.
    """
    with transaction.atomic():
        require_manager(membership.organization, actor)
        membership = Membership.objects.select_related("user", "organization").get(pk=membership.pk)
        if membership.user.has_usable_password():
            raise InvalidInput("membership", "This person has already chosen a password.")
        record_audit_event(
            organization=membership.organization,
            actor=actor,
            action=AuditEvent.Action.INVITATION_RESENT,
            target=membership.user.email,
        )
        transaction.on_commit(
            partial(send_invitation, membership_id=membership.pk, inviter=actor.label, new_user=True)
        )


def update_membership(
    *, membership: Membership, actor: Actor, role=_UNSET, tier=_UNSET, is_available=_UNSET
) -> Membership:
    """Change a member's role, tier or availability; the last owner cannot be demoted."""
    if role is not _UNSET and role not in Membership.Role.values:
        raise InvalidInput("role", "Unknown role.")
    if tier is not _UNSET and tier not in Membership.Tier.values:
        raise InvalidInput("tier", "Unknown tier.")
    organization = membership.organization
    with transaction.atomic():
        is_self_availability = (
            role is _UNSET
            and tier is _UNSET
            and actor.user is not None
            and actor.user.pk == membership.user_id
        )
        # Lock first, then read the actor's role: a role read before the lock may be stale.
        owners = _lock_owners(organization)
        actor_role = None if is_self_availability else require_manager(organization, actor)
        membership = Membership.objects.select_related("user").get(pk=membership.pk)
        if role is not _UNSET and role != membership.role:
            _check_owner_rules(membership, actor_role, actor, new_role=role)
            if membership.role == Membership.Role.OWNER and len(owners) <= 1:
                raise InvalidInput("role", "The organization needs at least one owner.")
        changes = {}
        for name, value in (("role", role), ("tier", tier), ("is_available", is_available)):
            if value is _UNSET:
                continue
            before = getattr(membership, name)
            if before != value:
                changes[name] = {"before": before, "after": value}
                setattr(membership, name, value)
        if changes:
            membership.save(update_fields=list(changes))
            record_audit_event(
                organization=organization,
                actor=actor,
                action=AuditEvent.Action.MEMBER_UPDATED,
                target=membership.user.email,
                changes=changes,
            )
    return membership


def remove_member(*, membership: Membership, actor: Actor) -> None:
    """Take a person out of the organization; their open tickets there become unassigned.

    The user account stays (they may belong to other organizations). The last owner
    cannot be removed.
    """
    from tickets import services as ticket_services
    from tickets.models import Ticket

    organization = membership.organization
    with transaction.atomic():
        owners = _lock_owners(organization)
        actor_role = require_manager(organization, actor)
        membership = Membership.objects.select_related("user").get(pk=membership.pk)
        _check_owner_rules(membership, actor_role, actor)
        if membership.role == Membership.Role.OWNER and len(owners) <= 1:
            raise InvalidInput("membership", "The organization needs at least one owner.")
        user = membership.user
        open_tickets = Ticket.objects.filter(organization=organization, assignee=user).open()
        for ticket in open_tickets.order_by("pk"):
            ticket_services.assign(ticket=ticket, assignee=None, actor=actor)
        membership.delete()
        record_audit_event(
            organization=organization,
            actor=actor,
            action=AuditEvent.Action.MEMBER_REMOVED,
            target=user.email,
            changes={"role": membership.role, "tier": membership.tier},
        )


# API keys


def create_api_key(
    *, organization: Organization, actor: Actor, name: str, inbox: Inbox | None = None
) -> tuple[ApiKey, str]:
    """A new organization API key; the plaintext is returned once and stored only hashed."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("name", "Give the key a name, e.g. the system that will use it.")
    if inbox is not None and inbox.organization_id != organization.pk:
        raise InvalidInput("inbox", "Unknown inbox.")
    with transaction.atomic():
        require_manager(organization, actor)
        api_key, plaintext = ApiKey.objects.create_key(organization=organization, name=name[:50], inbox=inbox)
        record_audit_event(
            organization=organization,
            actor=actor,
            action=AuditEvent.Action.API_KEY_CREATED,
            target=f"{api_key.name} ({api_key.display_prefix}…)",
            changes={"inbox": inbox.name if inbox else None},
        )
    return api_key, plaintext


def revoke_api_key(*, api_key: ApiKey, actor: Actor) -> ApiKey:
    """Stop a key from working, at once and for good."""
    with transaction.atomic():
        require_manager(api_key.organization, actor)
        api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
        if api_key.revoked:
            return api_key
        api_key.revoked = True
        api_key.save(update_fields=["revoked"])
        record_audit_event(
            organization=api_key.organization,
            actor=actor,
            action=AuditEvent.Action.API_KEY_REVOKED,
            target=f"{api_key.name} ({api_key.display_prefix}…)",
        )
    return api_key


# Customer JWTs


def rotate_jwt_secret(*, organization: Organization, actor: Actor) -> Organization:
    """Give the organization a new HS256 secret; JWTs signed with the old one stop working."""
    with transaction.atomic():
        require_manager(organization, actor)
        organization = Organization.objects.select_for_update().get(pk=organization.pk)
        organization.jwt_secret = new_jwt_secret()
        organization.save(update_fields=["jwt_secret"])
        record_audit_event(
            organization=organization,
            actor=actor,
            action=AuditEvent.Action.JWT_SECRET_ROTATED,
            target=organization.name,
        )
    return organization


RSA_MIN_BITS = 2048


def validate_jwt_public_key(pem: str) -> str:
    """A PEM RSA public key of at least 2048 bits (for RS256), normalised; "" clears it."""
    pem = (pem or "").strip().replace("\r\n", "\n")
    if not pem:
        return ""
    try:
        key = load_pem_public_key(pem.encode())
    except (ValueError, TypeError) as error:
        raise InvalidInput("jwt_public_key", "Not a PEM public key (-----BEGIN PUBLIC KEY-----).") from error
    if not isinstance(key, rsa.RSAPublicKey):
        raise InvalidInput("jwt_public_key", "RS256 needs an RSA public key.")
    if key.key_size < RSA_MIN_BITS:
        raise InvalidInput("jwt_public_key", f"The RSA key must have at least {RSA_MIN_BITS} bits.")
    return pem + "\n"


def set_jwt_public_key(*, organization: Organization, actor: Actor, pem: str) -> Organization:
    """Set (or clear, with "") the PEM public key that verifies RS256 customer JWTs."""
    pem = validate_jwt_public_key(pem)
    with transaction.atomic():
        require_manager(organization, actor)
        organization = Organization.objects.select_for_update().get(pk=organization.pk)
        if organization.jwt_public_key.strip() == pem.strip():
            return organization
        had_key = bool(organization.jwt_public_key.strip())
        organization.jwt_public_key = pem
        organization.save(update_fields=["jwt_public_key"])
        record_audit_event(
            organization=organization,
            actor=actor,
            action=AuditEvent.Action.JWT_PUBLIC_KEY_CHANGED,
            target=organization.name,
            changes={"before": "set" if had_key else "empty", "after": "set" if pem else "empty"},
        )
    return organization


# Personal API tokens


def create_agent_token(*, user: User, name: str, expires_at=None) -> tuple[AgentToken, str]:
    """A personal API token for the agent API; the plaintext ``hda_...`` is returned once."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("name", "Give the token a name, e.g. where you will use it.")
    if len(name) > 100:
        raise InvalidInput("name", "At most 100 characters.")
    with transaction.atomic():
        token = AgentToken(user=user, name=name, expires_at=expires_at)
        plaintext = token.assign_secret()
        token.save()
        record_audit_event(
            organization=None,
            actor=Actor.agent(user),
            action=AuditEvent.Action.AGENT_TOKEN_CREATED,
            target=str(token),
        )
    return token, plaintext


def revoke_agent_token(*, token: AgentToken, actor: Actor) -> AgentToken:
    """Stop a personal token from working; only its owner (or staff) may."""
    if actor.user is None or (actor.user.pk != token.user_id and not actor.user.is_staff):
        raise PermissionDenied("Only the token's owner can revoke it.")
    with transaction.atomic():
        token = AgentToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is not None:
            return token
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record_audit_event(
            organization=None,
            actor=actor,
            action=AuditEvent.Action.AGENT_TOKEN_REVOKED,
            target=str(token),
        )
    return token


def update_profile(*, user: User, name: str) -> User:
    """An agent's own display name."""
    name = (name or "").strip()
    if len(name) > 150:
        raise InvalidInput("name", "At most 150 characters.")
    with transaction.atomic():
        if user.name != name:
            user.name = name
            user.save(update_fields=["name"])
    return user
