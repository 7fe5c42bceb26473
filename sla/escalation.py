"""The escalation scheduler: warnings and breaches, each exactly once per ticket and target.

``escalate_due`` takes the tickets whose ``sla_check_at`` has come, a batch at a time,
with ``SELECT ... FOR UPDATE SKIP LOCKED`` (PostgreSQL): two schedulers on two machines
never take the same ticket, and a ticket a request is changing is left for the next
pass. For each target whose warning or breach time has passed it records the marker
(``Ticket.sla_fired``: ``"<target>:warning"``/``"<target>:breach"``), a ``TicketEvent``
and the domain event (``sla.warning``/``sla.breached``, whose notification subscriber
writes its tasks in the same transaction), then moves ``sla_check_at`` to the next
instant — all in one transaction, so a crash loses or repeats nothing. A breach found
late (after downtime) is fired once, with its now moot warning marked as well: the
scheduler catches up with whatever came due while it was not running.

It runs as ``python manage.py escalate_sla --loop`` (the Procfile's ``sla`` process, and
``make worker``).
"""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from tickets import events
from tickets import services as ticket_services
from tickets.actors import Actor
from tickets.models import Ticket, TicketEvent

from . import services

logger = logging.getLogger(__name__)

BATCH_SIZE = 100
ACTOR_LABEL = "Service levels"


def escalate_due(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Fire every warning and breach due by ``now``; returns how many were fired."""
    fired = 0
    while True:
        at = now or timezone.now()
        with transaction.atomic():
            tickets = list(due_for_check(at, batch_size))
            for ticket in tickets:
                fired += _escalate(ticket, at)
        if len(tickets) < batch_size:
            return fired


def due_for_check(at: datetime, batch_size: int = BATCH_SIZE):
    """The next tickets to look at, oldest check first, none that another scheduler (or a
    request) holds; served by the index on ``sla_check_at`` (``make bench`` checks it)."""
    return (
        Ticket.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("organization", "inbox", "customer")
        .filter(sla_check_at__lte=at)
        .order_by("sla_check_at")[:batch_size]
    )


def _escalate(ticket: Ticket, now: datetime) -> int:
    levels = services.organization_levels(ticket.organization)
    policy = levels.policy(ticket.sla_policy_id)
    actor = Actor.system(ACTOR_LABEL)
    told = []
    breached_now = False
    for target, due in services.running_clocks(ticket).items():
        breach_marker, warning_marker = f"{target}:breach", f"{target}:warning"
        if breach_marker in ticket.sla_fired:
            continue
        if due <= now:
            ticket.sla_fired = [*ticket.sla_fired, *{warning_marker, breach_marker} - set(ticket.sla_fired)]
            services.mark_breached(ticket, target, due)
            told.append(
                _record(ticket, actor, TicketEvent.Action.SLA_BREACHED, events.SlaBreached, target, due)
            )
            breached_now = True
        elif warning_marker not in ticket.sla_fired and policy is not None:
            warn_at = services.warning_at(levels, policy, ticket, target, due)
            if warn_at is not None and warn_at <= now:
                ticket.sla_fired = [*ticket.sla_fired, warning_marker]
                told.append(
                    _record(ticket, actor, TicketEvent.Action.SLA_WARNING, events.SlaWarning, target, due)
                )
    services.schedule(levels, ticket)
    if ticket.sla_check_at is not None and ticket.sla_check_at <= now:
        # Nothing could be fired at this instant (never expected): look again in a minute
        # rather than take the same ticket again in this pass, and never lose the check.
        ticket.sla_check_at = now + timedelta(minutes=1)
    services.write_clocks(ticket)
    # Told once the markers are stored: a subscriber in the transaction (a trigger on
    # sla.breached) may change the ticket through the services, which read it afresh.
    for event in told:
        events.publish(event)
    if breached_now and policy is not None and policy.raise_priority_to:
        # A trigger may have raised it already: compare with what is stored now.
        current = Ticket.objects.filter(pk=ticket.pk).values_list("priority", flat=True).get()
        if _is_higher(policy.raise_priority_to, current):
            ticket_services.update_ticket(ticket=ticket, actor=actor, priority=policy.raise_priority_to)
    return len(told)


def _is_higher(wanted: str, current: str) -> bool:
    order = Ticket.Priority.values
    return bool(wanted) and wanted in order and order.index(wanted) > order.index(current)


def _record(ticket: Ticket, actor: Actor, action: str, event_type, target: str, due: datetime):
    """The ticket event of a warning or breach, and the domain event to tell once stored."""
    TicketEvent.objects.create(
        ticket=ticket,
        action=action,
        actor_label=actor.label,
        field=target,
        after={"target": target, "due_at": due.isoformat()},
    )
    return event_type(
        actor=actor,
        organization_id=ticket.organization_id,
        ticket_id=ticket.pk,
        target=target,
        due_at=due,
    )
