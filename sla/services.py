"""Service levels: calendars, policies, and the clocks they give tickets.

Writes to calendars and policies go through the functions below (owners and admins only,
each one audited). The clocks are written here too, by ``sla.subscribers`` as the domain
events of ``tickets/events.py`` arrive inside the transaction that made the change:

- ``ticket.created`` chooses the policy (the organization's active policies, first match
  by position) and sets the first-reply and resolution due times;
- ``ticket.updated`` with a changed priority, inbox or tags chooses again, and when the
  policy changes, recomputes the due times from when each clock started;
- ``message.created``: an agent's (or integrator's) public reply satisfies the first-reply
  and next-reply targets; a customer's public message starts the next-reply clock (kept
  from the oldest unanswered message);
- ``customer.updated`` with a changed metadata key that a policy names chooses again for
  the customer's unsolved tickets (a few here, many in a task: ``sla.subscribers``);
- ``ticket.status_changed``: resolving or closing stops every clock; reopening starts the
  resolution clock again (and the next-reply clock when the customer reopened it);
  entering a status of ``paused_statuses()`` pauses the clocks and leaving it shifts
  every due time by the working time spent paused.

Due times are stored on the ticket (``Ticket.first_reply_due_at``, ``next_reply_due_at``,
``resolution_due_at``, their earliest in ``sla_due_at``) and the next instant the
escalation scheduler must look at it in ``sla_check_at`` (``sla.escalation``).

Choosing the policy reads the organization's policies and calendars under a version key
(``Organization.sla_version``, bumped by every change here): nothing for an organization
that never made one, else this process's copy, else the shared cache (one read), so a
create adds at most two queries: that cache read and one UPDATE.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.audit import record_audit_event, require_manager
from accounts.models import Organization
from tickets.actors import Actor
from tickets.exceptions import InvalidInput
from tickets.models import Inbox, Message, Ticket, TicketEvent
from tickets.services import inboxes_changed, set_inbox_business_hours_id

from .calendar import (
    ALWAYS,
    DAYS,
    Calendar,
    add_working_time,
    parse_clock,
    subtract_working_time,
    working_time_between,
)
from .models import BusinessHours, SlaPolicy

TARGETS = ("first_reply", "next_reply", "resolution")
DUE_FIELDS = {target: f"{target}_due_at" for target in TARGETS}
STOPPED_STATUSES = frozenset({Ticket.Status.RESOLVED, Ticket.Status.CLOSED})
CONDITION_KEYS = ("inbox", "priority", "channel", "tag", "customer_metadata")
REEVALUATE_ON = frozenset({"priority", "inbox", "tags"})
CACHE_SECONDS = 24 * 3600
MAX_TARGET_MINUTES = 525_600  # a year
SLA_FIELDS = [
    "sla_policy",
    "sla_deleted_policy_name",
    *DUE_FIELDS.values(),
    "sla_due_at",
    "sla_check_at",
    "sla_breached",
    "sla_breached_at",
    "sla_fired",
    "sla_paused_at",
]


def paused_statuses() -> frozenset[str]:
    """The statuses during which SLA clocks do not run.

    ``pending`` (waiting on the customer) and ``on_hold`` (waiting on a third party) pause
    them as soon as ``Ticket.Status`` has them; until then no status pauses. This is the one
    place to extend when statuses are added.
    """
    return frozenset(value for value in ("pending", "on_hold") if value in Ticket.Status.values)


# Calendars and policies: validation ----------------------------------------------------


def validate_time_zone(value) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInput("time_zone", "Give an IANA time zone, e.g. Europe/Berlin.")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("time_zone", f'Unknown time zone "{value}".') from None
    if value not in available_timezones() and value != "UTC":
        raise InvalidInput("time_zone", f'Unknown time zone "{value}".')
    return value


def validate_weekly(value) -> list[dict]:
    """``[{"day": "mon", "start": "09:00", "end": "17:00"}, ...]``: at least one interval;
    an end not after its start runs over midnight; intervals of a day must not overlap."""
    if not isinstance(value, list) or not value:
        raise InvalidInput(
            "weekly", 'Give at least one interval, e.g. {"day": "mon", "start": "09:00", "end": "17:00"}.'
        )
    cleaned = []
    for index, entry in enumerate(value):
        field = f"weekly[{index}]"
        if not isinstance(entry, dict) or set(entry) != {"day", "start", "end"}:
            raise InvalidInput(field, 'Each interval is {"day", "start", "end"}.')
        if entry["day"] not in DAYS:
            raise InvalidInput(f"{field}.day", f"One of {', '.join(DAYS)}.")
        for name in ("start", "end"):
            if parse_clock(entry[name]) is None or (name == "start" and entry[name] == "24:00"):
                raise InvalidInput(f"{field}.{name}", 'A time of day as "HH:MM" (an end may be "24:00").')
        if entry["start"] == entry["end"] and entry["start"] != "00:00":
            raise InvalidInput(f"{field}.end", "An interval must not be empty.")
        cleaned.append({"day": entry["day"], "start": entry["start"], "end": entry["end"]})
    for day in DAYS:
        spans = sorted(
            (_minutes(entry["start"]), _end_minutes(entry)) for entry in cleaned if entry["day"] == day
        )
        for (_, end), (next_start, _) in zip(spans, spans[1:], strict=False):
            if next_start < end:
                raise InvalidInput("weekly", f"Intervals on {day} overlap.")
    return sorted(cleaned, key=lambda entry: (DAYS.index(entry["day"]), entry["start"]))


def _minutes(clock: str) -> int:
    return int(clock[:2]) * 60 + int(clock[3:])


def _end_minutes(entry: dict) -> int:
    start, end = _minutes(entry["start"]), _minutes(entry["end"])
    return end if end > start else end + 24 * 60


def validate_holidays(value) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > 1000:
        raise InvalidInput("holidays", "A list of dates (YYYY-MM-DD), at most 1000.")
    days = set()
    for index, item in enumerate(value):
        try:
            days.add(
                date.fromisoformat(item).isoformat() if isinstance(item, str) and len(item) == 10 else None
            )
        except ValueError:
            days.add(None)
        if None in days:
            raise InvalidInput(f"holidays[{index}]", "A date as YYYY-MM-DD.")
    return sorted(days)


def _validate_name(value) -> str:
    name = (value or "").strip() if isinstance(value, str) else ""
    if not name:
        raise InvalidInput("name", "This field is required.")
    if len(name) > 100:
        raise InvalidInput("name", "At most 100 characters.")
    return name


# Calendars ------------------------------------------------------------------------------

BUSINESS_HOURS_FIELDS = ("name", "time_zone", "weekly", "holidays")


def _clean_business_hours(fields: dict) -> dict:
    unknown = set(fields) - set(BUSINESS_HOURS_FIELDS)
    if unknown:
        raise InvalidInput(sorted(unknown)[0], "Unknown field.")
    cleaned = {}
    validators = {
        "name": _validate_name,
        "time_zone": validate_time_zone,
        "weekly": validate_weekly,
        "holidays": validate_holidays,
    }
    for name, value in fields.items():
        cleaned[name] = validators[name](value)
    return cleaned


def create_business_hours(*, organization, actor: Actor, **fields) -> BusinessHours:
    """A new calendar of the organization (time zone, weekly hours, holidays)."""
    require_manager(organization, actor)
    fields.setdefault("time_zone", "UTC")
    fields.setdefault("holidays", [])
    if "weekly" not in fields:
        raise InvalidInput("weekly", "This field is required.")
    cleaned = _clean_business_hours(fields)
    with transaction.atomic():
        _check_unique_name(BusinessHours, organization, cleaned["name"])
        hours = BusinessHours.objects.create(organization=organization, **cleaned)
        record_audit_event(
            organization=organization,
            actor=actor,
            action="business_hours_created",
            target=hours.name,
            changes=cleaned,
        )
        _bump_version(organization)
    return hours


def update_business_hours(*, business_hours: BusinessHours, actor: Actor, **fields) -> BusinessHours:
    require_manager(business_hours.organization, actor)
    cleaned = _clean_business_hours(fields)
    with transaction.atomic():
        hours = (
            BusinessHours.objects.select_for_update().select_related("organization").get(pk=business_hours.pk)
        )
        if "name" in cleaned and cleaned["name"] != hours.name:
            _check_unique_name(BusinessHours, hours.organization, cleaned["name"])
        changes = {
            name: [getattr(hours, name), value]
            for name, value in cleaned.items()
            if getattr(hours, name) != value
        }
        for name, (_, value) in changes.items():
            setattr(hours, name, value)
        if changes:
            hours.updated_at = timezone.now()
            hours.save(update_fields=[*changes, "updated_at"])
            record_audit_event(
                organization=hours.organization,
                actor=actor,
                action="business_hours_updated",
                target=hours.name,
                changes=changes,
            )
            _bump_version(hours.organization)
    return hours


def delete_business_hours(*, business_hours: BusinessHours, actor: Actor) -> None:
    """Remove a calendar: inboxes that used it work 24/7, policies use the inbox's."""
    require_manager(business_hours.organization, actor)
    with transaction.atomic():
        record_audit_event(
            organization=business_hours.organization,
            actor=actor,
            action="business_hours_deleted",
            target=business_hours.name,
        )
        business_hours.delete()
        # The inboxes that used it count 24/7 now (the foreign key set them to none).
        inboxes_changed(business_hours.organization_id)
        _bump_version(business_hours.organization)


def set_inbox_business_hours(*, inbox: Inbox, business_hours: BusinessHours | None, actor: Actor) -> Inbox:
    """Make ``inbox`` count working time in ``business_hours`` (None: 24/7)."""
    require_manager(inbox.organization, actor)
    if business_hours is not None and business_hours.organization_id != inbox.organization_id:
        raise InvalidInput("business_hours", "Unknown business hours.")
    with transaction.atomic():
        before = inbox.business_hours.name if inbox.business_hours_id else None
        set_inbox_business_hours_id(inbox, business_hours.pk if business_hours else None)
        inbox.business_hours = business_hours
        record_audit_event(
            organization=inbox.organization,
            actor=actor,
            action="inbox_updated",
            target=inbox.name,
            changes={"business_hours": [before, business_hours.name if business_hours else None]},
        )
        _bump_version(inbox.organization)
    return inbox


def set_business_hours_inboxes(*, business_hours: BusinessHours, inbox_ids: list[str], actor: Actor) -> None:
    """Make exactly these inboxes (public ids) use ``business_hours``; inboxes that used it
    and are not named go back to 24/7."""
    organization = business_hours.organization
    require_manager(organization, actor)
    inboxes = {
        inbox.public_id: inbox
        for inbox in Inbox.objects.filter(organization=organization).select_related(
            "organization", "business_hours"
        )
    }
    for index, inbox_id in enumerate(inbox_ids):
        if inbox_id not in inboxes:
            raise InvalidInput(f"inboxes[{index}]", "Unknown inbox.")
    with transaction.atomic():
        for public_id, inbox in inboxes.items():
            uses = inbox.business_hours_id == business_hours.pk
            wanted = public_id in inbox_ids
            if uses != wanted:
                set_inbox_business_hours(
                    inbox=inbox, business_hours=business_hours if wanted else None, actor=actor
                )


def _check_unique_name(model, organization, name: str) -> None:
    if model.objects.filter(organization=organization, name=name).exists():
        raise InvalidInput("name", "This name is already used.")


# Policies -------------------------------------------------------------------------------

POLICY_FIELDS = (
    "name",
    "position",
    "is_active",
    "business_hours",
    "time_basis",
    "conditions",
    "targets",
    "escalation",
)
PRIORITY_ORDER = list(Ticket.Priority.values)


def _validate_conditions(organization, value) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput("conditions", "An object of conditions.")
    unknown = set(value) - set(CONDITION_KEYS)
    if unknown:
        raise InvalidInput(
            f"conditions.{sorted(unknown)[0]}", f"Unknown condition. Known: {', '.join(CONDITION_KEYS)}."
        )
    cleaned: dict = {}
    choices = {
        "priority": set(Ticket.Priority.values),
        "channel": set(Ticket.Channel.values),
    }
    for key in ("inbox", "priority", "channel", "tag"):
        if key not in value or value[key] is None:
            continue
        items = value[key]
        if not isinstance(items, list) or not all(isinstance(item, str) and item for item in items):
            raise InvalidInput(f"conditions.{key}", "A list of values.")
        if key in choices:
            for index, item in enumerate(items):
                if item not in choices[key]:
                    raise InvalidInput(
                        f"conditions.{key}[{index}]", f"One of {', '.join(sorted(choices[key]))}."
                    )
        if key == "inbox":
            known = set(
                Inbox.objects.filter(organization=organization, public_id__in=items).values_list(
                    "public_id", flat=True
                )
            )
            for index, item in enumerate(items):
                if item not in known:
                    raise InvalidInput(f"conditions.inbox[{index}]", "Unknown inbox.")
        if key == "tag":
            items = [item.strip().lower() for item in items]
        if items:
            cleaned[key] = list(dict.fromkeys(items))
    metadata = value.get("customer_metadata")
    if metadata:
        if not isinstance(metadata, dict) or not all(isinstance(k, str) and k for k in metadata):
            raise InvalidInput(
                "conditions.customer_metadata", 'An object of key = value, e.g. {"plan": "pro"}.'
            )
        for key, item in metadata.items():
            if isinstance(item, dict | list):
                raise InvalidInput(
                    f"conditions.customer_metadata.{key}", "A single value (text, number, true/false)."
                )
        cleaned["customer_metadata"] = dict(metadata)
    return cleaned


def _validate_minutes(field: str, value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TARGET_MINUTES:
        raise InvalidInput(field, f"Whole minutes from 1 to {MAX_TARGET_MINUTES}, or null.")
    return value


def _validate_targets(value) -> dict:
    if not isinstance(value, dict):
        raise InvalidInput("targets", "An object of targets in minutes.")
    keys = ("first_reply_minutes", "next_reply_minutes", "resolution_minutes")
    unknown = set(value) - set(keys)
    if unknown:
        raise InvalidInput(f"targets.{sorted(unknown)[0]}", f"Unknown target. Known: {', '.join(keys)}.")
    cleaned = {key: _validate_minutes(f"targets.{key}", value.get(key)) for key in keys}
    if not any(cleaned.values()):
        raise InvalidInput("targets", "Set at least one target.")
    return cleaned


def _validate_escalation(value) -> dict:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise InvalidInput("escalation", "An object.")
    keys = ("warning_percent", "warning_minutes_before", "raise_priority_to")
    unknown = set(value) - set(keys)
    if unknown:
        raise InvalidInput(f"escalation.{sorted(unknown)[0]}", f"Unknown setting. Known: {', '.join(keys)}.")
    percent = value.get("warning_percent")
    if percent is not None and (
        isinstance(percent, bool) or not isinstance(percent, int) or not 1 <= percent <= 99
    ):
        raise InvalidInput("escalation.warning_percent", "A share of the target from 1 to 99 (%), or null.")
    before = _validate_minutes("escalation.warning_minutes_before", value.get("warning_minutes_before"))
    raise_to = value.get("raise_priority_to") or ""
    if raise_to and raise_to not in Ticket.Priority.values:
        raise InvalidInput(
            "escalation.raise_priority_to", f"One of {', '.join(Ticket.Priority.values)}, or null."
        )
    return {"warning_percent": percent, "warning_minutes_before": before, "raise_priority_to": raise_to}


def clean_policy(organization, fields: dict) -> dict:
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise InvalidInput(sorted(unknown)[0], "Unknown field.")
    cleaned: dict = {}
    if "name" in fields:
        cleaned["name"] = _validate_name(fields["name"])
    if "position" in fields:
        position = fields["position"]
        if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position <= 10_000:
            raise InvalidInput("position", "A whole number from 0 to 10000.")
        cleaned["position"] = position
    if "is_active" in fields:
        if not isinstance(fields["is_active"], bool):
            raise InvalidInput("is_active", "Must be true or false.")
        cleaned["is_active"] = fields["is_active"]
    if "business_hours" in fields:
        hours = fields["business_hours"]
        if hours is not None and not isinstance(hours, BusinessHours):
            hours = (
                BusinessHours.objects.filter(organization=organization, public_id=hours).first()
                if isinstance(hours, str)
                else None
            )
            if hours is None:
                raise InvalidInput("business_hours", "Unknown business hours.")
        if hours is not None and hours.organization_id != organization.pk:
            raise InvalidInput("business_hours", "Unknown business hours.")
        cleaned["business_hours"] = hours
    if "time_basis" in fields:
        if fields["time_basis"] not in SlaPolicy.TimeBasis.values:
            raise InvalidInput("time_basis", f"One of {', '.join(SlaPolicy.TimeBasis.values)}.")
        cleaned["time_basis"] = fields["time_basis"]
    if "conditions" in fields:
        cleaned["conditions"] = _validate_conditions(organization, fields["conditions"])
    if "targets" in fields:
        cleaned.update(_validate_targets(fields["targets"]))
    if "escalation" in fields:
        cleaned.update(_validate_escalation(fields["escalation"]))
    return cleaned


def _audit_value(value):
    return value.name if isinstance(value, BusinessHours) else value


def create_policy(*, organization, actor: Actor, **fields) -> SlaPolicy:
    """A new policy. Without a ``position`` it goes last."""
    require_manager(organization, actor)
    if "name" not in fields:
        raise InvalidInput("name", "This field is required.")
    if "targets" not in fields:
        raise InvalidInput("targets", "This field is required.")
    cleaned = clean_policy(organization, fields)
    with transaction.atomic():
        if "position" not in cleaned:
            last = SlaPolicy.objects.filter(organization=organization).order_by("-position").first()
            cleaned["position"] = last.position + 1 if last else 0
        policy = SlaPolicy.objects.create(organization=organization, **cleaned)
        record_audit_event(
            organization=organization,
            actor=actor,
            action="sla_policy_created",
            target=policy.name,
            changes={name: _audit_value(value) for name, value in cleaned.items()},
        )
        _bump_version(organization)
    return policy


def update_policy(*, policy: SlaPolicy, actor: Actor, **fields) -> SlaPolicy:
    """Change a policy. Tickets keep the due times they have; the policy's new targets apply
    to tickets created (or re-evaluated) from now on."""
    require_manager(policy.organization, actor)
    # Targets and escalation settings not named keep their values.
    for group, keys in (
        ("targets", ("first_reply_minutes", "next_reply_minutes", "resolution_minutes")),
        ("escalation", ("warning_percent", "warning_minutes_before", "raise_priority_to")),
    ):
        if isinstance(fields.get(group), dict):
            fields[group] = {**{key: getattr(policy, key) for key in keys}, **fields[group]}
    cleaned = clean_policy(policy.organization, fields)
    with transaction.atomic():
        policy = (
            SlaPolicy.objects.select_for_update(of=("self",))
            .select_related("organization", "business_hours")
            .get(pk=policy.pk)
        )
        changes = {
            name: [_audit_value(getattr(policy, name)), _audit_value(value)]
            for name, value in cleaned.items()
            if getattr(policy, name) != value
        }
        for name in changes:
            setattr(policy, name, cleaned[name])
        if changes:
            policy.updated_at = timezone.now()
            policy.save(update_fields=[*changes, "updated_at"])
            record_audit_event(
                organization=policy.organization,
                actor=actor,
                action="sla_policy_updated",
                target=policy.name,
                changes=changes,
            )
            _bump_version(policy.organization)
    return policy


def delete_policy(*, policy: SlaPolicy, actor: Actor) -> None:
    """Remove a policy. Its tickets keep their due times and its name
    (``Ticket.sla_deleted_policy_name``): the reports count them under it, and a reply or a
    resolve still stops their clocks."""
    require_manager(policy.organization, actor)
    with transaction.atomic():
        record_audit_event(
            organization=policy.organization, actor=actor, action="sla_policy_deleted", target=policy.name
        )
        Ticket.objects.filter(sla_policy=policy).update(sla_policy=None, sla_deleted_policy_name=policy.name)
        policy.delete()
        _bump_version(policy.organization)


# The organization's policies, as the clocks read them ------------------------------------


@dataclass(frozen=True)
class PolicyRule:
    id: int
    public_id: str
    name: str
    business_hours_id: int | None
    time_basis: str
    conditions: dict
    first_reply_minutes: int | None
    next_reply_minutes: int | None
    resolution_minutes: int | None
    warning_percent: int | None
    warning_minutes_before: int | None
    raise_priority_to: str

    def minutes(self, target: str) -> int | None:
        return getattr(self, f"{target}_minutes")


@dataclass(frozen=True)
class OrganizationLevels:
    policies: tuple[PolicyRule, ...]
    calendars: dict[int, Calendar]
    inbox_calendars: dict[int, int]

    def policy(self, policy_id: int | None) -> PolicyRule | None:
        return next((policy for policy in self.policies if policy.id == policy_id), None)

    def calendar_for(self, policy: PolicyRule, inbox_id: int) -> Calendar:
        if policy.time_basis == SlaPolicy.TimeBasis.CALENDAR:
            return ALWAYS
        hours_id = policy.business_hours_id or self.inbox_calendars.get(inbox_id)
        return self.calendars.get(hours_id, ALWAYS)


def _cache_key(organization_id: int, version: int) -> str:
    return f"sla:levels:v1:{organization_id}:{version}"


NO_LEVELS = OrganizationLevels(policies=(), calendars={}, inbox_calendars={})
# This process's copies, by (organization, version): a version never changes meaning, so
# they need no invalidation; the oldest go when there are too many.
_local: dict[tuple[int, int], OrganizationLevels] = {}
LOCAL_MAX = 1000


def _load_levels(organization_id: int) -> OrganizationLevels:
    policies = tuple(
        PolicyRule(
            id=policy.pk,
            public_id=policy.public_id,
            name=policy.name,
            business_hours_id=policy.business_hours_id,
            time_basis=policy.time_basis,
            conditions=policy.conditions,
            first_reply_minutes=policy.first_reply_minutes,
            next_reply_minutes=policy.next_reply_minutes,
            resolution_minutes=policy.resolution_minutes,
            warning_percent=policy.warning_percent,
            warning_minutes_before=policy.warning_minutes_before,
            raise_priority_to=policy.raise_priority_to,
        )
        for policy in SlaPolicy.objects.filter(organization_id=organization_id, is_active=True).order_by(
            "position", "id"
        )
    )
    if not policies:
        # Nothing to choose from: no calendar is needed either.
        return NO_LEVELS
    calendars = {
        hours.pk: hours.calendar() for hours in BusinessHours.objects.filter(organization_id=organization_id)
    }
    inbox_calendars = dict(
        Inbox.objects.filter(organization_id=organization_id, business_hours__isnull=False).values_list(
            "pk", "business_hours_id"
        )
    )
    return OrganizationLevels(policies=policies, calendars=calendars, inbox_calendars=inbox_calendars)


def organization_levels(organization) -> OrganizationLevels:
    """The organization's active policies and calendars for its current ``sla_version``.

    Version 0 (never configured) costs nothing; then this process's copy; then the shared
    cache (one read); then the database. ``organization`` is the instance the caller holds
    (the service's, loaded with the ticket), so the version costs no query either.
    """
    version = organization.sla_version
    if not version:
        return NO_LEVELS
    key = (organization.pk, version)
    levels = _local.get(key)
    if levels is None:
        cache_key = _cache_key(*key)
        levels = cache.get(cache_key)
        if levels is None:
            levels = _load_levels(organization.pk)
            cache.set(cache_key, levels, CACHE_SECONDS)
        if len(_local) >= LOCAL_MAX:
            _local.pop(next(iter(_local)))
        _local[key] = levels
    return levels


def _bump_version(organization) -> None:
    """A policy or a calendar changed: the next read loads the new version (the caller's
    instance learns it too)."""
    type(organization).objects.filter(pk=organization.pk).update(sla_version=F("sla_version") + 1)
    organization.refresh_from_db(fields=["sla_version"])


# Choosing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketFacts:
    inbox_public_id: str
    priority: str
    channel: str
    tags: frozenset[str]
    customer_metadata: dict


def matches(policy: PolicyRule, facts: TicketFacts) -> bool:
    conditions = policy.conditions
    if "inbox" in conditions and facts.inbox_public_id not in conditions["inbox"]:
        return False
    if "priority" in conditions and facts.priority not in conditions["priority"]:
        return False
    if "channel" in conditions and facts.channel not in conditions["channel"]:
        return False
    if "tag" in conditions and not facts.tags.intersection(conditions["tag"]):
        return False
    for key, value in conditions.get("customer_metadata", {}).items():
        actual = facts.customer_metadata.get(key)
        if actual != value and not (actual is not None and str(actual) == str(value)):
            return False
    return True


def choose_policy(levels: OrganizationLevels, facts: TicketFacts) -> PolicyRule | None:
    return next((policy for policy in levels.policies if matches(policy, facts)), None)


def _facts(ticket: Ticket, tag_names) -> TicketFacts:
    return TicketFacts(
        inbox_public_id=ticket.inbox.public_id,
        priority=ticket.priority,
        channel=ticket.channel,
        tags=frozenset(name.lower() for name in tag_names),
        customer_metadata=ticket.customer.metadata or {},
    )


# Clocks --------------------------------------------------------------------------------


def _due(
    levels: OrganizationLevels,
    policy: PolicyRule,
    ticket: Ticket,
    target: str,
    start: datetime,
    pauses: Sequence[tuple[datetime, datetime]] = (),
):
    """When ``target``'s clock, run from ``start``, runs out; the working time of
    ``pauses`` (spans the clocks already sat paused) does not count."""
    minutes = policy.minutes(target)
    if not minutes:
        return None
    calendar = levels.calendar_for(policy, ticket.inbox_id)
    spans = [(max(began, start), ended) for began, ended in pauses if ended > start]
    paused = sum((working_time_between(calendar, began, ended) for began, ended in spans), timedelta())
    return add_working_time(calendar, start, timedelta(minutes=minutes) + paused)


def warning_at(levels: OrganizationLevels, policy: PolicyRule, ticket: Ticket, target: str, due: datetime):
    """When the warning for ``target`` is due: at ``warning_percent`` of the target, or
    ``warning_minutes_before`` it (the earlier of the two); None without either."""
    minutes = policy.minutes(target)
    if not minutes:
        return None
    lead_times = []
    if policy.warning_percent:
        lead_times.append(minutes * (100 - policy.warning_percent) / 100)
    if policy.warning_minutes_before and policy.warning_minutes_before < minutes:
        lead_times.append(policy.warning_minutes_before)
    if not lead_times:
        return None
    calendar = levels.calendar_for(policy, ticket.inbox_id)
    return subtract_working_time(calendar, due, timedelta(minutes=max(lead_times)))


def running_clocks(ticket: Ticket) -> dict[str, datetime]:
    if ticket.sla_paused_at is not None:
        return {}
    return {
        target: getattr(ticket, field)
        for target, field in DUE_FIELDS.items()
        if getattr(ticket, field) is not None
    }


def schedule(levels: OrganizationLevels, ticket: Ticket) -> None:
    """Set ``sla_due_at`` and ``sla_check_at`` from the running clocks and the markers."""
    running = running_clocks(ticket)
    ticket.sla_due_at = min(running.values(), default=None)
    policy = levels.policy(ticket.sla_policy_id)
    checks = []
    for target, due in running.items():
        if f"{target}:breach" in ticket.sla_fired:
            continue
        warn = None
        if policy is not None and f"{target}:warning" not in ticket.sla_fired:
            warn = warning_at(levels, policy, ticket, target, due)
        checks.append(warn if warn is not None and warn < due else due)
    ticket.sla_check_at = min(checks, default=None)


def mark_breached(ticket: Ticket, target: str, when: datetime) -> None:
    if target not in ticket.sla_breached:
        ticket.sla_breached = [*ticket.sla_breached, target]
    ticket.sla_breached_at = ticket.sla_breached_at or when


def _stop(ticket: Ticket, target: str, now: datetime) -> None:
    """The target is met (or its clock stops): a late stop still counts as a breach."""
    due = getattr(ticket, DUE_FIELDS[target])
    if due is None:
        return
    if due < now:
        mark_breached(ticket, target, due)
    setattr(ticket, DUE_FIELDS[target], None)
    ticket.sla_fired = [marker for marker in ticket.sla_fired if not marker.startswith(f"{target}:")]


def _start(
    levels,
    policy: PolicyRule | None,
    ticket: Ticket,
    target: str,
    start: datetime,
    *,
    new_cycle: bool = True,
    pauses: Sequence[tuple[datetime, datetime]] = (),
) -> None:
    """Run ``target``'s clock from ``start``. A new cycle (a new customer message, a reopen)
    may warn and breach again; a recomputation of the same cycle under another policy
    (``new_cycle=False``) keeps what was already told, so nobody hears of a target twice."""
    if policy is None:
        return
    setattr(ticket, DUE_FIELDS[target], _due(levels, policy, ticket, target, start, pauses))
    if new_cycle:
        ticket.sla_fired = [marker for marker in ticket.sla_fired if not marker.startswith(f"{target}:")]


def write_clocks(ticket: Ticket) -> None:
    Ticket.objects.filter(pk=ticket.pk).update(
        **{
            name if name != "sla_policy" else "sla_policy_id": getattr(
                ticket, name if name != "sla_policy" else "sla_policy_id"
            )
            for name in SLA_FIELDS
        }
    )


def _snapshot(ticket: Ticket) -> tuple:
    return tuple(getattr(ticket, name if name != "sla_policy" else "sla_policy_id") for name in SLA_FIELDS)


def start_clocks(*, ticket: Ticket, tag_names, write: bool = True) -> None:
    """At creation: choose the policy and set the first-reply and resolution due times.
    Adds at most two queries: the cached policies and one UPDATE (none when nothing applies).
    ``write=False``: a ticket not written yet, whose INSERT will carry them (no UPDATE)."""
    levels = organization_levels(ticket.organization)
    policy = choose_policy(levels, _facts(ticket, tag_names)) if levels.policies else None
    if policy is None:
        return
    # The policy as the answer names it (id and name), from the cached copy: the face that
    # renders the new ticket reads no policy row. Its other fields load if ever asked for.
    known = {"id": policy.id, "public_id": policy.public_id, "name": policy.name}
    names = [field.attname for field in SlaPolicy._meta.concrete_fields if field.attname in known]
    ticket.sla_policy = SlaPolicy.from_db(None, names, [known[name] for name in names])
    ticket.sla_fired = []
    if ticket.first_response_at is None:
        _start(levels, policy, ticket, "first_reply", ticket.created_at)
    if ticket.status not in STOPPED_STATUSES:
        _start(levels, policy, ticket, "resolution", ticket.created_at)
    if ticket.status in paused_statuses():
        ticket.sla_paused_at = ticket.created_at
    schedule(levels, ticket)
    if write:
        write_clocks(ticket)


def reevaluate(
    *,
    ticket: Ticket,
    actor: Actor,
    tag_names=None,
    moved_from_inbox: str | None = None,
    pauses: Sequence[tuple[datetime, datetime]] | None = None,
) -> None:
    """A condition changed (priority, inbox, tags, the customer's metadata): choose again;
    when the policy changes, recompute each running clock from when it started under the
    new policy's targets. ``tag_names``: the ticket's tags when the caller read them already.
    ``moved_from_inbox``: the public id of the inbox the ticket just left; when the policy
    stays but counts in the inbox's hours, and those differ, the clocks are recounted too.
    ``pauses``: the ticket's finished pauses when the caller read them for several tickets."""
    levels = organization_levels(ticket.organization)
    if tag_names is None:
        tag_names = list(ticket.tags.values_list("name", flat=True))
    policy = choose_policy(levels, _facts(ticket, tag_names)) if levels.policies else None
    new_id = policy.id if policy else None
    if new_id == ticket.sla_policy_id:
        if (
            policy is not None
            and moved_from_inbox
            and _hours_differ(levels, policy, ticket, moved_from_inbox)
        ):
            before = _snapshot(ticket)
            _recount_running_clocks(levels, policy, ticket, pauses)
            schedule(levels, ticket)
            if _snapshot(ticket) != before:
                write_clocks(ticket)
        return
    before = _snapshot(ticket)
    old_name = next((p.name for p in levels.policies if p.id == ticket.sla_policy_id), None)
    old_name = old_name or ticket.sla_deleted_policy_name or None
    ticket.sla_policy_id = new_id
    ticket.sla_deleted_policy_name = ""
    if policy is None:
        for target in TARGETS:
            setattr(ticket, DUE_FIELDS[target], None)
        ticket.sla_fired = []
    else:
        _recount_running_clocks(levels, policy, ticket, pauses)
    schedule(levels, ticket)
    if _snapshot(ticket) != before:
        write_clocks(ticket)
    TicketEvent.objects.create(
        ticket=ticket,
        action=TicketEvent.Action.SLA_APPLIED,
        actor_user=actor.user,
        actor_customer=actor.customer,
        actor_label=actor.label[:200],
        field="sla_policy",
        before=old_name,
        after=policy.name if policy else None,
    )


def _recount_running_clocks(
    levels: OrganizationLevels,
    policy: PolicyRule,
    ticket: Ticket,
    pauses: Sequence[tuple[datetime, datetime]] | None = None,
) -> None:
    """Each running clock again from when it started, under ``policy`` and the ticket's
    inbox as they are now; the same cycle, so nobody hears of a target twice."""
    if ticket.status in STOPPED_STATUSES:
        return
    if pauses is None:
        pauses = finished_pauses([ticket])[ticket.pk]
    if ticket.first_response_at is None:
        _start(levels, policy, ticket, "first_reply", ticket.created_at, new_cycle=False, pauses=pauses)
    else:
        ticket.first_reply_due_at = None
    _start(levels, policy, ticket, "resolution", ticket.created_at, new_cycle=False, pauses=pauses)
    waiting_since = _unanswered_since(ticket)
    if waiting_since is not None:
        _start(levels, policy, ticket, "next_reply", waiting_since, new_cycle=False, pauses=pauses)
    else:
        ticket.next_reply_due_at = None


def finished_pauses(tickets: Sequence[Ticket]) -> dict[int, list[tuple[datetime, datetime]]]:
    """By ticket id, the spans each ticket sat in a pausing status and left again, from
    their status events, read in one query. A pause still running is not among them:
    leaving it shifts the clocks (``_resume``)."""
    paused = paused_statuses()
    spans: dict[int, list[tuple[datetime, datetime]]] = {ticket.pk: [] for ticket in tickets}
    if not paused or not tickets:
        return spans
    created_at = {ticket.pk: ticket.created_at for ticket in tickets}
    changes = (
        TicketEvent.objects.filter(
            ticket_id__in=list(spans), action=TicketEvent.Action.STATUS_CHANGED, field="status"
        )
        .order_by("ticket_id", "created_at", "pk")
        .values_list("ticket_id", "before", "after", "created_at")
    )
    current, began = None, None
    for ticket_id, before, after, at in changes:
        if ticket_id != current:
            current, began = ticket_id, None
            if before in paused:
                # Opened paused (an email the agent wrote first waits on the customer).
                began = created_at[ticket_id]
        if after in paused and before not in paused:
            began = at
        elif before in paused and after not in paused and began is not None:
            spans[ticket_id].append((began, at))
            began = None
    return spans


def _hours_differ(levels: OrganizationLevels, policy: PolicyRule, ticket: Ticket, old_inbox: str) -> bool:
    """Whether ``policy`` counts in other hours in the ticket's inbox than in ``old_inbox``
    (never when it has its own business hours or counts calendar time)."""
    if policy.time_basis == SlaPolicy.TimeBasis.CALENDAR or policy.business_hours_id:
        return False
    old_inbox_id = (
        Inbox.objects.filter(organization_id=ticket.organization_id, public_id=old_inbox)
        .values_list("pk", flat=True)
        .first()
    )
    return levels.calendar_for(policy, old_inbox_id) is not levels.calendar_for(policy, ticket.inbox_id)


# Customer metadata ------------------------------------------------------------------------

# A change of a customer's metadata re-chooses the policy of at most this many of their
# unsolved tickets in the change's own transaction; a customer with more has them all
# re-chosen by a task (``sla.subscribers.reevaluate_customer_tickets``), in batches.
INLINE_REEVALUATIONS = 20
REEVALUATION_BATCH = 100


def metadata_change_matters(*, organization_id: int, before: dict, after: dict) -> bool:
    """Whether a key some active policy names in its ``customer_metadata`` condition
    changed value (nothing else in the metadata can change a policy's choice)."""
    organization = Organization.objects.only("id", "sla_version").get(pk=organization_id)
    levels = organization_levels(organization)
    keys = {key for policy in levels.policies for key in policy.conditions.get("customer_metadata", {})}
    before, after = before or {}, after or {}
    return any(before.get(key) != after.get(key) for key in keys)


def unsolved_ticket_ids(*, customer_id: int, after_id: int = 0, limit: int) -> list[int]:
    """Ids of the customer's tickets whose clocks may run (not resolved or closed), in order."""
    return list(
        Ticket.objects.filter(customer_id=customer_id, pk__gt=after_id)
        .exclude(status__in=STOPPED_STATUSES)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def reevaluate_tickets(*, ticket_ids: list[int], actor: Actor) -> None:
    """Choose the policy again for these tickets, each under its row lock (in id order, so
    two callers cannot deadlock), their tags and their finished pauses read in one query
    each."""
    tickets = list(
        Ticket.objects.select_for_update(of=("self",))
        .select_related("organization", "inbox", "customer")
        .prefetch_related("tags")
        .filter(pk__in=ticket_ids)
        .exclude(status__in=STOPPED_STATUSES)
        .order_by("pk")
    )
    pauses = finished_pauses(tickets)
    for ticket in tickets:
        reevaluate(
            ticket=ticket,
            actor=actor,
            tag_names=[tag.name for tag in ticket.tags.all()],
            pauses=pauses[ticket.pk],
        )


def reevaluate_customer_tickets(*, customer_id: int, actor: Actor) -> None:
    """Every unsolved ticket of the customer, a batch per transaction."""
    last_id = 0
    while True:
        with transaction.atomic():
            ids = unsolved_ticket_ids(customer_id=customer_id, after_id=last_id, limit=REEVALUATION_BATCH)
            reevaluate_tickets(ticket_ids=ids, actor=actor)
        if len(ids) < REEVALUATION_BATCH:
            return
        last_id = ids[-1]


def _unanswered_since(ticket: Ticket) -> datetime | None:
    """When the oldest customer message after the last agent reply was written (the first
    message is the first-reply target's, not the next-reply's)."""
    if ticket.first_response_at is None:
        return None
    public = Message.objects.filter(ticket=ticket, kind=Message.Kind.REPLY)
    last_agent = (
        public.exclude(author_type=Message.AuthorType.CUSTOMER)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    waiting = public.filter(author_type=Message.AuthorType.CUSTOMER)
    if last_agent is not None:
        waiting = waiting.filter(created_at__gt=last_agent)
    return waiting.order_by("created_at").values_list("created_at", flat=True).first()


def has_service_level(ticket: Ticket) -> bool:
    """Whether a policy set the ticket's clocks, including one deleted since: its clocks
    still stop (a reply, a resolve), so a target met in time is not breached later."""
    return ticket.sla_policy_id is not None or bool(ticket.sla_deleted_policy_name)


def on_public_message(*, ticket: Ticket, from_customer: bool, at: datetime) -> None:
    """An agent's reply satisfies first and next reply; a customer's starts next reply."""
    if not has_service_level(ticket):
        return
    levels = organization_levels(ticket.organization)
    before = _snapshot(ticket)
    if from_customer:
        policy = levels.policy(ticket.sla_policy_id)
        if (
            ticket.status not in STOPPED_STATUSES
            and ticket.first_response_at is not None
            and ticket.next_reply_due_at is None
        ):
            _start(levels, policy, ticket, "next_reply", at)
    else:
        _stop(ticket, "first_reply", at)
        _stop(ticket, "next_reply", at)
    schedule(levels, ticket)
    if _snapshot(ticket) != before:
        write_clocks(ticket)


def on_status_changed(*, ticket: Ticket, before: str, after: str, by_customer: bool, at: datetime) -> None:
    """Resolve/close stops the clocks, a reopen restarts them, a paused status pauses them."""
    if not has_service_level(ticket):
        return
    levels = organization_levels(ticket.organization)
    policy = levels.policy(ticket.sla_policy_id)
    snapshot = _snapshot(ticket)
    paused = paused_statuses()
    if after in STOPPED_STATUSES:
        for target in TARGETS:
            _stop(ticket, target, at)
        ticket.sla_paused_at = None
    elif before in STOPPED_STATUSES:
        # Reopened: the resolution clock starts again, and the customer who reopened it
        # waits for an answer.
        _start(levels, policy, ticket, "resolution", at)
        if by_customer and ticket.first_response_at is not None:
            _start(levels, policy, ticket, "next_reply", at)
        ticket.sla_paused_at = at if after in paused else None
    elif after in paused and before not in paused:
        ticket.sla_paused_at = at
    elif before in paused and after not in paused and ticket.sla_paused_at is not None:
        _resume(levels, policy, ticket, at)
    schedule(levels, ticket)
    if _snapshot(ticket) != snapshot:
        write_clocks(ticket)


def _resume(levels, policy: PolicyRule | None, ticket: Ticket, at: datetime) -> None:
    """Shift each due time by the working time the clocks were paused."""
    calendar = levels.calendar_for(policy, ticket.inbox_id) if policy else ALWAYS
    for field in DUE_FIELDS.values():
        due = getattr(ticket, field)
        if due is None:
            continue
        remaining = working_time_between(calendar, ticket.sla_paused_at, due)
        if remaining > timedelta():
            setattr(ticket, field, add_working_time(calendar, at, remaining))
    ticket.sla_paused_at = None


def time_left(ticket: Ticket, calendar: Calendar, now: datetime) -> timedelta | None:
    """Working time left until the earliest running due time (negative once overdue)."""
    if ticket.sla_due_at is None:
        return None
    return working_time_between(calendar, now, ticket.sla_due_at)
