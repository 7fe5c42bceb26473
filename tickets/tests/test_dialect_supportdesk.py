"""SupportDesk (seed 003) under /compat/supportdesk: the seed's request, envelope and errors."""

import uuid

import pytest
from rest_framework.test import APIClient

from tickets import services
from tickets.actors import Actor
from tickets.models import Notification, Ticket
from tickets.tests import factories

URL = "/compat/supportdesk/api/v1/tickets/api-create"
SEED_BODY = {
    "customerExternalId": "user_42",
    "subject": "Payment failed for order #12345",
    "description": "Payment attempt failed with CARD_DECLINED. Customer has been notified by email.",
    "priority": "HIGH",
    "metadata": {"orderId": "12345", "amount": 99.9},
}


@pytest.fixture
def supportdesk(api_key):
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=api_key)
    return client


@pytest.fixture
def customer(organization):
    customer, _ = services.upsert_customer(
        organization=organization,
        data=services.CustomerData(email="john@acme.com", external_id="user_42", name="John"),
    )
    return customer


def assert_error(response, status: int, code: str):
    assert response.status_code == status, response.json()
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert isinstance(body["error"]["details"], list)
    assert body["timestamp"].endswith("Z")
    return body


def test_seed_example_with_an_available_n1_agent_is_assigned_and_in_progress(
    supportdesk, inbox, customer, agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = supportdesk.post(URL, SEED_BODY, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    ticket = Ticket.objects.get()
    assert body["success"] is True
    assert body["timestamp"].endswith("Z")
    assert body["data"] == {
        "id": ticket.public_id,
        "ticketNumber": "INV-1",
        "subject": "Payment failed for order #12345",
        "status": "IN_PROGRESS",
        "priority": "HIGH",
        "channel": "API",
        "customer": {"id": customer.public_id, "externalId": "user_42", "email": "john@acme.com"},
        "assignedAgent": {"id": str(agent.pk), "name": "Alice Agent", "email": "agent@acme.test"},
        "createdAt": body["data"]["createdAt"],
    }
    assert ticket.metadata == {"orderId": "12345", "amount": 99.9}
    assert ticket.channel == "api"
    assert ticket.priority == "high"
    assert Notification.objects.filter(user=agent, ticket=ticket).exists()


def test_without_an_available_agent_the_ticket_stays_unassigned_in_the_documents_one_status(
    supportdesk, inbox, customer, organization
):
    factories.make_agent(organization, email="busy@acme.test", is_available=False)
    factories.make_agent(organization, email="n2@acme.test", tier="n2")
    body = supportdesk.post(URL, SEED_BODY, format="json").json()
    # The document knows IN_PROGRESS only: the ticket waits for an agent, open in our words.
    assert body["data"]["status"] == "IN_PROGRESS"
    assert body["data"]["assignedAgent"] is None
    assert Ticket.objects.get().status == "open"


def test_auto_assignment_picks_the_n1_agent_with_fewest_open_tickets(
    supportdesk, inbox, customer, organization
):
    busy = factories.make_agent(organization, email="busy@acme.test")
    free = factories.make_agent(organization, email="free@acme.test")
    services.assign(ticket=factories.make_ticket(inbox), assignee=busy, actor=Actor.system())
    body = supportdesk.post(URL, SEED_BODY, format="json").json()
    assert body["data"]["assignedAgent"]["email"] == free.email


def test_priority_defaults_to_medium_which_is_our_normal(supportdesk, inbox, customer):
    body = {key: value for key, value in SEED_BODY.items() if key != "priority"}
    response = supportdesk.post(URL, body, format="json")
    assert response.json()["data"]["priority"] == "MEDIUM"
    assert Ticket.objects.get().priority == "normal"


@pytest.mark.parametrize(("theirs", "ours"), [("LOW", "low"), ("URGENT", "urgent"), ("CRITICAL", "critical")])
def test_every_documented_priority_is_accepted(supportdesk, inbox, customer, theirs, ours):
    response = supportdesk.post(URL, {**SEED_BODY, "priority": theirs}, format="json")
    assert response.json()["data"]["priority"] == theirs
    assert Ticket.objects.get().priority == ours


def test_category_and_existing_tag_ids_are_kept(supportdesk, inbox, customer, organization):
    billing, _ = services.get_or_create_tag(organization=organization, name="billing")
    response = supportdesk.post(
        URL, {**SEED_BODY, "category": "payments", "tagIds": [str(billing.pk)]}, format="json"
    )
    assert response.status_code == 201
    ticket = Ticket.objects.get()
    assert ticket.category == "payments"
    assert list(ticket.tags.all()) == [billing]


def test_description_is_markdown_kept_as_written(supportdesk, inbox, customer):
    markdown = "**Card declined**\n\n- attempt 1\n- attempt 2"
    supportdesk.post(URL, {**SEED_BODY, "description": markdown}, format="json")
    assert Ticket.objects.get().messages.get().body == markdown


def test_unknown_customer_external_id_is_404_customer_not_found(supportdesk, inbox):
    assert_error(supportdesk.post(URL, SEED_BODY, format="json"), 404, "CUSTOMER_NOT_FOUND")
    assert not Ticket.objects.exists()


def test_customer_of_another_organization_is_customer_not_found(supportdesk, inbox, other_organization):
    services.upsert_customer(
        organization=other_organization, data=services.CustomerData(external_id="user_42")
    )
    assert_error(supportdesk.post(URL, SEED_BODY, format="json"), 404, "CUSTOMER_NOT_FOUND")


def test_unknown_tag_id_is_400_validation_error(supportdesk, inbox, customer, other_organization):
    foreign, _ = services.get_or_create_tag(organization=other_organization, name="billing")
    for tag_id in (str(uuid.uuid4()), str(foreign.pk)):
        body = assert_error(
            supportdesk.post(URL, {**SEED_BODY, "tagIds": [tag_id]}, format="json"), 400, "VALIDATION_ERROR"
        )
        assert body["error"]["details"][0]["field"] == "tagIds[0]"
    body = assert_error(
        supportdesk.post(URL, {**SEED_BODY, "tagIds": ["not-a-uuid"]}, format="json"), 400, "VALIDATION_ERROR"
    )
    assert body["error"]["details"][0]["field"] == "tagIds[0]"
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"customerExternalId": None}, "customerExternalId"),
        ({"subject": None}, "subject"),
        ({"description": None}, "description"),
        ({"description": "x" * 5001}, "description"),
        ({"priority": "medium"}, "priority"),
        ({"metadata": "orderId=12345"}, "metadata"),
        ({"tagIds": "not-a-list"}, "tagIds"),
    ],
)
def test_invalid_or_missing_fields_are_400_validation_error(supportdesk, inbox, customer, change, field):
    body = {key: value for key, value in {**SEED_BODY, **change}.items() if value is not None}
    error = assert_error(supportdesk.post(URL, body, format="json"), 400, "VALIDATION_ERROR")
    assert error["error"]["details"][0]["field"] == field


def test_monthly_quota_used_up_is_403_plan_limit_reached(supportdesk, inbox, customer, organization):
    organization.monthly_ticket_quota = 1
    organization.save()
    assert supportdesk.post(URL, SEED_BODY, format="json").status_code == 201
    assert_error(supportdesk.post(URL, SEED_BODY, format="json"), 403, "PLAN_LIMIT_REACHED")
    assert Ticket.objects.count() == 1


def test_missing_or_invalid_key_is_401_unauthorized(inbox, customer):
    client = APIClient()
    assert_error(client.post(URL, SEED_BODY, format="json"), 401, "UNAUTHORIZED")
    client.credentials(HTTP_X_API_KEY="hdk_bad.key")
    assert_error(client.post(URL, SEED_BODY, format="json"), 401, "UNAUTHORIZED")


def test_ticket_goes_to_the_inbox_the_key_is_restricted_to(organization, inbox, customer):
    billing = factories.make_inbox(organization, name="Billing", prefix="BIL")
    _, key = factories.make_api_key(organization, inbox=billing)
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=key)
    response = client.post(URL, SEED_BODY, format="json")
    assert response.json()["data"]["ticketNumber"] == "BIL-1"


def test_other_failures_keep_the_envelope(supportdesk, inbox, customer, monkeypatch):
    assert_error(supportdesk.get(URL), 405, "METHOD_NOT_ALLOWED")
    assert_error(supportdesk.post(URL, "{oops", content_type="application/json"), 400, "VALIDATION_ERROR")
    assert_error(supportdesk.post(URL, "a=b", content_type="text/plain"), 415, "UNSUPPORTED_MEDIA_TYPE")
    assert_error(supportdesk.post("/compat/supportdesk/api/v1/nope", {}, format="json"), 404, "NOT_FOUND")

    def explode(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "create_ticket", explode)
    body = assert_error(supportdesk.post(URL, SEED_BODY, format="json"), 500, "INTERNAL_ERROR")
    assert body["error"]["requestId"].startswith("req_")


def test_request_throttle_is_429_rate_limited_with_retry_after(supportdesk, inbox, customer, settings):
    settings.API_THROTTLE_RATE = "1/min"
    assert supportdesk.post(URL, SEED_BODY, format="json").status_code == 201
    response = supportdesk.post(URL, SEED_BODY, format="json")
    assert_error(response, 429, "RATE_LIMITED")
    assert int(response["Retry-After"]) > 0
