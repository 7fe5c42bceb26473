"""Sending deliveries: in order, signed, retried with backoff, and logged per attempt.

One worker at a time sends an endpoint's deliveries (it holds the endpoint's lease), in
the order the changes were made. A delivery waits while an earlier one of the same
ticket (or customer) is still pending — so a receiver never hears "resolved" before
"created" — but another ticket's deliveries go on. A 2xx is delivered; any other answer,
a timeout or a refused connection is tried again after a growing pause with jitter
(``backoff``) until ``WEBHOOK_RETRY_WINDOW_HOURS`` after the first try. A 410 disables
the endpoint at once; an endpoint that has failed without a single success for
``WEBHOOK_DISABLE_AFTER_DAYS`` is disabled too, and the organization's owners are told.
"""

import logging
import random
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership

from ..models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from . import signing, transport

logger = logging.getLogger(__name__)

USER_AGENT = "Helpdesk-Webhooks/1.0"
# How long a worker may hold an endpoint before another may take over (it renews it
# after every batch; a worker that died frees the endpoint after this long).
LEASE = timedelta(minutes=2)
BATCH_SIZE = 200
# The pause grows fourfold after each failed try, up to this.
LONGEST_PAUSE = timedelta(hours=12)
# Failed tries in a row after which a drain stops for now (the next one comes with the
# earliest retry): a receiver that is down or times out costs a worker a few tries per
# retry, not one per pending ticket.
FAILURES_BEFORE_PAUSE = 3


def backoff(attempts: int) -> timedelta:
    """The pause after the ``attempts``-th failed try: 30 s, 2 min, 8 min, 32 min, ... at
    most 12 h, each ±20 % so that receivers coming back are not hit by every retry at once.

    With the 72 h window that is about a dozen tries over three days.
    """
    seconds = settings.WEBHOOK_RETRY_BASE_SECONDS * 4 ** max(attempts - 1, 0)
    seconds = min(seconds, LONGEST_PAUSE.total_seconds())
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))  # noqa: S311 - jitter, not a secret


# Scheduling ------------------------------------------------------------------------------


@task()
def deliver_endpoint(endpoint_id: int) -> int:
    """Send the endpoint's due deliveries; returns how many were delivered."""
    return drain(endpoint_id)


def _enqueue_drains(endpoint_ids: list[int], run_after=None) -> None:
    for endpoint_id in endpoint_ids:
        try:
            with transaction.atomic():
                if run_after is None:
                    deliver_endpoint.enqueue(endpoint_id)
                else:
                    deliver_endpoint.using(run_after=run_after).enqueue(endpoint_id)
        except Exception:
            # The deliveries stay pending: the next drain, or `manage.py deliver_webhooks`,
            # sends them.
            logger.exception("Could not enqueue the deliveries of webhook endpoint %s", endpoint_id)


def enqueue_drains(endpoint_ids, *, run_after=None) -> None:
    """Have the endpoints' deliveries sent by a worker, once the current transaction commits.

    The database backend enqueues inside the transaction (the task commits with the
    deliveries or not at all); the others after commit, so a send never runs before its
    rows are visible.
    """
    endpoint_ids = sorted(set(endpoint_ids))
    if not endpoint_ids:
        return
    if run_after is not None and not deliver_endpoint.get_backend().supports_defer:
        return  # Nothing can wait here: `manage.py deliver_webhooks` picks retries up.
    if run_after is None:
        endpoint_ids = _claim_drains(endpoint_ids)
    from django_tasks_db import DatabaseBackend

    if isinstance(deliver_endpoint.get_backend(), DatabaseBackend):
        _enqueue_drains(endpoint_ids, run_after)
    else:
        transaction.on_commit(lambda: _enqueue_drains(endpoint_ids, run_after))


# A drain queued this long ago that has not started is taken as lost: queue another.
QUEUED_DRAIN_LOST_AFTER = timedelta(minutes=10)


def _claim_drains(endpoint_ids: list[int]) -> list[int]:
    """The endpoints that have no drain queued yet, now marked as having one.

    A busy organization records events faster than a worker starts drains: one queued
    drain per endpoint sends them all, instead of a task per event that finds nothing.
    """
    now = timezone.now()
    unclaimed = Q(drain_queued_at__isnull=True) | Q(drain_queued_at__lt=now - QUEUED_DRAIN_LOST_AFTER)
    # One conditional UPDATE each (an organization has at most a few endpoints): of two
    # workers recording at once, exactly one queues the drain.
    return [
        endpoint_id
        for endpoint_id in endpoint_ids
        if WebhookEndpoint.objects.filter(unclaimed, pk=endpoint_id).update(drain_queued_at=now)
    ]


def due_endpoint_ids() -> list[int]:
    """Active endpoints with a pending delivery due now (for the sweeper)."""
    return list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING,
            endpoint__active=True,
            next_attempt_at__lte=timezone.now(),
        )
        .values_list("endpoint_id", flat=True)
        .distinct()
        .order_by("endpoint_id")
    )


# The lease -------------------------------------------------------------------------------


def _take_lease(endpoint_id: int) -> bool:
    now = timezone.now()
    return bool(
        WebhookEndpoint.objects.filter(pk=endpoint_id, active=True)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + LEASE)
    )


def _renew_lease(endpoint_id: int) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint_id).update(lease_until=timezone.now() + LEASE)


def _release_lease(endpoint_id: int) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint_id).update(lease_until=None)


# Sending ---------------------------------------------------------------------------------


def drain(endpoint_id: int) -> int:
    """Send what is due for one endpoint, in order, until nothing more can go now."""
    delivered = failed = 0
    # From here on, deliveries recorded need a drain of their own (this one may have read
    # past them): the next recording queues one.
    WebhookEndpoint.objects.filter(pk=endpoint_id, drain_queued_at__isnull=False).update(drain_queued_at=None)
    while _take_lease(endpoint_id):
        newest_seen = 0
        # Tickets (ordering keys) whose next delivery must wait: for its retry, or because
        # it just failed. Their later deliveries are left out of the following pages.
        blocked: set[str] = set()
        try:
            while True:
                result = _send_page(endpoint_id, blocked)
                delivered += result.delivered
                failed += result.attempted - result.delivered
                newest_seen = max(newest_seen, result.newest_id)
                if not result.examined or result.receiver_down:
                    break
                _renew_lease(endpoint_id)
        finally:
            _release_lease(endpoint_id)
        if result.receiver_down:
            break
        # A delivery recorded while the lease was held had its own drain turned away:
        # take the lease again for it rather than leave it waiting for a retry.
        arrived = WebhookDelivery.objects.filter(
            endpoint_id=endpoint_id,
            status=WebhookDelivery.Status.PENDING,
            pk__gt=newest_seen,
            next_attempt_at__lte=timezone.now(),
        )
        if not arrived.exists():
            break
    _schedule_retries(endpoint_id)
    return delivered


@dataclass(frozen=True)
class PageResult:
    examined: int = 0
    attempted: int = 0
    delivered: int = 0
    newest_id: int = 0
    # Several tries in a row failed: the receiver is down (or timing out), so the other
    # tickets' deliveries wait for the next drain instead of each costing a try now.
    receiver_down: bool = False


def _send_page(endpoint_id: int, blocked: set[str]) -> PageResult:
    """One page of the endpoint's pending deliveries, oldest change first, leaving out the
    tickets in ``blocked`` (and adding to it those that must wait now)."""
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id, active=True).first()
    if endpoint is None:
        return PageResult()
    pending = (
        WebhookDelivery.objects.filter(endpoint=endpoint, status=WebhookDelivery.Status.PENDING)
        .select_related("event")
        .order_by("event__occurred_at", "event_id")
    )
    if blocked:
        pending = pending.exclude(event__ordering_key__in=blocked)
    page = list(pending[:BATCH_SIZE])
    outcomes = Outcomes(endpoint)
    sender = transport.Sender(endpoint.url, timeout=settings.WEBHOOK_TIMEOUT_SECONDS)
    attempted = delivered = failures_in_a_row = 0
    try:
        for delivery in page:
            key = delivery.event.ordering_key
            if key in blocked:
                continue
            if delivery.next_attempt_at and delivery.next_attempt_at > timezone.now():
                blocked.add(key)  # Waiting for its retry: later ones of this ticket wait too.
                continue
            attempted += 1
            if attempt(endpoint, delivery, outcomes, sender):
                delivered += 1
                failures_in_a_row = 0
            else:
                blocked.add(key)
                failures_in_a_row += 1
            if not endpoint.active or failures_in_a_row >= FAILURES_BEFORE_PAUSE:
                break
    finally:
        sender.close()
        outcomes.write()
    return PageResult(
        examined=len(page),
        attempted=attempted,
        delivered=delivered,
        newest_id=max((delivery.pk for delivery in page), default=0),
        receiver_down=failures_in_a_row >= FAILURES_BEFORE_PAUSE or not endpoint.active,
    )


def request_for(endpoint: WebhookEndpoint, delivery: WebhookDelivery, now) -> tuple[bytes, dict]:
    body = delivery.event.body
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": delivery.event.public_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signing.signature_header(
            endpoint.signing_secrets(now), message_id=delivery.event.public_id, timestamp=timestamp, body=body
        ),
    }
    return body.encode(), headers


def attempt(endpoint: WebhookEndpoint, delivery: WebhookDelivery, outcomes: "Outcomes", sender) -> bool:
    """Try one delivery now and note the outcome; True when it was delivered."""
    started_at = timezone.now()
    body, headers = request_for(endpoint, delivery, started_at)
    answer = sender.post(body, headers)
    outcomes.add(delivery, answer, started_at)
    return answer.ok


class Outcomes:
    """What a drain's tries did, written together, every ``WRITE_EVERY`` tries and at the
    end of each page: a commit costs more than a POST to a nearby receiver, so one per try
    would cap a worker's rate. A worker that dies before writing sends those deliveries
    again (at least once: receivers drop a repeated webhook-id). A disabled endpoint is
    written at once."""

    WRITE_EVERY = 50

    def __init__(self, endpoint: WebhookEndpoint):
        self.endpoint = endpoint
        self.attempts: list[WebhookAttempt] = []
        self.deliveries: list[WebhookDelivery] = []
        self.failing_since_changed = False
        self.disable_reason = ""

    def add(self, delivery: WebhookDelivery, answer: transport.Answer, started_at) -> None:
        now = timezone.now()
        endpoint = self.endpoint
        delivery.attempts += 1
        delivery.first_attempt_at = delivery.first_attempt_at or started_at
        delivery.last_attempt_at = started_at
        self.attempts.append(
            WebhookAttempt(
                delivery=delivery,
                number=delivery.attempts,
                started_at=started_at,
                duration_ms=answer.duration_ms,
                status_code=answer.status_code,
                response_body=answer.body,
                error=answer.error[:300],
            )
        )
        self.deliveries.append(delivery)
        if answer.ok:
            delivery.status = WebhookDelivery.Status.DELIVERED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            if endpoint.failing_since is not None:
                endpoint.failing_since = None
                self.failing_since_changed = True
        elif answer.status_code == 410:
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.next_attempt_at = None
            self._disable(WebhookEndpoint.DisabledReason.GONE)
        else:
            self._after_failure(delivery, now)
        if self.disable_reason or len(self.attempts) >= self.WRITE_EVERY:
            self.write()

    def _disable(self, reason: str) -> None:
        self.disable_reason = reason
        self.endpoint.active = False  # The drain stops at once; write() records it.

    def _after_failure(self, delivery: WebhookDelivery, now) -> None:
        endpoint = self.endpoint
        if endpoint.failing_since is None:
            endpoint.failing_since = now
            self.failing_since_changed = True
        if now - endpoint.failing_since >= timedelta(days=settings.WEBHOOK_DISABLE_AFTER_DAYS):
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.next_attempt_at = None
            self._disable(WebhookEndpoint.DisabledReason.FAILING)
            return
        pause = backoff(delivery.attempts)
        window = timedelta(hours=settings.WEBHOOK_RETRY_WINDOW_HOURS)
        if now + pause > delivery.first_attempt_at + window:
            delivery.status = WebhookDelivery.Status.FAILED  # Given up: about three days of tries.
            delivery.next_attempt_at = None
        else:
            delivery.next_attempt_at = now + pause

    def write(self) -> None:
        if not self.attempts and not self.failing_since_changed and not self.disable_reason:
            return
        endpoint = self.endpoint
        with transaction.atomic():
            WebhookAttempt.objects.bulk_create(self.attempts)
            _save_progress(self.deliveries)
            if self.failing_since_changed:
                rows = WebhookEndpoint.objects.filter(pk=endpoint.pk)
                if endpoint.failing_since is None:
                    rows.update(failing_since=None)
                else:
                    # The first failure of a streak starts it; a later one never moves it.
                    rows.filter(failing_since__isnull=True).update(failing_since=endpoint.failing_since)
            if self.disable_reason:
                disable_endpoint(endpoint, self.disable_reason)
        self.attempts, self.deliveries = [], []
        self.failing_since_changed, self.disable_reason = False, ""


PROGRESS_FIELDS = (
    "status",
    "attempts",
    "next_attempt_at",
    "first_attempt_at",
    "last_attempt_at",
    "delivered_at",
)


def _save_progress(deliveries: list[WebhookDelivery]) -> None:
    """One UPDATE per delivery, sent together (executemany: one round trip with psycopg's
    pipeline). ``bulk_update`` would build a CASE per row and field in Python, which costs
    a busy worker more than the POSTs themselves."""
    if not deliveries:
        return
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    columns = [WebhookDelivery._meta.get_field(name) for name in PROGRESS_FIELDS]
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in columns)
    # Names from the model, values as parameters.
    sql = f"UPDATE {quote(WebhookDelivery._meta.db_table)} SET {assignments} WHERE {quote('id')} = %s"  # noqa: S608
    rows = [
        [field.get_db_prep_save(getattr(delivery, field.attname), connection) for field in columns]
        + [delivery.pk]
        for delivery in deliveries
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _schedule_retries(endpoint_id: int) -> None:
    """Where a worker can wait: a drain when the earliest retry of this endpoint is due.

    Only one such drain is queued at a time (``retry_drain_at``); an earlier retry moves
    it forward. Every drain asks, not only one that failed: a drain that delivered the
    receiver's first answers after an outage leaves the later retries waiting too.
    """
    now = timezone.now()
    earliest = (
        WebhookDelivery.objects.filter(
            endpoint_id=endpoint_id,
            endpoint__active=True,
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at__gt=now,
        )
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    if earliest is None:
        return
    claimed = (
        WebhookEndpoint.objects.filter(pk=endpoint_id)
        .filter(Q(retry_drain_at__isnull=True) | Q(retry_drain_at__lte=now) | Q(retry_drain_at__gt=earliest))
        .update(retry_drain_at=earliest)
    )
    if claimed:
        enqueue_drains([endpoint_id], run_after=earliest)


# Disabling -------------------------------------------------------------------------------


def disable_endpoint(endpoint: WebhookEndpoint, reason: str) -> bool:
    """Stop sending to the endpoint (its pending deliveries wait) and tell the owners."""
    now = timezone.now()
    disabled = WebhookEndpoint.objects.filter(pk=endpoint.pk, active=True).update(
        active=False, disabled_reason=reason, disabled_at=now, updated_at=now
    )
    endpoint.active = False
    endpoint.disabled_reason = reason
    endpoint.disabled_at = now
    if disabled:
        logger.warning("Webhook endpoint %s disabled: %s", endpoint.pk, reason)
        endpoint_id = endpoint.pk
        transaction.on_commit(lambda: _enqueue_owner_notice(endpoint_id))
    return bool(disabled)


def _enqueue_owner_notice(endpoint_id: int) -> None:
    try:
        notify_owners_endpoint_disabled.enqueue(endpoint_id)
    except Exception:
        logger.exception("Could not enqueue the notice about webhook endpoint %s", endpoint_id)


@task()
def notify_owners_endpoint_disabled(endpoint_id: int) -> int:
    """Email the organization's owners that an endpoint was disabled; returns how many."""
    endpoint = WebhookEndpoint.objects.select_related("organization").filter(pk=endpoint_id).first()
    if endpoint is None or endpoint.active:
        return 0  # Deleted or enabled again before this ran.
    owners = list(
        Membership.objects.filter(organization=endpoint.organization, role=Membership.Role.OWNER)
        .select_related("user")
        .order_by("user__email")
    )
    if not owners:
        return 0
    path = reverse("webhooks-dashboard:detail", args=[endpoint.public_id])
    context = {
        "endpoint": endpoint,
        "organization": endpoint.organization,
        "reason": endpoint.get_disabled_reason_display(),
        "settings_url": f"{settings.SITE_URL}{path}",
        "disable_after_days": settings.WEBHOOK_DISABLE_AFTER_DAYS,
    }
    subject = render_to_string("emails/webhook_disabled-subject.txt", context).strip()
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("emails/webhook_disabled-body.txt", context),
        to=[membership.user.email for membership in owners],
    )
    message.attach_alternative(render_to_string("emails/webhook_disabled-body.html", context), "text/html")
    message.send()
    return len(owners)
