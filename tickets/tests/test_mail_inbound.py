"""Inbound email through the real anymail webhook URLs, with each provider's own payload
format (as anymail documents and tests them): SendGrid inbound parse (raw MIME in the
``email`` field), Mailgun's forward route (signed, fully parsed fields) and Postmark's
inbound JSON."""

import base64
import hashlib
import hmac
import json
from email import policy
from email.message import EmailMessage
from email.utils import formatdate

import pytest
from django.core import mail
from django.utils import timezone

from tickets import limits, services
from tickets.actors import Actor
from tickets.mail import addresses
from tickets.models import Delivery, Message, Ticket
from tickets.tests import factories
from tickets.tests.test_bad_input import snapshot

WEBHOOK_AUTH = "anymail:webhook-secret"
MAILGUN_KEY = "key-mailgun-signing-123"
INBOUND_DOMAIN = "reply.acme.test"
QUOTED_REPLY = (
    "Thanks, that fixed it!\n"
    "\n"
    "-- \n"
    "Jane Doe\n"
    "Head of Everything\n"
    "\n"
    "On Mon, 23 Nov 2026 at 10:00, Acme Support <helpdesk@acme.test> wrote:\n"
    "> ##- Please type your reply above this line -##\n"
    "> We received your request.\n"
)


@pytest.fixture(autouse=True)
def mail_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.MAILERS = {"default": {"BACKEND": "anymail.backends.test.EmailBackend"}}
    settings.SUPPORT_EMAIL_SENDER = "console"
    settings.SUPPORT_EMAIL = "support@acme.test"
    settings.DEFAULT_FROM_EMAIL = "helpdesk@acme.test"
    settings.INBOUND_EMAIL_DOMAIN = INBOUND_DOMAIN
    settings.DELIVERY_INLINE_RETRY_SECONDS = 0
    settings.ANYMAIL = {"WEBHOOK_SECRET": [WEBHOOK_AUTH], "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY}
    return settings


@pytest.fixture
def ticket(inbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = factories.make_ticket(
            inbox, email="jane@example.com", subject="Refund please", name="Jane Doe"
        )
    mail.outbox.clear()
    return ticket


def basic_auth(credentials=WEBHOOK_AUTH):
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(credentials.encode()).decode()}


def make_email(
    *,
    sender="Jane Doe <jane@example.com>",
    to="support@acme.test",
    subject="Re: [INV-1] Refund please",
    text=QUOTED_REPLY,
    headers=None,
    attachment=None,
    message_id="<reply-1@mail.example.com>",
    cte=None,
):
    email = EmailMessage()
    email["From"] = sender
    email["To"] = to
    email["Subject"] = subject
    email["Date"] = formatdate()
    email["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        email[name] = value
    email.set_content(text, cte=cte)
    if attachment:
        filename, content_type, content = attachment
        maintype, subtype = content_type.split("/")
        email.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return email


def post_sendgrid(client, email, *, envelope_to=None, auth=True, extra=None):
    """SendGrid Inbound Parse with "POST the raw, full MIME message" enabled."""
    payload = {
        "email": email.as_string(),
        "to": email["To"],
        "from": email["From"],
        "subject": email["Subject"],
        "envelope": json.dumps({"to": [envelope_to or email["To"]], "from": "jane@example.com"}),
        "charsets": json.dumps({"to": "UTF-8", "subject": "UTF-8", "from": "UTF-8"}),
        "SPF": "pass",
        "dkim": "{@example.com : pass}",
        "spam_score": "0.1",
        **(extra or {}),
    }
    return client.post("/anymail/sendgrid/inbound/", payload, **(basic_auth() if auth else {}))


def mailgun_signature(key=MAILGUN_KEY, timestamp="1763892000", token="b3c1f0e2d4a5968778695a4b3c2d1e0f"):
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {"timestamp": timestamp, "token": token, "signature": signature}


def post_mailgun(client, *, sender, to, subject, text, headers, attachment=None, signature=None):
    """Mailgun route with forward(): fully parsed fields, signed with the webhook key."""
    message_headers = [
        ["From", sender],
        ["To", to],
        ["Subject", subject],
        *[[k, v] for k, v in headers.items()],
    ]
    payload = {
        "recipient": to,
        "sender": sender.rpartition("<")[2].rstrip(">"),
        "from": sender,
        "subject": subject,
        "body-plain": text,
        "stripped-text": text.split("\n\n")[0],
        "stripped-signature": "",
        "message-headers": json.dumps(message_headers),
        **(signature or mailgun_signature()),
    }
    if attachment is not None:
        from django.core.files.uploadedfile import SimpleUploadedFile

        filename, content_type, content = attachment
        payload["attachment-count"] = "1"
        payload["attachment-1"] = SimpleUploadedFile(filename, content, content_type=content_type)
    # The route's URL carries the basic-auth credentials too (https://user:pass@host/...).
    return client.post("/anymail/mailgun/inbound/", payload, **basic_auth())


def post_postmark_reply(client, text, message_id, attachment=None):
    """Jane's reply to INV-1 through Postmark's inbound webhook."""
    return post_postmark(
        client,
        sender_email="jane@example.com",
        sender_name="Jane",
        to="support@acme.test",
        subject="Re: [INV-1] Refund please",
        text=text,
        headers={"Message-ID": message_id},
        attachment=attachment,
    )


def post_postmark(
    client, *, sender_email, sender_name, to, subject, text, headers, attachment=None, auth=True
):
    """Postmark inbound webhook JSON."""
    payload = {
        "FromName": sender_name,
        "MessageStream": "inbound",
        "From": sender_email,
        "FromFull": {"Email": sender_email, "Name": sender_name, "MailboxHash": ""},
        "To": to,
        "ToFull": [{"Email": to, "Name": "", "MailboxHash": ""}],
        "Cc": "",
        "CcFull": [],
        "Bcc": "",
        "BccFull": [],
        "OriginalRecipient": to,
        "Subject": subject,
        "MessageID": "73e6d360-66eb-11e1-8e72-a8904824019b",
        "ReplyTo": "",
        "MailboxHash": "",
        "Date": formatdate(),
        "TextBody": text,
        "HtmlBody": "",
        "StrippedTextReply": text.split("\n\n")[0],
        "Tag": "",
        "Headers": [{"Name": "Return-Path", "Value": f"<{sender_email}>"}]
        + [{"Name": name, "Value": value} for name, value in headers.items()],
        "Attachments": [],
    }
    if attachment is not None:
        filename, content_type, content = attachment
        payload["Attachments"].append(
            {
                "Name": filename,
                "Content": base64.b64encode(content).decode(),
                "ContentType": content_type,
                "ContentLength": len(content),
            }
        )
    return client.post(
        "/anymail/postmark/inbound/",
        json.dumps(payload),
        content_type="application/json",
        **(basic_auth() if auth else {}),
    )


def only_new_message(ticket):
    messages = list(ticket.messages.order_by("created_at", "id"))
    assert len(messages) == 2, [message.body for message in messages]
    return messages[1]


# SendGrid, Mailgun, Postmark -------------------------------------------------------------


def test_sendgrid_reply_to_the_reply_address_lands_on_the_ticket_without_the_quote(
    client, ticket, django_capture_on_commit_callbacks
):
    email = make_email(
        to=addresses.reply_address(ticket),
        subject="Re: something else entirely",
        attachment=("receipt.pdf", "application/pdf", b"%PDF-1.4 receipt"),
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = post_sendgrid(client, email)

    assert response.status_code == 200
    message = only_new_message(ticket)
    assert message.body == "Thanks, that fixed it!"
    assert message.author_customer == ticket.customer
    assert message.channel == Ticket.Channel.EMAIL
    assert message.kind == Message.Kind.REPLY
    assert message.email_message_id == "<reply-1@mail.example.com>"
    assert "We received your request." in message.raw_email
    attachment = message.attachments.get()
    assert (attachment.filename, attachment.content_type, attachment.size) == (
        "receipt.pdf",
        "application/pdf",
        16,
    )
    assert attachment.file.read() == b"%PDF-1.4 receipt"
    # The support address hears about it; the customer is not mailed their own reply.
    assert [(email.to, email.subject) for email in mail.outbox] == [
        (["support@acme.test"], "Re: [INV-1] Refund please")
    ]


def test_mailgun_reply_is_threaded_by_in_reply_to(client, ticket, django_capture_on_commit_callbacks):
    confirmation = Delivery.objects.get(ticket=ticket, kind=Delivery.Kind.CONFIRMATION)

    with django_capture_on_commit_callbacks(execute=True):
        response = post_mailgun(
            client,
            sender="Jane Doe <jane@example.com>",
            to="support@acme.test",
            subject="Re: your request",
            text=QUOTED_REPLY,
            headers={"Message-Id": "<mg-1@mail.example.com>", "In-Reply-To": confirmation.message_id_header},
            attachment=("screenshot.png", "image/png", b"\x89PNG fake image"),
        )

    assert response.status_code == 200
    message = only_new_message(ticket)
    assert message.body == "Thanks, that fixed it!"
    assert message.email_message_id == "<mg-1@mail.example.com>"
    assert message.attachments.get().filename == "screenshot.png"


def test_postmark_reply_is_threaded_by_the_reference_in_the_subject(
    client, ticket, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_postmark(
            client,
            sender_email="jane@example.com",
            sender_name="Jane Doe",
            to="support@acme.test",
            subject="RE: [INV-1] Refund please",
            text=QUOTED_REPLY,
            headers={"Message-ID": "<pm-1@mail.example.com>"},
            attachment=("notes.txt", "text/plain", b"line one\n"),
        )

    assert response.status_code == 200
    message = only_new_message(ticket)
    assert message.body == "Thanks, that fixed it!"
    assert message.attachments.get().filename == "notes.txt"


def test_references_to_an_earlier_inbound_email_thread_the_reply(
    client, inbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_sendgrid(
            client, make_email(subject="Printer on fire", text="It is burning.", message_id="<a@x.test>")
        )
    ticket = Ticket.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        post_sendgrid(
            client,
            make_email(
                subject="More about that",
                text="Still burning.",
                message_id="<b@x.test>",
                headers={"References": "<a@x.test>"},
            ),
        )

    assert Ticket.objects.count() == 1
    assert only_new_message(ticket).body == "Still burning."


def test_webhooks_without_valid_credentials_are_refused_and_store_nothing(client, ticket):
    assert post_sendgrid(client, make_email(), auth=False).status_code == 401
    response = post_mailgun(
        client,
        sender="jane@example.com",
        to="support@acme.test",
        subject="Re: [INV-1] Refund please",
        text="hi",
        headers={},
        signature=mailgun_signature(key="not-the-key"),
    )
    assert response.status_code == 401
    response = post_postmark(
        client,
        sender_email="jane@example.com",
        sender_name="",
        to="support@acme.test",
        subject="[INV-1]",
        text="hi",
        headers={},
        auth=False,
    )
    assert response.status_code == 401
    assert ticket.messages.count() == 1


# New tickets and who may write -----------------------------------------------------------


def test_mail_from_an_unknown_thread_opens_a_ticket_on_the_inbox_it_was_sent_to(
    client, inbox, organization, django_capture_on_commit_callbacks
):
    billing = factories.make_inbox(
        organization, name="Billing", prefix="BIL", support_email="billing@acme.test"
    )
    email = make_email(
        sender="Bob Builder <bob@example.org>",
        to="Acme Billing <billing@acme.test>",
        subject="Invoice question",
        text="Why was I charged twice?\n\nBob",
        message_id="<new-1@example.org>",
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert post_sendgrid(client, email).status_code == 200

    ticket = Ticket.objects.get()
    assert ticket.inbox == billing
    assert ticket.reference == "BIL-1"
    assert ticket.channel == Ticket.Channel.EMAIL
    assert ticket.subject == "Invoice question"
    assert (ticket.customer.email, ticket.customer.name) == ("bob@example.org", "Bob Builder")
    first = ticket.messages.get()
    assert first.body == "Why was I charged twice?\n\nBob"
    assert first.email_message_id == "<new-1@example.org>"
    confirmation = the_one_to("bob@example.org")
    assert confirmation.extra_headers["Auto-Submitted"] == "auto-replied"
    assert confirmation.extra_headers["References"] == "<new-1@example.org>"
    assert the_one_to("billing@acme.test").subject == "[BIL-1] Invoice question"


def the_one_to(address):
    found = [email for email in mail.outbox if address in email.to]
    assert len(found) == 1, [(email.to, email.subject) for email in mail.outbox]
    return found[0]


def test_the_subject_reference_only_matches_within_the_recipient_inboxs_organization(
    client, ticket, other_organization, django_capture_on_commit_callbacks
):
    factories.make_inbox(other_organization, name="Globex", prefix="INV", support_email="help@globex.test")
    with django_capture_on_commit_callbacks(execute=True):
        post_sendgrid(
            client,
            make_email(to="help@globex.test", subject="Re: [INV-1] Refund please", text="Hello Globex"),
        )

    assert ticket.messages.count() == 1
    globex_ticket = Ticket.objects.get(organization=other_organization)
    assert globex_ticket.subject == "Re: [INV-1] Refund please"


def test_mail_to_an_address_no_inbox_claims_is_dropped(client, inbox):
    response = post_sendgrid(client, make_email(to="nobody@elsewhere.test", subject="Hello there"))

    assert response.status_code == 200
    assert Ticket.objects.count() == 0


def test_a_reply_to_a_closed_ticket_opens_a_new_linked_ticket(
    client, ticket, agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.change_status(ticket=ticket, status="closed", actor=Actor.agent(agent))

    with django_capture_on_commit_callbacks(execute=True):
        post_sendgrid(client, make_email(to=addresses.reply_address(ticket), text="It broke again."))

    follow_up = Ticket.objects.exclude(pk=ticket.pk).get()
    assert follow_up.metadata == {"follow_up_of": "INV-1"}
    assert follow_up.subject == "Refund please"
    assert follow_up.customer == ticket.customer
    assert follow_up.messages.get().body == "It broke again."
    assert ticket.messages.count() == 1


def test_a_strangers_email_on_a_thread_becomes_an_internal_note_and_reaches_no_customer(
    client, ticket, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_sendgrid(
            client,
            make_email(sender="Mallory <mallory@evil.test>", to=addresses.reply_address(ticket), text="Hi!"),
        )

    note = only_new_message(ticket)
    assert note.kind == Message.Kind.NOTE
    assert "mallory@evil.test" in note.body and "Hi!" in note.body
    assert mail.outbox == []


def test_an_agent_answering_through_the_reply_address_issued_to_them_replies_to_the_customer(
    client, ticket, agent, django_capture_on_commit_callbacks
):
    agents_address = addresses.reply_address(ticket, addresses.issued_to_agent(agent))
    with django_capture_on_commit_callbacks(execute=True):
        post_sendgrid(
            client,
            make_email(sender="Alice <agent@acme.test>", to=agents_address, text="Refund sent."),
        )

    message = only_new_message(ticket)
    assert (message.kind, message.author_user) == (Message.Kind.REPLY, agent)
    assert the_one_to("jane@example.com").body.count("Refund sent.") == 1


def test_an_agent_address_without_the_signed_reply_address_is_only_a_note(
    client, ticket, agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_sendgrid(client, make_email(sender="agent@acme.test", subject="[INV-1] x", text="Forged?"))

    assert only_new_message(ticket).kind == Message.Kind.NOTE
    assert mail.outbox == []


def test_a_forged_reply_address_signature_does_not_thread(
    client, ticket, inbox, django_capture_on_commit_callbacks
):
    forged = f"reply+{ticket.public_id.lower()}-000000000000@{INBOUND_DOMAIN}"
    with django_capture_on_commit_callbacks(execute=True):
        post_sendgrid(client, make_email(to=forged, subject="Hello", text="Sneaky"))

    assert ticket.messages.count() == 1


def test_the_same_email_delivered_twice_is_stored_once(client, ticket, django_capture_on_commit_callbacks):
    email = make_email(to=addresses.reply_address(ticket))
    with django_capture_on_commit_callbacks(execute=True):
        post_sendgrid(client, email)
        post_sendgrid(client, email)

    assert ticket.messages.count() == 2


# Mail loops ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"Precedence": "bulk"},
        {"X-Autoreply": "yes"},
        {"X-Auto-Response-Suppress": "All"},
    ],
)
def test_an_auto_reply_to_our_notification_is_recorded_and_answers_nothing(
    client, ticket, headers, django_capture_on_commit_callbacks
):
    confirmation = Delivery.objects.get(ticket=ticket, kind=Delivery.Kind.CONFIRMATION)
    deliveries_before = Delivery.objects.count()
    auto_reply = make_email(
        to=addresses.reply_address(ticket),
        subject="Out of office: [INV-1] We received your request",
        text="I am away until Monday.",
        headers={"In-Reply-To": confirmation.message_id_header, **headers},
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert post_sendgrid(client, auto_reply).status_code == 200

    note = only_new_message(ticket)
    assert note.kind == Message.Kind.NOTE
    assert "I am away until Monday." in note.body
    assert Delivery.objects.count() == deliveries_before
    assert mail.outbox == []
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN


def test_a_bounce_from_mailer_daemon_is_matched_through_the_quoted_original_and_not_answered(
    client, ticket, django_capture_on_commit_callbacks
):
    bounce = make_email(
        sender="Mail Delivery System <MAILER-DAEMON@mx.example.com>",
        to="helpdesk@acme.test",
        subject="Undelivered Mail Returned to Sender",
        text=(
            "Delivery failed.\n\n"
            f"Reply-To: {addresses.reply_address(ticket)}\nSubject: [INV-1] Refund please\n"
        ),
    )

    with django_capture_on_commit_callbacks(execute=True):
        post_sendgrid(client, bounce)

    assert only_new_message(ticket).kind == Message.Kind.NOTE
    assert mail.outbox == []
    assert Ticket.objects.count() == 1


def test_an_auto_reply_matching_no_ticket_opens_nothing(client, inbox):
    post_sendgrid(client, make_email(subject="Auto: away", headers={"Auto-Submitted": "auto-replied"}))

    assert Ticket.objects.count() == 0
    assert mail.outbox == []


@pytest.mark.parametrize("sender", ["<>", "Someone <>"])
def test_mail_from_no_usable_address_matching_no_ticket_is_dropped_with_a_reason_not_a_500(
    client, inbox, sender, caplog
):
    # anymail cannot read such a From: the webhook answered 500 and the provider retried.
    response = post_sendgrid(client, make_email(sender=sender, subject="Hello there"))

    assert response.status_code == 200
    assert Ticket.objects.count() == 0
    assert mail.outbox == []
    assert "unknown sender (no usable From address) matched no ticket; dropped" in caplog.text


def test_mail_from_no_usable_address_answering_our_notification_is_kept_as_a_note(
    client, ticket, django_capture_on_commit_callbacks
):
    confirmation = Delivery.objects.get(ticket=ticket, kind=Delivery.Kind.CONFIRMATION)
    deliveries_before = Delivery.objects.count()
    reply = make_email(
        sender="<>",
        to=addresses.reply_address(ticket),
        subject="Re: [INV-1] We received your request",
        text="Your message could not be delivered.",
        headers={"In-Reply-To": confirmation.message_id_header},
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert post_sendgrid(client, reply).status_code == 200

    note = only_new_message(ticket)
    assert note.kind == Message.Kind.NOTE
    assert "Your message could not be delivered." in note.body
    assert "no usable From address" in note.body
    assert Delivery.objects.count() == deliveries_before
    assert mail.outbox == []


def test_mail_from_our_own_address_is_ignored(client, inbox):
    post_sendgrid(client, make_email(sender="helpdesk@acme.test", subject="Loop?"))

    assert Ticket.objects.count() == 0


def test_the_deploy_check_warns_when_inbound_mail_has_no_credentials_to_arrive_with(settings):
    from tickets.mail.checks import check_inbound_webhook_secret

    settings.ANYMAIL = {}
    assert [warning.id for warning in check_inbound_webhook_secret()] == ["tickets.W002"]
    settings.ANYMAIL = {"WEBHOOK_SECRET": [WEBHOOK_AUTH]}
    assert check_inbound_webhook_secret() == []


def test_the_same_email_sent_to_two_organizations_reaches_both(
    client, inbox, organization, other_organization, django_capture_on_commit_callbacks
):
    inbox.support_email = "help@acme.test"
    inbox.support_email_verified_at = timezone.now()  # verified, as in test_mail_addresses.py
    inbox.save()
    factories.make_inbox(other_organization, name="Globex", prefix="GLX", support_email="help@globex.test")
    email = make_email(to="help@acme.test", subject="Both of you", text="Hello", message_id="<both@x.test>")

    with django_capture_on_commit_callbacks(execute=True):
        post_sendgrid(client, email)
        post_sendgrid(client, email, envelope_to="help@globex.test")

    assert sorted(Ticket.objects.values_list("reference", flat=True)) == ["GLX-1", "INV-1"]


def test_a_sender_the_domain_refuses_is_logged_and_answered_200(client, inbox, caplog):
    response = post_sendgrid(client, make_email(sender="Odd <odd@exa_mple.com>", subject="Hello there"))

    assert response.status_code == 200
    assert Ticket.objects.count() == 0
    assert "not stored: Invalid email format." in caplog.text


def test_our_own_new_ticket_copy_coming_back_to_the_webhook_is_ignored(
    client, inbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_sendgrid(client, make_email(subject="Printer on fire", text="It is burning."))
    ticket = Ticket.objects.get()
    copy = the_one_to("support@acme.test")  # the support address is routed to the webhook too
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = post_sendgrid(client, copy.message())

    assert response.status_code == 200
    assert Ticket.objects.count() == 1
    assert ticket.messages.count() == 1
    assert mail.outbox == []


def test_an_answer_from_the_support_mailbox_through_the_reply_address_reaches_the_customer(
    client, ticket, django_capture_on_commit_callbacks
):
    answer = make_email(
        sender="Acme Support <support@acme.test>",
        to=addresses.reply_address(ticket, addresses.ISSUED_TO_SUPPORT),
        subject="Re: [INV-1] Refund please",
        text="We refunded you.\n\nOn Monday Jane wrote:\n> Refund please",
    )

    with django_capture_on_commit_callbacks(execute=True):
        post_sendgrid(client, answer)

    message = only_new_message(ticket)
    assert (message.kind, message.author_type, message.body) == ("reply", "system", "We refunded you.")
    assert "We refunded you." in the_one_to("jane@example.com").body


def test_a_stranger_naming_a_ticket_only_in_the_subject_gets_their_own_ticket(
    client, ticket, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_sendgrid(
            client, make_email(sender="mallory@evil.test", subject="Re: [INV-1] Refund please", text="Hi")
        )

    assert ticket.messages.count() == 1
    theirs = Ticket.objects.exclude(pk=ticket.pk).get()
    assert (theirs.reference, theirs.customer.email) == ("INV-2", "mallory@evil.test")


def test_emails_larger_than_the_api_body_limit_arrive_with_their_attachments(
    client, ticket, settings, django_capture_on_commit_callbacks
):
    big = bytes(range(256)) * (8 * 1024)  # 2 MiB, twice DATA_UPLOAD_MAX_MEMORY_SIZE
    assert len(big) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    with django_capture_on_commit_callbacks(execute=True):
        sendgrid = post_sendgrid(
            client,
            make_email(to=addresses.reply_address(ticket), attachment=("scan.pdf", "application/pdf", big)),
        )
        postmark = post_postmark_reply(
            client, "Another scan.", "<pm-big@example.com>", attachment=("scan2.pdf", "application/pdf", big)
        )

    assert (sendgrid.status_code, postmark.status_code) == (200, 200)
    sizes = sorted(
        ticket.messages.values_list("attachments__filename", "attachments__size").exclude(attachments=None)
    )
    assert sizes == [("scan.pdf", len(big)), ("scan2.pdf", len(big))]


def test_an_email_above_the_inbound_limit_is_refused_with_413(client, ticket, settings):
    settings.INBOUND_EMAIL_MAX_BYTES = 10_000

    response = post_sendgrid(
        client, make_email(attachment=("big.bin", "application/octet-stream", b"x" * 20_000))
    )

    assert response.status_code == 413
    assert ticket.messages.count() == 1


def test_nul_bytes_in_an_email_do_not_stop_it_being_stored(
    client, ticket, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_postmark_reply(client, "Odd\x00 client.", "<nul@example.com>")

    message = only_new_message(ticket)
    assert message.body == "Odd client."
    assert "\x00" not in message.raw_email


def test_mail_sent_with_crlf_line_breaks_is_stored_with_lf_and_counted_once(
    client, ticket, django_capture_on_commit_callbacks
):
    """Mail travels with CR LF line breaks (quoted-printable here, as most clients send it,
    and inside Postmark's JSON): a line break is stored as LF and counts once against the
    64 Ki characters, so a body at the limit is kept whole; one past it is shortened (mail
    is never refused for its length; the whole email stays in ``raw_email``)."""
    at_limit = ("y" * 49 + "\n") * 1300 + "z" * (limits.MESSAGE_MAX_LENGTH - 50 * 1300)
    assert len(at_limit) == limits.MESSAGE_MAX_LENGTH < len(at_limit.replace("\n", "\r\n"))

    def sendgrid_with_crlf(text, message_id):
        email = make_email(
            to=addresses.reply_address(ticket), text=text, message_id=message_id, cte="quoted-printable"
        )
        raw = email.as_string(policy=policy.SMTP)
        assert "\r\n" in raw
        return post_sendgrid(client, email, extra={"email": raw})

    with django_capture_on_commit_callbacks(execute=True):
        whole = sendgrid_with_crlf(at_limit, "<at-limit@example.com>")
        over = sendgrid_with_crlf(at_limit + "z", "<over-limit@example.com>")
        postmark = post_postmark_reply(
            client, "First line.\r\nSecond line.\r\n\r\nJane", "<crlf-json@example.com>"
        )

    assert (whole.status_code, over.status_code, postmark.status_code) == (200, 200, 200)
    bodies = list(ticket.messages.order_by("id").values_list("body", flat=True))[1:]
    assert len(bodies) == 3
    assert bodies[0] == at_limit
    assert len(bodies[1]) <= limits.MESSAGE_MAX_LENGTH
    assert bodies[1].endswith("[Shortened: the whole email is kept with this message.]")
    assert bodies[2] == "First line.\nSecond line.\n\nJane"
    assert not any("\r" in body for body in bodies)


def test_reply_addresses_survive_a_secret_key_rotation(ticket, settings):
    address = addresses.reply_address(ticket)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-brand-new-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"

    assert addresses.ticket_public_id_from_reply_address(address) == ticket.public_id
    settings.SECRET_KEY_FALLBACKS = []
    assert addresses.ticket_public_id_from_reply_address(address) is None


def test_sendgrid_default_parsed_format_works_too(client, ticket, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    reply_address = addresses.reply_address(ticket)
    payload = {
        "headers": (
            "Received: by mx.sendgrid.net\n"
            "From: Jane Doe <jane@example.com>\n"
            f"To: {reply_address}\n"
            "Subject: Re: [INV-1] Refund please\n"
            "Message-ID: <sg-parsed@example.com>\n"
            "MIME-Version: 1.0\n"
        ),
        "from": "Jane Doe <jane@example.com>",
        "to": reply_address,
        "subject": "Re: [INV-1] Refund please",
        "text": QUOTED_REPLY,
        "html": "<p>Thanks, that fixed it!</p>",
        "envelope": json.dumps({"to": [reply_address], "from": "jane@example.com"}),
        "charsets": json.dumps(
            {"to": "UTF-8", "html": "UTF-8", "subject": "UTF-8", "from": "UTF-8", "text": "UTF-8"}
        ),
        "attachments": "1",
        "attachment-info": json.dumps(
            {"attachment1": {"filename": "log.txt", "name": "log.txt", "type": "text/plain"}}
        ),
        "attachment1": SimpleUploadedFile("log.txt", b"error 42\n", content_type="text/plain"),
        "SPF": "pass",
    }

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/anymail/sendgrid/inbound/", payload, **basic_auth())

    assert response.status_code == 200
    message = only_new_message(ticket)
    assert message.body == "Thanks, that fixed it!"
    assert message.email_message_id == "<sg-parsed@example.com>"
    assert message.attachments.get().filename == "log.txt"


def test_a_thread_root_is_signed_so_a_forged_one_does_not_thread(
    client, ticket, django_capture_on_commit_callbacks
):
    genuine = addresses.thread_root_id(ticket)
    forged = f"<ticket-{ticket.public_id.lower()}-{'0' * 12}@reply.acme.test>"
    assert addresses.ticket_public_id_from_thread_root(genuine) == ticket.public_id
    assert addresses.ticket_public_id_from_thread_root(forged) is None

    with django_capture_on_commit_callbacks(execute=True):
        post_sendgrid(
            client,
            make_email(
                subject="Hello",
                text="Through the root.",
                message_id="<r1@x.test>",
                headers={"References": genuine},
            ),
        )
        post_sendgrid(
            client,
            make_email(
                subject="Hello",
                text="Through a forgery.",
                message_id="<r2@x.test>",
                headers={"References": forged},
            ),
        )

    assert only_new_message(ticket).body == "Through the root."
    assert Ticket.objects.exclude(pk=ticket.pk).get().messages.get().body == "Through a forgery."


# Malformed payloads --------------------------------------------------------------------------

MALFORMED_PAYLOADS = [
    ("sendgrid", {"to": "support@acme.test", "subject": "no email field"}, None),
    ("sendgrid", "not a form at all", "application/json"),
    ("mailgun", {**mailgun_signature(), "message-headers": "{not json"}, None),
    ("mailgun", {**mailgun_signature(), "recipient": "support@acme.test"}, None),
    ("postmark", '{"From": "jane@example.com", "Subject": ', "application/json"),
    ("postmark", "[1, 2, 3]", "application/json"),
    ("postmark", '{"FromFull": "not an object", "ToFull": 7, "Headers": "x"}', "application/json"),
    ("postmark", "Subject=hello", "application/x-www-form-urlencoded"),
    # Nested past Python's json recursion (RecursionError, a 500 and retries for ever).
    ("postmark", '{"From": ' + "[" * 10_000 + "]" * 10_000 + "}", "application/json"),
    ("mailgun", {**mailgun_signature(), "message-headers": "[" * 10_000 + "]" * 10_000}, None),
]


@pytest.mark.parametrize(
    ("provider", "payload", "content_type"),
    MALFORMED_PAYLOADS,
    ids=[f"{provider} {index}" for index, (provider, _, _) in enumerate(MALFORMED_PAYLOADS)],
)
def test_a_malformed_webhook_payload_is_refused_and_stores_nothing(
    client, ticket, provider, payload, content_type
):
    before = snapshot()
    url = f"/anymail/{provider}/inbound/"
    if content_type is None:
        response = client.post(url, payload, **basic_auth())
    else:
        response = client.post(url, payload, content_type=content_type, **basic_auth())
    assert 400 <= response.status_code < 500, response.content[:500]
    assert snapshot() == before


def test_a_bug_in_our_own_handler_stays_a_500_so_the_provider_retries(ticket, monkeypatch):
    from django.test import Client

    from tickets.mail import inbound

    def broken(message):
        raise KeyError("a bug of ours, not the provider's payload")

    monkeypatch.setattr(inbound, "process", broken)
    client = Client(raise_request_exception=False)

    response = post_sendgrid(client, make_email())

    assert response.status_code == 500


def test_garbage_in_place_of_a_mime_message_is_dropped_like_mail_to_no_inbox(client, ticket):
    """Any bytes parse as *some* MIME message; with no recipient an inbox claims, it is dropped
    (200, so the provider does not retry it forever) and nothing is stored."""
    before = snapshot()
    response = client.post(
        "/anymail/sendgrid/inbound/", {"email": "\x00\xff not a MIME message"}, **basic_auth()
    )
    assert response.status_code == 200
    assert snapshot() == before
