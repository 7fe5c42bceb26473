"""Limits: a customer's daily tickets, an organization's monthly quota, requests per credential."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from tickets.models import Ticket
from tickets.tests import factories
from tickets.tests.api_helpers import assert_error, ticket_payload

pytestmark = pytest.mark.django_db


def _seconds_to_midnight() -> int:
    now = timezone.localtime()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    return int((midnight - now).total_seconds())


def test_third_ticket_of_a_customer_on_the_same_day_is_429_with_retry_after(api, inbox):
    inbox.daily_limit_per_customer = 2
    inbox.save(update_fields=["daily_limit_per_customer"])
    responses = [
        api.post("/api/v1/tickets", ticket_payload(subject=f"Question {index}"), format="json")
        for index in range(3)
    ]

    assert [response.status_code for response in responses[:2]] == [201, 201]
    body = assert_error(responses[2], 429)
    assert "limit of 2" in body["message"]
    retry_after = int(responses[2]["Retry-After"])
    assert 0 < retry_after <= _seconds_to_midnight() + 1
    assert Ticket.objects.count() == 2


def test_daily_limit_counts_per_customer_and_per_inbox(api, organization, inbox):
    sales = factories.make_inbox(organization, name="Sales", prefix="SAL")
    for _ in range(2):
        api.post("/api/v1/tickets", ticket_payload(), format="json")

    other_customer = api.post(
        "/api/v1/tickets", ticket_payload(customer={"email": "b@example.com"}), format="json"
    )
    other_inbox = api.post("/api/v1/tickets", ticket_payload(inbox=sales.public_id), format="json")

    assert other_customer.status_code == 201
    assert other_inbox.status_code == 201


def test_yesterdays_tickets_do_not_count(api, inbox):
    for _ in range(2):
        api.post("/api/v1/tickets", ticket_payload(), format="json")
    Ticket.objects.update(created_at=timezone.now() - timedelta(days=1, hours=1))

    assert api.post("/api/v1/tickets", ticket_payload(), format="json").status_code == 201


def test_inbox_without_a_daily_limit_takes_any_number(api, inbox):
    inbox.daily_limit_per_customer = None
    inbox.save()

    statuses = {api.post("/api/v1/tickets", ticket_payload(), format="json").status_code for _ in range(4)}

    assert statuses == {201}


def test_monthly_quota_is_429_with_retry_after_until_next_month(api, organization, inbox):
    organization.monthly_ticket_quota = 2
    organization.save()
    for index in range(2):
        created = api.post(
            "/api/v1/tickets", ticket_payload(customer={"email": f"c{index}@example.com"}), format="json"
        )
        assert created.status_code == 201

    response = api.post(
        "/api/v1/tickets", ticket_payload(customer={"email": "c9@example.com"}), format="json"
    )

    body = assert_error(response, 429)
    assert "quota" in body["message"]
    now = timezone.localtime()
    next_month = (now.replace(day=1, hour=0, minute=0, second=0, microsecond=0) + timedelta(days=32)).replace(
        day=1
    )
    assert 0 < int(response["Retry-After"]) <= int((next_month - now).total_seconds()) + 1


def test_idempotent_replay_is_answered_even_when_the_limit_is_reached(api, inbox):
    first = api.post("/api/v1/tickets", ticket_payload(), format="json", HTTP_IDEMPOTENCY_KEY="a")
    api.post("/api/v1/tickets", ticket_payload(subject="Second"), format="json")

    replay = api.post("/api/v1/tickets", ticket_payload(), format="json", HTTP_IDEMPOTENCY_KEY="a")

    assert replay.status_code == 201
    assert replay.json()["id"] == first.json()["id"]


@override_settings(API_THROTTLE_RATE="3/min")
def test_requests_over_the_credentials_rate_are_429_with_retry_after(
    api, inbox, other_api_key, client_for_key
):
    statuses = [api.get("/api/v1/tickets").status_code for _ in range(3)]
    throttled = api.get("/api/v1/tickets")

    assert statuses == [200, 200, 200]
    body = assert_error(throttled, 429)
    assert 0 < int(throttled["Retry-After"]) <= 61
    assert "throttled" in body["message"].lower()
    # Another credential has its own allowance.
    assert client_for_key(other_api_key).get("/api/v1/tickets").status_code == 200


@override_settings(API_THROTTLE_RATE="2/min")
def test_agent_tokens_are_throttled_per_agent(agent, inbox):
    from rest_framework.test import APIClient

    _, token = factories.make_agent_token(agent)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    statuses = [client.get("/api/v1/inboxes").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
