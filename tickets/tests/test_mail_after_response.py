"""No mail inside a request (issue 14, item 5): with the default task backend, mail goes
out after the response has been handed to the server, so a hanging mail server holds no
request, and portal sign-in and password reset answer alike for known and unknown
addresses.

Requests go through Django's WSGI handler the way a WSGI server drives it: the handler
returns the response, the server sends it, then calls ``close()`` — which is when Django
says the request finished. The test client would close the response itself before
returning, so it cannot tell "before" from "after".
"""

import json
import socket

import pytest
from django.core import mail
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_started
from django.db import close_old_connections, connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from helpdesk import settings as project_settings
from tickets.models import Delivery, Ticket
from tickets.tests import factories
from tickets.tests.test_mail_smtp import free_port, smtp_server  # noqa: F401 - a real SMTP sink

LOCMEM = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


class _Handler(WSGIHandler):
    def get_response(self, request):
        request._dont_enforce_csrf_checks = True  # a form post without a browser's cookie
        return super().get_response(request)


def serve(request):
    """The response as the server holds it before sending; call ``close()`` after."""
    request_started.disconnect(close_old_connections)  # as the test client does
    try:
        started = []
        response = _Handler()(request.environ, lambda status, headers: started.append(status))
    finally:
        request_started.connect(close_old_connections)
    return started[0], response


@pytest.fixture
def smtp(settings, monkeypatch, smtp_server):  # noqa: F811
    controller, collector = smtp_server
    monkeypatch.setenv("EMAIL_HOST", "127.0.0.1")
    monkeypatch.setenv("EMAIL_PORT", str(controller.port))
    settings.MAILERS = {"default": project_settings._mailer("smtp")}
    settings.SUPPORT_EMAIL_SENDER = "smtp"
    settings.SUPPORT_EMAIL = "support@acme.test"
    settings.DEFAULT_FROM_EMAIL = "helpdesk@acme.test"
    return collector


def create_ticket_request(api_key):
    body = {
        "subject": "Refund please",
        "message": "Charged twice.",
        "customer": {"email": "jane@example.com"},
    }
    return RequestFactory().post(
        "/api/v1/tickets",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {api_key}",
    )


@pytest.mark.django_db(transaction=True)
def test_the_api_answers_before_any_mail_is_sent_and_the_mail_follows(smtp, api_key, inbox):
    status, response = serve(create_ticket_request(api_key))

    assert status.startswith("201")
    assert smtp.received == []
    assert set(Delivery.objects.values_list("status", flat=True)) <= {Delivery.Status.QUEUED}

    response.close()  # the server has sent the answer

    assert sorted(rcpt for _, rcpt, _ in smtp.received) == [["jane@example.com"], ["support@acme.test"]]
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SENT}


@pytest.mark.django_db(transaction=True)
def test_a_hanging_mail_server_holds_no_request_and_loses_no_ticket(settings, monkeypatch, api_key, inbox):
    silent = socket.socket()
    silent.bind(("127.0.0.1", free_port()))
    silent.listen()  # accepts connections and never says a word
    monkeypatch.setenv("EMAIL_HOST", "127.0.0.1")
    monkeypatch.setenv("EMAIL_PORT", str(silent.getsockname()[1]))
    monkeypatch.setenv("EMAIL_TIMEOUT", "1")
    settings.MAILERS = {"default": project_settings._mailer("smtp")}
    settings.SUPPORT_EMAIL_SENDER = "smtp"
    settings.DELIVERY_INLINE_MAX_ATTEMPTS = 1
    try:
        status, response = serve(create_ticket_request(api_key))
        assert status.startswith("201")
        assert Ticket.objects.count() == 1
        response.close()
    finally:
        silent.close()

    assert Ticket.objects.count() == 1
    failures = list(Delivery.objects.values_list("status", "last_error"))
    assert failures and all(
        status == Delivery.Status.FAILED and "timed out" in error for status, error in failures
    )


def test_the_smtp_timeout_setting_bounds_each_attempt(monkeypatch):
    monkeypatch.setenv("EMAIL_HOST", "smtp.example.com")
    monkeypatch.setenv("EMAIL_TIMEOUT", "7")
    assert project_settings._mailer("smtp")["OPTIONS"]["timeout"] == 7.0


def answer_then_close(request, *, sent_before_close):
    """Serve one request; what was sent before the server closed it, then the answer."""
    with CaptureQueriesContext(connection) as queries:
        status, response = serve(request)
    sent_before_close.append(
        (len(mail.outbox), Delivery.objects.filter(kind=Delivery.Kind.PORTAL_LINK).count())
    )
    response.close()
    return status, response.content, len(queries)


def ask_for_portal_link(organization, email, sent_before_close):
    request = RequestFactory().post(f"/t/portal/{organization.slug}/", {"email": email})
    return answer_then_close(request, sent_before_close=sent_before_close)


@pytest.mark.django_db(transaction=True)
def test_portal_sign_in_answers_alike_for_a_known_and_an_unknown_address(organization, inbox, settings):
    settings.SUPPORT_EMAIL_SENDER = "console"  # mail on
    settings.MAILERS = LOCMEM
    factories.make_ticket(inbox, email="jane@example.com")
    mail.outbox.clear()

    before = []
    known_status, known, known_queries = ask_for_portal_link(organization, "jane@example.com", before)
    unknown_status, unknown, unknown_queries = ask_for_portal_link(organization, "nobody@example.com", before)

    assert known_status == unknown_status == "200 OK"
    assert known.replace(b"jane@example.com", b"") == unknown.replace(b"nobody@example.com", b"")
    assert known_queries == unknown_queries
    assert before == [(0, 0), (1, 1)]  # nothing mailed or even queued before its answer
    assert [email.to for email in mail.outbox] == [["jane@example.com"]]


def ask_for_password_reset(email, sent_before_close):
    request = RequestFactory().post("/accounts/password-reset/", {"email": email})
    return answer_then_close(request, sent_before_close=sent_before_close)


@pytest.mark.django_db(transaction=True)
def test_password_reset_answers_alike_and_mails_after_the_answer(agent, settings):
    settings.MAILERS = LOCMEM
    agent.set_password("a long enough password")
    agent.save()
    before = []

    known_status, _, known_queries = ask_for_password_reset(agent.email, before)
    unknown_status, _, unknown_queries = ask_for_password_reset("nobody@example.com", before)

    assert known_status == unknown_status
    assert known_status.startswith("302")
    assert known_queries == unknown_queries
    assert before == [(0, 0), (1, 0)]  # the known address's mail went only after its answer
    assert [email.to for email in mail.outbox] == [[agent.email]]
