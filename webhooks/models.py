"""What integrators hear about changes: the event feed and the signed webhooks that carry it.

An ``Event`` is a domain event as integrators see it, stored once per organization in the
order it was recorded (its id is the feed's cursor). A ``WebhookEndpoint`` is a receiver
URL of an organization with the event types it wants; a ``WebhookDelivery`` is one event
on its way to one endpoint, and each try of it leaves a ``WebhookAttempt`` (the delivery
log).
"""

import json

from django.db import models
from django.utils import timezone

from accounts.models import Organization
from helpdesk.ids import PublicIdField, new_ulid


class EventType(models.TextChoices):
    """The event types an endpoint may subscribe to (``ping`` is sent, never subscribed)."""

    TICKET_CREATED = "ticket.created", "A ticket was created"
    TICKET_UPDATED = "ticket.updated", "Fields of a ticket changed"
    TICKET_STATUS_CHANGED = "ticket.status_changed", "A ticket's status changed"
    TICKET_ASSIGNED = "ticket.assigned", "A ticket was assigned or unassigned"
    TICKET_MERGED = "ticket.merged", "A ticket was merged into another"
    MESSAGE_CREATED = "message.created", "A reply (or, when asked for, an internal note) was added"
    CUSTOMER_CREATED = "customer.created", "A customer was created"
    CUSTOMER_UPDATED = "customer.updated", "A customer changed"
    TRIGGER_FIRED = "trigger.fired", "A trigger's action asked for an event (data.label names it)"
    SLA_WARNING = "sla.warning", "A service-level target of a ticket is about to be missed"
    SLA_BREACHED = "sla.breached", "A service-level target of a ticket was missed"
    SATISFACTION_RATED = "satisfaction.rated", "The customer rated a resolved ticket, or changed the rating"


PING = "ping"
EVERY_EVENT = "*"


def new_event_id() -> str:
    return f"evt_{new_ulid()}"


class EventStream(models.Model):
    """One row per organization, locked while its events are recorded.

    Recording holds this lock until commit, so an organization's events commit in the
    order of their ids: a feed reader who has seen id N never misses a later-committed
    event with a smaller id.
    """

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )

    def __str__(self):
        return f"Event stream of {self.organization_id}"


class Event(models.Model):
    public_id = models.CharField(max_length=40, unique=True, default=new_event_id, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    # Which inbox the event belongs to (None for customers): an API key restricted to one
    # inbox sees only that inbox's events.
    inbox = models.ForeignKey(
        "tickets.Inbox", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    type = models.CharField(max_length=40)
    # Deliveries with the same key go out in event order (one ticket, one customer).
    ordering_key = models.CharField(max_length=60)
    occurred_at = models.DateTimeField(help_text="When the change was made.")
    # The JSON text itself, not a JSONField: PostgreSQL's jsonb would reorder the keys.
    # It is the exact body every endpoint receives and signs over, written once.
    body = models.TextField(help_text="The JSON every endpoint receives, and the feed shows.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["organization", "id"], name="event_feed"),
            models.Index(fields=["created_at"], name="event_created"),
        ]

    def __str__(self):
        return f"{self.type} {self.public_id}"

    @property
    def payload(self) -> dict:
        return json.loads(self.body)


class WebhookEndpoint(models.Model):
    class DisabledReason(models.TextChoices):
        GONE = "gone", "The receiver answered 410 Gone"
        FAILING = "failing", "Every delivery failed for days"

    public_id = PublicIdField()
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list, help_text='Event types to send; ["*"] for every type.')
    include_internal_notes = models.BooleanField(
        default=False, help_text="Send message.created for internal notes too, not only public replies."
    )
    active = models.BooleanField(default=True)
    # Stored in clear: every delivery is signed with it (HMAC needs the key itself).
    secret = models.CharField(max_length=100, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    failing_since = models.DateTimeField(
        null=True, blank=True, help_text="First failure since the last successful delivery."
    )
    disabled_reason = models.CharField(max_length=20, choices=DisabledReason, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    # One worker at a time sends an endpoint's deliveries (in order); it holds this lease.
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    # When a drain was queued to send new deliveries, until it starts: more deliveries
    # recorded meanwhile need no drain of their own.
    drain_queued_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When a drain is queued for the earliest retry (one at a time, not one per drain).
    retry_drain_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["organization", "active"], name="webhook_endpoint_active")]

    def __str__(self):
        return self.url

    def wants(self, event_type: str, *, is_internal_note: bool = False) -> bool:
        if is_internal_note and not self.include_internal_notes:
            return False
        return EVERY_EVENT in self.events or event_type in self.events

    def signing_secrets(self, now=None) -> list[str]:
        """The current secret, and the previous one during the overlap after a rotation."""
        now = now or timezone.now()
        secrets = [self.secret]
        if self.previous_secret and self.previous_secret_expires_at and self.previous_secret_expires_at > now:
            secrets.append(self.previous_secret)
        return secrets


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    public_id = PublicIdField()
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Retries stop this long after the first try (WEBHOOK_RETRY_WINDOW_HOURS).
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_delivery_once_per_endpoint")
        ]
        indexes = [models.Index(fields=["endpoint", "status", "id"], name="webhook_delivery_queue")]

    def __str__(self):
        return f"{self.event} to {self.endpoint} ({self.status})"

    @property
    def latest_attempt(self):
        """The last try (from the prefetched log, when it was prefetched)."""
        attempts = list(self.attempt_log.all())
        return attempts[-1] if attempts else None


class WebhookAttempt(models.Model):
    """One try of a delivery: what the receiver answered, or why nothing was sent."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.CharField(max_length=1000, blank=True, help_text="The start of the answer.")
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["delivery", "number"]

    def __str__(self):
        return f"Attempt {self.number} of {self.delivery_id}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
