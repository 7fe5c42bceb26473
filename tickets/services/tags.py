"""Tags: per organization, created on first use by name."""

from collections.abc import Iterable

from django.db import IntegrityError, transaction

from accounts.audit import record_audit_event
from accounts.models import AuditEvent, Organization
from helpdesk.text import forbidden_character_problem
from tickets import limits
from tickets.actors import Actor
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


def get_or_create_tag(*, organization: Organization, name: str) -> tuple[Tag, bool]:
    name = validate_tag_name(name)
    try:
        with transaction.atomic():
            return Tag.objects.get_or_create(organization=organization, name=name)
    except IntegrityError:
        return Tag.objects.get(organization=organization, name=name), False


def rename_tag(*, tag: Tag, name: str, actor: Actor) -> Tag:
    """Rename a tag on every ticket that has it; the audit log says from what to what."""
    if actor.is_customer:
        raise PermissionDenied("Customers cannot change tags.")
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
    if actor.is_customer:
        raise PermissionDenied("Customers cannot change tags.")
    with transaction.atomic():
        record_audit_event(
            organization=tag.organization,
            actor=actor,
            action=AuditEvent.Action.TAG_DELETED,
            target=tag.name,
            changes={"tickets": tag.tickets.count()},
        )
        tag.delete()


def resolve_tags(organization: Organization, tags: Iterable, *, field_name: str) -> list[Tag]:
    """Tags given as Tag objects or names (created on first use), without repeats."""
    resolved = []
    for tag in tags:
        if isinstance(tag, Tag):
            if tag.organization_id != organization.pk:
                raise InvalidInput(field_name, "Unknown tag.")
            resolved.append(tag)
        else:
            resolved.append(get_or_create_tag(organization=organization, name=str(tag))[0])
    if len(resolved) > limits.TAGS_PER_TICKET:
        raise InvalidInput(field_name, f"At most {limits.TAGS_PER_TICKET} tags.")
    return list({tag.pk: tag for tag in resolved}.values())
