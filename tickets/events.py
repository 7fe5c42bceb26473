"""Domain events: what changed, told to whoever subscribed.

Each service publishes typed events for the changes it made. Most subscribers hear them
once the surrounding transaction commits (a rolled-back change tells nobody), in
``dispatch``. A subscriber marked ``@in_transaction`` hears them at once, inside the
transaction that made the change: it writes what must not be lost with that change (a
task row, on the database task backend) and commits or rolls back with it, so a crash
between the COMMIT and the work can lose nothing. The subscribers are registered in
``tickets/subscribers.py``: the one seam for side effects — notifications today;
webhooks, SLA clocks, triggers and the live-update versions (``tickets/live.py``).

Events carry what the service already holds in memory (ids, the actor, the values before
and after), so dispatching adds no query to the request. A subscriber after commit never
fails the request: an exception is logged and the next subscriber still runs. One in the
transaction is part of the change, and its failure fails it. A subscriber that does I/O
enqueues a task instead of doing it inline.
"""

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, ClassVar

from django.db import transaction
from django.utils import timezone

from .actors import Actor

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DomainEvent:
    name: ClassVar[str]
    actor: Actor
    organization_id: int
    # When the service made the change: inside its transaction, under the row locks it
    # took, so one ticket's events are in the order its changes were committed (webhooks
    # deliver them in that order).
    occurred_at: datetime = field(default_factory=timezone.now, kw_only=True)


# The ticket as the service holds it (locked, in memory), for the subscribers that hear the
# event inside the transaction (SLA clocks): they read it instead of querying it again.
# Never part of what is compared, shown or handed to a task.
def _in_memory_ticket():
    return field(default=None, kw_only=True, compare=False, repr=False)


@dataclass(frozen=True)
class TicketOpening(DomainEvent):
    """A new ticket about to be written, with no id yet (``create_ticket``). Its
    subscribers hear it inside the transaction and may set fields of ``ticket`` itself
    (the SLA clocks' due times), which the ticket's INSERT then writes: the row is written
    once instead of inserted and updated at once. They write nothing else: the ticket does
    not exist yet. Never dispatched after commit nor sent out; ``ticket.created`` follows
    once the row is written. ``tag_names``: the tags the ticket is created with."""

    name: ClassVar[str] = "ticket.opening"
    ticket: Any = _in_memory_ticket()
    tag_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class TicketCreated(DomainEvent):
    name: ClassVar[str] = "ticket.created"
    ticket_id: int
    ticket: Any = _in_memory_ticket()


@dataclass(frozen=True)
class TicketUpdated(DomainEvent):
    """Fields changed together by one call: ``changes`` maps a field to ``(before, after)``."""

    name: ClassVar[str] = "ticket.updated"
    ticket_id: int
    ticket: Any = _in_memory_ticket()
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class TicketStatusChanged(DomainEvent):
    name: ClassVar[str] = "ticket.status_changed"
    ticket_id: int
    ticket: Any = _in_memory_ticket()
    before: str
    after: str


@dataclass(frozen=True)
class TicketAssigned(DomainEvent):
    """``before``/``after`` are user ids; ``after`` None is an unassignment."""

    name: ClassVar[str] = "ticket.assigned"
    ticket_id: int
    before: int | None
    after: int | None


@dataclass(frozen=True)
class MessageCreated(DomainEvent):
    name: ClassVar[str] = "message.created"
    ticket_id: int
    ticket: Any = _in_memory_ticket()
    message_id: int
    is_public: bool


@dataclass(frozen=True)
class TicketMerged(DomainEvent):
    """``ticket_id`` (the duplicate) was merged into ``into_id``: its ``messages`` moved there,
    and it is closed. Each ticket's ``ticket.updated`` tells its own side as well."""

    name: ClassVar[str] = "ticket.merged"
    ticket_id: int
    into_id: int
    messages: int


@dataclass(frozen=True)
class TicketSplit(DomainEvent):
    """A message of ``ticket_id`` became the first message of ``new_ticket_id`` (which has
    its own ``ticket.created``)."""

    name: ClassVar[str] = "ticket.split"
    ticket_id: int
    new_ticket_id: int
    message_id: int


@dataclass(frozen=True)
class TicketLinked(DomainEvent):
    """Two tickets became related (``linked``) or stopped being so."""

    name: ClassVar[str] = "ticket.linked"
    ticket_id: int
    other_id: int
    linked: bool = True


@dataclass(frozen=True)
class TriggerFired(DomainEvent):
    """A trigger's "emit a webhook event" action: ``label`` is the name its author chose."""

    name: ClassVar[str] = "trigger.fired"
    ticket_id: int
    trigger: str
    label: str


@dataclass(frozen=True)
class OrganizationCreated(DomainEvent):
    """A new tenant: the apps that keep per-organization defaults (the acknowledgement
    triggers) make them, in its transaction."""

    name: ClassVar[str] = "organization.created"


@dataclass(frozen=True)
class CustomerCreated(DomainEvent):
    name: ClassVar[str] = "customer.created"
    customer_id: int


@dataclass(frozen=True)
class CustomerUpdated(DomainEvent):
    name: ClassVar[str] = "customer.updated"
    customer_id: int
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class SlaWarning(DomainEvent):
    """A service-level target of a ticket is about to be missed (``target``: first_reply,
    next_reply or resolution)."""

    name: ClassVar[str] = "sla.warning"
    ticket_id: int
    target: str
    due_at: datetime


@dataclass(frozen=True)
class SlaBreached(DomainEvent):
    """A service-level target of a ticket was missed."""

    name: ClassVar[str] = "sla.breached"
    ticket_id: int
    target: str
    due_at: datetime


@dataclass(frozen=True)
class SatisfactionRated(DomainEvent):
    """The customer rated a resolved ticket (``rating``: good or bad), or changed it."""

    name: ClassVar[str] = "satisfaction.rated"
    ticket_id: int
    rating: str
    comment: str = ""


@dataclass(frozen=True)
class InboxAddressClaimed(DomainEvent):
    """An inbox named a support address that is not verified yet: a link goes to it."""

    name: ClassVar[str] = "inbox.address_claimed"
    inbox_id: int
    address: str


@dataclass(frozen=True)
class ContentsErased(DomainEvent):
    """Personal data was erased (a customer's erasure, or the retention rule): whoever keeps
    its own copy (the webhook feed) erases it too, in the same transaction. ``ticket_ids``
    are the tickets emptied or deleted; ``customer_public_id`` the erased customer, if any;
    ``message_public_ids`` the messages they wrote on other customers' tickets."""

    name: ClassVar[str] = "contents.erased"
    ticket_ids: tuple[int, ...] = ()
    customer_id: int | None = None
    customer_public_id: str = ""
    message_public_ids: tuple[str, ...] = ()


Subscriber = Callable[[DomainEvent], None]

_subscribers: dict[type[DomainEvent], list[Subscriber]] = defaultdict(list)


def subscribe(event_type: type[DomainEvent], subscriber: Subscriber) -> None:
    if event_type is TicketOpening and not _hears_in_transaction(subscriber):
        raise ValueError("ticket.opening is heard in the transaction only (@in_transaction).")
    if subscriber not in _subscribers[event_type]:
        _subscribers[event_type].append(subscriber)


def in_transaction(subscriber: Subscriber) -> Subscriber:
    """Mark ``subscriber`` to hear its events inside the transaction that made the change."""
    subscriber.in_transaction = True
    return subscriber


def _hears_in_transaction(subscriber: Subscriber) -> bool:
    return getattr(subscriber, "in_transaction", False)


def dispatch(event: DomainEvent) -> None:
    """Hand ``event`` to each subscriber after commit; one's failure never stops the others."""
    for subscriber in _subscribers[type(event)]:
        if _hears_in_transaction(subscriber):
            continue
        try:
            subscriber(event)
        except Exception:
            logger.exception(
                "Subscriber %s failed on %s", getattr(subscriber, "__name__", subscriber), event.name
            )


def publish(event: DomainEvent) -> None:
    """Tell ``event`` to the in-transaction subscribers now, and to the others once the
    current transaction commits (at once outside one)."""
    subscribers = _subscribers[type(event)]
    for subscriber in subscribers:
        if _hears_in_transaction(subscriber):
            subscriber(event)
    if not all(map(_hears_in_transaction, subscribers)):
        transaction.on_commit(partial(dispatch, event), robust=True)
