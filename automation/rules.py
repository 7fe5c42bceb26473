"""The vocabulary of triggers and macros: events, conditions, actions, and how a condition
is checked against a ticket. Pure functions over plain values: the services load what a
rule set needs and ask here whether it matches.

A trigger's body::

    {"event": "ticket.created",
     "conditions": {"all": [{"field": "subject", "op": "contains", "value": "refund"}],
                    "any": []},
     "actions": [{"type": "set_priority", "value": "urgent"},
                 {"type": "add_tags", "value": ["billing"]}]}

``all`` must all hold and, when ``any`` has conditions, at least one of them too.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from django.utils import timezone

from sla.calendar import ALWAYS, Calendar
from tickets.exceptions import InvalidInput
from tickets.models import CustomField, Ticket

# Events ------------------------------------------------------------------------------------

# The events a trigger may wait for. Extensible: ``register_event`` adds one. "sla.warning"
# and "sla.breached" are the SLA scheduler's domain events (``automation/subscribers.py``).
EVENTS: dict[str, str] = {
    "ticket.created": "Ticket created",
    "ticket.updated": "Ticket updated",
    "ticket.status_changed": "Status changed",
    "customer.replied": "Customer replied",
    "agent.replied": "Agent replied",
    "sla.warning": "SLA warning",
    "sla.breached": "SLA breached",
}


def register_event(name: str, label: str) -> None:
    EVENTS.setdefault(name, label)


# Conditions ---------------------------------------------------------------------------------

EQUALITY_OPS = ("is", "is_not", "in", "not_in")
TEXT_OPS = ("contains", "not_contains", "is", "is_not")
TAG_OPS = ("contains", "not_contains")
VALUE_OPS = ("is", "is_not", "gt", "gte", "lt", "lte", "contains", "not_contains", "is_set", "is_not_set")
PRESENCE_OPS = ("is_set", "is_not_set")

CHOICE_FIELDS: dict[str, type] = {
    "channel": Ticket.Channel,
    "priority": Ticket.Priority,
    "status": Ticket.Status,
}
# The seed products' APIs a ticket may come through (``Ticket.dialect``); a ticket of the
# native faces has none.
DIALECTS = ("supportdesk", "appbox", "crawlchat", "ctxfy", "inapp")
BUSINESS_HOURS = ("inside", "outside")
CUSTOM_FIELD_PREFIX = "custom_fields."
CUSTOMER_METADATA_PREFIX = "customer.metadata."

FIELDS_HELP = (
    "inbox (an inbox id), channel, dialect (supportdesk, appbox, crawlchat, ctxfy, inapp), "
    "priority, status (is, is_not, in, not_in); business_hours (is: inside or outside, by "
    "the calendar of the ticket's inbox; an inbox without one works 24/7); subject, body "
    "(contains, not_contains, is, is_not; case-insensitive); tags (contains, not_contains); "
    "assignee (is_set, is_not_set); custom_fields.<key> and customer.metadata.<key> (is, "
    "is_not, gt, gte, lt, lte, contains, not_contains, is_set, is_not_set)."
)
MAX_CONDITIONS = 50
MAX_ACTIONS = 30
TEXT_VALUE_MAX = 500


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: object

    @property
    def needs(self) -> str:
        """What of the ticket beyond its row the condition reads: "tags", "body",
        "business_hours" or ""."""
        if self.field in {"tags", "body", "business_hours"}:
            return self.field
        return ""


def _fail(path: str, message: str):
    raise InvalidInput(path, message)


def _text(value, path: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > TEXT_VALUE_MAX:
        _fail(path, f"Give a text of 1 to {TEXT_VALUE_MAX} characters.")
    return value


def clean_condition(raw, path: str, *, inbox_ids: dict[str, int], fields: dict[str, CustomField]) -> dict:
    """One condition, checked; inbox ids are kept as given (the public ids)."""
    if not isinstance(raw, dict):
        _fail(path, "Each condition is an object with field, op and value.")
    field, op, value = raw.get("field"), raw.get("op"), raw.get("value")
    if not isinstance(field, str) or not isinstance(op, str):
        _fail(path, "Each condition names a field and an op.")
    if field == "inbox":
        _check_op(op, EQUALITY_OPS, f"{path}.op")
        values = value if op in {"in", "not_in"} else [value]
        if not isinstance(values, list) or not values or any(item not in inbox_ids for item in values):
            _fail(f"{path}.value", "Give the id of an inbox of this organization (a list for in/not_in).")
    elif field in CHOICE_FIELDS:
        _check_op(op, EQUALITY_OPS, f"{path}.op")
        choices = CHOICE_FIELDS[field]
        values = value if op in {"in", "not_in"} else [value]
        if not isinstance(values, list) or not values or any(item not in choices.values for item in values):
            _fail(f"{path}.value", f"One of: {', '.join(choices.values)} (a list for in/not_in).")
    elif field == "dialect":
        _check_op(op, EQUALITY_OPS, f"{path}.op")
        values = value if op in {"in", "not_in"} else [value]
        if not isinstance(values, list) or not values or any(item not in DIALECTS for item in values):
            _fail(f"{path}.value", f"One of: {', '.join(DIALECTS)} (a list for in/not_in).")
    elif field == "business_hours":
        _check_op(op, ("is",), f"{path}.op")
        if value not in BUSINESS_HOURS:
            _fail(f"{path}.value", "inside or outside.")
    elif field in {"subject", "body"}:
        _check_op(op, TEXT_OPS, f"{path}.op")
        _text(value, f"{path}.value")
    elif field == "tags":
        _check_op(op, TAG_OPS, f"{path}.op")
        values = value if isinstance(value, list) else [value]
        if not values or any(not isinstance(item, str) or not item.strip() for item in values):
            _fail(f"{path}.value", "A tag name, or a list of them.")
    elif field == "assignee":
        _check_op(op, PRESENCE_OPS, f"{path}.op")
        value = None
    elif field.startswith(CUSTOM_FIELD_PREFIX):
        key = field.removeprefix(CUSTOM_FIELD_PREFIX)
        definition = fields.get(key)
        if definition is None:
            _fail(f"{path}.field", f'"{key[:40]}" is not a custom field of this organization.')
        _check_op(op, VALUE_OPS, f"{path}.op")
        if op not in PRESENCE_OPS:
            value = _custom_field_operand(definition, op, value, f"{path}.value")
    elif field.startswith(CUSTOMER_METADATA_PREFIX) and len(field) > len(CUSTOMER_METADATA_PREFIX):
        _check_op(op, VALUE_OPS, f"{path}.op")
        if op not in PRESENCE_OPS and not isinstance(value, str | int | float | bool):
            _fail(f"{path}.value", "A text, a number or true/false.")
    else:
        _fail(f"{path}.field", f"Unknown field. {FIELDS_HELP}")
    return {"field": field, "op": op, "value": value}


def _check_op(op: str, allowed: tuple[str, ...], path: str) -> None:
    if op not in allowed:
        _fail(path, f"One of: {', '.join(allowed)}.")


def _custom_field_operand(definition: CustomField, op: str, value, path: str):
    from tickets.services.custom_fields import clean_value

    kind = definition.type
    if op in {"gt", "gte", "lt", "lte"} and kind not in {"number", "decimal", "date"}:
        _fail(path, "Comparisons (gt, gte, lt, lte) are for numbers, decimals and dates.")
    if kind == "multi_select" and not isinstance(value, list):
        value = [value]
    try:
        cleaned = clean_value(definition, value)
    except InvalidInput as error:
        _fail(path, error.message)
    if cleaned is None:
        _fail(path, "Give a value.")
    return cleaned


def clean_conditions(raw, *, inbox_ids, fields) -> dict:
    if raw in (None, {}):
        return {"all": [], "any": []}
    if not isinstance(raw, dict) or set(raw) - {"all", "any"}:
        _fail("conditions", 'An object with "all" and "any" lists.')
    cleaned = {}
    for group in ("all", "any"):
        items = raw.get(group) or []
        if not isinstance(items, list):
            _fail(f"conditions.{group}", "A list of conditions.")
        if len(items) > MAX_CONDITIONS:
            _fail(f"conditions.{group}", f"At most {MAX_CONDITIONS} conditions.")
        cleaned[group] = [
            clean_condition(item, f"conditions.{group}[{index}]", inbox_ids=inbox_ids, fields=fields)
            for index, item in enumerate(items)
        ]
    return cleaned


# Checking a condition ------------------------------------------------------------------------


@dataclass
class Facts:
    """What a rule set reads of one ticket; ``tags`` and ``body`` are loaded only when a
    condition asks (by the callables), once."""

    ticket: Ticket
    load_tags: Callable[[], list[str]]
    load_body: Callable[[], str]
    # The business hours of the ticket's inbox, and the instant they are asked about (the
    # event's: now, unless given).
    calendar: Calendar = ALWAYS
    at: datetime | None = None
    _tags: list[str] | None = None
    _body: str | None = None

    @property
    def tags(self) -> list[str]:
        if self._tags is None:
            self._tags = [name.lower() for name in self.load_tags()]
        return self._tags

    @property
    def body(self) -> str:
        if self._body is None:
            self._body = self.load_body() or ""
        return self._body


def _comparable(left, right):
    """Both sides as one comparable kind (numbers as Decimal, dates, or text), or None."""
    if isinstance(left, bool) or isinstance(right, bool):
        return (left, right) if isinstance(left, bool) and isinstance(right, bool) else None
    if isinstance(right, int | float) or isinstance(left, int | float):
        try:
            return Decimal(str(left)), Decimal(str(right))
        except (InvalidOperation, ValueError):
            return None
    if isinstance(left, str) and isinstance(right, str):
        try:
            return date.fromisoformat(left), date.fromisoformat(right)
        except ValueError:
            return left.lower(), right.lower()
    return None


def _compare_value(op: str, actual, expected) -> bool:
    present = actual not in (None, "", [])
    if op == "is_set":
        return present
    if op == "is_not_set":
        return not present
    if not present:
        return op in {"is_not", "not_contains"}
    if op in {"contains", "not_contains"}:
        if isinstance(actual, list):
            wanted = expected if isinstance(expected, list) else [expected]
            found = all(item in actual for item in wanted)
        else:
            found = str(expected).lower() in str(actual).lower()
        return found if op == "contains" else not found
    if isinstance(actual, list) or isinstance(expected, list):
        same = sorted(map(str, actual if isinstance(actual, list) else [actual])) == sorted(
            map(str, expected if isinstance(expected, list) else [expected])
        )
        return same if op == "is" else (not same if op == "is_not" else False)
    pair = _comparable(actual, expected)
    if pair is None:
        return op == "is_not"
    left, right = pair
    try:
        return {
            "is": left == right,
            "is_not": left != right,
            "gt": left > right,
            "gte": left >= right,
            "lt": left < right,
            "lte": left <= right,
        }[op]
    except TypeError:
        return False


def inside_business_hours(calendar: Calendar, instant: datetime) -> bool:
    """Whether ``instant`` falls in the calendar's working time (24/7 always does)."""
    if calendar.always:
        return True
    instant = instant.astimezone(UTC)
    # The first working interval from ``instant`` on starts at ``instant`` itself when it
    # is already running.
    first = next(calendar.intervals_from(instant), None)
    return first is not None and first[0] <= instant


def holds(condition: dict, facts: Facts, *, inbox_public_ids: dict[int, str]) -> bool:
    field, op, value = condition["field"], condition["op"], condition["value"]
    ticket = facts.ticket
    if field == "dialect":
        actual = ticket.dialect
        return {
            "is": actual == value,
            "is_not": actual != value,
            "in": actual in (value or []),
            "not_in": actual not in (value or []),
        }[op]
    if field == "business_hours":
        inside = inside_business_hours(facts.calendar, facts.at or timezone.now())
        return inside == (value == "inside")
    if field == "inbox" or field in CHOICE_FIELDS:
        actual = inbox_public_ids.get(ticket.inbox_id) if field == "inbox" else getattr(ticket, field)
        return {
            "is": actual == value,
            "is_not": actual != value,
            "in": actual in (value or []),
            "not_in": actual not in (value or []),
        }[op]
    if field in {"subject", "body"}:
        text = (ticket.subject if field == "subject" else facts.body).lower()
        phrase = value.lower()
        return {
            "contains": phrase in text,
            "not_contains": phrase not in text,
            "is": text.strip() == phrase.strip(),
            "is_not": text.strip() != phrase.strip(),
        }[op]
    if field == "tags":
        wanted = [name.strip().lower() for name in (value if isinstance(value, list) else [value])]
        found = all(name in facts.tags for name in wanted)
        return found if op == "contains" else not any(name in facts.tags for name in wanted)
    if field == "assignee":
        return (ticket.assignee_id is not None) == (op == "is_set")
    if field.startswith(CUSTOM_FIELD_PREFIX):
        actual = (ticket.custom_fields or {}).get(field.removeprefix(CUSTOM_FIELD_PREFIX))
        return _compare_value(op, actual, value)
    if field.startswith(CUSTOMER_METADATA_PREFIX):
        actual = (ticket.customer.metadata or {}).get(field.removeprefix(CUSTOMER_METADATA_PREFIX))
        return _compare_value(op, actual, value)
    return False


def matches(conditions: dict, facts: Facts, *, inbox_public_ids: dict[int, str]) -> bool:
    every = conditions.get("all") or []
    some = conditions.get("any") or []
    if not all(holds(item, facts, inbox_public_ids=inbox_public_ids) for item in every):
        return False
    return not some or any(holds(item, facts, inbox_public_ids=inbox_public_ids) for item in some)


def needs_of(conditions: dict) -> set[str]:
    return {
        Condition(item["field"], item["op"], item["value"]).needs
        for group in ("all", "any")
        for item in conditions.get(group) or []
    } - {""}


# Actions ------------------------------------------------------------------------------------

ACTION_TYPES: dict[str, str] = {
    "set_priority": "Set the priority (value: a priority)",
    "set_status": "Set the status (value: a status)",
    "set_assignee": "Assign to an agent (value: id or email; null unassigns)",
    "set_inbox": "Move to an inbox (value: an inbox id)",
    "add_tags": "Add tags (value: names)",
    "remove_tags": "Remove tags (value: names)",
    "set_tags": "Replace the tags (value: names)",
    "set_custom_field": "Set a custom field (field: key, value: a value or null)",
    "assign_round_robin": "Assign in turn within a group (value: agent ids or emails)",
    "assign_least_loaded": "Assign to the agent of a group with fewest open tickets (value: agents)",
    "email_customer": 'Email the customer (subject and body templates, or template: "acknowledgement")',
    "add_note": "Add an internal note (value: Markdown template)",
    "notify_agents": 'Notify agents in the dashboard (value: agents, or "assignee"; message)',
    "emit_webhook": "Send a trigger.fired webhook event (value: a label, e.g. refund.requested)",
}
# What leaves the ticket as it is (a mail, a bell, a webhook).
OUTWARD_ACTION_TYPES = frozenset({"email_customer", "notify_agents", "emit_webhook"})
# What a macro may do: a person applies it, so no mail or webhook of its own; its reply
# is its message.
MACRO_ACTION_TYPES = (
    "set_priority",
    "set_status",
    "set_assignee",
    "add_tags",
    "remove_tags",
    "set_tags",
    "set_custom_field",
    "add_note",
)
TEMPLATES = ("acknowledgement",)
TEMPLATE_MAX = 5000
SUBJECT_MAX = 200
WEBHOOK_LABEL_MAX = 60


def _names(value, path: str) -> list[str]:
    if not isinstance(value, list) or not value or len(value) > 20:
        _fail(path, "A list of 1 to 20 names.")
    if any(not isinstance(item, str) or not item.strip() or len(item) > 50 for item in value):
        _fail(path, "Each name is a text of 1 to 50 characters.")
    return [item.strip() for item in value]


def _agents(value, path: str, agent_ids: Callable[[list], dict], *, allow_assignee=False) -> list:
    items = value if isinstance(value, list) else [value]
    if not items or len(items) > 50:
        _fail(path, "A list of 1 to 50 agents (ids or emails).")
    references = [item for item in items if not (allow_assignee and item == "assignee")]
    if any(isinstance(item, bool) or not isinstance(item, int | str) for item in references):
        _fail(path, "Agents are ids (numbers) or emails.")
    found = agent_ids(references)
    missing = [item for item in references if str(item).lower() not in found]
    if missing:
        _fail(path, f"{str(missing[0])[:80]} is not an agent of this organization.")
    return [item if item == "assignee" else found[str(item).lower()] for item in items]


def clean_actions(
    raw,
    *,
    allowed: tuple[str, ...] | None = None,
    inbox_ids: dict[str, int],
    fields: dict[str, CustomField],
    agent_ids: Callable[[list], dict],
    required: bool = True,
) -> list[dict]:
    """The actions, checked; agents are stored by user id."""
    allowed = allowed or tuple(ACTION_TYPES)
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        _fail("actions", "A list of actions.")
    if required and not raw:
        _fail("actions", "At least one action.")
    if len(raw) > MAX_ACTIONS:
        _fail("actions", f"At most {MAX_ACTIONS} actions.")
    cleaned = []
    for index, action in enumerate(raw):
        path = f"actions[{index}]"
        if not isinstance(action, dict) or not isinstance(action.get("type"), str):
            _fail(path, "Each action is an object with a type.")
        kind, value = action["type"], action.get("value")
        if kind not in allowed:
            _fail(f"{path}.type", f"One of: {', '.join(allowed)}.")
        item: dict = {"type": kind}
        if kind == "set_priority":
            if value not in Ticket.Priority.values:
                _fail(f"{path}.value", f"One of: {', '.join(Ticket.Priority.values)}.")
            item["value"] = value
        elif kind == "set_status":
            if value not in Ticket.Status.values:
                _fail(f"{path}.value", f"One of: {', '.join(Ticket.Status.values)}.")
            item["value"] = value
        elif kind == "set_assignee":
            item["value"] = None if value is None else _agents(value, f"{path}.value", agent_ids)[0]
        elif kind == "set_inbox":
            if value not in inbox_ids:
                _fail(f"{path}.value", "The id of an inbox of this organization.")
            item["value"] = value
        elif kind in {"add_tags", "remove_tags", "set_tags"}:
            item["value"] = _names(value, f"{path}.value")
        elif kind == "set_custom_field":
            key = action.get("field")
            definition = fields.get(key) if isinstance(key, str) else None
            if definition is None:
                _fail(f"{path}.field", "The key of a custom field of this organization.")
            from tickets.services.custom_fields import clean_value

            try:
                item["value"] = clean_value(definition, value)
            except InvalidInput as error:
                _fail(f"{path}.value", error.message)
            item["field"] = key
        elif kind in {"assign_round_robin", "assign_least_loaded"}:
            item["value"] = _agents(value, f"{path}.value", agent_ids)
        elif kind == "email_customer":
            template = action.get("template")
            if template is not None:
                if template not in TEMPLATES:
                    _fail(f"{path}.template", f"One of: {', '.join(TEMPLATES)}.")
                item["template"] = template
            else:
                subject, body = action.get("subject"), action.get("body")
                if not isinstance(subject, str) or not 1 <= len(subject.strip()) <= SUBJECT_MAX:
                    _fail(f"{path}.subject", f"A subject of 1 to {SUBJECT_MAX} characters.")
                if not isinstance(body, str) or not 1 <= len(body.strip()) <= TEMPLATE_MAX:
                    _fail(f"{path}.body", f"A body of 1 to {TEMPLATE_MAX} characters.")
                check_template(subject, f"{path}.subject")
                check_template(body, f"{path}.body")
                item["subject"], item["body"] = subject.strip(), body.strip()
        elif kind == "add_note":
            if not isinstance(value, str) or not 1 <= len(value.strip()) <= TEMPLATE_MAX:
                _fail(f"{path}.value", f"A note of 1 to {TEMPLATE_MAX} characters.")
            check_template(value, f"{path}.value")
            item["value"] = value.strip()
        elif kind == "notify_agents":
            item["value"] = _agents(value, f"{path}.value", agent_ids, allow_assignee=True)
            message = action.get("message", "")
            if not isinstance(message, str) or len(message) > 200:
                _fail(f"{path}.message", "A text of at most 200 characters.")
            item["message"] = message.strip()
        elif kind == "emit_webhook":
            if (
                not isinstance(value, str)
                or not 1 <= len(value) <= WEBHOOK_LABEL_MAX
                or not all(char.isalnum() or char in "._-" for char in value)
            ):
                _fail(f"{path}.value", f"A label of 1 to {WEBHOOK_LABEL_MAX} letters, digits, . _ or -.")
            item["value"] = value
        cleaned.append(item)
    return cleaned


# Templates ----------------------------------------------------------------------------------

# What a template may say: plain values, no object for a template to walk.
TEMPLATE_VARIABLES = (
    "customer_name",
    "customer_email",
    "ticket_reference",
    "ticket_subject",
    "ticket_status",
    "ticket_priority",
    "private_url",
    "agent_name",
    "organization_name",
)


# Tags that reach beyond the text (other templates, the URL map): they parse, then fail
# as they render, on every ticket the template meets.
FORBIDDEN_TAGS = "{% include %}, {% extends %} and {% url %}"


def check_template(text: str, path: str) -> None:
    from django.template import Engine, TemplateSyntaxError
    from django.template.defaulttags import URLNode
    from django.template.loader_tags import ExtendsNode, IncludeNode

    try:
        template = Engine(autoescape=False).from_string(text)
    except TemplateSyntaxError as error:
        _fail(path, f"Template error: {str(error)[:150]}")
    if any(template.nodelist.get_nodes_by_type(kind) for kind in (IncludeNode, ExtendsNode, URLNode)):
        _fail(path, f"Templates fill in variables; {FORBIDDEN_TAGS} are not allowed.")


# A variable as saved replies filled it: by name, the rest of the text as written.
_PLAIN_VARIABLE = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def render_template(text: str, values: dict) -> str:
    """``text`` with ``{{ customer_name }}`` and the other variables filled in, as plain text.

    The services check every template they store, but the migration copied saved replies
    as they were, and those filled ``{{ customer_name }}`` and kept the rest as written
    ("{% SAVE20 %}" included). Such a text is filled the same way, not refused."""
    from django.template import Context, Engine, TemplateDoesNotExist, TemplateSyntaxError
    from django.urls import NoReverseMatch

    try:
        template = Engine(autoescape=False).from_string(text)
    except TemplateSyntaxError:
        return _PLAIN_VARIABLE.sub(
            lambda match: str(values[match[1]]) if match[1] in values else match[0], text
        ).strip()
    try:
        return template.render(Context(values, autoescape=False)).strip()
    except (TemplateDoesNotExist, NoReverseMatch) as error:
        # Stored before those tags were refused: the trigger or macro is refused, as a
        # ticket refuses an action, and what started it goes on.
        raise InvalidInput("template", f"{FORBIDDEN_TAGS} are not allowed.") from error


def template_values(ticket: Ticket, *, agent=None) -> dict:
    customer = ticket.customer
    return {
        "customer_name": customer.name or customer.email or "there",
        "customer_email": customer.email,
        "ticket_reference": ticket.reference,
        "ticket_subject": ticket.subject,
        "ticket_status": ticket.get_status_display(),
        "ticket_priority": ticket.get_priority_display(),
        "private_url": ticket.private_url,
        "agent_name": getattr(agent, "display_name", "") if agent else "",
        "organization_name": ticket.organization.name,
    }
