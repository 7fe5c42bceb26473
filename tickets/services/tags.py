"""Tags: per organization, created on first use by name.

Who may do what: owners and admins manage tags (create, rename, delete); agents apply
existing tags, and create new ones only where the organization allows it
(``Organization.agents_may_create_tags``). API keys (the organization's own backend) and
the system act for the organization; staff act through admin.
"""

from collections.abc import Iterable

from django.db import IntegrityError, transaction

from accounts.audit import record_audit_event
from accounts.models import AuditEvent, Membership, Organization
from helpdesk.text import forbidden_character_problem
from tickets import limits
from tickets.actors import Actor, ActorKind
from tickets.exceptions import InvalidInput, PermissionDenied
from tickets.models import Tag


def validate_tag_name(name: str, *, field_name: str = "name") -> str:
    name = (name or "").strip()
    if not 1 <= len(name) <= limits.TAG_NAME_MAX_LENGTH:
        raise InvalidInput(field_name, f"Must be 1 to {limits.TAG_NAME_MAX_LENGTH} characters.")
    problem = forbidden_character_problem(name)
    if problem:
        raise InvalidInput(field_name, problem)
    return name


def _agent_role(actor: Actor, organization_id: int) -> str | None:
    membership = Membership.objects.filter(user=actor.user, organization_id=organization_id).first()
    return membership.role if membership is not None else None


def may_manage_tags(actor: Actor, organization_id: int) -> bool:
    """Rename and delete (and always create): owners, admins, staff, API keys, the system."""
    if actor.kind in (ActorKind.INTEGRATOR, ActorKind.SYSTEM):
        return True
    if actor.kind != ActorKind.AGENT or actor.user is None:
        return False
    if actor.user.is_staff:
        return True
    return _agent_role(actor, organization_id) in {Membership.Role.OWNER, Membership.Role.ADMIN}


def may_create_tags(actor: Actor | None, organization: Organization) -> bool:
    if actor is None or actor.kind != ActorKind.AGENT:
        # Integrators, the system and customers' own requests keep creating tags by name.
        return True
    return organization.agents_may_create_tags or may_manage_tags(actor, organization.pk)


def _require_manager(actor: Actor, organization_id: int) -> None:
    if not may_manage_tags(actor, organization_id):
        raise PermissionDenied("Managing tags needs the owner or admin role.")


def get_or_create_tag(
    *, organization: Organization, name: str, actor: Actor | None = None
) -> tuple[Tag, bool]:
    """The tag of this name, created first when there is none and ``actor`` may create it."""
    name = validate_tag_name(name)
    existing = Tag.objects.filter(organization=organization, name=name).first()
    if existing is not None:
        return existing, False
    if not may_create_tags(actor, organization):
        raise PermissionDenied(f"There is no tag “{name}”, and only owners and admins create tags here.")
    try:
        with transaction.atomic():
            return Tag.objects.get_or_create(organization=organization, name=name)
    except IntegrityError:
        return Tag.objects.get(organization=organization, name=name), False


def rename_tag(*, tag: Tag, name: str, actor: Actor) -> Tag:
    """Rename a tag on every ticket that has it; the audit log says from what to what."""
    _require_manager(actor, tag.organization_id)
    name = validate_tag_name(name)
    with transaction.atomic():
        tag = Tag.objects.select_for_update().get(pk=tag.pk)
        if Tag.objects.filter(organization_id=tag.organization_id, name=name).exclude(pk=tag.pk).exists():
            raise InvalidInput("name", "A tag with this name exists.")
        if tag.name != name:
            record_audit_event(
                organization=tag.organization,
                actor=actor,
                action=AuditEvent.Action.TAG_RENAMED,
                target=name,
                changes={"name": {"before": tag.name, "after": name}},
            )
            tag.name = name
            tag.save(update_fields=["name"])
    return tag


def delete_tag(*, tag: Tag, actor: Actor) -> None:
    """Take a tag off every ticket and forget it; the audit log keeps how many it was on."""
    _require_manager(actor, tag.organization_id)
    with transaction.atomic():
        record_audit_event(
            organization=tag.organization,
            actor=actor,
            action=AuditEvent.Action.TAG_DELETED,
            target=tag.name,
            changes={"tickets": tag.tickets.count()},
        )
        tag.delete()


def resolve_tags(
    organization: Organization, tags: Iterable, *, field_name: str, actor: Actor | None = None
) -> list[Tag]:
    """Tags given as Tag objects or names (created on first use when ``actor`` may), without
    repeats."""
    resolved = []
    for tag in tags:
        if isinstance(tag, Tag):
            if tag.organization_id != organization.pk:
                raise InvalidInput(field_name, "Unknown tag.")
            resolved.append(tag)
        else:
            resolved.append(get_or_create_tag(organization=organization, name=str(tag), actor=actor)[0])
    if len(resolved) > limits.TAGS_PER_TICKET:
        raise InvalidInput(field_name, f"At most {limits.TAGS_PER_TICKET} tags.")
    return list({tag.pk: tag for tag in resolved}.values())
