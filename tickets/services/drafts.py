"""Drafts: what an agent typed in a ticket's composer, kept until they send it."""

from django.db import transaction
from django.utils import timezone

from tickets import limits
from tickets.actors import Actor
from tickets.exceptions import InvalidInput, PermissionDenied
from tickets.models import Draft, Message, Ticket

from .validation import validate_choice


def save_draft(*, ticket: Ticket, actor: Actor, body: str, kind: str = Message.Kind.REPLY) -> Draft | None:
    """Keep the agent's unsent text for this ticket (one per ticket and agent); an empty
    body removes it. Returns the draft, or None when there is none left."""
    if actor.user is None or actor.is_customer:
        raise PermissionDenied("Only agents keep drafts.")
    kind = validate_choice(kind, Message.Kind, field_name="kind")
    body = limits.normalize_line_breaks(body)
    if len(body) > limits.MESSAGE_MAX_LENGTH:
        raise InvalidInput("body", f"At most {limits.MESSAGE_MAX_LENGTH:,} characters.")
    with transaction.atomic():
        if not body.strip():
            Draft.objects.filter(ticket=ticket, user=actor.user).delete()
            return None
        draft, _ = Draft.objects.update_or_create(
            ticket=ticket,
            user=actor.user,
            defaults={"body": body, "kind": kind, "updated_at": timezone.now()},
        )
    return draft


def discard_draft(*, ticket: Ticket, actor: Actor) -> None:
    """The draft was sent (or thrown away): forget it."""
    if actor.user is not None and not actor.is_customer:
        Draft.objects.filter(ticket=ticket, user=actor.user).delete()


def draft_for(ticket: Ticket, user) -> Draft | None:
    return Draft.objects.filter(ticket=ticket, user=user).first()
