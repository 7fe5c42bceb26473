"""Recording events: the feed's rows, and one delivery per endpoint that wants each."""

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction

from tickets.actors import Actor

from ..models import Event, EventStream, WebhookDelivery, WebhookEndpoint


@dataclass(frozen=True)
class NewEvent:
    """An event ready to record: ``data`` is the payload's ``data``, already rendered."""

    organization_id: int
    type: str
    ordering_key: str
    occurred_at: datetime
    actor: dict
    data: dict
    inbox_id: int | None = None
    is_internal_note: bool = False


def actor_representation(actor: Actor) -> dict:
    """Who acted, as payloads name them: read from what the actor holds, without a query."""
    identifier = None
    if actor.user is not None:
        identifier = actor.user.pk
    elif actor.customer is not None:
        identifier = actor.customer.public_id
    return {"type": str(actor.kind), "id": identifier, "name": actor.label}


def timestamp_text(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z, as the native API writes times."""
    return moment.isoformat().replace("+00:00", "Z")


def body_for(event: Event, new_event: NewEvent) -> str:
    """The event's JSON, compact, keys in the documented order."""
    payload = {
        "type": new_event.type,
        "id": event.public_id,
        "timestamp": timestamp_text(new_event.occurred_at),
        "actor": new_event.actor,
        "data": new_event.data,
    }
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def _lock_stream(organization_id: int) -> None:
    if not EventStream.objects.select_for_update().filter(pk=organization_id).exists():
        try:
            with transaction.atomic():
                EventStream.objects.create(organization_id=organization_id)
        except IntegrityError:
            pass  # Another worker made it first; its row is locked below.
        EventStream.objects.select_for_update().filter(pk=organization_id).exists()


def record_events(new_events: list[NewEvent]) -> set[int]:
    """Store the events in order, and a pending delivery for each endpoint that wants one.

    Returns the ids of the endpoints that have new deliveries. Each organization's stream
    stays locked until commit, so its events commit in id order (see ``EventStream``).
    """
    by_organization: dict[int, list[NewEvent]] = defaultdict(list)
    for new_event in new_events:
        by_organization[new_event.organization_id].append(new_event)
    endpoint_ids: set[int] = set()
    with transaction.atomic():
        # Always in the same order: two workers recording for the same two organizations
        # cannot deadlock.
        for organization_id in sorted(by_organization):
            endpoint_ids |= _record_for_organization(organization_id, by_organization[organization_id])
    return endpoint_ids


def _record_for_organization(organization_id: int, new_events: list[NewEvent]) -> set[int]:
    _lock_stream(organization_id)
    rows = []
    for new_event in new_events:
        event = Event(
            organization_id=organization_id,
            inbox_id=new_event.inbox_id,
            type=new_event.type,
            ordering_key=new_event.ordering_key,
            occurred_at=new_event.occurred_at,
        )
        event.body = body_for(event, new_event)
        rows.append(event)
    Event.objects.bulk_create(rows)
    endpoints = list(WebhookEndpoint.objects.filter(organization_id=organization_id, active=True))
    deliveries = [
        WebhookDelivery(endpoint=endpoint, event=event, next_attempt_at=event.created_at)
        for event, new_event in zip(rows, new_events, strict=True)
        for endpoint in endpoints
        if endpoint.wants(new_event.type, is_internal_note=new_event.is_internal_note)
    ]
    WebhookDelivery.objects.bulk_create(deliveries)
    return {delivery.endpoint_id for delivery in deliveries}
