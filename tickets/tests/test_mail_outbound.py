"""Outbound notifications, checked through anymail's test backend: who gets what, with
which headers and bodies."""

import warnings

import pytest
from anymail.exceptions import AnymailNotSupportedWarning
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from tickets import notifications, services
from tickets.actors import Actor
from tickets.mail import addresses
from tickets.models import Delivery, Message, Ticket
from tickets.tests import factories
from tickets.tests.test_injection import executable_parts

ANYMAIL_TEST_MAILER = {"default": {"BACKEND": "anymail.backends.test.EmailBackend"}}
INBOUND_DOMAIN = "reply.acme.test"


@pytest.fixture(autouse=True)
def mail_settings(settings):
    settings.MAILERS = ANYMAIL_TEST_MAILER
    settings.SUPPORT_EMAIL_SENDER = "console"
    settings.SUPPORT_EMAIL = "support@acme.test"
    settings.DEFAULT_FROM_EMAIL = "helpdesk@acme.test"
    settings.INBOUND_EMAIL_DOMAIN = INBOUND_DOMAIN
    settings.DELIVERY_INLINE_RETRY_SECONDS = 0
    return settings


def sent_to(address):
    return [email for email in mail.outbox if address in email.to]


def the_one_sent_to(address):
    found = sent_to(address)
    assert len(found) == 1, [(email.to, email.subject) for email in mail.outbox]
    return found[0]


def html_of(email):
    htmls = [content for content, mimetype in email.alternatives if mimetype == "text/html"]
    assert len(htmls) == 1
    return htmls[0]


def create_through_api(api, django_capture_on_commit_callbacks, **fields):
    payload = {
        "customer": {"email": "jane@example.com", "name": "Jane Doe"},
        "subject": "Refund please",
        "message": "I was charged **twice** for order 1042.",
        **fields,
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/tickets", payload, format="json")
    assert response.status_code == 201, response.json()
    return Ticket.objects.get(public_id=response.json()["id"])


def test_new_ticket_mails_the_support_address_with_the_customers_content_and_metadata(
    api, inbox, django_capture_on_commit_callbacks
):
    ticket = create_through_api(
        api, django_capture_on_commit_callbacks, type="billing", metadata={"plan": "pro", "tokens": 12}
    )

    email = the_one_sent_to("support@acme.test")
    assert email.subject == "[INV-1] Refund please"
    assert email.from_email == "Jane Doe via Acme <helpdesk@acme.test>"
    assert email.reply_to == [addresses.reply_address(ticket, addresses.ISSUED_TO_SUPPORT)]
    assert email.reply_to[0].startswith(f"reply+{ticket.public_id.lower()}-")
    assert email.reply_to[0].endswith(f"@{INBOUND_DOMAIN}")
    delivery = Delivery.objects.get(ticket=ticket, kind=Delivery.Kind.NEW_TICKET)
    assert email.extra_headers["Message-ID"] == delivery.message_id_header
    assert email.extra_headers["References"] == addresses.thread_root_id(ticket)
    assert email.extra_headers["In-Reply-To"] == addresses.thread_root_id(ticket)
    assert email.extra_headers["Auto-Submitted"] == "auto-generated"
    assert "I was charged **twice** for order 1042." in email.body
    assert "- Type: billing" in email.body
    assert "- plan: pro" in email.body
    assert "- tokens: 12" in email.body
    assert "jane@example.com" in email.body
    html = html_of(email)
    assert "I was charged <strong>twice</strong> for order 1042." in html
    assert "billing" in html and "pro" in html
    assert delivery.status == Delivery.Status.SENT
    assert delivery.attempts == 1
    assert delivery.recipient == "support@acme.test"
    assert delivery.provider_message_id != ""
    assert delivery.sent_at is not None


def test_new_ticket_confirms_to_the_customer_with_the_private_link(
    api, inbox, django_capture_on_commit_callbacks
):
    ticket = create_through_api(api, django_capture_on_commit_callbacks)

    email = the_one_sent_to("jane@example.com")
    assert email.subject == "[INV-1] We received your request: Refund please"
    assert email.from_email == "Acme Support <helpdesk@acme.test>"
    assert email.reply_to == [addresses.reply_address(ticket)]
    assert email.extra_headers["Auto-Submitted"] == "auto-replied"
    assert email.extra_headers["X-Auto-Response-Suppress"] == "All"
    assert ticket.private_url in email.body
    assert ticket.private_url in html_of(email)
    assert "##- Please type your reply above this line -##" in email.body
    assert len(mail.outbox) == 2


def test_an_inbox_support_email_overrides_the_default_support_address(
    api, inbox, django_capture_on_commit_callbacks
):
    inbox.support_email = "billing@acme.test"
    inbox.support_email_verified_at = timezone.now()  # verified, as in test_mail_addresses.py
    inbox.save()

    create_through_api(api, django_capture_on_commit_callbacks)

    assert the_one_sent_to("billing@acme.test").subject == "[INV-1] Refund please"
    assert sent_to("support@acme.test") == []


def test_without_an_inbound_domain_replies_go_to_the_support_address(
    api, inbox, settings, django_capture_on_commit_callbacks
):
    settings.INBOUND_EMAIL_DOMAIN = ""

    create_through_api(api, django_capture_on_commit_callbacks)

    assert the_one_sent_to("jane@example.com").reply_to == ["support@acme.test"]
    assert the_one_sent_to("support@acme.test").reply_to == ["jane@example.com"]
    assert "Please type your reply above this line" not in the_one_sent_to("jane@example.com").body


def test_an_agent_reply_is_mailed_to_the_customer_in_the_same_thread(
    inbox, agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = factories.make_ticket(inbox, email="jane@example.com", subject="Refund please")
    confirmation = Delivery.objects.get(ticket=ticket, kind=Delivery.Kind.CONFIRMATION)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        message, _ = services.add_message(ticket=ticket, body="Refunded, sorry!", actor=Actor.agent(agent))

    email = the_one_sent_to("jane@example.com")
    assert email.subject == "Re: [INV-1] Refund please"
    assert email.from_email == '"Alice Agent (Acme)" <helpdesk@acme.test>'
    assert email.reply_to == [addresses.reply_address(ticket)]
    assert email.extra_headers["In-Reply-To"] == confirmation.message_id_header
    assert email.extra_headers["References"] == (
        f"{addresses.thread_root_id(ticket)} {confirmation.message_id_header}"
    )
    assert "Auto-Submitted" not in email.extra_headers
    assert "Refunded, sorry!" in email.body
    assert "Refunded, sorry!" in html_of(email)
    assert ticket.private_url in email.body
    delivery = Delivery.objects.get(message=message)
    assert delivery.kind == Delivery.Kind.AGENT_REPLY
    assert email.extra_headers["Message-ID"] == delivery.message_id_header
    assert len(mail.outbox) == 1


def test_an_internal_note_sends_nothing_to_anyone(inbox, agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = factories.make_ticket(inbox, email="jane@example.com")
        services.assign(ticket=ticket, assignee=agent, actor=Actor.system("Tests"))
    mail.outbox.clear()
    deliveries_before = Delivery.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        services.add_message(
            ticket=ticket,
            body="Customer is on the old plan",
            actor=Actor.agent(agent),
            kind=Message.Kind.NOTE,
        )

    assert mail.outbox == []
    assert Delivery.objects.count() == deliveries_before


def test_a_customer_reply_goes_to_the_assignee(inbox, agent, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = factories.make_ticket(inbox, email="jane@example.com", subject="Refund please")
        services.assign(ticket=ticket, assignee=agent, actor=Actor.agent(owner))
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.add_message(ticket=ticket, body="Any news?", actor=Actor.for_customer(ticket.customer))

    email = the_one_sent_to("agent@acme.test")
    assert email.subject == "Re: [INV-1] Refund please"
    assert email.reply_to == [addresses.reply_address(ticket, addresses.issued_to_agent(agent))]
    assert email.extra_headers["Auto-Submitted"] == "auto-generated"
    assert "Any news?" in email.body and "Any news?" in html_of(email)
    assert len(mail.outbox) == 1


def test_a_customer_reply_on_an_unassigned_ticket_goes_to_the_support_address(
    inbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = factories.make_ticket(inbox, email="jane@example.com")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.add_message(ticket=ticket, body="Any news?", actor=Actor.for_customer(ticket.customer))

    assert the_one_sent_to("support@acme.test").subject == "Re: [INV-1] Cannot log in"
    assert sent_to("jane@example.com") == []


def test_assignment_mails_the_assignee_unless_they_took_it_themselves(
    inbox, agent, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = factories.make_ticket(inbox, email="jane@example.com", subject="Refund please")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.assign(ticket=ticket, assignee=agent, actor=Actor.agent(owner))

    email = the_one_sent_to("agent@acme.test")
    assert email.subject == "[INV-1] Assigned to you: Refund please"
    assert "assigned to you by Olga Owner" in email.body
    assert "Help me please." in html_of(email)

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.assign(ticket=ticket, assignee=owner, actor=Actor.agent(owner))
    assert mail.outbox == []


def test_an_auto_assigned_new_ticket_mails_the_assignee_once(
    inbox, agent, django_capture_on_commit_callbacks
):
    inbox.auto_assignment = inbox.AutoAssignment.LEAST_LOADED_N1
    inbox.save()

    with django_capture_on_commit_callbacks(execute=True):
        factories.make_ticket(inbox, email="jane@example.com")

    assert the_one_sent_to("agent@acme.test").subject.startswith("[INV-1] Assigned to you")
    assert len(mail.outbox) == 3  # support copy, confirmation, assignee


def test_resolving_tells_the_customer_once_and_closing_after_that_does_not(
    inbox, agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = factories.make_ticket(inbox, email="jane@example.com", subject="Refund please")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.change_status(ticket=ticket, status="resolved", actor=Actor.agent(agent))
    with django_capture_on_commit_callbacks(execute=True):
        services.change_status(ticket=ticket, status="closed", actor=Actor.agent(agent))

    email = the_one_sent_to("jane@example.com")
    assert email.subject == "[INV-1] Resolved: Refund please"
    assert "is now resolved" in email.body
    assert "is now <strong>resolved</strong>" in html_of(email)
    assert ticket.private_url in email.body
    assert len(mail.outbox) == 1


def test_closing_an_open_ticket_tells_the_customer_but_not_when_they_closed_it(
    inbox, agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = factories.make_ticket(inbox, email="jane@example.com", subject="First one")
        second = factories.make_ticket(inbox, email="jane@example.com", subject="Second one")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.change_status(ticket=first, status="closed", actor=Actor.agent(agent))
        services.change_status(ticket=second, status="closed", actor=Actor.for_customer(second.customer))

    assert [email.subject for email in mail.outbox] == ["[INV-1] Closed: First one"]


def test_customer_content_cannot_inject_markup_or_headers(api, inbox, django_capture_on_commit_callbacks):
    create_through_api(
        api,
        django_capture_on_commit_callbacks,
        customer={"email": "jane@example.com", "name": "Jane\r\nBcc: victim@example.net"},
        subject="Hello\r\nBcc: victim@example.net",
        message=(
            '<script>alert(1)</script><img src=x onerror="alert(2)"> **ok** <a href="javascript:x()">y</a>'
        ),
    )

    for email in mail.outbox:
        headers = email.message()
        assert "victim@example.net" not in email.recipients()
        assert headers.get_all("Bcc") is None
        assert "\n" not in headers["Subject"] and "\n" not in headers["From"]
        html = html_of(email)
        # HTML typed in a message is shown as text, never as markup that could run.
        assert executable_parts(html) == []
        assert "<script" not in html and "<img" not in html
    support = the_one_sent_to("support@acme.test")
    assert support.subject == "[INV-1] Hello Bcc: victim@example.net"
    assert "<strong>ok</strong>" in html_of(support)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_of(support)


def test_with_sender_none_tickets_are_only_stored(api, inbox, settings, django_capture_on_commit_callbacks):
    settings.SUPPORT_EMAIL_SENDER = "none"

    ticket = create_through_api(api, django_capture_on_commit_callbacks)

    assert ticket.messages.count() == 1
    assert Delivery.objects.count() == 0
    assert mail.outbox == []


def test_the_request_only_enqueues_and_the_task_queues_deliveries_before_any_send(
    inbox, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    backend = notifications.notify_ticket_created.get_backend()
    backend.clear()

    with django_capture_on_commit_callbacks(execute=True):
        ticket = factories.make_ticket(inbox, email="jane@example.com")

    # Nothing is rendered in the request: one task waits for a worker (the outbox's: the
    # support copy, the acknowledgement trigger's mail, the events for webhooks and the feed).
    assert not Delivery.objects.filter(ticket=ticket).exists()
    assert len(backend.results) == 1
    assert [name for name in factories.enqueued_task_names(backend) if name.startswith("notify_")] == [
        "notify_ticket_created",
        "notify_trigger_email",
    ]

    notifications.notify_ticket_created.call(ticket.pk)
    notifications.notify_trigger_email.call(ticket.pk, "acknowledgement", "", "")

    deliveries = Delivery.objects.filter(ticket=ticket)
    assert sorted(deliveries.values_list("kind", "status", "recipient")) == [
        ("confirmation", "queued", "jane@example.com"),
        ("new_ticket", "queued", "support@acme.test"),
    ]
    assert mail.outbox == []


def test_a_failing_notification_never_breaks_the_request(
    api, inbox, monkeypatch, django_capture_on_commit_callbacks
):
    def explode(*args, **kwargs):
        raise RuntimeError("template storage is gone")

    monkeypatch.setattr("tickets.mail.outbound.render", explode)

    ticket = create_through_api(api, django_capture_on_commit_callbacks)

    assert ticket.messages.count() == 1


def test_the_portal_link_is_mailed_and_removed_from_the_record_once_sent(
    inbox, django_capture_on_commit_callbacks
):
    customer, _ = services.upsert_customer(
        organization=inbox.organization, data=services.CustomerData(email="jane@example.com", name="Jane")
    )
    link = "http://testserver/t/signin/secret-token-123"

    with django_capture_on_commit_callbacks(execute=True):
        deliveries = notifications.portal_link_requested(customer.pk, link)

    email = the_one_sent_to("jane@example.com")
    assert email.subject == "Your sign-in link for Acme support"
    assert link in email.body and link in html_of(email)
    delivery = Delivery.objects.get(pk=deliveries[0].pk)
    assert delivery.kind == Delivery.Kind.PORTAL_LINK
    assert delivery.status == Delivery.Status.SENT
    assert link not in delivery.body_text and link not in delivery.body_html


def test_we_never_mail_our_own_addresses(inbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        factories.make_ticket(inbox, email="support@acme.test")

    assert [email.to for email in mail.outbox] == [["support@acme.test"]]
    assert not Delivery.objects.filter(kind=Delivery.Kind.CONFIRMATION).exists()


# Provider choice -------------------------------------------------------------------------


def test_sender_google_uses_gmail_smtp_with_an_app_password(monkeypatch):
    from helpdesk import settings as project_settings

    monkeypatch.setenv("GOOGLE_SMTP_USER", "support@acme.test")
    monkeypatch.setenv("GOOGLE_SMTP_APP_PASSWORD", "abcd efgh ijkl mnop")

    mailer = project_settings._mailer("google")

    assert mailer["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert mailer["OPTIONS"] == {
        "host": "smtp.gmail.com",
        "port": 587,
        "use_tls": True,
        "timeout": 10,
        "username": "support@acme.test",
        "password": "abcd efgh ijkl mnop",
    }


def test_sender_smtp_maps_the_email_variables_into_mailer_options(monkeypatch):
    from helpdesk import settings as project_settings

    for name, value in {
        "EMAIL_HOST": "mail.acme.test",
        "EMAIL_HOST_USER": "bot",
        "EMAIL_HOST_PASSWORD": "pw",
        "EMAIL_USE_TLS": "1",
    }.items():
        monkeypatch.setenv(name, value)

    options = project_settings._mailer("smtp")["OPTIONS"]

    assert options["host"] == "mail.acme.test"
    assert options["port"] == 587
    assert (options["username"], options["password"], options["use_tls"]) == ("bot", "pw", True)
    assert not hasattr(project_settings, "EMAIL_HOST")


def test_any_anymail_provider_is_chosen_by_name_and_unknown_names_fail_loudly(monkeypatch):
    from helpdesk import settings as project_settings

    assert project_settings._mailer("mailgun") == {"BACKEND": "anymail.backends.mailgun.EmailBackend"}
    assert project_settings._mailer("postmark") == {"BACKEND": "anymail.backends.postmark.EmailBackend"}
    with pytest.raises(ImproperlyConfigured, match="carrier-pigeon"):
        project_settings._mailer("carrier-pigeon")
    monkeypatch.delenv("EMAIL_HOST", raising=False)
    with pytest.raises(ImproperlyConfigured, match="EMAIL_HOST"):
        project_settings._mailer("smtp")
    monkeypatch.setattr(project_settings, "_sendgrid_api_key", "")
    with pytest.raises(ImproperlyConfigured, match="SENDGRID_API_KEY"):
        project_settings._mailer("sendgrid")


def test_the_sendgrid_backend_still_works_and_warns_that_anymail_dropped_it(settings):
    from django.core.mail import mailers

    settings.MAILERS = {
        "default": {"BACKEND": "anymail.backends.sendgrid.EmailBackend", "OPTIONS": {"api_key": "SG.test"}}
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        backend = mailers.default
    assert backend.api_key == "SG.test"
    assert any(issubclass(warning.category, AnymailNotSupportedWarning) for warning in caught)


def test_with_sender_none_other_mail_is_dropped_with_a_warning_and_deploy_checks_pass(settings, caplog):
    from django.core.checks.mail import check_mailers_production_backend
    from django.core.mail import EmailMessage

    from helpdesk import settings as project_settings

    settings.MAILERS = {"default": project_settings._mailer("none")}

    assert EmailMessage("Reset your password", "...", to=["jane@example.com"]).send(using="default") == 0
    assert "not sent: 'Reset your password' to jane@example.com" in caplog.text
    assert check_mailers_production_backend(None) == []


def test_an_organization_named_support_is_not_support_twice_in_the_sender(
    api, organization, inbox, django_capture_on_commit_callbacks
):
    organization.name = "Acme Support"
    organization.save(update_fields=["name"])

    create_through_api(api, django_capture_on_commit_callbacks)

    assert the_one_sent_to("jane@example.com").from_email == "Acme Support <helpdesk@acme.test>"
