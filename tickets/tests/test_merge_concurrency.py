"""Two agents merging the same pair in opposite directions at once, on PostgreSQL: one
merge wins, the other is a clear 409, nothing deadlocks and no loop is made."""

import threading
from collections import Counter

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tickets.models import Ticket
from tickets.tests import factories

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def test_opposite_merges_at_once_make_one_merge_and_no_loop():
    organization = factories.make_organization()
    inbox = factories.make_inbox(organization, prefix="DUP", is_default=True)
    _, key = factories.make_api_key(organization)
    first = factories.make_ticket(inbox, email="jane@example.com")
    second = factories.make_ticket(inbox, email="jane@example.com", message="Same question.")
    pairs = [(first, second), (second, first)] * 3
    start = threading.Barrier(len(pairs))
    responses = [None] * len(pairs)

    def worker(index, source, target):
        try:
            client = APIClient()
            client.credentials(HTTP_X_API_KEY=key)
            start.wait(timeout=30)
            responses[index] = client.post(
                f"/api/v1/tickets/{source.public_id}/merge", {"into": target.public_id}, format="json"
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, *pair)) for i, pair in enumerate(pairs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert Counter(response.status_code for response in responses) == {200: 1, 409: 5}
    merged = list(Ticket.objects.filter(merged_into__isnull=False))
    assert len(merged) == 1
    kept = Ticket.objects.get(merged_into__isnull=True, inbox=inbox)
    assert kept.messages.count() == 2
    assert kept.status != Ticket.Status.CLOSED
