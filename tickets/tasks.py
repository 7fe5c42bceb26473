"""Background work, through Django's Tasks framework (``django.tasks``).

The backend is ``TASKS_BACKEND``: ``immediate`` runs a task in the web process after
the response is sent, or at once outside a request (helpdesk/tasks_backend.py);
``database`` stores it for ``manage.py db_worker`` (django-tasks-db); ``rq`` hands it
to Redis workers. django.tasks has no retries of its own, so the send
task does them: a failed try is recorded on the Delivery and, while attempts remain, the
task enqueues itself again with ``run_after`` (exponential backoff) where the backend
can defer, or tries again inline a few times after short pauses where it cannot (then
the delivery is failed, for ``manage.py retry_failed_deliveries`` or the admin action).
"""

import logging
import time
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core import mail
from django.db import transaction
from django.db.models import Q
from django.tasks import task
from django.utils import timezone

from tickets import outbox
from tickets.mail import outbound
from tickets.models import Delivery, Ticket
from tickets.services.tickets import resolve_due_pending_tickets

# A sweep of many failed deliveries is sent in tasks of this many, so that several workers
# share it and one slow provider session does not hold them all.
DELIVERIES_PER_TASK = 50

# A queued delivery untouched this long is taken as stuck (its task was lost).
STALE_AFTER = timedelta(hours=1)

logger = logging.getLogger(__name__)


@task()
def send_delivery(delivery_id: int) -> str:
    """Send one queued Delivery; returns what finally happened to it.

    A retry of one delivery runs here; so do the tasks queued by releases before
    ``send_deliveries``.
    """
    return _send_with_retries(delivery_id, connection=None)


@task()
def send_deliveries(delivery_ids: list[int]) -> list[str]:
    """Send the Deliveries one notification queued, over one connection to the provider.

    One task and one SMTP session for the copy to the support address and the customer's
    mail, instead of one each: the worker's round trips are what bounds how fast it
    drains. A delivery that fails is retried on its own (``send_delivery``).
    """
    connection = mail.mailers["default"]
    try:
        return [_send_with_retries(delivery_id, connection=connection) for delivery_id in delivery_ids]
    finally:
        try:
            connection.close()
        except Exception:  # noqa: BLE001 - every delivery's outcome is already recorded
            logger.warning("Closing the mail connection after a batch failed", exc_info=True)


def _send_with_retries(delivery_id: int, *, connection) -> str:
    backend = send_delivery.get_backend()
    max_attempts = settings.DELIVERY_MAX_ATTEMPTS
    if not backend.supports_defer:
        # Inline retries hold up the web process (after the response): keep them few and short.
        max_attempts = min(max_attempts, settings.DELIVERY_INLINE_MAX_ATTEMPTS)
    while True:
        attempt = outbound.attempt_delivery(delivery_id, max_attempts=max_attempts, connection=connection)
        if attempt.outcome != "retry":
            return attempt.outcome
        wait = outbound.backoff(attempt.delivery.attempts)
        if backend.supports_defer:
            run_after = timezone.now() + wait
            outbound.schedule_retry(attempt.delivery, run_after)
            try:
                send_delivery.using(run_after=run_after).enqueue(delivery_id)
            except Exception:
                # The row stays queued with its next_attempt_at: the sweeper
                # (manage.py retry_failed_deliveries) picks it up.
                logger.exception("Could not enqueue the retry of delivery %s", delivery_id)
            return "retry"
        # An immediate backend cannot wait: pause briefly (bounded) and try again.
        pause = settings.DELIVERY_INLINE_RETRY_SECONDS * 2 ** (attempt.delivery.attempts - 1)
        time.sleep(min(pause, 1.0))


def _enqueue_now(delivery_ids: list[int]) -> None:
    for start in range(0, len(delivery_ids), DELIVERIES_PER_TASK):
        batch = delivery_ids[start : start + DELIVERIES_PER_TASK]
        try:
            # A savepoint: a failed insert (database backend) must not break the caller's
            # transaction.
            with transaction.atomic():
                send_deliveries.enqueue(batch)
        except Exception:
            # The Delivery rows are committed and stay queued; the sweeper retries them.
            logger.exception("Could not enqueue deliveries %s", batch)


def enqueue_deliveries(delivery_ids: Iterable[int]) -> None:
    """Hand deliveries to the task backend as part of the surrounding transaction.

    As ``enqueue_with_change``, as one task for all of them; an enqueue that fails leaves
    the Deliveries queued for the sweeper and never breaks the caller's transaction.
    """
    delivery_ids = list(delivery_ids)
    if not delivery_ids:
        return
    if outbox.collecting():
        # In the worker's run of an outbox task: every call's mails go in one send.
        outbox.enqueue_items_with_change(send_deliveries, delivery_ids)
        return
    if outbox.stores_tasks_in_the_database(send_deliveries):
        _enqueue_now(delivery_ids)
    else:
        transaction.on_commit(lambda: _enqueue_now(delivery_ids))


def retry_deliveries(deliveries=None, *, stale_after: timedelta = STALE_AFTER) -> int:
    """Send failed deliveries again (and queued ones stuck longer than ``stale_after``).

    For staff after the provider recovered: ``manage.py retry_failed_deliveries`` and the
    admin action call this. Each gets a fresh round of attempts. Returns how many were
    queued again.
    """
    if deliveries is None:
        deliveries = Delivery.objects.all()
    stale = timezone.now() - stale_after
    candidates = deliveries.filter(
        Q(status=Delivery.Status.FAILED)
        | Q(status=Delivery.Status.QUEUED, created_at__lt=stale)
        & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lt=stale))
    )
    ids = list(candidates.values_list("pk", flat=True))
    if not ids:
        return 0
    with transaction.atomic():
        Delivery.objects.filter(pk__in=ids).update(
            status=Delivery.Status.QUEUED, attempts=0, next_attempt_at=None
        )
        enqueue_deliveries(ids)
    return len(ids)


@task()
def resolve_pending_ticket(ticket_id: int) -> int:
    """Resolve one pending ticket if its auto-resolve time has come (deferred to it)."""
    return resolve_due_pending_tickets(ticket_ids=[ticket_id])


def schedule_auto_resolve(event) -> None:
    """A ticket became pending: have a worker resolve it at its ``auto_resolve_at``.

    Only where the task backend can defer (database, rq); elsewhere ``manage.py
    resolve_pending_tickets`` from cron does it. A reply in between makes the deferred
    run find nothing to do.
    """
    if event.after != "pending" or not resolve_pending_ticket.get_backend().supports_defer:
        return
    due = Ticket.objects.filter(pk=event.ticket_id).values_list("auto_resolve_at", flat=True).first()
    if due is not None:
        resolve_pending_ticket.using(run_after=due).enqueue(event.ticket_id)
