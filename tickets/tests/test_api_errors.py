"""Every refusal of the native API has the one error shape and names the field at fault."""

import json

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from tickets.models import Ticket
from tickets.tests import factories
from tickets.tests.api_helpers import REQUEST_ID, assert_error, ticket_payload

pytestmark = pytest.mark.django_db


def _customer(**fields):
    return {"email": "jane@example.com", **fields}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"subject": "ab"}, "subject"),
        ({"subject": "x" * 201}, "subject"),
        ({"subject": 12345}, "subject"),
        ({"message": ""}, "message"),
        ({"message": "x" * (64 * 1024 + 1)}, "message"),
        ({"message": ["a list"]}, "message"),
        ({"priority": "whenever"}, "priority"),
        ({"customer": {"email": "not-an-email"}}, "customer.email"),
        ({"customer": {"name": "No way to reach me"}}, "customer.email"),
        ({"customer": "jane@example.com"}, "customer"),
        ({"customer": _customer(metadata=["not", "an", "object"])}, "customer.metadata"),
        ({"metadata": "a string"}, "metadata"),
        ({"metadata": {f"key{i}": i for i in range(51)}}, "metadata"),
        ({"metadata": {"deep": {"deeper": {"deepest": {"too": 1}}}}}, "metadata"),
        ({"metadata": {"big": "x" * 9000}}, "metadata"),
        ({"tags": "billing"}, "tags"),
        ({"tags": [f"tag{i}" for i in range(21)]}, "tags"),
        ({"tags": ["x" * 51]}, "tags[0]"),
        ({"reply_address": "nowhere"}, "reply_address"),
        ({"inbox": 42}, "inbox"),
    ],
)
def test_invalid_create_is_400_naming_the_field(api, inbox, overrides, field):
    response = api.post("/api/v1/tickets", ticket_payload(**overrides), format="json")

    body = assert_error(response, 400, field=field)
    assert body["error"] == "Bad Request"
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("missing", ["customer", "subject", "message"])
def test_missing_required_field_is_400_naming_it(api, inbox, missing):
    payload = ticket_payload()
    del payload[missing]

    body = assert_error(api.post("/api/v1/tickets", payload, format="json"), 400, field=missing)
    assert "required" in body["details"][0]["message"]


def test_priority_error_lists_the_allowed_values(api, inbox):
    body = assert_error(api.post("/api/v1/tickets", ticket_payload(priority="asap"), format="json"), 400)

    assert body["details"] == [
        {"field": "priority", "message": '"asap" is not one of: low, normal, high, urgent, critical.'}
    ]
    assert body["message"].startswith("Invalid priority:")


def test_several_errors_are_all_reported(api, inbox):
    body = assert_error(
        api.post("/api/v1/tickets", ticket_payload(subject="", priority="x", message=""), format="json"), 400
    )

    assert {detail["field"] for detail in body["details"]} == {"subject", "priority", "message"}


def test_malformed_json_is_400(api, inbox):
    response = api.post("/api/v1/tickets", data='{"subject": ', content_type="application/json")

    body = assert_error(response, 400)
    assert "JSON" in body["message"]


def test_a_json_array_body_is_400(api, inbox):
    response = api.post("/api/v1/tickets", data="[]", content_type="application/json")

    body = assert_error(response, 400)
    assert body["details"][0]["field"] is None


def test_wrong_content_type_is_415(api, inbox):
    response = api.post(
        "/api/v1/tickets", data="subject=hello", content_type="application/x-www-form-urlencoded"
    )

    body = assert_error(response, 415)
    assert body["error"] == "Unsupported Media Type"


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_body_over_the_size_limit_is_413(api, inbox):
    response = api.post("/api/v1/tickets", ticket_payload(message="x" * 2000), format="json")

    body = assert_error(response, 413)
    assert "1000 bytes" in body["message"]
    assert not Ticket.objects.exists()


def test_unknown_route_under_api_is_404_in_the_shape(api):
    for path in ("/api/v1/nothing-here", "/api/v2/tickets", "/api/", "/api/v1/tickets/x/y/z"):
        assert_error(api.get(path), 404)


@override_settings(DEBUG=True)
def test_unknown_route_is_json_even_with_debug_on(api):
    assert_error(api.get("/api/v1/nothing-here"), 404)


def test_unknown_ticket_is_404_in_the_shape(api, inbox):
    body = assert_error(api.get("/api/v1/tickets/01JZZZZZZZZZZZZZZZZZZZZZZZ"), 404)
    assert body["error"] == "Not Found"


def test_wrong_method_is_405_in_the_shape(api, ticket):
    assert_error(api.delete(f"/api/v1/tickets/{ticket.public_id}"), 405)


def test_every_response_carries_a_request_id(api, ticket):
    responses = [
        api.get("/api/v1/tickets"),
        api.get("/api/v1/nothing"),
        api.post("/api/v1/tickets", {}, format="json"),
        APIClient().get("/api/v1/tickets"),
        api.get("/healthz"),
    ]
    for response in responses:
        assert REQUEST_ID.match(response["X-Request-ID"]), response


def test_a_callers_own_request_id_is_echoed(api, inbox):
    response = api.post("/api/v1/tickets", {}, format="json", HTTP_X_REQUEST_ID="trace-1234-abcd")

    assert response["X-Request-ID"] == "trace-1234-abcd"
    assert response.json()["request_id"] == "trace-1234-abcd"


def test_an_unsafe_request_id_is_replaced(api, inbox):
    response = api.get("/api/v1/tickets", HTTP_X_REQUEST_ID="<script>")

    assert REQUEST_ID.match(response["X-Request-ID"])


def test_invalid_patch_values_name_their_fields(api, ticket):
    response = api.patch(
        f"/api/v1/tickets/{ticket.public_id}",
        {"status": "done", "assignee": ["x"], "metadata": [1], "subject": "no"},
        format="json",
    )

    body = assert_error(response, 400)
    assert {detail["field"] for detail in body["details"]} == {"status", "assignee", "metadata", "subject"}


def test_invalid_message_is_400(api, ticket):
    url = f"/api/v1/tickets/{ticket.public_id}/messages"

    assert_error(api.post(url, {"body": ""}, format="json"), 400, field="body")
    assert_error(api.post(url, {"body": "x" * (64 * 1024 + 1)}, format="json"), 400, field="body")
    assert_error(api.post(url, {"body": "Hi", "kind": "memo"}, format="json"), 400, field="kind")
    assert_error(
        api.post(url, {"body": "Hi", "kind": "note", "author_type": "customer"}, format="json"),
        400,
        field="kind",
    )


def test_error_bodies_are_plain_json_objects(api, inbox):
    response = api.post("/api/v1/tickets", {}, format="json")

    assert json.loads(response.content)["code"] == 400


def test_server_error_under_api_is_500_in_the_shape(inbox, api_key, monkeypatch):
    from tickets.api import views

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views.TicketViewSet, "list", explode)
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_X_API_KEY=api_key)

    assert_error(client.get("/api/v1/tickets"), 500)


def test_missing_credential_is_401_in_the_shape(inbox):
    body = assert_error(APIClient().get("/api/v1/tickets"), 401)

    assert body["error"] == "Unauthorized"
    assert "X-API-Key" in body["message"]


def test_error_for_another_organizations_key_matches_an_unknown_id(api, other_inbox):
    foreign = factories.make_ticket(other_inbox)

    foreign_body = assert_error(api.get(f"/api/v1/tickets/{foreign.public_id}"), 404)
    unknown_body = assert_error(api.get("/api/v1/tickets/01JZZZZZZZZZZZZZZZZZZZZZZZ"), 404)

    assert foreign_body["message"] == unknown_body["message"]


def test_pages_outside_the_api_keep_their_html_404(client):
    response = client.get("/desk/nothing-here/at-all")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
