"""Real concurrent requests against PostgreSQL: limits, numbers and idempotency stay exact.

Each thread drives the whole API path with its own client and its own database connection
(Django connections are per thread), closed when the thread ends.
"""

import threading
from collections import Counter

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tickets.models import Customer, Ticket
from tickets.tests import factories
from tickets.tests.api_helpers import ticket_payload

pytestmark = pytest.mark.django_db(transaction=True)


def _post_all_at_once(api_key: str, payloads: list[dict], headers: dict | None = None) -> list:
    """POST every payload to /api/v1/tickets from its own thread, released together."""
    start = threading.Barrier(len(payloads))
    responses = [None] * len(payloads)

    def worker(index: int, payload: dict) -> None:
        try:
            client = APIClient()
            client.credentials(HTTP_X_API_KEY=api_key, **(headers or {}))
            start.wait(timeout=30)
            responses[index] = client.post("/api/v1/tickets", payload, format="json")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=worker, args=(index, payload)) for index, payload in enumerate(payloads)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(response is not None for response in responses), "a request did not finish"
    return responses


@pytest.mark.postgres
def test_twenty_simultaneous_creates_for_one_new_customer_with_a_limit_of_two():
    organization = factories.make_organization()
    inbox = factories.make_inbox(organization, prefix="RACE", daily_limit_per_customer=2, is_default=True)
    _, key = factories.make_api_key(organization)
    payloads = [
        ticket_payload(
            customer={"email": "racer@example.com", "external_id": "racer"}, subject=f"Attempt {n}"
        )
        for n in range(20)
    ]

    responses = _post_all_at_once(key, payloads)

    assert Counter(response.status_code for response in responses) == {201: 2, 429: 18}
    for response in responses:
        if response.status_code == 429:
            assert int(response["Retry-After"]) > 0
            assert response.json()["code"] == 429
    assert Customer.objects.filter(organization=organization).count() == 1
    assert Ticket.objects.filter(inbox=inbox).count() == 2


@pytest.mark.postgres
def test_fifty_simultaneous_creates_in_one_inbox_get_fifty_consecutive_numbers():
    organization = factories.make_organization()
    inbox = factories.make_inbox(organization, prefix="SEQ", is_default=True)
    _, key = factories.make_api_key(organization)
    payloads = [ticket_payload(customer={"email": f"person{n}@example.com"}) for n in range(50)]

    responses = _post_all_at_once(key, payloads)

    assert [response.status_code for response in responses] == [201] * 50
    numbers = sorted(response.json()["number"] for response in responses)
    assert numbers == list(range(1, 51))
    references = {response.json()["reference"] for response in responses}
    assert references == {f"SEQ-{number}" for number in range(1, 51)}
    inbox.refresh_from_db()
    assert inbox.next_number == 51


@pytest.mark.postgres
def test_concurrent_retries_with_one_idempotency_key_create_one_ticket():
    organization = factories.make_organization()
    inbox = factories.make_inbox(organization, prefix="IDEM", is_default=True)
    _, key = factories.make_api_key(organization)
    payload = ticket_payload(customer={"email": "retry@example.com"})

    responses = _post_all_at_once(key, [payload] * 10, headers={"HTTP_IDEMPOTENCY_KEY": "order-2026-0001"})

    assert [response.status_code for response in responses] == [201] * 10
    assert len({response.json()["id"] for response in responses}) == 1
    assert Ticket.objects.filter(inbox=inbox).count() == 1
    assert sum(1 for response in responses if response.get("Idempotent-Replayed") == "true") == 9


@pytest.mark.postgres
def test_concurrent_creates_under_a_monthly_quota_stop_exactly_at_it():
    organization = factories.make_organization(monthly_ticket_quota=5)
    factories.make_inbox(organization, prefix="QUO", is_default=True)
    _, key = factories.make_api_key(organization)
    payloads = [ticket_payload(customer={"email": f"q{n}@example.com"}) for n in range(12)]

    responses = _post_all_at_once(key, payloads)

    assert Counter(response.status_code for response in responses) == {201: 5, 429: 7}
    assert Ticket.objects.filter(organization=organization).count() == 5
