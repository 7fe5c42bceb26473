"""What an event says: ``{type, id, timestamp, actor, data}``, in the native API's shapes.

``data.ticket`` is the ticket as ``GET /api/v1/tickets`` shows it (without its thread),
read when the event is recorded — moments after the change — so it may already include
a later change; ``changes``, ``before`` and ``after`` are exactly what this change did.
"""

import json
from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder

from accounts.models import User
from tickets.api.serializers import AgentSerializer, CustomerSerializer, MessageSerializer, TicketSerializer
from tickets.models import Customer, Message, Ticket

from .services import NewEvent


def json_safe(value):
    """``value`` as JSON gives it back: what task arguments and payloads may hold."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _agents(user_ids) -> dict[int, dict]:
    ids = {user_id for user_id in user_ids if user_id is not None}
    if not ids:
        return {}
    return {user.pk: AgentSerializer(user).data for user in User.objects.filter(pk__in=ids)}


def _changes(changes: dict) -> dict:
    assignee = changes.get("assignee")
    agents = _agents(assignee) if assignee else {}
    rendered = {}
    for name, (before, after) in changes.items():
        if name == "assignee":
            before, after = agents.get(before), agents.get(after)
        rendered[name] = {"before": before, "after": after}
    return rendered


def _ticket_event(record: dict) -> NewEvent | None:
    ticket = Ticket.objects.for_list().filter(pk=record["ticket_id"]).first()
    if ticket is None:
        return None
    data: dict = {"ticket": TicketSerializer(ticket).data}
    is_internal_note = False
    event_type = record["type"]
    if event_type == "message.created":
        message = (
            Message.objects.select_related("author_user", "author_customer")
            .prefetch_related("attachments")
            .filter(pk=record["message_id"])
            .first()
        )
        if message is None:
            return None
        data["message"] = MessageSerializer(message).data
        is_internal_note = not record["is_public"]
    elif event_type == "ticket.updated":
        data["changes"] = _changes(record["changes"])
    elif event_type == "ticket.status_changed":
        data["before"], data["after"] = record["before"], record["after"]
    elif event_type == "ticket.merged":
        into = Ticket.objects.for_list().filter(pk=record["into_id"]).first()
        data["into"] = TicketSerializer(into).data if into is not None else None
        data["messages"] = record["messages"]
    elif event_type == "trigger.fired":
        data["trigger"], data["label"] = record["trigger"], record["label"]
    elif event_type in ("sla.warning", "sla.breached"):
        data["target"], data["due_at"] = record["target"], record["due_at"]
    elif event_type == "satisfaction.rated":
        # What this rating said; data.ticket.satisfaction may already hold a later change.
        data["rating"], data["comment"] = record["rating"], record["comment"]
    elif event_type == "ticket.assigned":
        agents = _agents([record["before"], record["after"]])
        data["before"], data["after"] = agents.get(record["before"]), agents.get(record["after"])
    return NewEvent(
        organization_id=record["organization_id"],
        inbox_id=ticket.inbox_id,
        type=event_type,
        ordering_key=f"ticket:{ticket.pk}",
        occurred_at=datetime.fromisoformat(record["occurred_at"]),
        actor=record["actor"],
        data=json_safe(data),
        is_internal_note=is_internal_note,
    )


def _customer_event(record: dict) -> NewEvent | None:
    customer = Customer.objects.filter(pk=record["customer_id"]).first()
    if customer is None:
        return None
    data: dict = {"customer": CustomerSerializer(customer).data}
    if record["type"] == "customer.updated":
        data["changes"] = _changes(record["changes"])
    return NewEvent(
        organization_id=record["organization_id"],
        type=record["type"],
        ordering_key=f"customer:{customer.pk}",
        occurred_at=datetime.fromisoformat(record["occurred_at"]),
        actor=record["actor"],
        data=json_safe(data),
    )


def build(record: dict) -> NewEvent | None:
    """The event to record for a described domain event; None when its subject is gone."""
    if "ticket_id" in record:
        return _ticket_event(record)
    return _customer_event(record)
