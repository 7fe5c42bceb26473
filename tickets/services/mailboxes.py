"""Mailboxes: where an inbox without a provider webhook reads its mail (IMAP or POP3)."""

from django.db import transaction

from accounts.audit import record_audit_event, require_manager
from accounts.models import AuditEvent
from helpdesk import encryption
from tickets.actors import Actor
from tickets.exceptions import InvalidInput
from tickets.models import Inbox, Mailbox

DEFAULT_PORTS = {
    (Mailbox.Protocol.IMAP, Mailbox.Security.TLS): 993,
    (Mailbox.Protocol.IMAP, Mailbox.Security.STARTTLS): 143,
    (Mailbox.Protocol.IMAP, Mailbox.Security.NONE): 143,
    (Mailbox.Protocol.POP3, Mailbox.Security.TLS): 995,
    (Mailbox.Protocol.POP3, Mailbox.Security.STARTTLS): 110,
    (Mailbox.Protocol.POP3, Mailbox.Security.NONE): 110,
}
# Shown in the audit log; the password never is.
_AUDITED = ("protocol", "host", "port", "security", "authentication", "username", "folder", "is_active")


def _clean(fields: dict) -> dict:
    cleaned = {name: fields[name] for name in _AUDITED if name in fields}
    for name, choices in (
        ("protocol", Mailbox.Protocol),
        ("security", Mailbox.Security),
        ("authentication", Mailbox.Authentication),
    ):
        if cleaned.get(name) not in choices.values:
            raise InvalidInput(name, f"Unknown {name}.")
    for name in ("host", "username", "folder"):
        value = (cleaned.get(name) or "").strip()
        if not value or len(value) > 255 or any(ord(character) < 32 for character in value):
            raise InvalidInput(name, f"Enter the {name} (at most 255 characters, one line).")
        cleaned[name] = value
    port = cleaned.get("port")
    if port in (None, ""):
        port = DEFAULT_PORTS[(cleaned["protocol"], cleaned["security"])]
    if not isinstance(port, int) or not 1 <= port <= 65535:
        raise InvalidInput("port", "Use a port from 1 to 65535.")
    cleaned["port"] = port
    cleaned["is_active"] = bool(cleaned.get("is_active", True))
    return cleaned


def save_mailbox(*, inbox: Inbox, actor: Actor, password: str = "", **fields) -> Mailbox:
    """Create or change the inbox's mailbox. An empty ``password`` keeps the stored one
    (it is never shown again); a first mailbox needs one."""
    cleaned = _clean(fields)
    if "\n" in password or "\r" in password or len(password) > 4096:
        raise InvalidInput("password", "The password (or token) must be one line.")
    with transaction.atomic():
        require_manager(inbox.organization, actor)
        mailbox = Mailbox.objects.select_for_update().filter(inbox=inbox).first()
        if mailbox is None and not password:
            raise InvalidInput("password", "Enter the mailbox's password (or OAuth2 access token).")
        before = {name: getattr(mailbox, name) for name in _AUDITED} if mailbox else {}
        mailbox = mailbox or Mailbox(inbox=inbox)
        for name, value in cleaned.items():
            setattr(mailbox, name, value)
        if password:
            mailbox.password_encrypted = encryption.encrypt(password)
        mailbox.save()
        changes = {
            name: {"before": before.get(name), "after": value}
            for name, value in cleaned.items()
            if before.get(name) != value
        }
        if password:
            changes["password"] = "changed"  # noqa: S105 - says that it changed, never what to
        record_audit_event(
            organization=inbox.organization,
            actor=actor,
            action=AuditEvent.Action.INBOX_UPDATED,
            target=f"{inbox} mailbox",
            changes=changes,
        )
    return mailbox
