"""Inbound email: anymail's ``inbound`` signal turns a received email into a service call.

anymail's webhook views (``/anymail/<esp>/inbound/``) authenticate the provider and
normalise its payload; we receive the parsed email here (a signal is right for this
because anymail is code we do not own; connected in ``TicketsConfig.ready``).

What an email becomes (docs/deploy.md, "Inbound email"):

1. The thread, in this order: the signed reply address among the recipients; then
   ``In-Reply-To``/``References`` against the Message-IDs we sent and received (and the
   ids providers replaced ours with, as they reported them); then the signed marker
   every ticket email carries in its body; then ``[PREFIX-123]`` in the subject within
   the organization of the inbox it was sent to. Only the reply address says who the
   sender is; the others only find the thread, and a stranger found by them gets their
   own ticket (step 3).
2. Automatic mail (auto-replies, bounces, lists, mailer-daemon, and mail with no usable
   From address such as ``From: <>``) is recorded as an internal note on its ticket and
   never answered, so no mail loop can start; with no ticket it is dropped (logged). Our
   own mail coming back (it carries ``X-Helpdesk-Kind``) is ignored; the support
   mailbox's mail counts only as an answer through the reply address issued to it.
3. On a known ticket, the ticket's customer adds a reply (a closed ticket gets a new,
   linked ticket instead); an agent of the organization adds a public reply only when
   the mail came to the reply address issued to that very agent (reply addresses are
   per recipient, tickets/mail/addresses.py) and failed none of the sender checks the
   provider reported (``failed_checks``); otherwise it is an internal note authored by
   the system, never by the agent, since a From header is easy to forge. Anyone else's
   mail through a reply address becomes an internal note, never a message to the
   customer, and through a mere subject or header match opens their own ticket (step 4).
4. Otherwise a new ticket (channel email) opens on the inbox whose ``support_email`` the
   mail was sent to, else on ``INBOUND_EMAIL_DEFAULT_INBOX``, else (a single inbox using
   ``SUPPORT_EMAIL``) on that one. Mail for an address no inbox claims is dropped (logged).
"""

import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from email.errors import HeaderParseError

from anymail.exceptions import AnymailInvalidAddress
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Membership, User
from tickets import limits, services
from tickets.actors import Actor
from tickets.exceptions import DailyLimitReached, HelpdeskError, QuotaReached
from tickets.models import Delivery, Inbox, Message, Participant, Ticket
from tickets.selectors import merge_destination

from . import addresses, quotes

logger = logging.getLogger(__name__)

_REFERENCE = re.compile(r"\[([A-Z][A-Z0-9]{0,9}-\d{1,9})\]")
_AUTOMATIC_SENDERS = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|bounces?)([+@.-]|$)", re.IGNORECASE)
# Every email we send carries this header; mail clients do not copy it into replies, so
# an inbound email that has it is our own mail come back (a loop), never a person.
OWN_MAIL_HEADER = "X-Helpdesk-Kind"
_TRUNCATED = "\n\n[Shortened: the whole email is kept with this message.]"


@dataclass(frozen=True)
class InboundResult:
    """What an email became: ``reply``, ``agent_reply``, ``note``, ``new_ticket``,
    ``follow_up`` (a new ticket for a reply to a closed one), ``automatic``, ``duplicate``
    or ``dropped``."""

    action: str
    ticket: Ticket | None = None
    message: Message | None = None
    reason: str = ""


# What anymail's parsers raise on a payload that is not the provider's documented shape:
# a missing field (KeyError, MultiValueDictKeyError), broken JSON (ValueError), a list or
# a string where an object belongs (TypeError, AttributeError), JSON nested too deep for
# Python's json (RecursionError: a JSON body is measured before, see the middleware, but
# Mailgun carries JSON inside a form field). The webhook answers 400.
MALFORMED_PAYLOAD_ERRORS = (KeyError, ValueError, TypeError, AttributeError, RecursionError)


class InboundHandlingError(RuntimeError):
    """One of those errors raised by our own handling of a parsed email: our bug, so a 500
    and the provider retries, instead of a 400 that would drop the email."""


def handle_inbound(sender, event, esp_name, **kwargs):
    """anymail.signals.inbound receiver."""
    try:
        result = process(event.message, failed=failed_checks(event.message, event.esp_event))
    except HelpdeskError as error:
        # A refusal of the domain (an invalid sender address, ...) will not change if the
        # provider retries: answer 200 and log it. Other errors answer 500 and are retried.
        logger.error("Inbound email via %s refused: %s", esp_name, error.message)
        return
    except MALFORMED_PAYLOAD_ERRORS as error:
        raise InboundHandlingError(f"Inbound email via {esp_name} failed in our handler") from error
    logger.info(
        "Inbound email via %s: %s %s %s",
        esp_name,
        result.action,
        result.ticket.reference if result.ticket else "",
        result.reason,
    )


# Reading the email ----------------------------------------------------------------------


def raw_source(email) -> str:
    """The email as text for ``Message.raw_email`` (NUL bytes, which PostgreSQL text cannot
    hold, become U+FFFD)."""
    try:
        raw = email.as_string()
    except Exception:  # noqa: BLE001 - a malformed part must not lose the email
        raw = email.as_bytes().decode("utf-8", errors="replace")
    return raw.replace("\x00", "\ufffd")


def sender_of(email) -> tuple[str, str]:
    """The From address (lower case) and display name; ``("", "")`` when there is none.

    ``From: <>`` (the null sender bounces and some robots use) or an unparseable From
    names nobody we could answer: such mail is handled like any automatic mail, never
    a failure of the webhook (anymail raises on reading it; that was a 500, retried by
    the provider for ever).
    """
    try:
        sender = email.from_email
    except (AnymailInvalidAddress, HeaderParseError):
        return "", ""
    if isinstance(sender, list):
        sender = sender[0] if sender else None
    if sender is None:
        return "", ""
    return sender.addr_spec.strip().lower(), addresses.one_line(sender.display_name or "", max_length=200)


def recipients_of(email) -> list[str]:
    """Recipients, the envelope's first: it says which copy of a Cc'd email this is."""
    found = addresses.address_list([email.envelope_recipient] if email.envelope_recipient else [])
    for header in ("Delivered-To", "X-Original-To", "Envelope-To"):
        found += addresses.address_list(email.get_all(header) or [])
    found += addresses.address_list(email.to) + addresses.address_list(email.cc)
    return list(dict.fromkeys(found))


def is_automatic(email, sender: str) -> bool:
    """Auto-replies, bounces and bulk mail (RFC 3834 and common practice)."""
    auto_submitted = (email.get("Auto-Submitted") or "").strip().lower()
    if auto_submitted and auto_submitted != "no":
        return True
    precedence = (email.get("Precedence") or email.get("X-Precedence") or "").strip().lower()
    if precedence in {"bulk", "junk", "list", "auto_reply"}:
        return True
    if any(
        email.get(header) is not None
        # List-Id: mailing-list traffic is never a person writing to us (RFC 2919).
        for header in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress", "List-Id")
    ):
        return True
    if email.get_content_type() == "multipart/report":
        return True
    if email.envelope_sender is not None and email.envelope_sender.strip("<> ") == "":
        return True  # The null return path: a bounce.
    return not sender or bool(_AUTOMATIC_SENDERS.match(sender.partition("@")[0] + "@"))


_FAILED_AUTHENTICATION = re.compile(r"\b(spf|dkim|dmarc)\s*=\s*(fail|softfail|permerror)\b", re.IGNORECASE)


def failed_checks(email, esp_event=None) -> list[str]:
    """The sender checks this email failed, as the receiving provider reported them: SPF,
    DKIM and DMARC results (``Authentication-Results``, ``Received-SPF``, SendGrid's
    ``SPF``/``dkim`` fields) and the spam verdict anymail exposes.

    Only ever used to trust a mail *less* (never as an agent's, held for review), so a
    forged header claiming a failure harms nobody but its sender; a claimed pass is
    ignored, since only the provider's own verdict would be worth believing.
    """
    failures = []
    for header in email.get_all("Authentication-Results") or []:
        failures += [
            f"{name.upper()} {result.lower()}" for name, result in _FAILED_AUTHENTICATION.findall(str(header))
        ]
    for header in email.get_all("Received-SPF") or []:
        result = str(header).strip().split(" ", 1)[0].lower()
        if result in {"fail", "softfail", "permerror"}:
            failures.append(f"SPF {result}")
    post = getattr(esp_event, "POST", None)
    if post is not None:
        spf = (post.get("SPF") or "").strip().lower()
        if spf in {"fail", "softfail", "permerror"}:
            failures.append(f"SPF {spf}")
        if re.search(r":\s*fail\b", post.get("dkim") or "", re.IGNORECASE):
            failures.append("DKIM fail")
    if getattr(email, "spam_detected", None):
        failures.append("spam")
    spam_score = getattr(email, "spam_score", None)
    if spam_score is not None and spam_score >= settings.INBOUND_EMAIL_SPAM_SCORE:
        failures.append(f"spam score {spam_score:g}")
    return list(dict.fromkeys(failures))


def body_of(email) -> str:
    text = email.text
    if not (text or "").strip() and email.html:
        text = quotes.html_to_text(email.html)
    body = quotes.strip_quoted((text or "").replace("\x00", ""))
    if not body.strip():
        body = "(This email had no text.)"
    if len(body) > limits.MESSAGE_MAX_LENGTH:
        body = body[: limits.MESSAGE_MAX_LENGTH - len(_TRUNCATED)].rstrip() + _TRUNCATED
    return body


def subject_of(email) -> str:
    subject = addresses.one_line(email.subject or "", max_length=limits.SUBJECT_MAX_LENGTH)
    if len(subject) < limits.SUBJECT_MIN_LENGTH:
        subject = "(no subject)"
    return subject


def attachments_of(email) -> list[services.UploadedFile]:
    """The mail's attachments that the one attachment policy accepts.

    A file the policy refuses is dropped with a log line rather than refusing the mail:
    the message itself is never lost.
    """
    uploads = []
    for part in email.walk():
        filename = part.get_filename()
        if part.is_multipart() or not filename:
            continue  # Bodies, and inline parts without a name (signature logos).
        if not (part.is_attachment() or part.is_inline()):
            continue
        try:
            content = part.get_content_bytes()
        except ValueError:
            continue
        filename = addresses.one_line(filename, max_length=200).replace("/", "_")
        problem = services.attachment_problem(filename, len(content or b""))
        if problem:
            logger.warning("Inbound attachment skipped: %s", problem)
            continue
        if len(uploads) == services.MAX_ATTACHMENTS:
            logger.warning(
                "Inbound attachment %r skipped: more than %s files", filename, services.MAX_ATTACHMENTS
            )
            continue
        uploads.append(
            services.UploadedFile(filename=filename, content_type=part.get_content_type(), content=content)
        )
    return uploads


# Finding the ticket -------------------------------------------------------------------


def inbox_for(recipients: list[str]) -> Inbox | None:
    """The inbox the mail was sent to (see the module docstring for the order)."""
    if recipients:
        query = Q()
        for address in recipients:
            query |= Q(support_email__iexact=address)
        # Only a verified address routes mail: typing someone else's address claims nothing.
        verified = Inbox.objects.select_related("organization").filter(
            query, support_email_verified_at__isnull=False
        )
        matches = {inbox.support_email.lower(): inbox for inbox in verified}
        for address in recipients:
            if address in matches:
                return matches[address]
    if settings.INBOUND_EMAIL_DEFAULT_INBOX:
        inbox = (
            Inbox.objects.select_related("organization")
            .filter(public_id=settings.INBOUND_EMAIL_DEFAULT_INBOX)
            .first()
        )
        if inbox is not None:
            return inbox
    support = addresses.address_list([settings.SUPPORT_EMAIL])
    if support and support[0] in recipients:
        candidates = Inbox.objects.select_related("organization").filter(support_email="")
        defaults = list(candidates.filter(is_default=True)[:2])
        if len(defaults) == 1:
            return defaults[0]
        only = list(candidates[:2])
        if len(only) == 1:
            return only[0]
    return None


def _ticket_by_message_ids(ids: list[str]) -> Ticket | None:
    if not ids:
        return None
    for message_id in reversed(ids):
        public_id = addresses.ticket_public_id_from_thread_root(message_id)
        if public_id:
            ticket = Ticket.objects.filter(public_id=public_id).first()
            if ticket is not None:
                return ticket
    # Some providers (Amazon SES, Outlook.com) replace our Message-ID with their own, which
    # they report when they accept the mail (Delivery.provider_message_id): a reply then
    # refers to "<that id@their domain>".
    provider_ids = [message_id.strip("<>").partition("@")[0] for message_id in ids]
    delivery = (
        Delivery.objects.filter(
            Q(message_id_header__in=ids) | Q(provider_message_id__in=[pid for pid in provider_ids if pid]),
            ticket__isnull=False,
        )
        .select_related("ticket")
        .order_by("-created_at")
        .first()
    )
    if delivery is not None:
        return delivery.ticket
    message = (
        Message.objects.filter(email_message_id__in=ids)
        .select_related("ticket")
        .order_by("-created_at")
        .first()
    )
    return message.ticket if message is not None else None


def find_ticket(email, recipients: list[str], subject: str, *, raw: str = "", automatic: bool = False):
    """``(ticket, reply_target)`` for the thread this email belongs to: the target is the
    reply address it arrived at (who it was issued to), None when it was threaded another
    way; ``(None, None)`` for no thread.

    A ticket whose contents were erased (its customer's erasure, the retention rule) is no
    thread any more: a later mail quoting it starts afresh, as an unknown sender's would.
    """
    ticket, target = _find_thread(email, recipients, subject, raw=raw, automatic=automatic)
    if ticket is not None and ticket.merged_into_id is not None:
        # Mail that answers a merged duplicate continues on the ticket it was merged into
        # (its customer is copied there, so it is taken as theirs).
        ticket = merge_destination(ticket)
    if ticket is not None and ticket.redacted_at is not None:
        return None, None
    return ticket, target


def _find_thread(email, recipients: list[str], subject: str, *, raw: str = "", automatic: bool = False):
    for address in recipients:
        target = addresses.parse_reply_address(address)
        if target is not None:
            ticket = Ticket.objects.filter(public_id=target.public_id).first()
            if ticket is not None:
                return ticket, target

    ids = addresses.message_ids_in(email.get("In-Reply-To")) + addresses.message_ids_in(
        email.get("References")
    )
    ticket = _ticket_by_message_ids(ids)
    if ticket is not None:
        return ticket, None

    # The marker every ticket email carries in its body, quoted back by the reply.
    for public_id in addresses.ticket_public_ids_from_markers(f"{email.text or ''}\n{email.html or ''}"):
        ticket = Ticket.objects.filter(public_id=public_id).first()
        if ticket is not None:
            return ticket, None

    match = _REFERENCE.search(subject)
    inbox = inbox_for(recipients)
    if match and inbox is not None:
        ticket = Ticket.objects.filter(organization_id=inbox.organization_id, reference=match[1]).first()
        if ticket is not None:
            return ticket, None

    if automatic and raw:
        # A bounce quotes the mail it bounces: find our reply address or Message-ID in it.
        for address in addresses.find_reply_addresses(raw):
            public_id = addresses.ticket_public_id_from_reply_address(address)
            ticket = Ticket.objects.filter(public_id=public_id).first() if public_id else None
            if ticket is not None:
                return ticket, None
        ticket = _ticket_by_message_ids(addresses.message_ids_in(raw)[:50])
        if ticket is not None:
            return ticket, None
    return None, None


def _agent_of(ticket: Ticket, sender: str) -> User | None:
    membership = (
        Membership.objects.filter(
            organization_id=ticket.organization_id, user__email__iexact=sender, user__is_active=True
        )
        .select_related("user")
        .first()
    )
    return membership.user if membership else None


def _participant_of(ticket: Ticket, sender: str) -> Participant | None:
    if not sender:
        return None
    return ticket.participants.select_related("customer").filter(customer__email__iexact=sender).first()


def _add_cc_participants(ticket: Ticket, email, sender: str) -> None:
    """The customer's Cc's join the ticket as participants (never our own addresses, the
    organization's members, or the customer). A bad address is skipped, never a failure."""
    try:
        copied = addresses.address_list(email.cc)
    except (AnymailInvalidAddress, HeaderParseError):
        return
    members = {
        address.lower()
        for address in Membership.objects.filter(organization_id=ticket.organization_id).values_list(
            "user__email", flat=True
        )
    }
    actor = Actor.for_customer(ticket.customer)
    for address in copied[: services.MAX_PARTICIPANTS]:
        if address == sender or address in members or addresses.is_own_address(address):
            continue
        try:
            services.add_participant(ticket=ticket, email=address, actor=actor)
        except HelpdeskError as error:
            logger.info("Cc %s not added to %s: %s", address, ticket.reference, error.message)


def _is_customer(ticket: Ticket, sender: str) -> bool:
    known = {ticket.customer.email.lower(), (ticket.reply_address or "").strip().lower()}
    return sender in known - {""}


# Acting on it ----------------------------------------------------------------------------


def process(email, *, failed: list[str] | None = None) -> InboundResult:
    """Turn one received email into a ticket change, through the services.

    ``failed`` names the sender checks the email failed (``failed_checks``): such an email
    is never taken as an agent's or the support mailbox's answer.
    """
    failed = failed or []
    raw = raw_source(email)
    sender, sender_name = sender_of(email)
    if email.get(OWN_MAIL_HEADER) is not None or sender.startswith(f"{addresses.REPLY_LOCAL_PART}+"):
        return InboundResult("dropped", reason="our own email")
    # Mail from nobody (no usable From) goes on as automatic mail (is_automatic): kept as
    # a note on the ticket it answers, else dropped with the reason logged.
    # The support mailbox (SUPPORT_EMAIL, an inbox's support_email) is ours too: its
    # mail is only trusted as a reply through a ticket's signed reply address.
    from_support_mailbox = addresses.is_own_address(sender)
    recipients = recipients_of(email)
    subject = subject_of(email)
    message_id = addresses.one_line(email.get("Message-ID") or "", max_length=255)
    automatic = is_automatic(email, sender)
    ticket, reply_target = find_ticket(email, recipients, subject, raw=raw, automatic=automatic)
    inbox = None if ticket is not None else inbox_for(recipients)
    organization_id = (
        ticket.organization_id if ticket is not None else getattr(inbox, "organization_id", None)
    )
    if message_id and organization_id is not None:
        # Providers retry webhooks: the same email is stored once per organization (the
        # same email sent to two organizations' addresses reaches both).
        seen = Message.objects.filter(email_message_id=message_id, ticket__organization_id=organization_id)
        if seen.exists():
            return InboundResult("duplicate", reason=message_id)
    body = body_of(email)
    stored = {"channel": Ticket.Channel.EMAIL, "email_message_id": message_id, "raw_email": raw}

    if from_support_mailbox:
        if automatic or ticket is None or reply_target is None:
            return InboundResult("dropped", reason="from our own address")
        if reply_target.issued_to != addresses.ISSUED_TO_SUPPORT or failed:
            # The support mailbox's From on another recipient's reply address (the
            # customer's, say) proves nothing: kept for the agents, sent to nobody.
            return _held_note(ticket, sender, sender_name, body, attachments_of(email), stored, failed)
        # Someone answered the new-ticket copy from the support mailbox: an answer from
        # the organization's side, mailed on to the customer.
        message, _ = services.add_message(
            ticket=ticket,
            body=body,
            actor=Actor.system(f"Support mailbox <{sender}>"),
            attachments=attachments_of(email),
            **stored,
        )
        return InboundResult("agent_reply", ticket, message)

    if automatic:
        who = sender or "an unknown sender (no usable From address)"
        if ticket is None:
            logger.warning("Automatic email from %s matched no ticket; dropped (%s)", who, subject)
            return InboundResult("dropped", reason="automatic email without a ticket")
        note = f"Automatic email from {who} (not answered): {subject}\n\n{body}"
        message, _ = services.add_message(
            ticket=ticket,
            body=note[: limits.MESSAGE_MAX_LENGTH],
            actor=Actor.system("Email (automatic)"),
            kind=Message.Kind.NOTE,
            **stored,
        )
        return InboundResult("automatic", ticket, message)

    attachments = attachments_of(email)
    if ticket is not None:
        ticket = Ticket.objects.select_related("customer", "inbox", "organization").get(pk=ticket.pk)
        participant = _participant_of(ticket, sender)
        if (
            participant is not None
            and ticket.status != Ticket.Status.CLOSED
            and not _is_customer(ticket, sender)
        ):
            message, _ = services.add_message(
                ticket=ticket,
                body=body,
                actor=Actor.for_customer(participant.customer),
                attachments=attachments,
                **stored,
            )
            return InboundResult("reply", ticket, message, reason="participant")
        if _is_customer(ticket, sender):
            _add_cc_participants(ticket, email, sender)
            # A reply from the address through the reply address issued to it proves the
            # sender reads that mailbox.
            proven = reply_target is not None and reply_target.issued_to in {addresses.ISSUED_TO_CUSTOMER, ""}
            if proven and ticket.sender_unverified:
                ticket = services.confirm_sender(ticket=ticket, how="replied from the address")
            if ticket.status == Ticket.Status.CLOSED:
                return _follow_up(
                    ticket, sender, sender_name, subject, body, attachments, stored, proven=proven
                )
            message, _ = services.add_message(
                ticket=ticket,
                body=body,
                actor=Actor.for_customer(ticket.customer),
                attachments=attachments,
                **stored,
            )
            return InboundResult("reply", ticket, message)
        agent = _agent_of(ticket, sender)
        issued_to_this_agent = (
            agent is not None and reply_target is not None and reply_target.agent_id == agent.pk
        )
        if issued_to_this_agent and not failed:
            message, _ = services.add_message(
                ticket=ticket, body=body, actor=Actor.agent(agent), attachments=attachments, **stored
            )
            return InboundResult("agent_reply", ticket, message)
        if issued_to_this_agent:
            return _held_note(ticket, sender, sender_name, body, attachments, stored, failed)
        if agent is not None or reply_target is not None:
            who = sender_name and f"{sender_name} <{sender}>" or sender
            reason = (
                "an agent's address, not through the reply address issued to that agent"
                if agent is not None
                else "not from this ticket's customer"
            )
            note = f"Email from {who} ({reason}):\n\n{body}"
            # Never authored by the agent the From names: a From header is easy to forge.
            message, _ = services.add_message(
                ticket=ticket,
                body=note[: limits.MESSAGE_MAX_LENGTH],
                actor=Actor.system(f"Email from {sender}"),
                kind=Message.Kind.NOTE,
                attachments=attachments,
                **stored,
            )
            return InboundResult("note", ticket, message)
        # A stranger who only names the ticket (a subject reference, a Message-ID) proves
        # nothing: their email is their own conversation, on the inbox it was sent to.
        inbox = inbox_for(recipients)

    if inbox is None:
        logger.warning("Email from %s to %s matched no inbox; dropped (%s)", sender, recipients, subject)
        return InboundResult("dropped", reason="no inbox for these recipients")
    if _too_many_new_tickets(inbox, sender):
        return _add_to_latest(
            inbox, sender, subject, body, attachments, stored, reason="new tickets per hour"
        )
    return _new_ticket(inbox, sender, sender_name, subject, body, attachments, stored, email=email)


def _too_many_new_tickets(inbox, sender: str) -> bool:
    """More new tickets by email from this sender in the last hour than
    INBOUND_EMAIL_NEW_TICKETS_PER_HOUR: a loop with a robot we did not recognise, or a
    flood. Counted in the database, so every web process agrees."""
    since = timezone.now() - timedelta(hours=1)
    recent = Ticket.objects.filter(
        organization_id=inbox.organization_id,
        channel=Ticket.Channel.EMAIL,
        reply_address__iexact=sender,
        created_at__gte=since,
    )
    return recent.count() >= settings.INBOUND_EMAIL_NEW_TICKETS_PER_HOUR


def _held_note(ticket, sender, sender_name, body, attachments, stored, failed) -> InboundResult:
    """An answer that would speak for the organization but did not prove it: an internal
    note for the agents to review, mailed to nobody."""
    who = sender_name and f"{sender_name} <{sender}>" or sender
    reason = (
        f"failed {', '.join(failed)}" if failed else "not through the reply address issued to this sender"
    )
    note = f"Held for review — email from {who} ({reason}), not sent to the customer:\n\n{body}"
    message, _ = services.add_message(
        ticket=ticket,
        body=note[: limits.MESSAGE_MAX_LENGTH],
        actor=Actor.system(f"Email from {sender}"),
        kind=Message.Kind.NOTE,
        attachments=attachments,
        **stored,
    )
    return InboundResult("note", ticket, message, reason=reason)


def _new_ticket(
    inbox,
    sender,
    sender_name,
    subject,
    body,
    attachments,
    stored,
    *,
    metadata=None,
    action="new_ticket",
    customer=None,
    email=None,
):
    """A new ticket for the sender. A From header is easy to forge: unless ``customer`` is
    given (the sender already proved the address), the ticket is "unverified sender" and
    stays off an existing customer's record until proven."""
    try:
        with transaction.atomic():
            if customer is None:
                filed_under = services.customer_for_unproven_sender(
                    organization=inbox.organization,
                    email=sender,
                    name=sender_name,
                    actor=Actor.system("Email"),
                )
            ticket, _ = services.create_ticket(
                inbox=inbox,
                customer=customer or filed_under,
                subject=subject,
                message=body,
                actor=Actor.system("Email"),
                channel=Ticket.Channel.EMAIL,
                metadata=metadata,
                attachments=attachments,
                email_message_id=stored["email_message_id"],
                raw_email=stored["raw_email"],
                reply_address=sender,
                sender_unverified=customer is None,
            )
    except (DailyLimitReached, QuotaReached) as error:
        return _add_to_latest(inbox, sender, subject, body, attachments, stored, reason=error.message)
    except HelpdeskError as error:
        logger.error("Email from %s not stored: %s", sender, error.message)
        return InboundResult("dropped", reason=error.message)
    if email is not None:
        _add_cc_participants(ticket, email, sender)
    return InboundResult(action, ticket, ticket.messages.order_by("created_at", "id").first())


def _add_to_latest(inbox, sender, subject, body, attachments, stored, *, reason) -> InboundResult:
    """Never lose a customer's email to a limit: add it to the sender's latest open ticket
    in this inbox (no new acknowledgement goes out), else drop it with the reason logged."""
    latest = (
        Ticket.objects.filter(
            Q(customer__email__iexact=sender) | Q(reply_address__iexact=sender),
            inbox=inbox,
        )
        .exclude(status=Ticket.Status.CLOSED)
        .select_related("customer")
        .order_by("-created_at")
        .first()
    )
    if latest is None:
        logger.error("Email from %s not stored: %s", sender, reason)
        return InboundResult("dropped", reason=reason)
    message, _ = services.add_message(
        ticket=latest,
        body=f"{subject}\n\n{body}"[: limits.MESSAGE_MAX_LENGTH],
        actor=Actor.for_customer(latest.customer),
        attachments=attachments,
        **stored,
    )
    return InboundResult("reply", latest, message, reason=reason)


def _follow_up(ticket, sender, sender_name, subject, body, attachments, stored, *, proven) -> InboundResult:
    """A reply to a closed ticket opens a new one, linked to the old in its metadata; on
    the old ticket's customer when the reply came through their reply address."""
    metadata = {"follow_up_of": ticket.reference}
    subject = re.sub(
        r"^\s*((re|aw|sv|fwd?)\s*:\s*)+", "", _REFERENCE.sub("", subject), flags=re.IGNORECASE
    ).strip()
    if len(subject) < limits.SUBJECT_MIN_LENGTH:
        subject = ticket.subject
    return _new_ticket(
        ticket.inbox,
        sender,
        sender_name,
        subject,
        body,
        attachments,
        stored,
        metadata=metadata,
        action="follow_up",
        customer=ticket.customer if proven and not services.is_provisional(ticket.customer) else None,
    )
