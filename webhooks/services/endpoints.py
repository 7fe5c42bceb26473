"""Webhook endpoints: create, change, rotate the secret, delete, test, redeliver.

Only an organization's owners and admins (or an API key of the organization) manage
them: an endpoint receives every ticket's data. The signing secret is returned once,
when it is made; after a rotation the previous one keeps signing for 24 hours.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.audit import require_manager
from tickets.actors import Actor
from tickets.exceptions import InvalidInput

from ..models import EVERY_EVENT, PING, Event, EventType, WebhookDelivery, WebhookEndpoint
from . import signing, transport
from .deliveries import enqueue_drains
from .recording import NewEvent, actor_representation, body_for

SECRET_OVERLAP = timedelta(hours=24)
DESCRIPTION_MAX_LENGTH = 200
MAX_ENDPOINTS_PER_ORGANIZATION = 20
EDITABLE_FIELDS = ("url", "events", "description", "include_internal_notes", "active")


def validate_events(events, *, field: str = "events") -> list[str]:
    """A non-empty list of known event types, or ``["*"]`` for every type."""
    if not isinstance(events, list | tuple) or not events:
        raise InvalidInput(field, 'Choose at least one event type, or "*" for every type.')
    known = set(EventType.values)
    chosen: list[str] = []
    for index, event_type in enumerate(events):
        if event_type != EVERY_EVENT and event_type not in known:
            raise InvalidInput(
                f"{field}[{index}]",
                f'Unknown event type "{event_type}". Known: {", ".join(EventType.values)}, or "*".',
            )
        if event_type not in chosen:
            chosen.append(event_type)
    return [EVERY_EVENT] if EVERY_EVENT in chosen else chosen


def _clean(fields: dict) -> dict:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput(sorted(unknown)[0], "This field cannot be changed.")
    cleaned = dict(fields)
    if "url" in cleaned:
        cleaned["url"] = transport.check_url(cleaned["url"])
        transport.check_destination(cleaned["url"])
    if "events" in cleaned:
        cleaned["events"] = validate_events(cleaned["events"])
    if "description" in cleaned:
        description = (cleaned["description"] or "").strip()
        if len(description) > DESCRIPTION_MAX_LENGTH:
            raise InvalidInput("description", f"At most {DESCRIPTION_MAX_LENGTH} characters.")
        cleaned["description"] = description
    for flag in ("include_internal_notes", "active"):
        if flag in cleaned and not isinstance(cleaned[flag], bool):
            raise InvalidInput(flag, "Must be true or false.")
    return cleaned


def create_endpoint(
    *,
    organization,
    actor: Actor,
    url: str,
    events,
    description: str = "",
    include_internal_notes: bool = False,
    active: bool = True,
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint; returns ``(endpoint, secret)`` — the secret is shown only now."""
    require_manager(organization, actor)
    fields = _clean(
        {
            "url": url,
            "events": events,
            "description": description,
            "include_internal_notes": include_internal_notes,
            "active": active,
        }
    )
    with transaction.atomic():
        count = WebhookEndpoint.objects.select_for_update().filter(organization=organization).count()
        if count >= MAX_ENDPOINTS_PER_ORGANIZATION:
            raise InvalidInput(
                "url", f"An organization can have at most {MAX_ENDPOINTS_PER_ORGANIZATION} webhook endpoints."
            )
        endpoint = WebhookEndpoint.objects.create(
            organization=organization, secret=signing.new_secret(), **fields
        )
    return endpoint, endpoint.secret


def update_endpoint(*, endpoint: WebhookEndpoint, actor: Actor, **fields) -> WebhookEndpoint:
    """Change the given fields. Activating an endpoint that was disabled clears why it was."""
    require_manager(endpoint.organization, actor)
    fields = _clean(fields)
    with transaction.atomic():
        endpoint = (
            WebhookEndpoint.objects.select_for_update().select_related("organization").get(pk=endpoint.pk)
        )
        changed = [name for name, value in fields.items() if getattr(endpoint, name) != value]
        for name in changed:
            setattr(endpoint, name, fields[name])
        if "active" in changed and endpoint.active:
            # A fresh start: the failing streak and the reason it was stopped are history.
            endpoint.failing_since = None
            endpoint.disabled_reason = ""
            endpoint.disabled_at = None
            changed += ["failing_since", "disabled_reason", "disabled_at"]
        if changed:
            endpoint.updated_at = timezone.now()
            endpoint.save(update_fields=[*changed, "updated_at"])
    if "active" in changed and endpoint.active:
        # Deliveries that waited while it was off go now.
        enqueue_drains([endpoint.pk])
    return endpoint


def rotate_secret(*, endpoint: WebhookEndpoint, actor: Actor) -> tuple[WebhookEndpoint, str]:
    """A new secret; the previous one keeps signing (beside it) for 24 hours."""
    require_manager(endpoint.organization, actor)
    with transaction.atomic():
        endpoint = (
            WebhookEndpoint.objects.select_for_update().select_related("organization").get(pk=endpoint.pk)
        )
        now = timezone.now()
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = now + SECRET_OVERLAP
        endpoint.secret = signing.new_secret()
        endpoint.updated_at = now
        endpoint.save(update_fields=["previous_secret", "previous_secret_expires_at", "secret", "updated_at"])
    return endpoint, endpoint.secret


def delete_endpoint(*, endpoint: WebhookEndpoint, actor: Actor) -> None:
    """Remove the endpoint with its delivery log; nothing more is sent to it."""
    require_manager(endpoint.organization, actor)
    endpoint.delete()


def send_test(*, endpoint: WebhookEndpoint, actor: Actor) -> WebhookDelivery:
    """Send the endpoint a ``ping`` event (not in the feed), as any delivery is sent."""
    require_manager(endpoint.organization, actor)
    if not endpoint.active:
        raise InvalidInput("active", "The endpoint is not active: activate it before testing it.")
    now = timezone.now()
    new_event = NewEvent(
        organization_id=endpoint.organization_id,
        type=PING,
        ordering_key=f"ping:{endpoint.pk}",
        occurred_at=now,
        actor=actor_representation(actor),
        data={"webhook": {"id": endpoint.public_id, "url": endpoint.url}},
    )
    with transaction.atomic():
        event = Event(
            organization_id=endpoint.organization_id,
            type=PING,
            ordering_key=new_event.ordering_key,
            occurred_at=now,
        )
        event.body = body_for(event, new_event)
        event.save()
        delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=event, next_attempt_at=now)
        enqueue_drains([endpoint.pk])
    return delivery


def redeliver(*, delivery: WebhookDelivery, actor: Actor) -> WebhookDelivery:
    """Send a delivery again, with a fresh round of retries, whatever became of it."""
    endpoint = delivery.endpoint
    require_manager(endpoint.organization, actor)
    if not endpoint.active:
        raise InvalidInput("active", "The endpoint is not active: activate it before redelivering.")
    with transaction.atomic():
        now = timezone.now()
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.PENDING, next_attempt_at=now, first_attempt_at=None
        )
        enqueue_drains([endpoint.pk])
    delivery.refresh_from_db()
    return delivery
