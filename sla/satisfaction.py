"""Customer satisfaction: ask when a ticket is resolved, record one rating per ticket.

When a ticket of an inbox that asks (``Inbox.satisfaction_survey``) is resolved, a
``Satisfaction`` row is made with ``ask_at`` = now + the inbox's delay. The scheduler
(``escalate_sla``, beside the SLA checks) sends each due survey once, with
``SELECT ... FOR UPDATE SKIP LOCKED``, through the notifications (an email with a link to
the rating page; the customer's private page offers the same). A ticket reopened before
its survey went out is not asked until it is resolved again.

The rating page is safe from mail scanners: following a link only shows it (with the
choice from the link preselected); only the POST of its form records. A ticket has one
rating; the customer may change it for 7 days after first rating it.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from tickets import events, notifications
from tickets.actors import Actor
from tickets.exceptions import InvalidInput, InvalidTransition
from tickets.models import Ticket, TicketEvent
from tickets.outbox import enqueue_with_change

from .models import Satisfaction

CHANGEABLE_FOR = timedelta(days=7)
COMMENT_MAX_LENGTH = 2000
RATEABLE_STATUSES = frozenset({Ticket.Status.RESOLVED, Ticket.Status.CLOSED})


def on_resolved(*, ticket: Ticket, at: datetime) -> None:
    """A ticket was resolved: schedule its survey if its inbox asks and it was never asked."""
    inbox = ticket.inbox
    if not inbox.satisfaction_survey:
        return
    survey, created = Satisfaction.objects.get_or_create(
        ticket=ticket,
        defaults={
            "organization_id": ticket.organization_id,
            "ask_at": at + timedelta(minutes=inbox.satisfaction_delay_minutes),
        },
    )
    if not created and survey.asked_at is None and not survey.rating:
        Satisfaction.objects.filter(pk=survey.pk).update(
            ask_at=at + timedelta(minutes=inbox.satisfaction_delay_minutes)
        )


def send_due_surveys(*, now: datetime | None = None, batch_size: int = 100) -> int:
    """Send every survey whose time has come, once; returns how many were sent."""
    sent = 0
    while True:
        at = now or timezone.now()
        with transaction.atomic():
            due = list(
                Satisfaction.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("ticket")
                .filter(asked_at__isnull=True, ask_at__lte=at)
                .order_by("ask_at")[:batch_size]
            )
            for survey in due:
                if survey.ticket.status in RATEABLE_STATUSES and not survey.rating:
                    enqueue_with_change(notifications.notify_satisfaction_survey, survey.ticket_id)
                    survey.asked_at = at
                    sent += 1
                else:
                    survey.ask_at = None  # reopened (or rated already): asked on the next resolve
                survey.save(update_fields=["asked_at", "ask_at"])
        if len(due) < batch_size:
            return sent


def rate(*, ticket: Ticket, rating: str, comment: str = "", actor: Actor) -> Satisfaction:
    """Record (or, within 7 days of the first rating, change) the ticket's rating."""
    if rating not in Satisfaction.Rating.values:
        raise InvalidInput("rating", "Choose good or bad.")
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX_LENGTH:
        raise InvalidInput("comment", f"At most {COMMENT_MAX_LENGTH} characters.")
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().select_related("inbox").get(pk=ticket.pk)
        if ticket.status not in RATEABLE_STATUSES:
            raise InvalidTransition("Only a resolved or closed ticket can be rated.")
        survey, _ = Satisfaction.objects.select_for_update().get_or_create(
            ticket=ticket, defaults={"organization_id": ticket.organization_id}
        )
        now = timezone.now()
        if survey.first_rated_at is not None and now - survey.first_rated_at > CHANGEABLE_FOR:
            raise InvalidTransition("This rating can no longer be changed: it is more than 7 days old.")
        before = survey.rating or None
        survey.rating, survey.comment, survey.rated_at = rating, comment, now
        survey.first_rated_at = survey.first_rated_at or now
        survey.asked_at = survey.asked_at or now  # rated from the private page: never ask again
        survey.save(update_fields=["rating", "comment", "rated_at", "first_rated_at", "asked_at"])
        TicketEvent.objects.create(
            ticket=ticket,
            action=TicketEvent.Action.SATISFACTION_RATED,
            actor_user=actor.user,
            actor_customer=actor.customer,
            actor_label=actor.label[:200],
            field="satisfaction",
            before=before,
            after=rating,
        )
        events.publish(
            events.SatisfactionRated(
                actor=actor,
                organization_id=ticket.organization_id,
                ticket_id=ticket.pk,
                rating=rating,
                comment=comment,
            )
        )
    return survey


def can_change(survey: Satisfaction | None, now: datetime | None = None) -> bool:
    if survey is None or survey.first_rated_at is None:
        return True
    return (now or timezone.now()) - survey.first_rated_at <= CHANGEABLE_FOR
