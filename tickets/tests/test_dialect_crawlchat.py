"""CrawlChat (seed 004) under /compat/crawlchat: the seed's curl request and its errors."""

import pytest
from rest_framework.test import APIClient

from tickets.models import Customer, Ticket

SEED_BODY = {
    "userEmail": "user@email.com",
    "title": "Enquiry about pricing",
    "message": "Please explain about the pricing plans",
}


def url(collection_id: str) -> str:
    return f"/compat/crawlchat/ticket/{collection_id}"


@pytest.fixture
def crawlchat(api_key):
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=api_key)
    return client


def test_seed_curl_request_answers_ticket_number_and_private_url(crawlchat, inbox):
    response = crawlchat.post(url(inbox.public_id), SEED_BODY, format="json")
    assert response.status_code == 201, response.json()
    ticket = Ticket.objects.get()
    assert response.json() == {"ticketNumber": ticket.number, "privateUrl": ticket.private_url}
    assert response.json()["privateUrl"].startswith("http://testserver/t/")
    assert ticket.access_key in response.json()["privateUrl"]
    assert ticket.subject == "Enquiry about pricing"
    assert Customer.objects.get().email == "user@email.com"


def test_private_url_opens_the_private_ticket_page(crawlchat, inbox, client):
    private_url = crawlchat.post(url(inbox.public_id), SEED_BODY, format="json").json()["privateUrl"]
    page = client.get(private_url.removeprefix("http://testserver"))
    assert page.status_code == 200
    assert "Enquiry about pricing" in page.content.decode()


def test_ticket_numbers_count_up_within_a_collection(crawlchat, inbox):
    first = crawlchat.post(url(inbox.public_id), SEED_BODY, format="json").json()
    second = crawlchat.post(
        url(inbox.public_id), {**SEED_BODY, "userEmail": "other@email.com"}, format="json"
    ).json()
    assert second["ticketNumber"] == first["ticketNumber"] + 1


def test_custom_tags_are_kept_on_the_ticket(crawlchat, inbox):
    tags = {"plan": "pro", "trial": False, "seats": 12, "score": 4.5}
    response = crawlchat.post(url(inbox.public_id), {**SEED_BODY, "customTags": tags}, format="json")
    assert response.status_code == 201
    assert Ticket.objects.get().metadata == tags


@pytest.mark.parametrize("bad", [{"nested": {"a": 1}}, {"list": [1, 2]}, {"nothing": None}, ["a"], "text"])
def test_custom_tags_other_than_string_boolean_or_number_are_a_400(crawlchat, inbox, bad):
    response = crawlchat.post(url(inbox.public_id), {**SEED_BODY, "customTags": bad}, format="json")
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "customTags"
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("missing", ["userEmail", "title", "message"])
def test_each_required_field_missing_is_a_400_naming_it(crawlchat, inbox, missing):
    body = {key: value for key, value in SEED_BODY.items() if key != missing}
    response = crawlchat.post(url(inbox.public_id), body, format="json")
    assert response.status_code == 400
    assert response.json()["error"] == "Bad Request"
    assert response.json()["details"][0]["field"] == missing


def test_missing_or_wrong_api_key_is_401(inbox):
    client = APIClient()
    assert client.post(url(inbox.public_id), SEED_BODY, format="json").status_code == 401
    client.credentials(HTTP_X_API_KEY="hdk_wrong.key")
    response = client.post(url(inbox.public_id), SEED_BODY, format="json")
    assert response.status_code == 401
    assert response.json()["error"] == "Unauthorized"


def test_collection_of_another_organization_is_a_404_and_creates_nothing(crawlchat, other_inbox):
    response = crawlchat.post(url(other_inbox.public_id), SEED_BODY, format="json")
    assert response.status_code == 404
    assert response.json()["error"] == "Not Found"
    assert not Ticket.objects.exists()


def test_unknown_collection_is_a_404(crawlchat, inbox):
    assert crawlchat.post(url("nope"), SEED_BODY, format="json").status_code == 404


def test_third_ticket_for_a_user_in_a_day_is_429_when_the_collection_has_a_daily_limit(crawlchat, inbox):
    inbox.daily_limit_per_customer = 2
    inbox.save(update_fields=["daily_limit_per_customer"])
    for _ in range(2):
        crawlchat.post(url(inbox.public_id), SEED_BODY, format="json")
    response = crawlchat.post(url(inbox.public_id), SEED_BODY, format="json")
    assert response.status_code == 429
    assert "Retry-After" in response


def test_new_ticket_triggers_the_same_notifications_as_any_ticket(
    crawlchat, inbox, monkeypatch, settings, django_capture_on_commit_callbacks
):
    from tickets import notifications

    settings.SUPPORT_EMAIL_SENDER = "console"
    created = []
    monkeypatch.setattr(notifications, "ticket_created", created.append)
    with django_capture_on_commit_callbacks(execute=True):
        response = crawlchat.post(url(inbox.public_id), SEED_BODY, format="json")
    assert response.status_code == 201
    assert created == [Ticket.objects.get().pk]


@pytest.mark.django_db(transaction=True)
def test_the_user_is_mailed_the_private_link_and_support_gets_a_copy(inbox, api_key, settings, mailoutbox):
    settings.MAILERS = {"default": {"BACKEND": "anymail.backends.test.EmailBackend"}}
    settings.SUPPORT_EMAIL_SENDER = "console"
    settings.SUPPORT_EMAIL = "support@acme.test"
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=api_key)
    private_url = client.post(url(inbox.public_id), SEED_BODY, format="json").json()["privateUrl"]
    recipients = sorted(address for email in mailoutbox for address in email.to)
    assert recipients == ["support@acme.test", "user@email.com"]
    to_user = next(email for email in mailoutbox if "user@email.com" in email.to)
    assert private_url in to_user.body


@pytest.mark.parametrize("collection_id", ["ab%00cd", "%F0%9F%98%80", "x" * 300])
def test_an_id_that_cannot_be_a_collection_is_a_404_not_a_crash(crawlchat, inbox, collection_id):
    response = crawlchat.post(url(collection_id), SEED_BODY, format="json")
    assert response.status_code == 404
    assert response.json()["error"] == "Not Found"
