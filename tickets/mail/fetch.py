"""Reading mail from IMAP and POP3 mailboxes: ``manage.py fetch_mail`` (``--loop`` as a
worker process, the ``mail`` line of the Procfile).

Each message becomes exactly what the webhook would have made of it
(``tickets.mail.inbound.process``). Messages are tracked by UIDVALIDITY and UID (IMAP) or
UIDL (POP3) in ``FetchedMail``, written in the same transaction as the ticket change, so
nothing is imported twice. An IMAP message is flagged ``\\Seen`` only after that commit:
a crash in between leaves it unread on the server and recorded here, so it is neither
lost nor imported again. POP3 messages are left on the server (their UIDL is recorded).
"""

import base64
import imaplib
import logging
import poplib
import ssl
from dataclasses import dataclass

from anymail.inbound import AnymailInboundMessage
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from helpdesk import encryption
from tickets.exceptions import HelpdeskError
from tickets.models import FetchedMail, Mailbox

from . import inbound

logger = logging.getLogger(__name__)


@dataclass
class FetchResult:
    imported: int = 0
    error: str = ""


def fetch_all(mailboxes=None) -> dict[Mailbox, FetchResult]:
    """One pass over every active mailbox (or those given)."""
    mailboxes = mailboxes if mailboxes is not None else Mailbox.objects.filter(is_active=True)
    return {mailbox: fetch_mailbox(mailbox) for mailbox in mailboxes.select_related("inbox")}


def fetch_mailbox(mailbox: Mailbox) -> FetchResult:
    result = FetchResult()
    try:
        if mailbox.protocol == Mailbox.Protocol.IMAP:
            _fetch_imap(mailbox, result)
        else:
            _fetch_pop3(mailbox, result)
    except (OSError, imaplib.IMAP4.error, poplib.error_proto, ssl.SSLError) as error:
        # The server is down or refuses us: recorded on the mailbox, tried again next pass.
        result.error = f"{type(error).__name__}: {error}"[:2000]
        logger.warning("Mailbox %s: %s", mailbox, result.error)
    except Exception as error:
        # Our own bug on one message: nothing of it was committed or flagged, so the next
        # pass tries it again; the other mailboxes still run.
        result.error = f"{type(error).__name__}: {error}"[:2000]
        logger.exception("Mailbox %s failed", mailbox)
    Mailbox.objects.filter(pk=mailbox.pk).update(last_checked_at=timezone.now(), last_error=result.error)
    return result


def _import(mailbox: Mailbox, uidvalidity: int, uid: str, raw: bytes) -> bool:
    """Process one message and record it, in one transaction; False when already seen."""
    with transaction.atomic():
        seen = FetchedMail.objects.filter(mailbox=mailbox, uidvalidity=uidvalidity, uid=uid)
        if seen.exists():
            return False
        email = AnymailInboundMessage.parse_raw_mime_bytes(raw)
        try:
            outcome = inbound.process(email, failed=inbound.failed_checks(email))
        except HelpdeskError as error:
            # A refusal that would not change on a retry (as the webhook answers 200).
            logger.error("Mailbox %s message %s refused: %s", mailbox, uid, error.message)
        else:
            logger.info("Mailbox %s message %s: %s %s", mailbox, uid, outcome.action, outcome.reason)
        FetchedMail.objects.create(mailbox=mailbox, uidvalidity=uidvalidity, uid=uid)
    return True


def _xoauth2(mailbox: Mailbox, token: str) -> bytes:
    return f"user={mailbox.username}\x01auth=Bearer {token}\x01\x01".encode()


def _fetch_imap(mailbox: Mailbox, result: FetchResult) -> None:
    timeout = settings.MAILBOX_TIMEOUT_SECONDS
    context = ssl.create_default_context()
    if mailbox.security == Mailbox.Security.TLS:
        connection = imaplib.IMAP4_SSL(mailbox.host, mailbox.port, ssl_context=context, timeout=timeout)
    else:
        connection = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=timeout)
        if mailbox.security == Mailbox.Security.STARTTLS:
            connection.starttls(context)
    password = encryption.decrypt(mailbox.password_encrypted)
    try:
        if mailbox.authentication == Mailbox.Authentication.XOAUTH2:
            connection.authenticate("XOAUTH2", lambda _: _xoauth2(mailbox, password))
        else:
            connection.login(mailbox.username, password)
        status, _ = connection.select(f'"{mailbox.folder}"')
        if status != "OK":
            raise imaplib.IMAP4.error(f"cannot open folder {mailbox.folder!r}")
        uidvalidity = int(connection.response("UIDVALIDITY")[1][0])
        recorded = {
            int(uid)
            for uid in FetchedMail.objects.filter(mailbox=mailbox, uidvalidity=uidvalidity).values_list(
                "uid", flat=True
            )
        }
        last = max(recorded, default=0)
        # "n:*" always names the newest message, even one below n: keep the newer ones only.
        newer = {uid for uid in _search(connection, f"UID {last + 1}:*") if uid > last}
        # Unread ones below that: a message our handler failed on (tried again), or one
        # imported whose flag was lost with the connection (flagged now).
        unseen = set(_search(connection, "UNSEEN"))
        for uid in sorted(newer | (unseen - recorded)):
            status, parts = connection.uid("FETCH", str(uid), "(BODY.PEEK[])")
            raw = next((part[1] for part in parts if isinstance(part, tuple)), None)
            if status != "OK" or raw is None:
                continue
            try:
                imported = _import(mailbox, uidvalidity, str(uid), raw)
            except Exception as error:
                # Our own bug on this message: nothing committed, left unread, tried again
                # next pass; the messages after it still come in.
                result.error = f"{type(error).__name__}: {error}"[:2000]
                logger.exception("Mailbox %s message %s failed", mailbox, uid)
                continue
            result.imported += int(imported)
            # Only now, after the commit, does the server hear that it was read.
            connection.uid("STORE", str(uid), "+FLAGS", "(\\Seen)")
        for uid in sorted(unseen & recorded):
            connection.uid("STORE", str(uid), "+FLAGS", "(\\Seen)")
        connection.close()
    finally:
        connection.logout()


def _search(connection, criteria: str) -> list[int]:
    status, data = connection.uid("SEARCH", None, criteria)
    return [int(uid) for uid in (data[0] or b"").split()] if status == "OK" else []


def _fetch_pop3(mailbox: Mailbox, result: FetchResult) -> None:
    timeout = settings.MAILBOX_TIMEOUT_SECONDS
    context = ssl.create_default_context()
    if mailbox.security == Mailbox.Security.TLS:
        connection = poplib.POP3_SSL(mailbox.host, mailbox.port, timeout=timeout, context=context)
    else:
        connection = poplib.POP3(mailbox.host, mailbox.port, timeout=timeout)
        if mailbox.security == Mailbox.Security.STARTTLS:
            connection.stls(context)
    password = encryption.decrypt(mailbox.password_encrypted)
    try:
        if mailbox.authentication == Mailbox.Authentication.XOAUTH2:
            connection._shortcmd("AUTH XOAUTH2 " + base64.b64encode(_xoauth2(mailbox, password)).decode())
        else:
            connection.user(mailbox.username)
            connection.pass_(password)
        _, listing, _ = connection.uidl()
        for line in listing:
            number, _, uid = line.decode().partition(" ")
            if FetchedMail.objects.filter(mailbox=mailbox, uidvalidity=0, uid=uid).exists():
                continue
            _, lines, _ = connection.retr(int(number))
            try:
                result.imported += int(_import(mailbox, 0, uid, b"\r\n".join(lines) + b"\r\n"))
            except Exception as error:
                result.error = f"{type(error).__name__}: {error}"[:2000]
                logger.exception("Mailbox %s message %s failed", mailbox, uid)
    finally:
        connection.quit()
