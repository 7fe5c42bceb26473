"""appbox (seed 000) under /compat/appbox: the seed's own requests, and each documented error."""

import pytest
from rest_framework.test import APIClient

from tickets.models import Customer, Ticket
from tickets.tests import factories

SEED_BODY = {
    "email": "user@example.com",
    "subject": "Cannot access premium features",
    "message": "I purchased a subscription yesterday but still can't access premium features. "
    "My order ID is #12345.",
    "userMeta": {"my-user-uuid": "pojfoih27938y50ujtb4ip1n2b", "plan": "premium"},
}
JS_BODY = {
    "email": "user@example.com",
    "subject": "Cannot access premium features",
    "message": "I purchased a subscription but still cannot access premium features.",
    "userMeta": {"my-user-uuid": "pojfoih27938y50ujtb4ip1n2b"},
}


def url(paywall_id: str) -> str:
    return f"/compat/appbox/api/v1/paywall/{paywall_id}/create-ticket"


@pytest.fixture
def appbox(api_key):
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=api_key)
    return client


def test_seed_example_creates_a_ticket_and_answers_exactly_the_documented_shape(appbox, inbox):
    response = appbox.post(url(inbox.public_id), SEED_BODY, format="json")
    assert response.status_code == 201, response.json()
    ticket = Ticket.objects.get()
    assert response.json() == {"ticket": {"id": ticket.number, "status": "open"}}
    assert ticket.subject == SEED_BODY["subject"]
    assert ticket.messages.get().body == SEED_BODY["message"]
    assert ticket.inbox == inbox


def test_user_is_created_on_first_ticket_and_user_meta_is_kept_and_merged(appbox, inbox):
    appbox.post(url(inbox.public_id), SEED_BODY, format="json")
    customer = Customer.objects.get()
    assert customer.email == "user@example.com"
    assert customer.metadata == SEED_BODY["userMeta"]

    response = appbox.post(url(inbox.public_id), {**JS_BODY, "userMeta": {"user_id": 7}}, format="json")
    assert response.status_code == 201
    assert Customer.objects.count() == 1
    customer.refresh_from_db()
    assert customer.metadata == {**SEED_BODY["userMeta"], "user_id": 7}
    assert response.json()["ticket"]["id"] == 2


def test_header_name_is_case_insensitive_and_a_trailing_slash_is_tolerated(api_key, inbox):
    client = APIClient()
    response = client.post(
        url(inbox.public_id) + "/",
        JS_BODY,
        format="json",
        headers={"X-Api-Key": api_key},
    )
    assert response.status_code == 201


def test_an_auto_assigned_ticket_answers_the_documents_one_status(appbox, inbox, agent):
    inbox.auto_assignment = "least_loaded_n1"
    inbox.save()
    response = appbox.post(url(inbox.public_id), SEED_BODY, format="json")
    # appbox's document knows "open" only; in our words the ticket is in progress.
    assert response.json()["ticket"]["status"] == "open"
    assert Ticket.objects.get().status == "in_progress"


def test_third_ticket_of_a_user_the_same_day_is_rejected_with_429(appbox, inbox):
    inbox.daily_limit_per_customer = 2
    inbox.save(update_fields=["daily_limit_per_customer"])
    for _ in range(2):
        assert appbox.post(url(inbox.public_id), SEED_BODY, format="json").status_code == 201
    response = appbox.post(url(inbox.public_id), SEED_BODY, format="json")
    assert response.status_code == 429
    assert response.json()["error"] == "Too Many Requests"
    assert int(response["Retry-After"]) > 0
    assert Ticket.objects.count() == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": None}, "email"),
        ({"email": "not-an-email"}, "email"),
        ({"subject": "ab"}, "subject"),
        ({"subject": "x" * 201}, "subject"),
        ({"message": ""}, "message"),
        ({"message": "x" * 5001}, "message"),
        ({"userMeta": ["not", "an", "object"]}, "userMeta"),
        ({"subject": 12345}, "subject"),
    ],
)
def test_missing_or_invalid_parameters_are_a_400_naming_the_field(appbox, inbox, change, field):
    body = {**SEED_BODY, **change}
    body = {key: value for key, value in body.items() if value is not None}
    response = appbox.post(url(inbox.public_id), body, format="json")
    assert response.status_code == 400
    payload = response.json()
    assert payload["error"] == "Bad Request"
    assert field in payload["message"]
    assert payload["details"][0]["field"] == field
    assert not Ticket.objects.exists()


def test_malformed_json_is_a_400_in_the_appbox_shape(appbox, inbox):
    response = appbox.post(url(inbox.public_id), "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "Bad Request"


def test_missing_api_key_is_401(inbox):
    response = APIClient().post(url(inbox.public_id), SEED_BODY, format="json")
    assert response.status_code == 401
    assert response.json() == {"error": "Unauthorized", "message": "Invalid or missing API key"}


def test_invalid_api_key_is_401(inbox):
    client = APIClient()
    client.credentials(HTTP_X_API_KEY="hdk_nope.nope")
    response = client.post(url(inbox.public_id), SEED_BODY, format="json")
    assert response.status_code == 401
    assert response.json()["error"] == "Unauthorized"


def test_bearer_key_is_not_the_appbox_header_and_is_refused(api_key, inbox):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")
    assert client.post(url(inbox.public_id), SEED_BODY, format="json").status_code == 401


def test_paywall_of_another_organization_is_403_api_key_owner_does_not_match(appbox, other_inbox):
    response = appbox.post(url(other_inbox.public_id), SEED_BODY, format="json")
    assert response.status_code == 403
    assert response.json() == {
        "error": "Forbidden",
        "message": "API key owner does not match paywall owner",
    }
    assert not Ticket.objects.exists()


def test_unknown_paywall_answers_like_another_owners_paywall(appbox, inbox):
    response = appbox.post(url("01JN2XG6H7I8J9K0L1M2N3O4P5"), SEED_BODY, format="json")
    assert response.status_code == 403
    assert response.json()["message"] == "API key owner does not match paywall owner"


def test_key_restricted_to_another_inbox_is_403(organization, inbox, appbox):
    other = factories.make_inbox(organization, name="Other", prefix="OTH")
    _, restricted = factories.make_api_key(organization, inbox=other)
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=restricted)
    assert client.post(url(inbox.public_id), SEED_BODY, format="json").status_code == 403
    assert client.post(url(other.public_id), SEED_BODY, format="json").status_code == 201


def test_server_error_is_500_in_the_appbox_shape_with_a_request_id(appbox, inbox, monkeypatch):
    from tickets import services

    def explode(**kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(services, "create_ticket", explode)
    response = appbox.post(url(inbox.public_id), SEED_BODY, format="json")
    assert response.status_code == 500
    body = response.json()
    assert body["error"] == "Internal Server Error"
    assert body["requestId"] == response["X-Request-ID"]
    assert "fire" not in response.content.decode()


def test_wrong_method_and_wrong_content_type_and_unknown_route_keep_the_shape(appbox, inbox):
    response = appbox.get(url(inbox.public_id))
    assert response.status_code == 405
    assert response.json()["error"] == "Method Not Allowed"

    response = appbox.post(
        url(inbox.public_id), "email=a@b.c", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert response.json()["error"] == "Unsupported Media Type"

    response = appbox.post("/compat/appbox/api/v1/nothing-here", {}, format="json")
    assert response.status_code == 404
    assert response.json()["error"] == "Not Found"


def test_body_over_the_size_limit_is_413(appbox, inbox, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = appbox.post(url(inbox.public_id), {**SEED_BODY, "message": "x" * 500}, format="json")
    assert response.status_code == 413
    assert response.json()["error"] == "Request Entity Too Large"


def test_request_throttle_is_429_in_the_appbox_shape(appbox, inbox, settings):
    settings.API_THROTTLE_RATE = "1/min"
    appbox.post(url(inbox.public_id), SEED_BODY, format="json")
    response = appbox.post(url(inbox.public_id), JS_BODY, format="json")
    assert response.status_code == 429
    assert response.json()["error"] == "Too Many Requests"
    assert "Retry-After" in response


def test_a_paywall_id_with_a_nul_character_is_refused_like_an_unknown_one(appbox, inbox):
    response = appbox.post(url("01JN%00XG6"), SEED_BODY, format="json")
    assert response.status_code == 403
    assert response.json()["message"] == "API key owner does not match paywall owner"


def test_a_retry_with_the_same_idempotency_key_returns_the_first_ticket(appbox, inbox):
    first = appbox.post(url(inbox.public_id), SEED_BODY, format="json", headers={"Idempotency-Key": "k-1"})
    again = appbox.post(url(inbox.public_id), SEED_BODY, format="json", headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Ticket.objects.count() == 1
    other = appbox.post(url(inbox.public_id), JS_BODY, format="json", headers={"Idempotency-Key": "k-1"})
    assert other.status_code == 422
    assert other.json()["error"] == "Unprocessable Entity"
