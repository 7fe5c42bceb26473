"""What people hear about a change: the first subscriber of the domain events.

The ``on_*`` handlers are registered in ``tickets/subscribers.py``. They hear their
events inside the transaction that made the change and only enqueue tasks (the
``notify_*`` tasks below) with it (``outbox.enqueue_with_change``): on the database task
backend the task row commits with the ticket or not at all, so no notification is lost
to a crash after the COMMIT, and the request does no rendering and no sending. Each
task receives ids and the actor the event carried, reads the committed rows fresh,
records one queued ``Delivery`` per email — rendered then, so the row says exactly what
will be sent — and hands the sending to ``send_deliveries`` (tickets/tasks.py). With
``SUPPORT_EMAIL_SENDER=none`` nothing is enqueued or recorded: tickets are only stored.

The tasks never raise: a failure there is logged, and must not turn a stored ticket into
an error answer (with the default task backend they run in the web process, after the
response: helpdesk/tasks_backend.py).
"""

import functools
import logging
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.tasks import task
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import Membership, User

from . import events
from .mail import addresses, outbound
from .models import Customer, Delivery, Inbox, Message, Notification, Ticket, TicketFollower
from .outbox import enqueue_with_change
from .selectors import CAN_SIGN_IN
from .services.agent_notifications import mentioned_agents, preferences_of
from .services.inboxes import address_verification_token
from .tasks import enqueue_deliveries

logger = logging.getLogger(__name__)

Kind = Delivery.Kind


def _never_raise(function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except Exception:
            logger.exception("Notification %s%r failed", function.__name__, args)
            return []

    return wrapper


def _is_email(value: str) -> bool:
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


def customer_address(ticket: Ticket) -> str:
    """Where the customer wants answers: the ticket's reply address when it is an email."""
    reply = (ticket.reply_address or "").strip()
    address = reply if reply and _is_email(reply) else ticket.customer.email
    if not address or addresses.is_own_address(address):
        # Never mail ourselves: that is how loops start.
        return ""
    return address


def _load_ticket(ticket_id: int) -> Ticket | None:
    return (
        Ticket.objects.select_related("organization", "inbox", "customer", "assignee")
        .filter(pk=ticket_id)
        .first()
    )


def support_name(organization_name: str) -> str:
    """The sender's name of mail to customers: "Acme Support", never "Acme Support Support"."""
    if organization_name.rstrip().lower().endswith("support"):
        return organization_name.strip()
    return f"{organization_name.strip()} Support"


def _base_context(ticket: Ticket) -> dict:
    return {
        "ticket": ticket,
        "organization": ticket.organization,
        "inbox": ticket.inbox,
        "customer": ticket.customer,
        "reply_marker": bool(addresses.reply_address(ticket)),
    }


def _to_customer(ticket: Ticket, **fields) -> Delivery | None:
    return outbound.queue_delivery(
        recipient=customer_address(ticket),
        ticket=ticket,
        from_address=addresses.sender_address(ticket.inbox),
        reply_to=addresses.reply_address(ticket) or ticket.inbox.notification_address,
        **fields,
    )


def _to_participants(ticket: Ticket, **fields) -> list[Delivery | None]:
    """The people copied on the ticket, each with a reply address issued to them, so their
    answer is threaded and attributed to them."""
    deliveries = []
    for participant in ticket.participants.select_related("customer"):
        address = participant.customer.email
        if not address or addresses.is_own_address(address):
            continue
        issued_to = addresses.issued_to_participant(participant)
        reply_to = addresses.reply_address(ticket, issued_to) or ticket.inbox.notification_address
        deliveries.append(
            outbound.queue_delivery(
                recipient=address,
                ticket=ticket,
                from_address=addresses.sender_address(ticket.inbox),
                reply_to=reply_to,
                **fields,
            )
        )
    return deliveries


def _to_staff(ticket: Ticket, recipient: str, *, agent=None, **fields) -> Delivery | None:
    """Mail to the organization's side. Its reply address is issued to that recipient (the
    agent, else the support mailbox): only an answer arriving there from them counts as
    theirs, so the customer's copy of an address can never post as an agent."""
    issued_to = addresses.issued_to_agent(agent) if agent is not None else addresses.ISSUED_TO_SUPPORT
    return outbound.queue_delivery(
        recipient=recipient,
        ticket=ticket,
        reply_to=addresses.reply_address(ticket, issued_to) or ticket.customer.email,
        **fields,
    )


def _send(deliveries) -> list[Delivery]:
    deliveries = [delivery for delivery in deliveries if delivery is not None]
    enqueue_deliveries([delivery.pk for delivery in deliveries])
    return deliveries


@_never_raise
def ticket_created(ticket_id: int) -> list[Delivery]:
    """A new ticket: a copy to the support address.

    The customer's acknowledgement ("We received your request", with the private link) is
    an organization's trigger, one per channel, each editable (the automation app's
    default triggers, through ``trigger_email``). A conversation an agent started (its
    first message is theirs) instead sends that message to the customer, as a reply is
    sent (``_outbound_conversation``). The assignee (auto-assignment) hears through
    ``ticket_assigned``, called by the same service.
    """
    if not outbound.sending_enabled():
        return []
    ticket = _load_ticket(ticket_id)
    if ticket is None:
        return []
    first = (
        ticket.messages.select_related("author_customer", "author_user").order_by("created_at", "id").first()
    )
    if first is not None and first.author_type == Message.AuthorType.AGENT:
        return _outbound_conversation(ticket, first)
    context = {
        **_base_context(ticket),
        **outbound.message_context(first),
        "dashboard_url": outbound.dashboard_url(ticket),
        "private_url": ticket.private_url,
    }
    organization = ticket.organization.name
    with transaction.atomic():
        return _send(
            [
                _to_staff(
                    ticket,
                    ticket.inbox.notification_address,
                    kind=Kind.NEW_TICKET,
                    template="new_ticket",
                    context=context,
                    message=first,
                    from_name=f"{ticket.customer.display_name} via {organization}",
                    automatic=outbound.AUTO_GENERATED,
                ),
            ]
        )


def _outbound_conversation(ticket: Ticket, first: Message) -> list[Delivery]:
    """The agent's opening message, to the customer: a reply's mail without "Re:", from
    the inbox, answered at the ticket's reply address. No copy to the support address: an
    agent wrote it, nobody there needs telling."""
    context = {
        **_base_context(ticket),
        **outbound.message_context(first),
        "private_url": ticket.private_url,
    }
    with transaction.atomic():
        return _send(
            [
                _to_customer(
                    ticket,
                    kind=Kind.AGENT_REPLY,
                    template="conversation",
                    context=context,
                    message=first,
                    from_name=f"{first.author_name} ({ticket.organization.name})",
                )
            ]
        )


@_never_raise
def message_added(message_id: int) -> list[Delivery]:
    """A reply or a note: replies are mailed to the other side; notes never leave."""
    if not outbound.sending_enabled():
        return []
    message = (
        Message.objects.select_related("author_user", "author_customer", "ticket")
        .filter(pk=message_id)
        .first()
    )
    if message is None or message.kind != Message.Kind.REPLY:
        return []
    ticket = _load_ticket(message.ticket_id)
    context = {
        **_base_context(ticket),
        **outbound.message_context(message),
        "dashboard_url": outbound.dashboard_url(ticket),
        "private_url": ticket.private_url,
    }
    organization = ticket.organization.name
    with transaction.atomic():
        if message.author_type == Message.AuthorType.CUSTOMER:
            if ticket.assignee_id:
                _, by_email = preferences_of([ticket.assignee_id], Notification.Kind.CUSTOMER_REPLY)[
                    ticket.assignee_id
                ]
                if not by_email:
                    return []  # The assignee hears in the bell only (their choice).
            recipient = ticket.assignee.email if ticket.assignee else ticket.inbox.notification_address
            delivery = _to_staff(
                ticket,
                recipient,
                agent=ticket.assignee,
                kind=Kind.CUSTOMER_REPLY,
                template="customer_reply",
                context=context,
                message=message,
                from_name=f"{message.author_name} via {organization}",
                automatic=outbound.AUTO_GENERATED,
            )
            return _send([delivery])
        fields = {
            "kind": Kind.AGENT_REPLY,
            "template": "agent_reply",
            "context": context,
            "message": message,
            "from_name": f"{message.author_name} ({organization})",
        }
        return _send([_to_customer(ticket, **fields), *_to_participants(ticket, **fields)])


@_never_raise
def status_changed(
    ticket_id: int, old_status: str, new_status: str, actor_customer_id: int | None = None
) -> list[Delivery]:
    """Resolved or closed: the customer is told (once, and not about their own closing)."""
    Status = Ticket.Status
    if not outbound.sending_enabled() or new_status not in {Status.RESOLVED, Status.CLOSED}:
        return []
    if new_status == Status.CLOSED and old_status == Status.RESOLVED:
        return []  # They heard at "resolved"; closing it for good is bookkeeping.
    ticket = _load_ticket(ticket_id)
    if ticket is None or ticket.status != new_status:
        return []
    if actor_customer_id == ticket.customer_id:
        return []
    context = {
        **_base_context(ticket),
        "new_status": Status(new_status).label,
        "private_url": ticket.private_url,
    }
    with transaction.atomic():
        return _send(
            [
                _to_customer(
                    ticket,
                    kind=Kind.STATUS,
                    template="status",
                    context=context,
                    from_name=support_name(ticket.organization.name),
                    automatic=outbound.AUTO_GENERATED,
                )
            ]
        )


@_never_raise
def ticket_assigned(
    ticket_id: int, assignee_id: int, actor_user_id: int | None = None, actor_label: str = ""
) -> list[Delivery]:
    """The assignee is told by email (unless they took the ticket themselves).

    Only while the ticket is still theirs: a reassignment before this ran tells the newer
    assignee through its own event, and nobody hears twice.
    """
    if not outbound.sending_enabled():
        return []
    ticket = _load_ticket(ticket_id)
    if ticket is None or ticket.assignee_id != assignee_id:
        return []
    if actor_user_id == assignee_id:
        return []
    if not preferences_of([assignee_id], Notification.Kind.ASSIGNED)[assignee_id][1]:
        return []  # In the bell only, as the assignee chose.
    first = ticket.messages.select_related("author_customer").order_by("created_at", "id").first()
    context = {
        **_base_context(ticket),
        **outbound.message_context(first),
        "assignee": ticket.assignee,
        "assigned_by": actor_label,
        "dashboard_url": outbound.dashboard_url(ticket),
    }
    with transaction.atomic():
        return _send(
            [
                _to_staff(
                    ticket,
                    ticket.assignee.email,
                    agent=ticket.assignee,
                    kind=Kind.ASSIGNED,
                    template="assigned",
                    context=context,
                    from_name=f"{ticket.organization.name} Helpdesk",
                    automatic=outbound.AUTO_GENERATED,
                )
            ]
        )


@_never_raise
def portal_link_requested(customer_id: int, link: str) -> list[Delivery]:
    """A customer asked to sign in to the portal: mail them the sign-in link."""
    if not outbound.sending_enabled():
        return []
    customer = Customer.objects.select_related("organization").filter(pk=customer_id).first()
    if customer is None or not customer.email or addresses.is_own_address(customer.email):
        return []
    context = {"customer": customer, "organization": customer.organization, "link": link}
    with transaction.atomic():
        return _send(
            [
                outbound.queue_delivery(
                    kind=Kind.PORTAL_LINK,
                    recipient=customer.email,
                    template="portal_link",
                    context=context,
                    from_name=support_name(customer.organization.name),
                    automatic=outbound.AUTO_GENERATED,
                )
            ]
        )


@_never_raise
def address_verification_requested(inbox_id: int, address: str) -> list[Delivery]:
    """An inbox named a support address: mail the verification link to that address.

    Only our own words and the organization's name go to an address nobody has proven
    yet: no inbox text an owner typed, so the mail cannot carry anyone's message.
    """
    if not outbound.sending_enabled():
        return []
    inbox = Inbox.objects.select_related("organization").filter(pk=inbox_id).first()
    if inbox is None or inbox.support_email.lower() != address.lower() or inbox.support_email_verified:
        return []  # Changed again, or verified, before this ran.
    path = reverse("dashboard:verify-inbox-address", args=[address_verification_token(inbox)])
    context = {
        "organization": inbox.organization,
        "address": inbox.support_email,
        "link": settings.SITE_URL + path,
    }
    with transaction.atomic():
        return _send(
            [
                outbound.queue_delivery(
                    kind=Kind.ADDRESS_VERIFICATION,
                    recipient=inbox.support_email,
                    template="address_verification",
                    context=context,
                    from_name="Helpdesk",
                    automatic=outbound.AUTO_GENERATED,
                )
            ]
        )


@_never_raise
def assignee_alerted(ticket_id: int, assignee_id: int) -> Notification | None:
    """The bell in the dashboard: the assignee sees the ticket among their notifications."""
    ticket = Ticket.objects.filter(pk=ticket_id, assignee_id=assignee_id).only("reference", "subject").first()
    if ticket is None:
        return None  # Reassigned before this ran: the newer assignee is told instead.
    in_app, _ = preferences_of([assignee_id], Notification.Kind.ASSIGNED)[assignee_id]
    if not in_app:
        return None
    return Notification.objects.create(
        user_id=assignee_id,
        ticket=ticket,
        kind=Notification.Kind.ASSIGNED,
        text=f"{ticket.reference} was assigned to you: {ticket.subject}"[:300],
    )


SLA_TARGET_WORDS = {"first_reply": "first reply", "next_reply": "next reply", "resolution": "resolution"}


def readable_instant(value: str) -> str:
    """A due time as the task carries it (ISO 8601) in words, e.g. "Wed 4 Mar 2026, 10:00
    UTC", in the installation's time zone; anything else as it came."""
    try:
        instant = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return str(value)
    if timezone.is_naive(instant):
        return str(value)
    return date_format(timezone.localtime(instant), "D j M Y, H:i T")


def sla_recipients(ticket: Ticket) -> list:
    """Who hears of a ticket's SLA warning or breach: its assignee, else the organization's
    owners and admins (who run its inboxes)."""
    if ticket.assignee_id is not None:
        return [ticket.assignee]
    return [
        membership.user
        for membership in Membership.objects.filter(
            organization_id=ticket.organization_id,
            role__in=[Membership.Role.OWNER, Membership.Role.ADMIN],
            user__is_active=True,
        ).select_related("user")
    ]


@_never_raise
def sla_alerted(ticket_id: int, target: str, breached: bool, due_at: str) -> list[Delivery]:
    """A warning or a breach: a bell notification and an email to each recipient."""
    ticket = _load_ticket(ticket_id)
    if ticket is None:
        return []
    recipients = sla_recipients(ticket)
    words = SLA_TARGET_WORDS.get(target, target)
    text = (
        f"{ticket.reference}: the {words} target was missed: {ticket.subject}"
        if breached
        else f"{ticket.reference}: the {words} target is due soon: {ticket.subject}"
    )
    Notification.objects.bulk_create(
        [Notification(user=user, ticket=ticket, text=text[:300]) for user in recipients]
    )
    if not outbound.sending_enabled():
        return []
    context = {
        **_base_context(ticket),
        "breached": breached,
        "target": words,
        "due_at": readable_instant(due_at),
        "dashboard_url": outbound.dashboard_url(ticket),
    }
    with transaction.atomic():
        return _send(
            [
                _to_staff(
                    ticket,
                    user.email,
                    agent=user,
                    kind=Kind.SLA,
                    template="sla",
                    context={**context, "agent": user},
                    from_name=f"{ticket.organization.name} Helpdesk",
                    automatic=outbound.AUTO_GENERATED,
                )
                for user in recipients
            ]
        )


@_never_raise
def satisfaction_survey(ticket_id: int) -> list[Delivery]:
    """Ask the customer of a resolved ticket for a rating: two links to the rating page,
    which records nothing until its button is clicked (mail scanners follow links)."""
    ticket = _load_ticket(ticket_id)
    if ticket is None or not outbound.sending_enabled():
        return []
    path = reverse("sla-survey:rate", args=[ticket.public_id, ticket.access_key])
    base = f"{settings.SITE_URL}{path}"
    context = {
        **_base_context(ticket),
        "good_url": f"{base}?rating=good",
        "bad_url": f"{base}?rating=bad",
    }
    with transaction.atomic():
        return _send(
            [
                _to_customer(
                    ticket,
                    kind=Kind.SATISFACTION,
                    template="satisfaction",
                    context=context,
                    from_name=support_name(ticket.organization.name),
                    automatic=outbound.AUTO_GENERATED,
                )
            ]
        )


@_never_raise
def agents_alerted(message_id: int) -> list[Notification]:
    """Who on the team hears of a message, in the bell and by email, as each chose
    (NotificationPreference): a customer's reply, the assignee (every agent of the
    organization while nobody is assigned); an @mention in a note, the agent mentioned;
    anything on a followed ticket, its followers. Never the message's own author."""
    message = (
        Message.objects.select_related("ticket", "author_user", "author_customer")
        .filter(pk=message_id)
        .first()
    )
    if message is None:
        return []
    ticket = message.ticket
    Kinds = Notification.Kind
    wanted: dict[int, str] = {}
    if message.author_type == Message.AuthorType.CUSTOMER and message.kind == Message.Kind.REPLY:
        if ticket.assignee_id:
            wanted[ticket.assignee_id] = Kinds.CUSTOMER_REPLY
        else:
            for user_id in (
                Membership.objects.filter(CAN_SIGN_IN, organization_id=ticket.organization_id)
                .values_list("user_id", flat=True)
                .order_by("user_id")[:MAX_ALERTED]
            ):
                wanted[user_id] = Kinds.CUSTOMER_REPLY
    if message.kind == Message.Kind.NOTE:
        for agent in mentioned_agents(ticket.organization_id, message.body):
            wanted[agent.pk] = Kinds.MENTION
    for user_id in TicketFollower.objects.filter(ticket=ticket).values_list("user_id", flat=True):
        wanted.setdefault(user_id, Kinds.FOLLOWING)
    wanted.pop(message.author_user_id, None)
    if not wanted:
        return []

    texts = {
        Kinds.CUSTOMER_REPLY: f"{message.author_name} replied on {ticket.reference}: {ticket.subject}",
        Kinds.MENTION: f"{message.author_name} mentioned you on {ticket.reference}: {ticket.subject}",
        Kinds.FOLLOWING: f"New {'note' if message.kind == Message.Kind.NOTE else 'reply'} by "
        f"{message.author_name} on {ticket.reference} (you follow it): {ticket.subject}",
    }
    created, emails = [], []
    for kind in {*wanted.values()}:
        user_ids = [user_id for user_id, chosen in wanted.items() if chosen == kind]
        for user_id, (in_app, email) in preferences_of(user_ids, kind).items():
            if in_app:
                created.append(
                    Notification(user_id=user_id, ticket=ticket, kind=kind, text=texts[kind][:300])
                )
            if email and kind in (Kinds.MENTION, Kinds.FOLLOWING):
                emails.append((user_id, kind))
    Notification.objects.bulk_create(created)
    if emails and outbound.sending_enabled():
        _mail_agents(message, emails)
    return created


# A customer's reply on an unassigned ticket tells at most this many agents in the bell.
MAX_ALERTED = 200


def _mail_agents(message: Message, recipients: list[tuple[int, str]]) -> list[Delivery]:
    """Mentions and followed activity by email (a customer's reply has its own mail)."""
    ticket = _load_ticket(message.ticket_id)
    agents = {user.pk: user for user in User.objects.filter(pk__in=[user_id for user_id, _ in recipients])}
    base = {
        **_base_context(ticket),
        **outbound.message_context(message),
        "dashboard_url": outbound.dashboard_url(ticket),
        "private_url": ticket.private_url,
    }
    deliveries = []
    with transaction.atomic():
        for user_id, kind in recipients:
            agent = agents.get(user_id)
            if agent is None:
                continue
            mention = kind == Notification.Kind.MENTION
            deliveries.append(
                _to_staff(
                    ticket,
                    agent.email,
                    agent=agent,
                    kind=Kind.MENTION if mention else Kind.CUSTOMER_REPLY,
                    template="mention" if mention else "customer_reply",
                    context={**base, "agent": agent},
                    message=message,
                    from_name=f"{message.author_name} via {ticket.organization.name}",
                    automatic=outbound.AUTO_GENERATED,
                )
            )
        return _send(deliveries)


# Tasks: what the handlers below enqueue.


@task()
def notify_ticket_created(ticket_id: int) -> None:
    ticket_created(ticket_id)


@task()
def notify_message_created(message_id: int) -> None:
    agents_alerted(message_id)
    message_added(message_id)


@task()
def notify_status_changed(
    ticket_id: int, old_status: str, new_status: str, actor_customer_id: int | None
) -> None:
    status_changed(ticket_id, old_status, new_status, actor_customer_id)


@task()
def notify_assignee(ticket_id: int, assignee_id: int, actor_user_id: int | None, actor_label: str) -> None:
    assignee_alerted(ticket_id, assignee_id)
    ticket_assigned(ticket_id, assignee_id, actor_user_id, actor_label)


@task()
def notify_sla(ticket_id: int, target: str, breached: bool, due_at: str) -> None:
    sla_alerted(ticket_id, target, breached, due_at)


@task()
def notify_satisfaction_survey(ticket_id: int) -> None:
    satisfaction_survey(ticket_id)


@task()
def notify_portal_link(customer_id: int | None, link: str) -> None:
    """Enqueued for every sign-in request, known address or not (tickets/portal/signin.py)."""
    if customer_id is not None and link:
        portal_link_requested(customer_id, link)


@task()
def notify_address_verification(inbox_id: int, address: str) -> None:
    address_verification_requested(inbox_id, address)


@_never_raise
def trigger_email(ticket_id: int, template: str, subject: str, body: str) -> list[Delivery]:
    """A trigger's mail to the customer: the acknowledgement ("We received your request",
    with the private link), or the subject and body its author wrote, already filled in."""
    if not outbound.sending_enabled():
        return []
    ticket = _load_ticket(ticket_id)
    if ticket is None:
        return []
    organization = ticket.organization.name
    context = {**_base_context(ticket), "private_url": ticket.private_url}
    if template == "acknowledgement":
        first = ticket.messages.select_related("author_customer").order_by("created_at", "id").first()
        if first is None or first.author_type != Message.AuthorType.CUSTOMER:
            # A conversation an agent started: the customer asked nothing to acknowledge,
            # and has the agent's own message (``_outbound_conversation``).
            return []
        fields = {
            "kind": Kind.CONFIRMATION,
            "template": "confirmation",
            "context": {**context, **outbound.message_context(first)},
            "message": first,
        }
    else:
        fields = {
            "kind": Kind.AUTOMATIC,
            "template": "automatic",
            "context": {**context, "subject": subject, "body": body},
        }
    with transaction.atomic():
        return _send(
            [
                _to_customer(
                    ticket, **fields, from_name=support_name(organization), automatic=outbound.AUTO_REPLIED
                )
            ]
        )


@task()
def notify_trigger_email(ticket_id: int, template: str, subject: str, body: str) -> None:
    trigger_email(ticket_id, template, subject, body)


def enqueue_trigger_email(ticket_id: int, template: str, subject: str, body: str) -> None:
    """Mail the customer as a trigger's action, as part of the change (the outbox)."""
    if outbound.sending_enabled():
        enqueue_with_change(notify_trigger_email, ticket_id, template, subject, body)


# Subscribers of the domain events (registered in tickets/subscribers.py).


def _primary_key(instance) -> int | None:
    return instance.pk if instance is not None else None


@events.in_transaction
def on_ticket_created(event: events.TicketCreated) -> None:
    if outbound.sending_enabled():
        enqueue_with_change(notify_ticket_created, event.ticket_id)


@events.in_transaction
def on_message_created(event: events.MessageCreated) -> None:
    # Internal notes never leave the organization, but may @mention an agent or reach a
    # follower: the bell is wanted even when no mail is sent.
    enqueue_with_change(notify_message_created, event.message_id)


@events.in_transaction
def on_status_changed(event: events.TicketStatusChanged) -> None:
    # A duplicate closed by its merge is not "closed" to its customer: the conversation
    # goes on, on the ticket it was merged into.
    if getattr(event.ticket, "merged_into_id", None) is not None:
        return
    if event.after in {Ticket.Status.RESOLVED, Ticket.Status.CLOSED} and outbound.sending_enabled():
        enqueue_with_change(
            notify_status_changed,
            event.ticket_id,
            event.before,
            event.after,
            _primary_key(event.actor.customer),
        )


@events.in_transaction
def on_ticket_assigned(event: events.TicketAssigned) -> None:
    # The in-app notification is wanted even when no mail is sent; nobody is told of what
    # they did themselves ("Take it", or their reply assigning the ticket to them).
    if event.after is not None and _primary_key(event.actor.user) != event.after:
        enqueue_with_change(
            notify_assignee, event.ticket_id, event.after, _primary_key(event.actor.user), event.actor.label
        )


@events.in_transaction
def on_sla_event(event: events.SlaWarning | events.SlaBreached) -> None:
    # The in-app notification is wanted even when no mail is sent.
    enqueue_with_change(
        notify_sla,
        event.ticket_id,
        event.target,
        isinstance(event, events.SlaBreached),
        event.due_at.isoformat(),
    )


def on_inbox_address_claimed(event: events.InboxAddressClaimed) -> None:
    if outbound.sending_enabled():
        notify_address_verification.enqueue(event.inbox_id, event.address)
