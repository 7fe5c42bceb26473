"""An agent's in-app notifications (the bell in the dashboard)."""

import re
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from tickets.actors import Actor
from tickets.exceptions import InvalidInput, PermissionDenied
from tickets.models import Notification, NotificationPreference, Ticket, TicketFollower

from .tickets import is_assignable


def mark_notifications_read(*, user, notification_ids: Iterable[int] | None = None) -> int:
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=list(notification_ids))
    return unread.update(read_at=timezone.now())


def follow_ticket(*, ticket: Ticket, actor: Actor) -> bool:
    """The agent follows the ticket (told of customer replies and notes); True when new."""
    if actor.user is None or actor.is_customer or not is_assignable(ticket.organization_id, actor.user):
        raise PermissionDenied("Only the organization's agents follow its tickets.")
    _, created = TicketFollower.objects.get_or_create(ticket=ticket, user=actor.user)
    return created


def unfollow_ticket(*, ticket: Ticket, actor: Actor) -> bool:
    if actor.user is None:
        return False
    deleted, _ = TicketFollower.objects.filter(ticket=ticket, user=actor.user).delete()
    return bool(deleted)


def set_notification_preferences(*, user, preferences: dict[str, tuple[bool, bool]]) -> None:
    """Each kind's ``(in_app, email)`` for the agent; unknown kinds are refused whole."""
    unknown = set(preferences) - set(Notification.Kind.values)
    if unknown:
        raise InvalidInput("kind", f"Unknown kind of notification: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        for kind, (in_app, email) in preferences.items():
            NotificationPreference.objects.update_or_create(
                user=user, kind=kind, defaults={"in_app": bool(in_app), "email": bool(email)}
            )


def notification_preferences(user) -> dict[str, tuple[bool, bool]]:
    """Every kind's ``(in_app, email)`` for the agent, the defaults where they chose nothing."""
    chosen = {row.kind: (row.in_app, row.email) for row in NotificationPreference.objects.filter(user=user)}
    defaults = NotificationPreference.DEFAULTS
    return {kind: chosen.get(kind, defaults[kind]) for kind in Notification.Kind.values}


def preferences_of(user_ids, kind: str) -> dict[int, tuple[bool, bool]]:
    """``(in_app, email)`` for ``kind`` for each of these agents (one query)."""
    chosen = dict(
        (row[0], (row[1], row[2]))
        for row in NotificationPreference.objects.filter(user_id__in=list(user_ids), kind=kind).values_list(
            "user_id", "in_app", "email"
        )
    )
    default = NotificationPreference.DEFAULTS[kind]
    return {user_id: chosen.get(user_id, default) for user_id in user_ids}


# "@Sam" or "@sam@example.com" in a note: an agent of the ticket's organization, by email or
# by the first word of their name when only one agent has it.
MENTION = re.compile(r"(?<![\w@])@([\w.+-]+@[\w-]+(?:\.[\w-]+)+|[^\W\d_][\w-]*)", re.UNICODE)


def mentioned_agents(organization_id: int, body: str) -> list:
    """The agents a message @mentions (active members who can sign in), in order."""
    handles = [handle.rstrip(".") for handle in MENTION.findall(body or "")]
    if not handles:
        return []
    agents = list(User.objects.filter(memberships__organization_id=organization_id, is_active=True))
    by_email = {agent.email.lower(): agent for agent in agents}
    by_first_name: dict[str, list] = {}
    for agent in agents:
        first = (agent.name.split() or agent.email.split("@"))[0].lower()
        by_first_name.setdefault(first, []).append(agent)
    found = []
    for handle in handles:
        key = handle.lower()
        agent = by_email.get(key)
        if agent is None and len(by_first_name.get(key, [])) == 1:
            agent = by_first_name[key][0]
        if agent is not None and agent not in found and agent.has_usable_password():
            found.append(agent)
    return found
