"""IMAP and POP3 (issue 14, item 8) against a real dovecot: ``fetch_mail`` imports each
message once, flags it read only after the ticket is committed, survives a crash in
between, and keeps the mailbox password encrypted and unshown."""

import imaplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent
from helpdesk import encryption
from tickets import exceptions, services
from tickets.actors import Actor
from tickets.mail import fetch
from tickets.models import FetchedMail, Mailbox, Ticket
from tickets.tests.dovecot import dovecot_server  # noqa: F401 - the real IMAP/POP3 server (fixture `dovecot`)
from tickets.tests.test_mail_inbound import mail_settings  # noqa: F401


def deliver(server, *, subject, sender="Bob <bob@example.org>", text="Hello, my printer is on fire."):
    """Put a message in the mailbox the way a mail server would (IMAP APPEND)."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, "support@acme.test", subject
    message["Date"], message["Message-ID"] = formatdate(), make_msgid(domain="example.org")
    message.set_content(text)
    with imaplib.IMAP4("127.0.0.1", server.imap_port) as connection:
        connection.login(server.user, server.password)
        connection.append("INBOX", None, None, message.as_bytes())


def seen_flags(server) -> list[bool]:
    with imaplib.IMAP4("127.0.0.1", server.imap_port) as connection:
        connection.login(server.user, server.password)
        connection.select("INBOX", readonly=True)
        _, data = connection.uid("FETCH", "1:*", "(FLAGS)")
        return [b"\\Seen" in line for line in data if line]


def empty(server):
    with imaplib.IMAP4("127.0.0.1", server.imap_port) as connection:
        connection.login(server.user, server.password)
        _, count = connection.select("INBOX")
        if int(count[0]):
            connection.store("1:*", "+FLAGS", "(\\Deleted)")
            connection.expunge()


@pytest.fixture
def mailbox(dovecot, inbox, owner):
    empty(dovecot)
    return services.save_mailbox(
        inbox=inbox,
        actor=Actor.agent(owner),
        protocol=Mailbox.Protocol.IMAP,
        host="127.0.0.1",
        port=dovecot.imap_port,
        security=Mailbox.Security.NONE,
        authentication=Mailbox.Authentication.PASSWORD,
        username=dovecot.user,
        password=dovecot.password,
        folder="INBOX",
    )


def test_fetch_mail_imports_each_message_once_and_then_flags_it_read(
    dovecot,
    mailbox,
    django_capture_on_commit_callbacks,
):
    deliver(dovecot, subject="Printer on fire")
    deliver(dovecot, subject="Second question")

    with django_capture_on_commit_callbacks(execute=True):
        call_command("fetch_mail")
        call_command("fetch_mail")

    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["Printer on fire", "Second question"]
    assert all(ticket.channel == Ticket.Channel.EMAIL for ticket in Ticket.objects.all())
    assert seen_flags(dovecot) == [True, True]
    assert FetchedMail.objects.filter(mailbox=mailbox).count() == 2


def test_a_crash_after_the_commit_leaves_the_message_unread_but_never_imports_it_twice(
    dovecot,
    mailbox,
    monkeypatch,
):
    deliver(dovecot, subject="Crash test")
    original_uid = imaplib.IMAP4.uid

    def crash_on_store(self, command, *args):
        if command == "STORE":
            raise OSError("connection lost")
        return original_uid(self, command, *args)

    monkeypatch.setattr(imaplib.IMAP4, "uid", crash_on_store)
    result = fetch.fetch_mailbox(mailbox)
    monkeypatch.undo()

    assert result.error.startswith("OSError")
    assert Ticket.objects.count() == 1
    assert seen_flags(dovecot) == [False]  # nothing lost: still unread on the server
    fetch.fetch_mailbox(mailbox)
    assert Ticket.objects.count() == 1
    assert seen_flags(dovecot) == [True]  # flagged on the next pass


def test_a_failure_before_the_commit_imports_nothing_and_the_next_pass_does(
    dovecot,
    mailbox,
    monkeypatch,
):
    deliver(dovecot, subject="Retry me")
    monkeypatch.setattr(fetch.inbound, "process", lambda *args, **kwargs: 1 / 0)
    assert fetch.fetch_mailbox(mailbox).error.startswith("ZeroDivisionError")
    monkeypatch.undo()

    assert not FetchedMail.objects.exists() and seen_flags(dovecot) == [False]
    fetch.fetch_mailbox(mailbox)
    assert Ticket.objects.get().subject == "Retry me"


def test_pop3_imports_each_message_once(dovecot, mailbox, owner, inbox):
    deliver(dovecot, subject="By POP3")
    services.save_mailbox(
        inbox=inbox,
        actor=Actor.agent(owner),
        protocol=Mailbox.Protocol.POP3,
        host="127.0.0.1",
        port=dovecot.pop3_port,
        security=Mailbox.Security.NONE,
        authentication=Mailbox.Authentication.PASSWORD,
        username=dovecot.user,
        folder="INBOX",
    )

    call_command("fetch_mail")
    call_command("fetch_mail")

    assert list(Ticket.objects.values_list("subject", flat=True)) == ["By POP3"]


def test_a_wrong_password_is_recorded_on_the_mailbox_not_raised(dovecot, mailbox, owner, inbox):
    services.save_mailbox(
        inbox=inbox,
        actor=Actor.agent(owner),
        protocol=Mailbox.Protocol.IMAP,
        host="127.0.0.1",
        port=dovecot.imap_port,
        security=Mailbox.Security.NONE,
        authentication=Mailbox.Authentication.PASSWORD,
        username=dovecot.user,
        password="wrong",
        folder="INBOX",
    )

    call_command("fetch_mail")

    mailbox.refresh_from_db()
    assert "AUTHENTICATIONFAILED" in mailbox.last_error or "failed" in mailbox.last_error.lower()
    assert mailbox.last_checked_at is not None


def test_the_password_is_encrypted_at_rest_never_shown_and_audited_without_it(client, mailbox, owner, inbox):
    assert mailbox.password_encrypted and "mailbox-secret" not in mailbox.password_encrypted
    assert encryption.decrypt(mailbox.password_encrypted) == "mailbox-secret"
    event = AuditEvent.objects.filter(target__endswith="mailbox").latest("created_at")
    assert "mailbox-secret" not in str(event.changes) and event.changes["password"] == "changed"
    client.force_login(owner)
    page = client.get(reverse("dashboard:settings-inbox-mailbox", args=[inbox.public_id])).content.decode()
    assert "mailbox-secret" not in page and "A password is stored" in page


def test_the_mailbox_settings_page_saves_and_keeps_the_password_when_left_empty(mailbox, owner, inbox):
    client = Client()
    client.force_login(owner)
    url = reverse("dashboard:settings-inbox-mailbox", args=[inbox.public_id])

    response = client.post(
        url,
        {
            "protocol": "imap",
            "host": "imap.example.com",
            "port": "993",
            "security": "tls",
            "authentication": "password",
            "username": "support@example.com",
            "password": "",
            "folder": "Support",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    mailbox.refresh_from_db()
    assert (mailbox.host, mailbox.folder) == ("imap.example.com", "Support")
    assert encryption.decrypt(mailbox.password_encrypted) == "mailbox-secret"


@pytest.mark.parametrize(
    ("field", "value"), [("host", ""), ("port", 70000), ("protocol", "smtp"), ("username", "a\nb")]
)
def test_bad_mailbox_settings_are_refused_and_change_nothing(mailbox, owner, inbox, field, value):
    fields = {
        "protocol": "imap",
        "host": "imap.example.com",
        "port": 993,
        "security": "tls",
        "authentication": "password",
        "username": "u",
        "folder": "INBOX",
        field: value,
    }
    with pytest.raises(exceptions.InvalidInput):
        services.save_mailbox(inbox=inbox, actor=Actor.agent(owner), **fields)
    mailbox.refresh_from_db()
    assert mailbox.host == "127.0.0.1"


def test_a_message_our_handler_fails_on_holds_up_nothing_and_is_tried_again(dovecot, mailbox, monkeypatch):
    deliver(dovecot, subject="Poison")
    deliver(dovecot, subject="Healthy")
    process = fetch.inbound.process

    def fail_on_poison(email, **kwargs):
        if email.subject == "Poison":
            raise RuntimeError("our bug")
        return process(email, **kwargs)

    monkeypatch.setattr(fetch.inbound, "process", fail_on_poison)
    assert fetch.fetch_mailbox(mailbox).error.startswith("RuntimeError")
    assert list(Ticket.objects.values_list("subject", flat=True)) == ["Healthy"]
    assert seen_flags(dovecot) == [False, True]

    monkeypatch.undo()
    fetch.fetch_mailbox(mailbox)
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["Healthy", "Poison"]
    assert seen_flags(dovecot) == [True, True]
