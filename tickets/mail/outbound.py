"""Outbound email: render a notification into a Delivery row, then send that row.

A Delivery holds the email exactly as rendered when it was queued (subject, both bodies,
headers), so every attempt — the first, a backed-off retry, a staff "retry" after the
provider recovered — sends the same mail with the same Message-ID, and the row says what
was sent to whom. Sending never runs inside the transaction that changed the ticket.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from tickets import live
from tickets.models import Delivery, Message, Ticket

from . import addresses

logger = logging.getLogger(__name__)

# Marks automatic mail (RFC 3834) so well-behaved autoresponders stay quiet, and asks
# Exchange not to send out-of-office answers to it: no mail loop starts from us.
AUTO_REPLIED = {"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}
AUTO_GENERATED = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"}

# Kinds whose body holds a sign-in secret: cleared from the row once it is sent.
SECRET_KINDS = {Delivery.Kind.PORTAL_LINK, Delivery.Kind.ADDRESS_VERIFICATION}
REDACTED = "[Removed after sending: this email held a sign-in or verification link.]"


def sending_enabled() -> bool:
    """False with SUPPORT_EMAIL_SENDER=none: tickets are only stored, no Delivery rows."""
    return settings.SUPPORT_EMAIL_SENDER != "none"


def dashboard_url(ticket: Ticket) -> str:
    try:
        path = reverse("dashboard:ticket", args=[ticket.public_id])
    except NoReverseMatch:
        path = reverse("dashboard:queue")
    return f"{settings.SITE_URL}{path}"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(template: str, context: dict) -> Rendered:
    """``templates/emails/<template>-subject.txt``, ``-body.txt`` and ``-body.html``."""
    context = {"site_url": settings.SITE_URL, **context}
    subject = addresses.one_line(render_to_string(f"emails/{template}-subject.txt", context), max_length=250)
    text = render_to_string(f"emails/{template}-body.txt", context).strip() + "\n"
    html = render_to_string(f"emails/{template}-body.html", context)
    return Rendered(subject=subject, text=text, html=html)


def message_context(message: Message | None) -> dict:
    if message is None:
        return {}
    return {
        "message": message,
        "message_html": message.html,
        "author_name": message.author_name,
        "attachments": list(message.attachments.all()),
    }


def _threading_headers(ticket: Ticket, recipient: str, message: Message | None) -> dict:
    """In-Reply-To and References so mail clients keep the ticket in one thread."""
    first = ticket.messages.order_by("created_at", "id").only("email_message_id").first()
    root = (first.email_message_id if first and first.email_message_id else "") or addresses.thread_root_id(
        ticket
    )
    references = [root]
    previous = (
        Delivery.objects.filter(ticket=ticket, recipient__iexact=recipient)
        .exclude(message_id_header="")
        .order_by("-created_at", "-id")
        .values_list("message_id_header", flat=True)
        .first()
    )
    if previous:
        references.append(previous)
    if message is not None and message.email_message_id:
        references.append(message.email_message_id)
    references = list(dict.fromkeys(references))
    return {"In-Reply-To": references[-1], "References": " ".join(references[-10:])}


def queue_delivery(
    *,
    kind: str,
    recipient: str,
    template: str,
    context: dict,
    ticket: Ticket | None = None,
    message: Message | None = None,
    from_name: str = "",
    from_address: str = "",
    reply_to: str = "",
    automatic: dict | None = None,
) -> Delivery | None:
    """Render one notification and record it as a queued Delivery; None when not mailable.

    ``from_address`` defaults to ``DEFAULT_FROM_EMAIL``."""
    recipient = (recipient or "").strip().lower()
    if not sending_enabled() or "@" not in recipient:
        return None
    if ticket is not None:
        context = {**context, "thread_marker": addresses.thread_marker(ticket)}
    rendered = render(template, context)
    headers = {**(automatic or {}), "X-Helpdesk-Kind": kind}
    message_id = addresses.new_message_id(ticket)
    if ticket is not None:
        headers.update(_threading_headers(ticket, recipient, message))
        headers["X-Helpdesk-Ticket"] = ticket.reference
    if ticket is not None:
        # The thread shows each email's delivery status.
        live.ticket_changed_on_commit(ticket.pk)
    return Delivery.objects.create(
        ticket=ticket,
        message=message,
        recipient=recipient,
        kind=kind,
        status=Delivery.Status.QUEUED,
        message_id_header=message_id,
        from_email=addresses.named_address(from_name, from_address or settings.DEFAULT_FROM_EMAIL),
        reply_to=reply_to,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        headers={key: addresses.one_line(value, max_length=2000) for key, value in headers.items()},
    )


def build_email(delivery: Delivery) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject=addresses.one_line(delivery.subject),
        body=delivery.body_text,
        from_email=delivery.from_email or settings.DEFAULT_FROM_EMAIL,
        to=[delivery.recipient],
        reply_to=[delivery.reply_to] if delivery.reply_to else [],
        headers={"Message-ID": delivery.message_id_header, **delivery.headers},
    )
    if delivery.body_html:
        email.attach_alternative(delivery.body_html, "text/html")
    return email


def _provider_message_id(email) -> str:
    status = getattr(email, "anymail_status", None)
    message_id = getattr(status, "message_id", None)
    if message_id is None:
        return ""
    if isinstance(message_id, set):
        message_id = ",".join(sorted(str(item) for item in message_id))
    return str(message_id)[:255]


@dataclass(frozen=True)
class Attempt:
    """What one try did: ``sent``, ``retry`` (still queued), ``failed`` or ``skipped``."""

    outcome: str
    delivery: Delivery | None = None
    error: str = ""


def backoff(attempts: int) -> timedelta:
    """Wait before the next try: the base, doubled after each failure, at most a day."""
    seconds = settings.DELIVERY_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, 24 * 3600))


def attempt_delivery(delivery_id: int, *, max_attempts: int | None = None, connection=None) -> Attempt:
    """Try to send one queued Delivery once, and record what happened.

    After ``max_attempts`` tries (``DELIVERY_MAX_ATTEMPTS`` by default) a failure is final.
    ``connection``: an email backend the caller keeps open across several deliveries (one
    SMTP session for a batch); None sends through the default mailer on its own.

    The attempt is claimed by bumping ``attempts`` only if nobody else did since we read
    it, so two workers handed the same delivery never both send it.
    """
    delivery = Delivery.objects.filter(pk=delivery_id).first()
    if delivery is None or delivery.status != Delivery.Status.QUEUED:
        return Attempt("skipped", delivery)
    claimed = Delivery.objects.filter(
        pk=delivery.pk, status=Delivery.Status.QUEUED, attempts=delivery.attempts
    ).update(attempts=F("attempts") + 1, next_attempt_at=None)
    if not claimed:
        return Attempt("skipped", delivery)
    delivery.attempts += 1

    if not sending_enabled():
        error = "No email provider is configured (SUPPORT_EMAIL_SENDER=none)."
        _record_failure(delivery, error, final=True)
        return Attempt("failed", delivery, error)

    email = build_email(delivery)
    try:
        if connection is None:
            email.send(using="default")
        else:
            # Opened once: the backend then keeps it open for the caller's next delivery.
            connection.open()
            connection.send_messages([email])
    except Exception as error:  # noqa: BLE001 - any provider or network error is a failed try
        if connection is not None:
            _close_quietly(connection)
        description = f"{type(error).__name__}: {error}"[:2000]
        final = delivery.attempts >= (max_attempts or settings.DELIVERY_MAX_ATTEMPTS)
        _record_failure(delivery, description, final=final)
        logger.warning("Delivery %s attempt %s failed: %s", delivery.pk, delivery.attempts, description)
        return Attempt("failed" if final else "retry", delivery, description)

    delivery.status = Delivery.Status.SENT
    delivery.sent_at = timezone.now()
    delivery.provider_message_id = _provider_message_id(email)
    delivery.last_error = ""
    fields = ["status", "sent_at", "provider_message_id", "last_error"]
    if delivery.kind in SECRET_KINDS:
        delivery.body_text = REDACTED
        delivery.body_html = ""
        fields += ["body_text", "body_html"]
    delivery.save(update_fields=fields)
    if delivery.ticket_id:
        live.ticket_changed_on_commit(delivery.ticket_id)
    return Attempt("sent", delivery)


def _close_quietly(connection) -> None:
    """Drop a session that failed, so the next delivery opens a fresh one."""
    try:
        connection.close()
    except Exception:  # noqa: BLE001 - the session is already broken; nothing to keep
        logger.debug("Closing a failed mail connection raised", exc_info=True)


def _record_failure(delivery: Delivery, error: str, *, final: bool) -> None:
    delivery.last_error = error
    delivery.status = Delivery.Status.FAILED if final else Delivery.Status.QUEUED
    delivery.save(update_fields=["last_error", "status"])
    if delivery.ticket_id:
        live.ticket_changed_on_commit(delivery.ticket_id)


def schedule_retry(delivery: Delivery, when) -> None:
    Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.QUEUED).update(next_attempt_at=when)
