"""Custom fields: what an organization records on its tickets, and the check of each value.

A field's definition is a ``CustomField`` row; a ticket's values are ``Ticket.custom_fields``
(one JSON object, by key). Values are checked here, by type, for every face: a bad value is
an ``InvalidInput`` naming ``custom_fields.<key>``.
"""

import datetime
import math
from decimal import Decimal, InvalidOperation

from django.db import transaction

from accounts.audit import record_audit_event, require_manager
from accounts.models import AuditEvent, Organization
from tickets.actors import Actor
from tickets.exceptions import InvalidInput
from tickets.models import CustomField, Inbox, Ticket

Type = CustomField.Type

KEY_MAX_LENGTH = 36  # "custom_fields.<key>" fits a TicketEvent.field
LABEL_MAX_LENGTH = 100
TEXT_MAX_LENGTH = 255
LONG_TEXT_MAX_LENGTH = 10_000
MAX_OPTIONS = 200
OPTION_MAX_LENGTH = 100
MAX_FIELDS = 100
# Larger integers lose precision in JSON readers (JavaScript's Number).
NUMBER_LIMIT = 2**53
DECIMAL_MAX_DIGITS = 15

# Statuses a field "required to resolve" must have a value to reach.
RESOLVING_STATUSES = frozenset({Ticket.Status.RESOLVED, Ticket.Status.CLOSED})


def _field_name(key: str) -> str:
    return f"custom_fields.{key}"


def clean_value(field: CustomField, value):
    """``value`` as stored for ``field``, or InvalidInput naming ``custom_fields.<key>``.

    None clears the value (the caller drops the key).
    """
    name = _field_name(field.key)
    if value is None:
        return None
    kind = field.type
    if kind in {Type.TEXT, Type.LONG_TEXT}:
        if not isinstance(value, str):
            raise InvalidInput(name, "Must be text.")
        value = value.strip()
        limit = TEXT_MAX_LENGTH if kind == Type.TEXT else LONG_TEXT_MAX_LENGTH
        if len(value) > limit:
            raise InvalidInput(name, f"At most {limit} characters.")
        if kind == Type.TEXT and ("\n" in value or "\r" in value):
            raise InvalidInput(name, "A single line of text.")
        return value or None
    if kind == Type.NUMBER:
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(name, "Must be a whole number.")
        if abs(value) >= NUMBER_LIMIT:
            raise InvalidInput(name, "Too large.")
        return value
    if kind == Type.DECIMAL:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise InvalidInput(name, "Must be a number.")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise InvalidInput(name, "Must be a number.") from None
        if not number.is_finite() or len(number.as_tuple().digits) > DECIMAL_MAX_DIGITS:
            raise InvalidInput(name, f"Must be a number of at most {DECIMAL_MAX_DIGITS} digits.")
        # Stored as a JSON number, so ranges compare numbers (jsonb and SQLite's JSON alike).
        stored = float(number)
        return int(stored) if number == number.to_integral_value() and math.isfinite(stored) else stored
    if kind == Type.CHECKBOX:
        if not isinstance(value, bool):
            raise InvalidInput(name, "Must be true or false.")
        return value
    if kind == Type.DATE:
        if not isinstance(value, str):
            raise InvalidInput(name, "Must be a date (YYYY-MM-DD).")
        try:
            return datetime.date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            raise InvalidInput(name, "Must be a date (YYYY-MM-DD).") from None
    if kind == Type.DROPDOWN:
        if not isinstance(value, str) or value not in field.options:
            raise InvalidInput(name, f"Must be one of: {', '.join(field.options)}.")
        return value
    if kind == Type.MULTI_SELECT:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise InvalidInput(name, "Must be a list of options.")
        unknown = [item for item in value if item not in field.options]
        if unknown:
            raise InvalidInput(name, f'"{unknown[0]}" is not one of: {", ".join(field.options)}.')
        chosen = [option for option in field.options if option in value]  # the options' order
        return chosen or None
    raise InvalidInput(name, "Unknown field type.")  # pragma: no cover - a model choice


def fields_for(organization_id: int, inbox_id: int | None = None) -> dict[str, CustomField]:
    """The organization's fields by key; with ``inbox_id``, only those shown in that inbox."""
    fields = CustomField.objects.filter(organization_id=organization_id).prefetch_related("inboxes")
    result = {}
    for field in fields:
        if inbox_id is not None:
            inbox_ids = {inbox.pk for inbox in field.inboxes.all()}
            if inbox_ids and inbox_id not in inbox_ids:
                continue
        result[field.key] = field
    return result


def validate_values(values, *, organization_id: int, inbox_id: int, fields=None) -> dict:
    """Check a ``custom_fields`` object from a caller: every key a field of the ticket's
    inbox (or None, which clears any key), every value of the field's type. Returns the
    cleaned values (None = clear)."""
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise InvalidInput("custom_fields", "Must be a JSON object.")
    if not values:
        return {}
    if fields is None:
        fields = fields_for(organization_id, inbox_id)
    cleaned = {}
    for key, value in values.items():
        field = fields.get(key)
        if field is None and value is None:
            # Clearing asks nothing of a definition: a value a deleted field left on the
            # ticket can be removed, and clearing what is not there changes nothing.
            cleaned[key] = None
            continue
        if field is None:
            raise InvalidInput(_field_name(str(key)[:KEY_MAX_LENGTH]), "Unknown custom field for this inbox.")
        cleaned[key] = clean_value(field, value)
    return cleaned


def _as_metadata_says(field: CustomField, value):
    """A metadata value in the shape its field takes, where the meaning is plain.

    Free-form metadata has no schema (CrawlChat's ``customTags`` are strings, booleans or
    numbers; SupportDesk's ``metadata`` anything): an order number sent as ``12345``
    belongs in a text field as "12345", and one option sent alone in a multi-select as a
    list of it. The native API's ``custom_fields`` stays strict."""
    if (
        field.type in {Type.TEXT, Type.LONG_TEXT}
        and isinstance(value, int | float)
        and not isinstance(value, bool)
    ):
        return str(value) if math.isfinite(value) else value
    if field.type == Type.MULTI_SELECT and isinstance(value, str):
        return [value]
    return value


def matching_values(metadata: dict | None, *, organization_id: int, inbox_id: int) -> dict:
    """The values of free-form metadata (a dialect's) whose keys are custom fields of the
    inbox and whose values fit them; anything else stays metadata only, refused by nobody."""
    if not metadata:
        return {}
    fields = fields_for(organization_id, inbox_id)
    cleaned = {}
    for key, value in metadata.items():
        field = fields.get(key)
        if field is None:
            continue
        try:
            value = clean_value(field, _as_metadata_says(field, value))
        except InvalidInput:
            continue
        if value is not None:
            cleaned[key] = value
    return cleaned


def merged(current: dict, changes: dict) -> dict:
    """``current`` with ``changes`` applied (None removes a key)."""
    result = dict(current or {})
    for key, value in changes.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def check_required_to_resolve(ticket: Ticket, values: dict) -> None:
    """Refuse resolving or closing a ticket whose inbox's required fields are empty."""
    missing = [
        field
        for field in fields_for(ticket.organization_id, ticket.inbox_id).values()
        if field.required_to_resolve and values.get(field.key) in (None, "", [])
    ]
    if missing:
        labels = ", ".join(field.label for field in missing)
        raise InvalidInput(_field_name(missing[0].key), f"Required to resolve: {labels}.")


# Definitions ------------------------------------------------------------------------------


def clean_definition(organization: Organization, *, label, type, options, inboxes, position):  # noqa: A002
    label = (label or "").strip() if isinstance(label, str) else label
    if not isinstance(label, str) or not 1 <= len(label) <= LABEL_MAX_LENGTH:
        raise InvalidInput("label", f"Must be between 1 and {LABEL_MAX_LENGTH} characters.")
    if type not in Type.values:
        raise InvalidInput("type", f'"{type}" is not one of: {", ".join(Type.values)}.')
    options = options or []
    if not isinstance(options, list) or not all(isinstance(option, str) for option in options):
        raise InvalidInput("options", "Must be a list of texts.")
    options = [option.strip() for option in options]
    if type in {Type.DROPDOWN, Type.MULTI_SELECT}:
        if not options:
            raise InvalidInput("options", "A dropdown or multi-select needs at least one option.")
        if len(options) > MAX_OPTIONS:
            raise InvalidInput("options", f"At most {MAX_OPTIONS} options.")
        if any(not option or len(option) > OPTION_MAX_LENGTH for option in options):
            raise InvalidInput("options", f"Each option is between 1 and {OPTION_MAX_LENGTH} characters.")
        if len(set(options)) != len(options):
            raise InvalidInput("options", "Options must differ.")
    elif options:
        raise InvalidInput("options", "Only a dropdown or multi-select has options.")
    inbox_list = list(inboxes or [])
    if any(inbox.organization_id != organization.pk for inbox in inbox_list):
        raise InvalidInput("inboxes", "Unknown inbox.")
    if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position <= 10_000:
        raise InvalidInput("position", "Must be a whole number between 0 and 10000.")
    return label, options, inbox_list


def create_custom_field(
    *,
    organization: Organization,
    actor: Actor,
    key: str,
    label: str,
    type: str,  # noqa: A002 - the domain's word
    options=(),
    required_to_resolve: bool = False,
    inboxes=(),
    position: int = 0,
) -> CustomField:
    """A new field on the organization's tickets. ``key`` never changes once made."""
    if not isinstance(key, str) or not key:
        raise InvalidInput("key", "Required.")
    try:
        CustomField._meta.get_field("key").run_validators(key)
    except Exception:
        raise InvalidInput("key", "Letters, digits and _, starting with a letter.") from None
    if len(key) > KEY_MAX_LENGTH:
        raise InvalidInput("key", f"At most {KEY_MAX_LENGTH} characters.")
    label, options, inbox_list = clean_definition(
        organization, label=label, type=type, options=list(options), inboxes=inboxes, position=position
    )
    with transaction.atomic():
        require_manager(organization, actor)
        existing = CustomField.objects.select_for_update().filter(organization=organization)
        if existing.filter(key=key).exists():
            raise InvalidInput("key", "A custom field with this key exists.")
        if existing.count() >= MAX_FIELDS:
            raise InvalidInput("key", f"At most {MAX_FIELDS} custom fields per organization.")
        field = CustomField.objects.create(
            organization=organization,
            key=key,
            label=label,
            type=type,
            options=options,
            required_to_resolve=bool(required_to_resolve),
            position=position,
        )
        if inbox_list:
            field.inboxes.set(inbox_list)
        record_audit_event(
            organization=organization, actor=actor, action=AuditEvent.Action.CUSTOM_FIELD_CREATED, target=key
        )
    return field


_UNSET = object()


def update_custom_field(
    *,
    field: CustomField,
    actor: Actor,
    key=_UNSET,
    type=_UNSET,  # noqa: A002 - the domain's word
    label=_UNSET,
    options=_UNSET,
    required_to_resolve=_UNSET,
    inboxes=_UNSET,
    position=_UNSET,
) -> CustomField:
    """Change a field's label, options, rule or inboxes. Its key and type stay: values
    already stored on tickets keep their meaning (an option removed stays on the tickets
    that have it until they are edited). ``key`` and ``type`` may be given unchanged;
    another value is InvalidInput naming them."""
    if key is not _UNSET and key != field.key:
        raise InvalidInput("key", "The key never changes: make a new field with the other key.")
    if type is not _UNSET and type != field.type:
        raise InvalidInput("type", "The type never changes: make a new field of the other type.")
    organization = field.organization
    current_inboxes = list(field.inboxes.all())
    label, options, inbox_list = clean_definition(
        organization,
        label=field.label if label is _UNSET else label,
        type=field.type,
        options=field.options if options is _UNSET else options,
        inboxes=current_inboxes if inboxes is _UNSET else inboxes,
        position=field.position if position is _UNSET else position,
    )
    with transaction.atomic():
        require_manager(organization, actor)
        field = CustomField.objects.select_for_update().get(pk=field.pk)
        wanted = {
            "label": label,
            "options": options,
            "required_to_resolve": field.required_to_resolve
            if required_to_resolve is _UNSET
            else bool(required_to_resolve),
            "position": field.position if position is _UNSET else position,
        }
        changed = [name for name, value in wanted.items() if getattr(field, name) != value]
        for name in changed:
            setattr(field, name, wanted[name])
        if changed:
            field.save(update_fields=changed)
        if {inbox.pk for inbox in inbox_list} != {inbox.pk for inbox in current_inboxes}:
            field.inboxes.set(inbox_list)
            changed.append("inboxes")
        if changed:
            record_audit_event(
                organization=organization,
                actor=actor,
                action=AuditEvent.Action.CUSTOM_FIELD_UPDATED,
                target=field.key,
                changes={"fields": changed},
            )
    return field


def delete_custom_field(*, field: CustomField, actor: Actor) -> None:
    """Remove the definition. Values on tickets stay in their history and their JSON, no
    longer shown or validated; a new field with the same key finds them again."""
    with transaction.atomic():
        require_manager(field.organization, actor)
        record_audit_event(
            organization=field.organization,
            actor=actor,
            action=AuditEvent.Action.CUSTOM_FIELD_DELETED,
            target=field.key,
        )
        field.delete()


def inboxes_by_public_id(organization: Organization, public_ids) -> list[Inbox]:
    """The organization's inboxes named by public id; an unknown one is InvalidInput."""
    if not isinstance(public_ids, list) or not all(isinstance(item, str) for item in public_ids):
        raise InvalidInput("inboxes", "Must be a list of inbox ids.")
    found = {
        inbox.public_id: inbox
        for inbox in Inbox.objects.filter(organization=organization, public_id__in=public_ids)
    }
    missing = [public_id for public_id in public_ids if public_id not in found]
    if missing:
        raise InvalidInput("inboxes", f"Unknown inbox: {missing[0][:40]}.")
    return [found[public_id] for public_id in public_ids]
