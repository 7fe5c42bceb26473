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

from tickets import events
from tickets import services as ticket_services
from tickets.actors import Actor
from tickets.exceptions import InvalidInput, PermissionDenied
from tickets.models import Inbox, Ticket

from .audit import record_audit_event, require_manager
from .invitations import send_invitation, send_offer
from .models import (
    AgentToken,
    ApiKey,
    AuditEvent,
    CustomerToken,
    Invitation,
    Membership,
    Organization,
    User,
    new_jwt_secret,
)

_UNSET = object()
SLUG_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,59}")

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


def mint_customer_token(
    *, customer, expires_at: datetime, actor: Actor | None = None
) -> tuple[CustomerToken, str]:
    """A new token for ``customer``; returns ``(token, plaintext)`` — show the plaintext once.

    An ``actor`` (staff in admin) leaves an audit event; the integrator's routine minting
    through the customer-token API, one per sign-in of its customer, passes none.
    """
    ticket_services.refuse_erased(customer)
    if expires_at <= timezone.now():
        raise InvalidInput("expires_at", "Must be in the future.")
    with transaction.atomic():
        token = CustomerToken(
            organization_id=customer.organization_id, customer=customer, expires_at=expires_at
        )
        plaintext = token.assign_secret()
        token.save()
        if actor is not None:
            record_audit_event(
                organization=customer.organization,
                actor=actor,
                action=AuditEvent.Action.CUSTOMER_TOKEN_CREATED,
                target=str(token),
                changes={"expires_at": expires_at.isoformat()},
            )
    return token, plaintext


def revoke_customer_token(*, token: CustomerToken, actor: Actor | None = None) -> CustomerToken:
    """Stop a token working at once; revoking twice keeps the first revocation time.

    As for minting, an ``actor`` (staff in admin) leaves an audit event.
    """
    with transaction.atomic():
        token = CustomerToken.objects.select_for_update().select_related("customer").get(pk=token.pk)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            if actor is not None:
                record_audit_event(
                    organization=token.organization,
                    actor=actor,
                    action=AuditEvent.Action.CUSTOMER_TOKEN_REVOKED,
                    target=str(token),
                )
    return token


# Availability (the agent dashboard) ---------------------------------------------------


def set_availability(*, membership: Membership, is_available: bool, actor: Actor | None = None) -> Membership:
    """Say whether this agent takes auto-assigned tickets in this organization.

    The agent says so for themselves (no ``actor``, the dashboard's toggle); anyone else
    must be allowed to manage the organization (staff, an owner or an admin).
    """
    actor = actor or Actor.agent(membership.user)
    with transaction.atomic():
        if actor.user is None or actor.user.pk != membership.user_id:
            require_manager(membership.organization, actor)
        locked = (
            Membership.objects.select_for_update()
            .select_related("organization", "user")
            .get(pk=membership.pk)
        )
        if locked.is_available != is_available:
            record_audit_event(
                organization=locked.organization,
                actor=actor,
                action=AuditEvent.Action.MEMBER_UPDATED,
                target=locked.user.email,
                changes={"is_available": {"before": locked.is_available, "after": is_available}},
            )
            locked.is_available = is_available
            locked.save(update_fields=["is_available"])
        return locked


# Organization settings ----------------------------------------------------------------


# The organization itself

ORGANIZATION_EDITABLE_FIELDS = (
    "name",
    "slug",
    "plan",
    "monthly_ticket_quota",
    "agents_may_create_tags",
    "members_must_use_two_factor",
    "retention_days",
    "retention_action",
)
# Longest retention rule: a hundred years is "keep", said with a number.
RETENTION_MAX_DAYS = 36_500


def _clean_organization_fields(fields: dict, *, organization: Organization | None = None) -> dict:
    cleaned = dict(fields)
    if "name" in cleaned:
        cleaned["name"] = (cleaned["name"] or "").strip()
        if not cleaned["name"] or len(cleaned["name"]) > 150:
            raise InvalidInput("name", "An organization needs a name of at most 150 characters.")
    if "slug" in cleaned:
        cleaned["slug"] = (cleaned["slug"] or "").strip().lower()
        if not SLUG_PATTERN.fullmatch(cleaned["slug"]):
            raise InvalidInput("slug", "Use 1–60 lowercase letters, digits, hyphens or underscores.")
        clash = Organization.objects.filter(slug=cleaned["slug"])
        if organization is not None:
            clash = clash.exclude(pk=organization.pk)
        if clash.exists():
            raise InvalidInput("slug", "Another organization uses this slug.")
    if "plan" in cleaned and cleaned["plan"] not in Organization.Plan.values:
        raise InvalidInput("plan", "Unknown plan.")
    if "retention_days" in cleaned:
        days = cleaned["retention_days"]
        if days is not None and not (isinstance(days, int) and 1 <= days <= RETENTION_MAX_DAYS):
            raise InvalidInput(
                "retention_days", f"Use 1 to {RETENTION_MAX_DAYS} days, or leave empty to keep tickets."
            )
    if (
        "retention_action" in cleaned
        and cleaned["retention_action"] not in Organization.RetentionAction.values
    ):
        raise InvalidInput("retention_action", "Choose anonymize or delete.")
    if "monthly_ticket_quota" in cleaned:
        quota = cleaned["monthly_ticket_quota"]
        if quota is not None and quota < 0:
            raise InvalidInput("monthly_ticket_quota", "Use 0 or more, or leave empty for no limit.")
    return cleaned


def create_organization(
    *,
    actor: Actor,
    name: str,
    slug: str,
    plan: str = Organization.Plan.FREE,
    monthly_ticket_quota: int | None = None,
) -> Organization:
    """A new tenant, with a fresh JWT secret; staff only (no one is a member of it yet)."""
    if actor.user is None or not actor.user.is_staff:
        raise PermissionDenied("Only staff can create an organization.")
    fields = _clean_organization_fields(
        {"name": name, "slug": slug, "plan": plan, "monthly_ticket_quota": monthly_ticket_quota}
    )
    with transaction.atomic():
        organization = Organization.objects.create(**fields)
        record_audit_event(
            organization=organization,
            actor=actor,
            action=AuditEvent.Action.ORGANIZATION_CREATED,
            target=organization.name,
            changes=fields,
        )
        events.publish(events.OrganizationCreated(actor=actor, organization_id=organization.pk))
    return organization


def update_organization(*, organization: Organization, actor: Actor, **fields) -> Organization:
    """Change the name, slug, plan or quota; the audit event lists each change, before and after.

    The plan and the monthly quota are what the customer pays for: staff set them.
    """
    unknown = set(fields) - set(ORGANIZATION_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"update_organization() got unexpected fields: {', '.join(sorted(unknown))}")
    fields = _clean_organization_fields(fields, organization=organization)
    with transaction.atomic():
        require_manager(organization, actor)
        if {"plan", "monthly_ticket_quota"} & set(fields) and not (actor.user and actor.user.is_staff):
            raise PermissionDenied("Only staff can change the plan or the monthly quota.")
        organization = Organization.objects.select_for_update().get(pk=organization.pk)
        changes = {}
        for name, value in fields.items():
            before = getattr(organization, name)
            if before != value:
                changes[name] = {"before": before, "after": value}
                setattr(organization, name, value)
        if changes:
            organization.save(update_fields=list(changes))
            record_audit_event(
                organization=organization,
                actor=actor,
                action=AuditEvent.Action.ORGANIZATION_UPDATED,
                target=organization.name,
                changes=changes,
            )
    return organization


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
    is_available: bool = True,
) -> tuple[Membership, bool]:
    """Invite a person to the organization by email; returns ``(membership or invitation,
    user_created)``.

    A new person gets a user with an unusable password, a membership and an email with a
    link to set the password (choosing it is their acceptance: they had no account to
    protect). Someone who already has an account gets an ``Invitation`` and an email: no
    membership exists until they accept it, signed in (``accept_invitation``). The inviter
    sees the same answer either way, and the audit log records the same fields.
    """
    email = ticket_services.normalize_email(email)
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
        if user is not None and Membership.objects.filter(organization=organization, user=user).exists():
            raise InvalidInput("email", "This person is already a member of the organization.")
        changes = {"role": role, "tier": tier}
        if not is_available:
            changes["is_available"] = False
        record_audit_event(
            organization=organization,
            actor=actor,
            action=AuditEvent.Action.MEMBER_INVITED,
            target=email,
            changes=changes,
        )
        if user is not None:
            # Asking again replaces the open offer's terms and sends it again.
            invitation, _ = Invitation.objects.update_or_create(
                organization=organization,
                email=user.email,
                accepted_at=None,
                defaults={
                    "role": role,
                    "tier": tier,
                    "is_available": is_available,
                    "inviter_label": actor.label,
                },
            )
            transaction.on_commit(partial(send_offer, invitation_id=invitation.pk))
            return invitation, False
        user = User(email=email, name=name.strip()[:150])
        user.set_unusable_password()
        user.save()
        membership = Membership.objects.create(
            user=user, organization=organization, role=role, tier=tier, is_available=is_available
        )
        transaction.on_commit(
            partial(send_invitation, membership_id=membership.pk, inviter=actor.label, new_user=True)
        )
    return membership, True


def resend_offer(*, invitation: Invitation, actor: Actor) -> None:
    """Send an open invitation (to someone with an account) again."""
    with transaction.atomic():
        require_manager(invitation.organization, actor)
        if invitation.accepted_at is not None:
            raise InvalidInput("invitation", "This invitation was accepted already.")
        record_audit_event(
            organization=invitation.organization,
            actor=actor,
            action=AuditEvent.Action.INVITATION_RESENT,
            target=invitation.email,
        )
        transaction.on_commit(partial(send_offer, invitation_id=invitation.pk))


def withdraw_invitation(*, invitation: Invitation, actor: Actor) -> None:
    """Take back an open invitation; its link then opens nothing."""
    with transaction.atomic():
        require_manager(invitation.organization, actor)
        deleted, _ = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).delete()
        if deleted:
            record_audit_event(
                organization=invitation.organization,
                actor=actor,
                action=AuditEvent.Action.MEMBER_REMOVED,
                target=invitation.email,
                changes={"role": invitation.role, "tier": invitation.tier},
            )


def accept_invitation(*, invitation: Invitation, user: User) -> Membership:
    """The invited person joins, signed in as the address the invitation was sent to."""
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update().select_related("organization").get(pk=invitation.pk)
        )
        if invitation.email.lower() != user.email.lower():
            raise PermissionDenied("This invitation is for another email address.")
        if invitation.accepted_at is not None:
            raise InvalidInput("invitation", "This invitation was accepted already.")
        membership, _ = Membership.objects.get_or_create(
            user=user,
            organization=invitation.organization,
            defaults={
                "role": invitation.role,
                "tier": invitation.tier,
                "is_available": invitation.is_available,
            },
        )
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
        record_audit_event(
            organization=invitation.organization,
            actor=Actor.agent(user),
            action=AuditEvent.Action.INVITATION_ACCEPTED,
            target=user.email,
            changes={"role": membership.role, "tier": membership.tier},
        )
    return membership


def add_member(*, organization: Organization, actor: Actor, user: User, **fields) -> Membership:
    """Staff (the operator, in admin) put someone with an account into an organization
    directly, and the person is told. Owners and admins invite instead (``invite_member``)."""
    if actor.user is None or not actor.user.is_staff:
        raise PermissionDenied("Only staff add a member directly; owners and admins send an invitation.")
    role = fields.get("role", Membership.Role.AGENT)
    with transaction.atomic():
        if Membership.objects.filter(organization=organization, user=user).exists():
            raise InvalidInput("email", "This person is already a member of the organization.")
        membership = Membership.objects.create(
            user=user,
            organization=organization,
            role=role,
            tier=fields.get("tier", Membership.Tier.N1),
            is_available=fields.get("is_available", True),
        )
        record_audit_event(
            organization=organization,
            actor=actor,
            action=AuditEvent.Action.MEMBER_INVITED,
            target=user.email,
            changes={"role": role, "tier": membership.tier, "added_by_staff": True},
        )
        transaction.on_commit(
            partial(send_invitation, membership_id=membership.pk, inviter=actor.label, new_user=False)
        )
    return membership


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


def delete_user(*, user: User, actor: Actor) -> None:
    """Delete a person's account: first out of each organization through ``remove_member``
    (so their open tickets become unassigned and no organization loses its last owner),
    then the user row. Staff only; nobody deletes their own account here."""
    if actor.user is None or not actor.user.is_staff:
        raise PermissionDenied("Only staff can delete a user.")
    if actor.user.pk == user.pk:
        raise PermissionDenied("You cannot delete your own account.")
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        memberships = Membership.objects.filter(user=user).select_related("organization")
        organizations = []
        for membership in memberships.order_by("organization__name"):
            remove_member(membership=membership, actor=actor)
            organizations.append(membership.organization.name)
        record_audit_event(
            organization=None,
            actor=actor,
            action=AuditEvent.Action.USER_DELETED,
            target=user.email,
            changes={"organizations": organizations},
        )
        user.delete()


# API keys


def create_api_key(
    *,
    organization: Organization,
    actor: Actor,
    name: str,
    inbox: Inbox | None = None,
    expiry_date: datetime | None = None,
) -> tuple[ApiKey, str]:
    """A new organization API key; the plaintext is returned once and stored only hashed."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("name", "Give the key a name, e.g. the system that will use it.")
    if inbox is not None and inbox.organization_id != organization.pk:
        raise InvalidInput("inbox", "Unknown inbox.")
    with transaction.atomic():
        require_manager(organization, actor)
        api_key, plaintext = ApiKey.objects.create_key(
            organization=organization, name=name[:50], inbox=inbox, expiry_date=expiry_date
        )
        changes = {"inbox": inbox.name if inbox else None}
        if expiry_date is not None:
            changes["expiry_date"] = expiry_date.isoformat()
        record_audit_event(
            organization=organization,
            actor=actor,
            action=AuditEvent.Action.API_KEY_CREATED,
            target=f"{api_key.name} ({api_key.display_prefix}…)",
            changes=changes,
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


def create_agent_token(
    *, user: User, name: str, expires_at=None, actor: Actor | None = None
) -> tuple[AgentToken, str]:
    """A personal API token for the agent API; the plaintext ``hda_...`` is returned once.

    Made by the agent for themselves, or by staff for them (``actor``).
    """
    actor = actor or Actor.agent(user)
    if actor.user is None or (actor.user.pk != user.pk and not actor.user.is_staff):
        raise PermissionDenied("Only the person themselves or staff can make their token.")
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
            actor=actor,
            action=AuditEvent.Action.AGENT_TOKEN_CREATED,
            target=str(token),
            changes={} if actor.user.pk == user.pk else {"user": user.email},
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
