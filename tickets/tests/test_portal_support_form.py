"""The built-in support form of an inbox: anyone may write in, within limits."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tickets import events
from tickets.models import Customer, Ticket, TicketEvent
from tickets.portal import ratelimit
from tickets.tests import factories


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    yield


@pytest.fixture
def form_url(inbox):
    return f"/t/new/{inbox.public_id}/"


def _post(client, url, **fields):
    data = {
        "email": "Jane@Example.com",
        "name": "Jane Doe",
        "subject": "Cannot download my invoice",
        "message": "The button does nothing.",
        "website": "",
        **fields,
    }
    return client.post(url, data)


def test_the_form_page_shows_the_inbox_fields_and_a_csrf_token(client, inbox, form_url):
    response = client.get(form_url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Acme" in html
    for field in ("email", "name", "subject", "message", "attachments", "website"):
        assert f'name="{field}"' in html
    assert "csrfmiddlewaretoken" in html


def test_an_unknown_inbox_has_no_form(client, db):
    assert client.get("/t/new/01HZZZZZZZZZZZZZZZZZZZZZZZ/").status_code == 404


def test_a_request_creates_a_web_ticket_and_the_page_shows_its_reference_but_never_its_private_link(
    client, inbox, form_url, monkeypatch, django_capture_on_commit_callbacks
):
    told = []
    monkeypatch.setitem(events._subscribers, events.TicketCreated, [told.append])
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, form_url)
    assert response.status_code == 302
    assert response["Location"] == f"/t/new/{inbox.public_id}/sent/"

    ticket = Ticket.objects.get()
    assert ticket.channel == Ticket.Channel.WEB
    assert ticket.inbox == inbox
    assert ticket.subject == "Cannot download my invoice"
    assert ticket.customer.email == "jane@example.com"
    assert ticket.customer.name == "Jane Doe"
    first = ticket.messages.get()
    assert (first.body, first.author_customer, first.channel) == (
        "The button does nothing.",
        ticket.customer,
        "web",
    )
    created = ticket.events.get(action=TicketEvent.Action.CREATED)
    assert created.actor_customer == ticket.customer
    # The confirmation email is the mail side's: we only make sure the creation is told.
    assert any(isinstance(event, events.TicketCreated) and event.ticket_id == ticket.pk for event in told)

    sent = client.get(response["Location"])
    html = sent.content.decode()
    assert sent.status_code == 200
    assert ticket.reference in html
    # Anyone can type any address: the link goes only to that address, by email.
    assert ticket.access_key not in html
    assert "jane@example.com" in html
    assert sent["Referrer-Policy"] == "no-referrer"
    assert "no-store" in sent["Cache-Control"]


def test_attachments_arrive_with_the_first_message(client, form_url):
    upload = SimpleUploadedFile("log.txt", b"stack trace", content_type="text/plain")
    _post(client, form_url, attachments=[upload])
    attachment = Ticket.objects.get().messages.get().attachments.get()
    assert (attachment.filename, attachment.content_type, attachment.size) == ("log.txt", "text/plain", 11)


def test_the_honeypot_field_drops_the_request_silently(client, form_url):
    response = _post(client, form_url, website="http://spam.example")
    assert response.status_code == 302
    assert not Ticket.objects.exists()
    assert not Customer.objects.exists()
    sent = client.get(response["Location"]).content.decode()
    assert "We will answer you by email" in sent
    assert "/t/0" not in sent


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"subject": "Hi"}, "at least 3 characters"),
        ({"subject": "x" * 201}, "at most 200 characters"),
        ({"message": ""}, "This field is required."),
        ({"message": "x" * 65537}, "at most 65536 characters"),
        ({"email": "not-an-email"}, "Enter a valid email address."),
    ],
)
def test_the_same_bounds_as_the_api_apply(client, form_url, fields, error):
    response = _post(client, form_url, **fields)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not Ticket.objects.exists()


def test_the_inbox_daily_limit_is_a_friendly_error(client, inbox, form_url):
    inbox.daily_limit_per_customer = 2
    inbox.save(update_fields=["daily_limit_per_customer"])
    factories.make_ticket(inbox, email="jane@example.com")
    factories.make_ticket(inbox, email="jane@example.com")
    response = _post(client, form_url)
    assert response.status_code == 429
    assert "2 new requests a day" in response.content.decode()
    assert Ticket.objects.count() == 2


def test_one_address_is_rate_limited(client, inbox, form_url):
    inbox.daily_limit_per_customer = None
    inbox.save(update_fields=["daily_limit_per_customer"])
    for number in range(ratelimit.SUPPORT_FORM_PER_EMAIL.limit):
        assert _post(client, form_url, subject=f"Question {number}").status_code == 302
    response = _post(client, form_url, subject="One more")
    assert response.status_code == 429
    assert "several requests in a short time" in response.content.decode()
    assert Ticket.objects.count() == ratelimit.SUPPORT_FORM_PER_EMAIL.limit


def test_one_client_address_is_rate_limited_across_emails(form_url):
    client = Client(REMOTE_ADDR="203.0.113.7")
    for number in range(ratelimit.SUPPORT_FORM_PER_IP.limit):
        assert _post(client, form_url, email=f"person{number}@example.com").status_code == 302
    assert _post(client, form_url, email="another@example.com").status_code == 429
    assert _post(Client(REMOTE_ADDR="203.0.113.8"), form_url, email="another@example.com").status_code == 302


def test_the_form_never_renames_an_existing_customer(client, inbox, form_url):
    existing = factories.make_ticket(inbox, email="jane@example.com", name="Jane Real").customer
    _post(client, form_url, name="Mallory")
    existing.refresh_from_db()
    assert existing.name == "Jane Real"
    # Nor files the request on her record before the address is proven.
    assert Ticket.objects.filter(customer=existing).count() == 1
    assert Ticket.objects.get(sender_unverified=True).reply_address == "jane@example.com"


def test_the_form_is_protected_by_csrf(form_url):
    response = _post(Client(enforce_csrf_checks=True), form_url)
    assert response.status_code == 403
    assert not Ticket.objects.exists()


def test_the_confirmation_page_shows_no_ticket_to_another_browser(client, form_url, inbox):
    _post(client, form_url)
    html = Client().get(f"/t/new/{inbox.public_id}/sent/").content.decode()
    assert Ticket.objects.get().access_key not in html
