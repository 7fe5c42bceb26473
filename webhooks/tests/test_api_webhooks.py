"""/api/v1/webhooks: create (the secret once), list, get, change, delete, rotate; who may."""

import base64

import pytest
from rest_framework.test import APIClient

from tickets.tests import factories
from webhooks.models import WebhookEndpoint


def test_create_answers_201_with_a_standard_webhooks_secret_shown_once(api, receiver):
    response = api.post(
        "/api/v1/webhooks",
        {"url": receiver.url, "events": ["ticket.created"], "description": "Backend", "active": True},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["secret"].startswith("whsec_")
    assert len(base64.b64decode(body["secret"].removeprefix("whsec_"))) == 32
    assert body["url"] == receiver.url
    assert body["events"] == ["ticket.created"]
    assert body["active"] is True
    assert "secret" not in api.get(f"/api/v1/webhooks/{body['id']}").json()
    assert all("secret" not in item for item in api.get("/api/v1/webhooks").json()["data"])


def test_list_get_patch_and_delete(api, receiver):
    created = api.post("/api/v1/webhooks", {"url": receiver.url, "events": ["*"]}, format="json").json()
    listed = api.get("/api/v1/webhooks").json()
    assert [item["id"] for item in listed["data"]] == [created["id"]]

    response = api.patch(
        f"/api/v1/webhooks/{created['id']}",
        {"events": ["message.created", "ticket.updated"], "include_internal_notes": True, "active": False},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["events"] == ["message.created", "ticket.updated"]
    assert response.json()["include_internal_notes"] is True
    assert response.json()["active"] is False

    assert api.delete(f"/api/v1/webhooks/{created['id']}").status_code == 204
    assert api.get(f"/api/v1/webhooks/{created['id']}").status_code == 404
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"events": ["*"]}, "url"),
        ({"url": "ftp://example.com/x", "events": ["*"]}, "url"),
        ({"url": "https://user:pw@example.com/x", "events": ["*"]}, "url"),
        ({"url": "https://example.com:99999/x", "events": ["*"]}, "url"),
        ({"url": 12, "events": ["*"]}, "url"),
        ({"url": "https://example.com/x"}, "events"),
        ({"url": "https://example.com/x", "events": []}, "events"),
        ({"url": "https://example.com/x", "events": ["ticket.exploded"]}, "events[0]"),
        ({"url": "https://example.com/x", "events": "*"}, "events"),
        ({"url": "https://example.com/x", "events": ["*"], "active": "yes"}, "active"),
        ({"url": "https://example.com/x", "events": ["*"], "description": "x" * 201}, "description"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_creates_nothing(api, body, field):
    response = api.post("/api/v1/webhooks", body, format="json")
    assert response.status_code == 400
    error = response.json()
    assert error["error"] == "Bad Request" and error["code"] == 400 and error["request_id"]
    assert field in [detail["field"] for detail in error["details"]]
    assert not WebhookEndpoint.objects.exists()


def test_a_bad_patch_changes_nothing(api, receiver):
    created = api.post("/api/v1/webhooks", {"url": receiver.url, "events": ["*"]}, format="json").json()
    response = api.patch(
        f"/api/v1/webhooks/{created['id']}", {"events": ["nope"], "description": "new"}, format="json"
    )
    assert response.status_code == 400
    assert api.get(f"/api/v1/webhooks/{created['id']}").json()["description"] == ""


def test_rotation_returns_a_new_secret_and_keeps_the_old_one_signing_for_24_hours(api, receiver):
    created = api.post("/api/v1/webhooks", {"url": receiver.url, "events": ["*"]}, format="json").json()
    response = api.post(f"/api/v1/webhooks/{created['id']}/rotate-secret")
    assert response.status_code == 200
    rotated = response.json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]
    assert rotated["previous_secret_expires_at"] is not None
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.signing_secrets() == [rotated["secret"], created["secret"]]


# Who may -----------------------------------------------------------------------------------


def test_an_inbox_restricted_key_cannot_manage_webhooks(organization, inbox, client_for_key, receiver):
    _, restricted = factories.make_api_key(organization, name="One inbox", inbox=inbox)
    response = client_for_key(restricted).post(
        "/api/v1/webhooks", {"url": receiver.url, "events": ["*"]}, format="json"
    )
    assert response.status_code == 403
    assert "restricted to one inbox" in response.json()["message"]


def test_another_organizations_endpoint_is_a_404(api, other_api_key, client_for_key, receiver):
    created = api.post("/api/v1/webhooks", {"url": receiver.url, "events": ["*"]}, format="json").json()
    other = client_for_key(other_api_key)
    assert other.get("/api/v1/webhooks").json()["data"] == []
    for method, path in [
        ("get", ""),
        ("patch", ""),
        ("delete", ""),
        ("post", "/rotate-secret"),
        ("post", "/test"),
        ("get", "/deliveries"),
    ]:
        response = getattr(other, method)(f"/api/v1/webhooks/{created['id']}{path}", {}, format="json")
        assert response.status_code == 404, (method, path)
    assert WebhookEndpoint.objects.get().secret == created["secret"]


def _agent_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.make_agent_token(user)[1]}")
    return client


def test_an_owner_manages_webhooks_with_a_personal_token_and_an_agent_cannot(
    organization, inbox, owner, agent, receiver
):
    response = _agent_client(owner).post(
        "/api/v1/webhooks", {"url": receiver.url, "events": ["*"]}, format="json"
    )
    assert response.status_code == 201
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.organization == organization

    as_agent = _agent_client(agent)
    assert as_agent.get("/api/v1/webhooks").json()["data"] == []
    assert as_agent.get(f"/api/v1/webhooks/{endpoint.public_id}").status_code == 404
    refused = as_agent.post("/api/v1/webhooks", {"url": receiver.url, "events": ["*"]}, format="json")
    assert refused.status_code == 403
    assert "owners and admins" in refused.json()["message"]


def test_without_a_credential_it_is_a_401():
    response = APIClient().get("/api/v1/webhooks")
    assert response.status_code == 401
    assert response.json()["code"] == 401


def test_the_list_costs_the_same_few_queries_for_many_endpoints(api, receiver, django_assert_max_num_queries):
    for _ in range(6):
        api.post("/api/v1/webhooks", {"url": receiver.url, "events": ["*"]}, format="json")
    with django_assert_max_num_queries(6):
        response = api.get("/api/v1/webhooks")
    assert len(response.json()["data"]) == 6


def test_the_delivery_log_costs_the_same_few_queries_for_many_deliveries(
    api, api_key, inbox, receiver, make_endpoint, delivering, django_assert_max_num_queries
):
    endpoint = make_endpoint(api_key, receiver.url, events=["ticket.created"])
    with delivering():
        for _ in range(5):
            factories.make_ticket(inbox)
    with django_assert_max_num_queries(8):
        response = api.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries")
    assert len(response.json()["data"]) == 5


def test_an_owner_of_two_organizations_is_asked_to_use_an_api_key(
    organization, other_organization, inbox, owner, receiver
):
    factories.make_agent(other_organization, email=owner.email, role="owner")
    response = _agent_client(owner).post(
        "/api/v1/webhooks", {"url": receiver.url, "events": ["*"]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "organization"
    assert not WebhookEndpoint.objects.exists()
