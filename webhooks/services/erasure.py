"""The feed's copies of erased data: when a customer is erased or the retention rule
empties tickets (``tickets.events.ContentsErased``), the events about them keep their type,
id and time, and lose their actor and data."""

import json

from django.db.models import Q

from ..models import Event

REDACTED_DATA = {"redacted": True}


def redact_events(
    *, organization_id: int, ticket_ids=(), customer_id=None, containing=(), batch_size: int = 500
) -> int:
    """Erase the payloads of the organization's events about these tickets or this
    customer, or whose body names one of ``containing`` (public ids); returns how many."""
    keys = [f"ticket:{pk}" for pk in ticket_ids]
    if customer_id is not None:
        keys.append(f"customer:{customer_id}")
    about = Q(ordering_key__in=keys)
    for text in containing:
        if text:
            about |= Q(body__contains=text)
    if not keys and not any(containing):
        return 0
    redacted = 0
    rows = []
    for event in Event.objects.filter(organization_id=organization_id).filter(about).only("pk", "body"):
        payload = event.payload
        if payload.get("data") == REDACTED_DATA:
            continue
        payload["actor"] = None
        payload["data"] = REDACTED_DATA
        event.body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        rows.append(event)
        if len(rows) >= batch_size:
            redacted += Event.objects.bulk_update(rows, ["body"])
            rows = []
    if rows:
        redacted += Event.objects.bulk_update(rows, ["body"])
    return redacted
