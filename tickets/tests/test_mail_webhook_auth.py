"""Provider webhooks refuse posts without credentials, before reading a byte of the body
(issue 14, "Open inbound webhook" and "reads 40 MB before checking credentials")."""

import base64
import io

import pytest
from django.core import checks
from django.http import HttpResponse
from django.test import RequestFactory

from tickets.mail.middleware import InboundEmailBodyMiddleware
from tickets.models import Ticket
from tickets.tests.test_mail_inbound import (
    WEBHOOK_AUTH,
    basic_auth,
    mail_settings,  # noqa: F401 - the same provider settings as the inbound tests
    mailgun_signature,
    make_email,
    post_mailgun,
    post_sendgrid,
)

INBOUND_URLS = [
    "/anymail/amazon_ses/inbound/",
    "/anymail/brevo/inbound/",
    "/anymail/mailersend/inbound/",
    "/anymail/mailgun/inbound/",
    "/anymail/mailgun/inbound_mime/",
    "/anymail/mailjet/inbound/",
    "/anymail/mailtrap/inbound/",
    "/anymail/postal/inbound/",
    "/anymail/postmark/inbound/",
    "/anymail/resend/inbound/",
    "/anymail/sendgrid/inbound/",
    "/anymail/sendinblue/inbound/",
    "/anymail/sparkpost/inbound/",
]
TRACKING_URLS = [
    "/anymail/mailgun/tracking/",
    "/anymail/postmark/tracking/",
    "/anymail/sendgrid/tracking/",
    "/anymail/amazon_ses/tracking/",
]


@pytest.mark.parametrize("url", INBOUND_URLS + TRACKING_URLS)
@pytest.mark.parametrize("credentials", [None, "anymail:wrong", "anymail:webhook-secret-but-longer"])
def test_every_provider_webhook_refuses_a_post_without_valid_credentials_with_401(
    client, inbox, url, credentials
):
    headers = basic_auth(credentials) if credentials else {}

    response = client.post(url, {"email": make_email().as_string()}, **headers)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic")
    assert Ticket.objects.count() == 0


def test_with_no_secret_configured_the_webhook_is_closed_not_open(client, inbox, settings):
    settings.ANYMAIL = {}

    response = post_sendgrid(client, make_email(subject="Forged"), auth=False)

    assert response.status_code == 401
    assert Ticket.objects.count() == 0


def test_only_the_explicit_setting_opens_the_webhook_and_check_deploy_reports_it(
    client, inbox, settings, django_capture_on_commit_callbacks
):
    settings.ANYMAIL = {}
    settings.INBOUND_EMAIL_WEBHOOK_OPEN = True

    with django_capture_on_commit_callbacks(execute=True):
        response = post_sendgrid(client, make_email(subject="Printer on fire"), auth=False)

    assert response.status_code == 200
    assert Ticket.objects.get().subject == "Printer on fire"
    found = checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])
    assert "tickets.W001" in [message.id for message in found]


def test_the_deploy_check_is_quiet_with_credentials_and_the_webhook_closed(settings):
    settings.INBOUND_EMAIL_WEBHOOK_OPEN = False
    found = checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])
    assert not {"tickets.W001", "tickets.W002"} & {message.id for message in found}


def test_a_mailgun_post_with_the_password_but_a_bad_signature_is_401(client, inbox):
    response = post_mailgun(
        client,
        sender="jane@example.com",
        to="support@acme.test",
        subject="Hello there",
        text="hi",
        headers={},
        signature=mailgun_signature(key="not-the-key"),
    )

    assert response.status_code == 401
    assert Ticket.objects.count() == 0


class _ExplodingStream(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def readable(self):
        return True

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = readinto = read


def _request_with_unreadable_body(path, *, length, credentials=None):
    headers = (
        {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(credentials.encode()).decode()}
        if credentials
        else {}
    )
    request = RequestFactory().post(path, data=b"", content_type="multipart/form-data; boundary=x", **headers)
    request.META["CONTENT_LENGTH"] = str(length)
    request._stream = _ExplodingStream()
    request._read_started = False
    return request


def _middleware():
    return InboundEmailBodyMiddleware(lambda request: HttpResponse("the view ran"))


def test_credentials_are_checked_before_the_body_is_read(db):
    request = _request_with_unreadable_body("/anymail/sendgrid/inbound/", length=40 * 1024 * 1024)

    assert _middleware()(request).status_code == 401


def test_the_size_limit_applies_before_the_body_is_read_or_parsed(db, settings):
    settings.INBOUND_EMAIL_MAX_BYTES = 1000
    request = _request_with_unreadable_body(
        "/anymail/sendgrid/inbound/", length=1001, credentials=WEBHOOK_AUTH
    )

    assert _middleware()(request).status_code == 413
