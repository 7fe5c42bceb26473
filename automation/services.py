"""Triggers and macros: every change to them, and running them.

Triggers run inside the transaction of the change that told the event (an
``@events.in_transaction`` subscriber, ``automation/subscribers.py``): what a trigger
does commits with the ticket or not at all, and the request answers with the ticket as
the triggers left it. Each trigger acts through the ticket services with the actor
"Trigger: <name>", so every change is a TicketEvent and a domain event like any other.

One pass, no loops: while the triggers of an event run, the events their own changes
tell start no trigger (``_running``). The triggers for the event are checked in order
(position, then id), each against the ticket as the earlier ones left it, and each fires
at most once. Two triggers that would undo each other therefore settle after one pass.

A trigger's failure (an action the ticket refuses: a status the state machine forbids, a
field required to resolve) is logged and its changes rolled back to a savepoint; the
change that told the event and the other triggers go on.

The rule set of an organization is compiled once per version of its triggers
(``Organization.automation_version``, set anew by every change to them, in the change's
transaction) and kept in the process and in the shared cache under that version. The
version is read from the organization row the ticket services already hold with the
ticket (``event.ticket``), so a create with 50 active triggers reads neither the cache
nor the database to learn its rules; conditions on tags or the body read those only when
a trigger asks.

Every organization has acknowledgement triggers (``ensure_default_triggers``, run when
it is created and by a data migration for the existing ones): the mail "We received your
request" is their ``email_customer`` action, one trigger per channel, each editable.
"""

import functools
import logging
import secrets
from contextlib import nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.tasks import task
from django.utils import timezone

from accounts.audit import record_audit_event, require_manager
from accounts.models import AuditEvent, Membership, Organization, User
from sla.calendar import ALWAYS, Calendar
from sla.models import BusinessHours
from tickets import events, outbox, services
from tickets.actors import Actor
from tickets.exceptions import HelpdeskError, InvalidInput, PermissionDenied
from tickets.limits import normalize_line_breaks
from tickets.models import Inbox, Message, Notification, SavedReply, Ticket
from tickets.notifications import enqueue_trigger_email
from tickets.selectors import memberships_with_open_tickets
from tickets.services.custom_fields import fields_for

from . import rules
from .models import Macro, Trigger

logger = logging.getLogger(__name__)

NAME_MAX_LENGTH = 100
MAX_TRIGGERS = 500
PREVIEW_TICKETS = 100
CACHE_SECONDS = 24 * 3600


def trigger_actor(trigger_name: str) -> Actor:
    return Actor.system(f"Trigger: {trigger_name}")


# Vocabulary of one organization ---------------------------------------------------------------


def _inbox_ids(organization_id: int) -> dict[str, int]:
    return dict(Inbox.objects.filter(organization_id=organization_id).values_list("public_id", "pk"))


def _agent_finder(organization_id: int):
    def find(references: list) -> dict[str, int]:
        ids = [int(item) for item in references if isinstance(item, int) or str(item).isdigit()]
        emails = [
            str(item).lower() for item in references if not (isinstance(item, int) or str(item).isdigit())
        ]
        found: dict[str, int] = {}
        memberships = Membership.objects.filter(organization_id=organization_id, user__is_active=True)
        for user_id in memberships.filter(user_id__in=ids).values_list("user_id", flat=True):
            found[str(user_id)] = user_id
        for user_id, email in memberships.filter(user__email__in=emails).values_list(
            "user_id", "user__email"
        ):
            found[email.lower()] = user_id
        return found

    return find


def clean_trigger_body(organization: Organization, *, event, conditions, actions) -> tuple[str, dict, list]:
    if not isinstance(event, str) or event not in rules.EVENTS:
        raise InvalidInput("event", f"One of: {', '.join(rules.EVENTS)}.")
    inbox_ids = _inbox_ids(organization.pk)
    fields = fields_for(organization.pk)
    conditions = rules.clean_conditions(conditions, inbox_ids=inbox_ids, fields=fields)
    actions = rules.clean_actions(
        actions, inbox_ids=inbox_ids, fields=fields, agent_ids=_agent_finder(organization.pk)
    )
    return event, conditions, actions


def _clean_name(name) -> str:
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= NAME_MAX_LENGTH:
        raise InvalidInput("name", f"Must be between 1 and {NAME_MAX_LENGTH} characters.")
    return name.strip()


NAME_TAKEN = "Another trigger of the organization has this name."


def check_trigger_name(organization, name: str, *, trigger_pk: int | None = None) -> None:
    """Refuse a name another trigger of the organization has: its changes are recorded as
    "Trigger: <name>", which must say which trigger it was."""
    if Trigger.objects.filter(organization=organization, name=name).exclude(pk=trigger_pk).exists():
        raise InvalidInput("name", NAME_TAKEN)


def _clean_position(position) -> int:
    if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position <= 100_000:
        raise InvalidInput("position", "A whole number between 0 and 100000.")
    return position


# Triggers: the acknowledgements every organization starts with --------------------------------

ACKNOWLEDGEMENT_ACTIONS = [{"type": "email_customer", "template": "acknowledgement"}]
# After the organization's own rules (which run lowest position first).
ACKNOWLEDGEMENT_POSITION = 1000


def _channel_is(channel: str) -> dict:
    return {"field": "channel", "op": "is", "value": channel}


# name, conditions, active. One per channel so each can be turned off or reworded alone;
# SupportDesk's is off: its document promises mail to the agent only, and its description
# is the integrator's internal text.
DEFAULT_TRIGGERS = (
    ("Acknowledge support form requests", {"all": [_channel_is("web")], "any": []}, True),
    ("Acknowledge email requests", {"all": [_channel_is("email")], "any": []}, True),
    (
        "Acknowledge API requests",
        {
            "all": [_channel_is("api"), {"field": "dialect", "op": "is_not", "value": "supportdesk"}],
            "any": [],
        },
        True,
    ),
    ("Acknowledge tickets agents open", {"all": [_channel_is("agent")], "any": []}, True),
    (
        "Acknowledge SupportDesk requests",
        {"all": [_channel_is("api"), {"field": "dialect", "op": "is", "value": "supportdesk"}], "any": []},
        False,
    ),
)


def ensure_default_triggers(*, organization: Organization) -> list[Trigger]:
    """The acknowledgement triggers ("We received your request" to the customer), for an
    organization that has none of that name yet; returns those made."""
    existing = set(Trigger.objects.filter(organization=organization).values_list("name", flat=True))
    made = Trigger.objects.bulk_create(
        [
            Trigger(
                organization=organization,
                name=name,
                event="ticket.created",
                conditions=conditions,
                actions=ACKNOWLEDGEMENT_ACTIONS,
                active=active,
                position=ACKNOWLEDGEMENT_POSITION + index,
            )
            for index, (name, conditions, active) in enumerate(DEFAULT_TRIGGERS)
            if name not in existing
        ]
    )
    if made:
        _rules_changed(organization)
    return made


# Triggers: changes ----------------------------------------------------------------------------


def _rules_key(organization_id: int, version: int, calendars_version: int) -> str:
    return f"automation:triggers:rules:{organization_id}:{version}:{calendars_version}"


def new_rules_version() -> int:
    return secrets.randbits(62) + 1


def _rules_changed(organization: Organization) -> None:
    """A new version of the organization's rule set, in the change's transaction: other
    processes see it with the change, and a rolled-back version is never seen again. The
    caller's instance learns it too (its tickets in this transaction run the new rules)."""
    organization.automation_version = new_rules_version()
    Organization.objects.filter(pk=organization.pk).update(automation_version=organization.automation_version)


def create_trigger(
    *,
    organization: Organization,
    actor: Actor,
    name: str,
    event: str,
    conditions=None,
    actions=None,
    active: bool = True,
    position: int = 0,
) -> Trigger:
    """A new rule for the organization's tickets, checked against its vocabulary."""
    name = _clean_name(name)
    position = _clean_position(position)
    event, conditions, actions = clean_trigger_body(
        organization, event=event, conditions=conditions, actions=actions
    )
    with transaction.atomic():
        require_manager(organization, actor)
        if Trigger.objects.filter(organization=organization).count() >= MAX_TRIGGERS:
            raise InvalidInput("name", f"At most {MAX_TRIGGERS} triggers per organization.")
        check_trigger_name(organization, name)
        try:
            # A savepoint: a create of the same name that committed since the check is
            # refused on the field, like the check's own refusal.
            with transaction.atomic():
                trigger = Trigger.objects.create(
                    organization=organization,
                    name=name,
                    event=event,
                    conditions=conditions,
                    actions=actions,
                    active=bool(active),
                    position=position,
                )
        except IntegrityError:
            raise InvalidInput("name", NAME_TAKEN) from None
        record_audit_event(
            organization=organization, actor=actor, action=AuditEvent.Action.TRIGGER_CREATED, target=name
        )
        _rules_changed(organization)
    return trigger


_UNSET = object()


def update_trigger(
    *,
    trigger: Trigger,
    actor: Actor,
    name=_UNSET,
    event=_UNSET,
    conditions=_UNSET,
    actions=_UNSET,
    active=_UNSET,
    position=_UNSET,
) -> Trigger:
    organization = trigger.organization
    wanted = {}
    if name is not _UNSET:
        wanted["name"] = _clean_name(name)
    if position is not _UNSET:
        wanted["position"] = _clean_position(position)
    if active is not _UNSET:
        wanted["active"] = bool(active)
    if event is not _UNSET or conditions is not _UNSET or actions is not _UNSET:
        wanted["event"], wanted["conditions"], wanted["actions"] = clean_trigger_body(
            organization,
            event=trigger.event if event is _UNSET else event,
            conditions=trigger.conditions if conditions is _UNSET else conditions,
            actions=trigger.actions if actions is _UNSET else actions,
        )
    with transaction.atomic():
        require_manager(organization, actor)
        trigger = Trigger.objects.select_for_update().select_related("organization").get(pk=trigger.pk)
        changed = [name for name, value in wanted.items() if getattr(trigger, name) != value]
        if "name" in changed:
            check_trigger_name(organization, wanted["name"], trigger_pk=trigger.pk)
        if changed:
            for field_name in changed:
                setattr(trigger, field_name, wanted[field_name])
            trigger.updated_at = timezone.now()
            try:
                with transaction.atomic():
                    trigger.save(update_fields=[*changed, "updated_at"])
            except IntegrityError:
                raise InvalidInput("name", NAME_TAKEN) from None
            record_audit_event(
                organization=organization,
                actor=actor,
                action=AuditEvent.Action.TRIGGER_UPDATED,
                target=trigger.name,
                changes={"fields": changed},
            )
            _rules_changed(organization)
    return trigger


def delete_trigger(*, trigger: Trigger, actor: Actor) -> None:
    with transaction.atomic():
        require_manager(trigger.organization, actor)
        record_audit_event(
            organization=trigger.organization,
            actor=actor,
            action=AuditEvent.Action.TRIGGER_DELETED,
            target=trigger.name,
        )
        trigger.delete()
        _rules_changed(trigger.organization)


# Triggers: compiled rule sets ------------------------------------------------------------------


@dataclass(frozen=True)
class CompiledTrigger:
    id: int
    name: str
    conditions: dict
    actions: list
    needs: frozenset

    @property
    def changes_ticket(self) -> bool:
        return any(action["type"] not in rules.OUTWARD_ACTION_TYPES for action in self.actions)


@dataclass(frozen=True)
class RuleSet:
    by_event: dict[str, list[CompiledTrigger]]
    inbox_public_ids: dict[int, str] = field(default_factory=dict)
    # The business hours of the inboxes that have some, when a condition asks about them.
    inbox_calendars: dict[int, Calendar] = field(default_factory=dict)

    def calendar_for(self, inbox_id: int) -> Calendar:
        return self.inbox_calendars.get(inbox_id, ALWAYS)


_compiled: dict[tuple[int, int, int], RuleSet] = {}
_COMPILED_MAX = 2000


def _compile(organization_id: int) -> RuleSet:
    by_event: dict[str, list[CompiledTrigger]] = {}
    for trigger in Trigger.objects.filter(organization_id=organization_id, active=True).order_by(
        "position", "id"
    ):
        by_event.setdefault(trigger.event, []).append(
            CompiledTrigger(
                id=trigger.pk,
                name=trigger.name,
                conditions=trigger.conditions,
                actions=trigger.actions,
                needs=frozenset(rules.needs_of(trigger.conditions)),
            )
        )
    conditions = [
        item
        for triggers in by_event.values()
        for trigger in triggers
        for group in ("all", "any")
        for item in trigger.conditions.get(group) or []
    ]
    inboxes = {}
    if any(item["field"] == "inbox" for item in conditions):
        inboxes = {pk: public_id for public_id, pk in _inbox_ids(organization_id).items()}
    calendars = {}
    if any(item["field"] == "business_hours" for item in conditions):
        calendars = _compile_calendars(organization_id)
    return RuleSet(by_event=by_event, inbox_public_ids=inboxes, inbox_calendars=calendars)


def _compile_calendars(organization_id: int) -> dict[int, Calendar]:
    """The business hours of each inbox that has some (the others work 24/7)."""
    hours = {
        hours.pk: hours.calendar() for hours in BusinessHours.objects.filter(organization_id=organization_id)
    }
    return {
        inbox_id: hours[hours_id]
        for inbox_id, hours_id in Inbox.objects.filter(
            organization_id=organization_id, business_hours__isnull=False
        ).values_list("pk", "business_hours_id")
        if hours_id in hours
    }


NO_RULES = RuleSet(by_event={})


def rule_set(organization: Organization) -> RuleSet:
    """The organization's active triggers by event for the version of its rules on its
    row: nothing for version 0 (no trigger ever made), else this process's copy, else the
    shared cache's, else the database. The business hours' version (``sla_version``) is
    part of the key: a calendar the conditions read may have changed."""
    if not organization.automation_version:
        return NO_RULES
    key = (organization.pk, organization.automation_version, organization.sla_version)
    local = _compiled.get(key)
    if local is not None:
        return local
    compiled = cache.get(_rules_key(*key))
    if compiled is None:
        compiled = _compile(organization.pk)
        cache.set(_rules_key(*key), compiled, CACHE_SECONDS)
    if len(_compiled) >= _COMPILED_MAX:
        _compiled.clear()
    _compiled[key] = compiled
    return compiled


# Triggers: running ------------------------------------------------------------------------------

# Set while the triggers of one event run: the events their changes tell start none.
_running: ContextVar[bool] = ContextVar("automation_triggers_running", default=False)


def _load_ticket(ticket_id: int) -> Ticket | None:
    return Ticket.objects.select_related("customer", "inbox", "organization").filter(pk=ticket_id).first()


def _facts(ticket: Ticket, message_id: int | None, rules_now: RuleSet) -> rules.Facts:
    def load_tags():
        return list(ticket.tags.values_list("name", flat=True))

    def load_body():
        first = getattr(ticket, "first_message", None)
        if message_id is None and first is not None:
            return first.body  # A ticket the create service holds: its first message.
        messages = Message.objects.filter(ticket_id=ticket.pk)
        if message_id is not None:
            messages = messages.filter(pk=message_id)
        else:
            messages = messages.order_by("created_at", "id")
        return messages.values_list("body", flat=True).first() or ""

    return rules.Facts(
        ticket=ticket,
        load_tags=load_tags,
        load_body=load_body,
        calendar=rules_now.calendar_for(ticket.inbox_id),
    )


def run_triggers(
    *,
    event_name: str,
    organization_id: int,
    ticket_id: int,
    message_id: int | None = None,
    ticket: Ticket | None = None,
) -> list[str]:
    """Run the organization's active triggers for ``event_name`` on a ticket, in order, in
    the current transaction; returns the names of those that fired.

    The entry point for every event, the SLA app's ``sla.warning``/``sla.breached`` too.
    ``ticket``: the instance the service holds (the event's), when it has one.
    """
    return run_triggers_for(
        event_names=[event_name],
        organization_id=organization_id,
        ticket_id=ticket_id,
        message_id=message_id,
        ticket=ticket,
    )


def run_triggers_for(
    *,
    event_names: list[str],
    organization_id: int,
    ticket_id: int,
    message_id: int | None = None,
    ticket: Ticket | None = None,
) -> list[str]:
    """``run_triggers`` for several events one change told at once (an update that moved
    the status: "ticket.updated", then "ticket.status_changed"), reading the rule set once.

    The version of the rules comes with the ticket's organization: from the service's
    instance when it holds one with its organization (no query), else with the ticket,
    read once."""
    if _running.get():
        return []
    if ticket is None or not Ticket.organization.is_cached(ticket):
        ticket = _load_ticket(ticket_id)
        if ticket is None:
            return []
    rules_now = rule_set(ticket.organization)
    if not any(rules_now.by_event.get(name) for name in event_names):
        return []
    fired = []
    token = _running.set(True)
    try:
        for event_name in event_names:
            triggers = rules_now.by_event.get(event_name)
            if triggers:
                fired += _run(triggers, event_name, rules_now, ticket or _load_ticket(ticket_id), message_id)
                # The next event's triggers see the ticket as these left it.
                ticket = None
    finally:
        _running.reset(token)
    return fired


def _run(triggers, event_name, rules_now: RuleSet, ticket: Ticket | None, message_id) -> list[str]:
    """``ticket``: the instance to check the first trigger against (read when None); after
    a trigger fired, the next one sees the ticket as it left it, read again."""
    if ticket is None:
        return []
    ticket_id = ticket.pk
    inbox_public_ids = rules_now.inbox_public_ids
    facts = _facts(ticket, message_id, rules_now)
    fired = []
    for trigger in triggers:
        if not rules.matches(trigger.conditions, facts, inbox_public_ids=inbox_public_ids):
            continue
        try:
            # A savepoint only for what the ticket may refuse: a mail, a bell or a webhook
            # (an acknowledgement) is queued and cannot be.
            with transaction.atomic() if trigger.changes_ticket else nullcontext():
                _act(trigger, ticket)
                # Counted by the worker, not here: an UPDATE of the trigger's row would hold
                # it until the COMMIT, and every create of the organization that fires the
                # same trigger (the acknowledgement: most of them) would wait for it.
                outbox.enqueue_items_with_change(record_firings, [[trigger.id, timezone.now().isoformat()]])
        except HelpdeskError as error:
            logger.warning(
                "Trigger %r (%s) did not apply on %s: %s", trigger.name, trigger.id, event_name, error
            )
        else:
            fired.append(trigger.name)
        if not trigger.changes_ticket:
            # Its mail, note, bell or webhook left the ticket as it was: nothing to re-read.
            continue
        # The next trigger sees the ticket as this one left it.
        ticket = _load_ticket(ticket_id)
        if ticket is None:
            break
        facts = _facts(ticket, message_id, rules_now)
    return fired


@task()
def record_firings(firings: list[list]) -> int:
    """Count the triggers' firings (``[trigger_id, fired_at]`` each) on their rows; returns
    how many triggers were counted."""
    by_trigger: dict[int, list[str]] = {}
    for trigger_id, fired_at in firings:
        by_trigger.setdefault(trigger_id, []).append(fired_at)
    for trigger_id, times in by_trigger.items():
        Trigger.objects.filter(pk=trigger_id).update(
            fired_count=F("fired_count") + len(times),
            last_fired_at=datetime.fromisoformat(max(times)),
        )
    return len(by_trigger)


def _agents_by_id(user_ids) -> dict[int, User]:
    return {user.pk: user for user in User.objects.filter(pk__in=user_ids, is_active=True)}


def _pick_round_robin(trigger_id: int, group: list[int], organization_id: int):
    members = set(
        Membership.objects.filter(
            organization_id=organization_id, user_id__in=group, user__is_active=True, is_available=True
        ).values_list("user_id", flat=True)
    )
    candidates = [user_id for user_id in group if user_id in members]
    if not candidates:
        return None
    row = Trigger.objects.select_for_update().filter(pk=trigger_id).values_list("round_robin_turn", flat=True)
    turn = row.first() or 0
    Trigger.objects.filter(pk=trigger_id).update(round_robin_turn=turn + 1)
    return User.objects.get(pk=candidates[turn % len(candidates)])


def _pick_least_loaded(ticket: Ticket, group: list[int]):
    membership = (
        memberships_with_open_tickets(ticket.organization)
        .filter(user_id__in=group, is_available=True, user__is_active=True)
        .order_by("open_tickets", "created_at", "pk")
        .select_related("user")
        .first()
    )
    return membership.user if membership else None


def _act(trigger: CompiledTrigger, ticket: Ticket) -> None:
    """Apply a trigger's actions: the ticket's own in one update_ticket call (one order,
    one set of rules), then the note, the mail, the bell and the webhook."""
    actor = trigger_actor(trigger.name)
    changes, after = ticket_changes(trigger.actions, ticket, trigger_id=trigger.id)
    if changes:
        services.update_ticket(ticket=ticket, actor=actor, **changes)
        ticket = _load_ticket(ticket.pk)

    @functools.cache
    def values() -> dict:
        # Only for an action that renders a template: the acknowledgement renders in the
        # worker, and building these (the private link among them) is half of a create's
        # trigger cost.
        return rules.template_values(ticket)

    for action in after:
        kind = action["type"]
        if kind == "add_note":
            services.add_message(
                ticket=ticket,
                body=rules.render_template(action["value"], values()) or action["value"],
                kind=Message.Kind.NOTE,
                actor=actor,
                channel=Ticket.Channel.AGENT,
            )
        elif kind == "email_customer":
            if action.get("template") == "acknowledgement":
                enqueue_trigger_email(ticket.pk, "acknowledgement", "", "")
            else:
                enqueue_trigger_email(
                    ticket.pk,
                    "",
                    rules.render_template(action["subject"], values()),
                    rules.render_template(action["body"], values()),
                )
        elif kind == "notify_agents":
            _notify_agents(ticket, action, trigger.name)
        elif kind == "emit_webhook":
            events.publish(
                events.TriggerFired(
                    actor=actor,
                    organization_id=ticket.organization_id,
                    ticket_id=ticket.pk,
                    trigger=trigger.name,
                    label=action["value"],
                )
            )


def ticket_changes(actions: list, ticket: Ticket, *, trigger_id: int | None = None) -> tuple[dict, list]:
    """The ``update_ticket`` arguments of the actions that change the ticket, and the
    other actions, in their order."""
    changes: dict = {}
    custom_fields: dict = {}
    after = []
    for action in actions:
        kind, value = action["type"], action.get("value")
        if kind == "set_priority":
            changes["priority"] = value
        elif kind == "set_status":
            changes["status"] = value
        elif kind == "set_assignee":
            changes["assignee"] = None if value is None else _agents_by_id([value]).get(value)
            if value is not None and changes["assignee"] is None:
                raise InvalidInput("assignee", "That agent is no longer active.")
        elif kind == "set_inbox":
            inbox = Inbox.objects.filter(organization_id=ticket.organization_id, public_id=value).first()
            if inbox is None:
                raise InvalidInput("inbox", "That inbox no longer exists.")
            changes["inbox"] = inbox
        elif kind == "add_tags":
            changes.setdefault("add_tags", []).extend(value)
        elif kind == "remove_tags":
            changes.setdefault("remove_tags", []).extend(value)
        elif kind == "set_tags":
            changes["tags"] = value
        elif kind == "set_custom_field":
            custom_fields[action["field"]] = value
        elif kind == "assign_round_robin":
            assignee = _pick_round_robin(trigger_id, value, ticket.organization_id) if trigger_id else None
            if assignee is not None:
                changes["assignee"] = assignee
        elif kind == "assign_least_loaded":
            assignee = _pick_least_loaded(ticket, value)
            if assignee is not None:
                changes["assignee"] = assignee
        else:
            after.append(action)
    if custom_fields:
        changes["custom_fields"] = custom_fields
    return changes, after


def _notify_agents(ticket: Ticket, action: dict, trigger_name: str) -> None:
    user_ids = {ticket.assignee_id if item == "assignee" else item for item in action["value"]} - {None}
    members = set(
        Membership.objects.filter(
            organization_id=ticket.organization_id, user_id__in=user_ids, user__is_active=True
        ).values_list("user_id", flat=True)
    )
    text = action.get("message") or f"{trigger_name}: {ticket.subject}"
    Notification.objects.bulk_create(
        [
            Notification(user_id=user_id, ticket=ticket, text=f"{ticket.reference} · {text}"[:300])
            for user_id in sorted(members)
        ]
    )


# Preview -----------------------------------------------------------------------------------------


def preview(*, organization: Organization, conditions) -> list[Ticket]:
    """Which of the organization's last 100 tickets the conditions match (as they are now)."""
    inbox_ids = _inbox_ids(organization.pk)
    conditions = rules.clean_conditions(conditions, inbox_ids=inbox_ids, fields=fields_for(organization.pk))
    needs = rules.needs_of(conditions)
    tickets = list(
        Ticket.objects.filter(organization=organization)
        .select_related("customer", "inbox")
        .order_by("-created_at", "-id")[:PREVIEW_TICKETS]
    )
    tags: dict[int, list[str]] = {}
    bodies: dict[int, str] = {}
    ids = [ticket.pk for ticket in tickets]
    if "tags" in needs:
        for ticket_id, name in Ticket.tags.through.objects.filter(ticket_id__in=ids).values_list(
            "ticket_id", "tag__name"
        ):
            tags.setdefault(ticket_id, []).append(name)
    if "body" in needs:
        for ticket_id, body in (
            Message.objects.filter(ticket_id__in=ids)
            .order_by("ticket_id", "created_at", "id")
            .values_list("ticket_id", "body")
        ):
            bodies.setdefault(ticket_id, body)
    inbox_public_ids = {pk: public_id for public_id, pk in inbox_ids.items()}
    calendars = _compile_calendars(organization.pk) if "business_hours" in needs else {}
    return [
        ticket
        for ticket in tickets
        if rules.matches(
            conditions,
            rules.Facts(
                ticket=ticket,
                load_tags=lambda ticket=ticket: tags.get(ticket.pk, []),
                load_body=lambda ticket=ticket: bodies.get(ticket.pk, ""),
                # The preview asks whether each ticket came in inside business hours.
                calendar=calendars.get(ticket.inbox_id, ALWAYS),
                at=ticket.created_at,
            ),
            inbox_public_ids=inbox_public_ids,
        )
    ]


# Macros ------------------------------------------------------------------------------------------


def _clean_macro(organization: Organization, *, name, reply, actions, shortcut) -> tuple[str, str, list, str]:
    name = _clean_name(name)
    if not isinstance(reply, str):
        raise InvalidInput("reply", f"At most {rules.TEMPLATE_MAX} characters.")
    # A line break counts once and is kept as LF, as in the replies it becomes
    # (``validate_body``): the dashboard's textarea sends CR LF, an API client LF.
    reply = normalize_line_breaks(reply)
    if len(reply) > rules.TEMPLATE_MAX:
        raise InvalidInput("reply", f"At most {rules.TEMPLATE_MAX} characters.")
    reply = reply.strip()
    if reply:
        rules.check_template(reply, "reply")
    inbox_ids = _inbox_ids(organization.pk)
    actions = rules.clean_actions(
        actions,
        allowed=rules.MACRO_ACTION_TYPES,
        inbox_ids=inbox_ids,
        fields=fields_for(organization.pk),
        agent_ids=_agent_finder(organization.pk),
        required=False,
    )
    if not reply and not actions:
        raise InvalidInput("reply", "A macro has a reply, actions, or both.")
    if not isinstance(shortcut, str) or len(shortcut) > 1 or (shortcut and not shortcut.isalnum()):
        raise InvalidInput("shortcut", "One letter or digit, or nothing.")
    return name, reply, actions, shortcut.lower()


def _may_manage_macro(organization: Organization, actor: Actor, owner) -> None:
    """A personal macro is its owner's; a shared one is an organization setting."""
    if owner is not None:
        if actor.user is None or actor.user.pk != owner.pk:
            raise PermissionDenied("A personal macro is changed by its owner only.")
        if not Membership.objects.filter(organization=organization, user=owner).exists():
            raise PermissionDenied("Not a member of this organization.")
        return
    require_manager(organization, actor)


def create_macro(
    *,
    organization: Organization,
    actor: Actor,
    name: str,
    reply: str = "",
    actions=None,
    personal: bool = False,
    shortcut: str = "",
) -> Macro:
    """A named bundle of actions with a reply. ``personal``: the acting agent's own."""
    name, reply, actions, shortcut = _clean_macro(
        organization, name=name, reply=reply, actions=actions, shortcut=shortcut
    )
    owner = actor.user if personal else None
    if personal and owner is None:
        raise InvalidInput("personal", "Only an agent has personal macros.")
    with transaction.atomic():
        _may_manage_macro(organization, actor, owner)
        macro = Macro.objects.create(
            organization=organization, owner=owner, name=name, reply=reply, actions=actions, shortcut=shortcut
        )
        record_audit_event(
            organization=organization, actor=actor, action=AuditEvent.Action.MACRO_CREATED, target=name
        )
    return macro


def update_macro(
    *, macro: Macro, actor: Actor, name=_UNSET, reply=_UNSET, actions=_UNSET, shortcut=_UNSET
) -> Macro:
    organization = macro.organization
    name, reply, actions, shortcut = _clean_macro(
        organization,
        name=macro.name if name is _UNSET else name,
        reply=macro.reply if reply is _UNSET else reply,
        actions=macro.actions if actions is _UNSET else actions,
        shortcut=macro.shortcut if shortcut is _UNSET else shortcut,
    )
    with transaction.atomic():
        _may_manage_macro(organization, actor, macro.owner)
        macro = Macro.objects.select_for_update().select_related("organization").get(pk=macro.pk)
        wanted = {"name": name, "reply": reply, "actions": actions, "shortcut": shortcut}
        changed = [key for key, value in wanted.items() if getattr(macro, key) != value]
        if changed:
            for key in changed:
                setattr(macro, key, wanted[key])
            macro.updated_at = timezone.now()
            macro.save(update_fields=[*changed, "updated_at"])
            record_audit_event(
                organization=organization,
                actor=actor,
                action=AuditEvent.Action.MACRO_UPDATED,
                target=macro.name,
                changes={"fields": changed},
            )
    return macro


def delete_macro(*, macro: Macro, actor: Actor) -> None:
    with transaction.atomic():
        _may_manage_macro(macro.organization, actor, macro.owner)
        record_audit_event(
            organization=macro.organization,
            actor=actor,
            action=AuditEvent.Action.MACRO_DELETED,
            target=macro.name,
        )
        macro.delete()


def macros_for(user, organization_ids) -> "list[Macro]":
    """The shared macros of the organizations and the user's personal ones, by name."""
    from django.db.models import Q

    return Macro.objects.filter(organization_id__in=organization_ids).filter(Q(owner=None) | Q(owner=user))


def apply_macro(*, macro: Macro, ticket: Ticket, actor: Actor, send_reply: bool = True) -> Ticket:
    """Apply a macro to a ticket as the agent: its actions through update_ticket, its
    reply (filled in for this ticket) as a public reply, and one more use counted."""
    if actor.user is None or actor.is_customer:
        raise PermissionDenied("Macros are applied by agents.")
    if macro.organization_id != ticket.organization_id:
        raise InvalidInput("macro", "Not a macro of this ticket's organization.")
    if macro.owner_id is not None and macro.owner_id != actor.user.pk:
        raise PermissionDenied("A personal macro is applied by its owner only.")
    with transaction.atomic():
        changes, after = ticket_changes(macro.actions, ticket)
        if macro.reply and send_reply:
            values = rules.template_values(ticket, agent=actor.user)
            services.add_message(
                ticket=ticket,
                body=rules.render_template(macro.reply, values) or macro.reply,
                actor=actor,
                channel=Ticket.Channel.AGENT,
            )
        if changes:
            ticket = services.update_ticket(ticket=ticket, actor=actor, **changes)
        for action in after:
            if action["type"] == "add_note":
                services.add_message(
                    ticket=ticket,
                    body=rules.render_template(
                        action["value"], rules.template_values(ticket, agent=actor.user)
                    )
                    or action["value"],
                    kind=Message.Kind.NOTE,
                    actor=actor,
                    channel=Ticket.Channel.AGENT,
                )
        Macro.objects.filter(pk=macro.pk).update(usage_count=F("usage_count") + 1)
    return ticket


def macro_from_saved_reply(saved_reply: SavedReply) -> dict:
    """A saved reply as a macro: its title and body, no actions, shared."""
    return {"name": saved_reply.title, "reply": saved_reply.body, "actions": []}
