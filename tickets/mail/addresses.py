"""Addresses and header values we put on email, and how we read them back.

A reply address is issued to one recipient of one ticket:
``reply+<ticket public id>-<issued to>-<signature>@INBOUND_EMAIL_DOMAIN``, where "issued
to" is ``c`` (the customer), ``s`` (the support mailbox), ``a<user id>`` (an agent) or
``p<participant id>`` (a participant). The signature (an HMAC of both under SECRET_KEY)
means only someone who received our mail to that recipient can write to it: a reply there
is trusted to belong to the ticket, and counts as an agent's only when it arrived at the
address issued to that agent (tickets/mail/inbound.py). Addresses of the older form
``reply+<id>-<signature>``, still in customers' mailboxes, keep threading but were issued
to nobody in particular, so they never make anyone an agent.
"""

import re
from dataclasses import dataclass
from email.headerregistry import Address
from email.utils import formataddr, getaddresses, make_msgid

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

from tickets.models import Inbox

REPLY_LOCAL_PART = "reply"
_SIGNATURE_LENGTH = 12
_SALT = "tickets.mail.reply-address"
ISSUED_TO_CUSTOMER = "c"
ISSUED_TO_SUPPORT = "s"
_ISSUED_TO = r"(?:-(?P<issued_to>[cs]|[ap][0-9]{1,12}))?"
_REPLY_LOCAL = (
    rf"{REPLY_LOCAL_PART}\+(?P<public_id>[0-9a-z]{{26}}){_ISSUED_TO}"
    rf"-(?P<signature>[0-9a-f]{{{_SIGNATURE_LENGTH}}})"
)
_REPLY_ADDRESS = re.compile(rf"^{_REPLY_LOCAL}@(?P<domain>.+)$", re.IGNORECASE)
# Control characters, including the CR and LF a header injection needs.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
_MESSAGE_ID = re.compile(r"<[^<>\s]+@[^<>\s]+>")


def one_line(text: str, *, max_length: int = 250) -> str:
    """A value fit for a header: no line breaks or control characters, bounded length."""
    return " ".join(_CONTROL.sub(" ", text or "").split())[:max_length]


def mail_domain() -> str:
    """The domain our Message-IDs are made under."""
    if settings.INBOUND_EMAIL_DOMAIN:
        return settings.INBOUND_EMAIL_DOMAIN
    return settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("> ") or "helpdesk.localhost"


def _signature(public_id: str, secret: str | None = None, issued_to: str = "") -> str:
    value = public_id.upper() if not issued_to else f"{public_id.upper()}:{issued_to.lower()}"
    digest = salted_hmac(_SALT, value, secret=secret, algorithm="sha256").hexdigest()
    return digest[:_SIGNATURE_LENGTH]


def issued_to_agent(user) -> str:
    return f"a{user.pk}"


def issued_to_participant(participant) -> str:
    return f"p{participant.pk}"


@dataclass(frozen=True)
class ReplyTarget:
    """What a genuine reply address says: the ticket, and to whom it was issued."""

    public_id: str
    issued_to: str  # "c", "s", "a<id>", "p<id>", or "" for the older per-ticket form

    @property
    def agent_id(self) -> int | None:
        return int(self.issued_to[1:]) if self.issued_to.startswith("a") else None

    @property
    def participant_id(self) -> int | None:
        return int(self.issued_to[1:]) if self.issued_to.startswith("p") else None


def reply_address(ticket, issued_to: str = ISSUED_TO_CUSTOMER) -> str:
    """The ticket's reply address for one recipient, or "" when inbound mail is not set up."""
    if not settings.INBOUND_EMAIL_DOMAIN:
        return ""
    signature = _signature(ticket.public_id, issued_to=issued_to)
    local_part = f"{REPLY_LOCAL_PART}+{ticket.public_id.lower()}-{issued_to}-{signature}"
    return f"{local_part}@{settings.INBOUND_EMAIL_DOMAIN}"


def parse_reply_address(address: str) -> ReplyTarget | None:
    """The ticket and recipient a genuine reply address names; None for anything else."""
    match = _REPLY_ADDRESS.match((address or "").strip())
    if not match or match["domain"].lower() != settings.INBOUND_EMAIL_DOMAIN:
        return None
    issued_to = (match["issued_to"] or "").lower()
    public_id = _verified(match["public_id"], match["signature"], issued_to)
    return ReplyTarget(public_id, issued_to) if public_id else None


def ticket_public_id_from_reply_address(address: str) -> str | None:
    """The ticket public id a genuine reply address names; None for anything else."""
    target = parse_reply_address(address)
    return target.public_id if target else None


def _verified(public_id: str, signature: str, issued_to: str = "") -> str | None:
    public_id = public_id.upper()
    # Addresses and ids in older emails stay valid across a SECRET_KEY rotation.
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    if any(
        constant_time_compare(signature.lower(), _signature(public_id, secret, issued_to))
        for secret in secrets
    ):
        return public_id
    return None


def find_reply_addresses(text: str) -> list[str]:
    """Reply addresses mentioned anywhere in a text (a bounce quotes the original mail)."""
    if not settings.INBOUND_EMAIL_DOMAIN:
        return []
    pattern = re.compile(rf"{_REPLY_LOCAL}@{re.escape(settings.INBOUND_EMAIL_DOMAIN)}", re.IGNORECASE)
    return [match.group(0) for match in pattern.finditer(text or "")]


def named_address(name: str, address: str) -> str:
    """``"Name" <address>`` with the name made safe for a header."""
    name = one_line(name, max_length=100).replace('"', "'")
    return formataddr((name, address)) if name else address


def sender_address(inbox: Inbox) -> str:
    """The address mail to an inbox's customers comes from: the inbox's own support
    address once it is verified and on the domain of ``DEFAULT_FROM_EMAIL`` — the domain
    the mail provider was set up to send for, so SPF and DKIM still pass — else
    ``DEFAULT_FROM_EMAIL``."""
    default = settings.DEFAULT_FROM_EMAIL
    if not inbox.support_email_verified:
        return default
    default_domain = default.rpartition("@")[2].strip("> ").lower()
    if inbox.support_email.rpartition("@")[2].lower() != default_domain:
        return default
    return inbox.support_email


_THREAD_ROOT = re.compile(
    rf"^<ticket-(?P<public_id>[0-9a-z]{{26}})-(?P<signature>[0-9a-f]{{{_SIGNATURE_LENGTH}}})@"
)


def thread_root_id(ticket) -> str:
    """A Message-ID every email of the ticket refers to, so clients keep one thread.

    Signed like the reply address: knowing a ticket's public id is not enough to forge it.
    """
    return f"<ticket-{ticket.public_id.lower()}-{_signature(ticket.public_id)}@{mail_domain()}>"


def ticket_public_id_from_thread_root(message_id: str) -> str | None:
    match = _THREAD_ROOT.match((message_id or "").strip().lower())
    return _verified(match["public_id"], match["signature"]) if match else None


_THREAD_MARKER = re.compile(
    rf"\bhd-(?P<public_id>[0-9a-z]{{26}})-(?P<signature>[0-9a-f]{{{_SIGNATURE_LENGTH}}})\b"
)


def thread_marker(ticket) -> str:
    """The marker in the body of every ticket email (hidden in the HTML part), for the
    replies whose client dropped both the reply address and the threading headers.
    Signed like the thread root."""
    return f"hd-{ticket.public_id.lower()}-{_signature(ticket.public_id)}"


def ticket_public_ids_from_markers(text: str) -> list[str]:
    """The tickets genuine markers in ``text`` name, the last (most recent quote) first."""
    found = []
    for match in reversed(list(_THREAD_MARKER.finditer((text or "").lower()))):
        public_id = _verified(match["public_id"], match["signature"])
        if public_id and public_id not in found:
            found.append(public_id)
    return found


def new_message_id(ticket=None) -> str:
    idstring = f"ticket-{ticket.public_id.lower()}" if ticket is not None else "helpdesk"
    return make_msgid(idstring=idstring, domain=mail_domain())


def message_ids_in(value: str | None) -> list[str]:
    """The ``<id@domain>`` tokens of an In-Reply-To or References header, in order."""
    return _MESSAGE_ID.findall(value or "")


def address_list(values) -> list[str]:
    """Bare, lower-cased addresses from header values or EmailAddress objects."""
    found = []
    for value in values or []:
        if isinstance(value, Address):
            found.append(value.addr_spec)
        elif hasattr(value, "addr_spec"):
            found.append(value.addr_spec)
        else:
            found.extend(address for _, address in getaddresses([str(value)]))
    return [address.strip().lower() for address in found if address and "@" in address]


def is_own_address(address: str) -> bool:
    """An address that is ours: mail to or from it would talk to ourselves."""
    address = (address or "").strip().lower()
    if not address:
        return False
    ours = {addr for addr in address_list([settings.DEFAULT_FROM_EMAIL, settings.SUPPORT_EMAIL])}
    if address in ours:
        return True
    local_part, _, domain = address.rpartition("@")
    if domain == settings.INBOUND_EMAIL_DOMAIN and local_part.startswith(f"{REPLY_LOCAL_PART}+"):
        return True
    # Only a verified support address is ours: an unverified one may be a customer's
    # address typed by someone else, and their mail must not be dropped as our own.
    return Inbox.objects.filter(
        support_email__iexact=address, support_email_verified_at__isnull=False
    ).exists()
