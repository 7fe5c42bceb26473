"""One paginator for every face: the native API, the dialects' lists and the dashboard's
queue count at most ``cap + 1`` rows, find a deep page's ids first, and never answer a
500 to a page number that is not one."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from tickets.dashboard.filters import ordered
from tickets.models import Ticket
from tickets.pagination import COUNT_CAP, CappedCountPaginator, positive_number
from tickets.tests import factories

INAPP = "/compat/inapp/v1/support/tickets"
INAPP_ADMIN = "/compat/inapp/v1/admin/support/tickets"
BAD_PAGES = ["abc", "0", "-1", "1.5", "²", "", " 1", "99999999999999999999", "9" * 5000]


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def admin(agent):
    return bearer(factories.make_agent_token(agent)[1])


@pytest.fixture
def seven_tickets(inbox):
    return [factories.make_ticket(inbox, subject=f"Ticket number {number}") for number in range(7)]


def count_queries(captured) -> list[str]:
    """Statements that count tickets (not the bell's unread notifications, which join them)."""
    return [
        query["sql"]
        for query in captured.captured_queries
        if "COUNT(" in query["sql"].upper()
        and '"tickets_ticket"' in query["sql"]
        and '"tickets_notification"' not in query["sql"]
    ]


def id_first_queries(captured) -> list[str]:
    """Statements that read a page's rows by the ids a LIMIT/OFFSET subquery found."""
    return [
        query["sql"]
        for query in captured.captured_queries
        if re.search(r"IN \(SELECT .* LIMIT \d+ OFFSET \d+\)", query["sql"], re.DOTALL)
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", 1), ("42", 42), ("0", None), ("-1", None), ("abc", None), ("²", None), ("", None), (None, None)],
)
def test_positive_number_reads_only_ascii_digits_of_at_least_one(raw, expected):
    assert positive_number(raw) == expected


def test_positive_number_refuses_more_digits_than_python_converts():
    assert positive_number("9" * 5000) is None
    assert positive_number("99999999999999999999") == 99999999999999999999


# The dialects -------------------------------------------------------------------------


def test_a_dialect_list_counts_no_further_than_the_cap(admin, seven_tickets, django_assert_max_num_queries):
    # The token, its user, its last use, the token's rate window (counted, and the day-old
    # windows swept as this first one starts), the organizations, the capped count, the page.
    with django_assert_max_num_queries(8), CaptureQueriesContext(connection) as captured:
        response = admin.get(INAPP_ADMIN, {"per_page": 2})

    assert response.status_code == 200
    assert response.json()["pagination"] == {"page": 1, "per_page": 2, "total": 7, "total_pages": 4}
    [count] = count_queries(captured)
    assert f"LIMIT {COUNT_CAP + 1}" in count


def test_a_deep_dialect_page_finds_its_ids_first(admin, seven_tickets, django_assert_max_num_queries):
    newest_first = [ticket.public_id for ticket in reversed(seven_tickets)]

    with django_assert_max_num_queries(8), CaptureQueriesContext(connection) as captured:
        response = admin.get(INAPP_ADMIN, {"per_page": 2, "page": 3})

    assert [row["id"] for row in response.json()["data"]] == newest_first[4:6]
    [deep] = id_first_queries(captured)
    assert "LIMIT 2 OFFSET 4" in deep


def test_a_capped_dialect_total_says_so_and_keeps_the_documented_fields(admin, seven_tickets, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "cap", 5)

    body = admin.get(INAPP_ADMIN, {"per_page": 2}).json()
    past_the_cap = admin.get(INAPP_ADMIN, {"per_page": 2, "page": 4}).json()

    assert body["pagination"] == {
        "page": 1,
        "per_page": 2,
        "total": 5,
        "total_pages": 3,
        "total_is_capped": True,
    }
    assert past_the_cap["data"] == []
    assert past_the_cap["pagination"]["page"] == 4


def test_a_dialect_page_past_the_end_is_empty_with_the_totals(admin, seven_tickets):
    body = admin.get(INAPP_ADMIN, {"per_page": 5, "page": 3}).json()

    assert body["data"] == []
    assert body["pagination"] == {"page": 3, "per_page": 5, "total": 7, "total_pages": 2}


@pytest.mark.parametrize("page", BAD_PAGES)
def test_a_dialect_never_answers_500_to_a_page_number(admin, seven_tickets, page):
    response = admin.get(INAPP_ADMIN, {"page": page, "per_page": page})

    assert response.status_code in (200, 400), response.content[:200]
    if page in ("abc", "0", "-1", "1.5", "²", " 1", "9" * 5000):
        assert response.status_code == 400
        assert {detail["field"] for detail in response.json()["error"]["details"]} == {"page", "per_page"}


def test_a_dialect_page_number_beyond_any_offset_is_an_empty_page(admin, seven_tickets):
    response = admin.get(INAPP_ADMIN, {"page": "99999999999999999999"})

    assert response.status_code == 200
    assert response.json()["data"] == []
    assert response.json()["pagination"]["total"] == 7


# The native API -----------------------------------------------------------------------


def test_the_native_list_counts_no_further_than_the_cap(api, seven_tickets, django_assert_max_num_queries):
    # The key, its last use, its rate window (counted, and day-old windows swept as this
    # first one starts), the capped count, the page's rows (its ids found in the same
    # statement), their tags.
    with django_assert_max_num_queries(7), CaptureQueriesContext(connection) as captured:
        response = api.get("/api/v1/tickets", {"per_page": 2, "page": 3})

    assert response.status_code == 200
    [count] = count_queries(captured)
    assert f"LIMIT {COUNT_CAP + 1}" in count
    [deep] = id_first_queries(captured)
    assert "LIMIT 2 OFFSET 4" in deep


@pytest.mark.parametrize("page", BAD_PAGES)
def test_the_native_api_never_answers_500_to_a_page_number(api, seven_tickets, page):
    response = api.get("/api/v1/tickets", {"page": page})

    expected = 404 if page == "99999999999999999999" else 400
    if page == "":
        expected = 400
    assert response.status_code == expected, response.content[:200]


# The queue ----------------------------------------------------------------------------


def test_a_deep_queue_page_finds_its_ids_first_and_counts_in_one_capped_statement(
    agent_client, inbox, django_assert_max_num_queries, monkeypatch
):
    monkeypatch.setattr("tickets.dashboard.queue.PER_PAGE", 2)
    tickets = [factories.make_ticket(inbox, subject=f"Ticket number {number}") for number in range(5)]

    # The session, user and memberships; the counts (one statement); the page (its ids
    # found in the same statement) and its tags; agents, notifications, inboxes, tags; the
    # session saved (with its savepoint).
    with django_assert_max_num_queries(13), CaptureQueriesContext(connection) as captured:
        response = agent_client.get(reverse("dashboard:queue"), {"view": "all", "page": 2, "sort": "created"})

    assert [ticket.public_id for ticket in response.context["tickets"]] == [
        ticket.public_id for ticket in tickets[2:4]
    ]
    [counts] = count_queries(captured)
    assert f"LIMIT {COUNT_CAP + 1}" in counts
    [deep] = id_first_queries(captured)
    assert "LIMIT 2 OFFSET 2" in deep
    assert response.context["has_next"] is True
    assert (response.context["first_row"], response.context["last_row"]) == (3, 4)


@pytest.mark.parametrize("page", BAD_PAGES)
def test_the_queue_never_answers_500_to_a_page_number(agent_client, seven_tickets, page):
    response = agent_client.get(reverse("dashboard:queue"), {"view": "all", "page": page})

    assert response.status_code == 200
    # Not a page number: the first page; past the end: the last one.
    assert response.context["page"] == 1
    assert len(response.context["tickets"]) == 7


@pytest.mark.parametrize("sort", ["-created", "created", "-updated", "-priority", "priority", "number"])
def test_a_deep_queue_page_holds_the_rows_an_offset_would_in_every_sort(
    agent_client, inbox, monkeypatch, sort
):
    monkeypatch.setattr("tickets.dashboard.queue.PER_PAGE", 2)
    for number, priority in enumerate(["low", "urgent", "normal", "urgent", "high", "low", "normal"]):
        factories.make_ticket(inbox, subject=f"Ticket number {number}", priority=priority)
    expected = list(ordered(Ticket.objects.all(), sort).values_list("public_id", flat=True)[4:6])

    response = agent_client.get(reverse("dashboard:queue"), {"view": "all", "page": 3, "sort": sort})

    assert [ticket.public_id for ticket in response.context["tickets"]] == expected


def test_a_capped_queue_ends_its_last_page_at_the_cap_and_says_the_count_stopped_there(
    agent_client, seven_tickets, monkeypatch
):
    monkeypatch.setattr(CappedCountPaginator, "cap", 5)
    monkeypatch.setattr("tickets.dashboard.queue.PER_PAGE", 2)

    # Counted as far as 5 of the 7: the pages hold 1-2, 3-4 and 5.
    response = agent_client.get(reverse("dashboard:queue"), {"view": "all", "page": 3})

    assert response.context["page"] == 3
    assert len(response.context["tickets"]) == 1
    # The last row was the paginator's count of cap + 1 ("5–6 of …" over one row).
    assert (response.context["first_row"], response.context["last_row"]) == (5, 5)
    assert "5–5 of 5+" in response.content.decode()


def test_the_queue_shows_its_whole_count_below_the_cap_of_its_pages(agent_client, seven_tickets, monkeypatch):
    # The saved views' badges stop at their own, lower cap; the list's total did too ("3+"),
    # though it had counted every row its pages reach.
    monkeypatch.setattr("tickets.dashboard.queue.COUNT_CAP", 3)
    monkeypatch.setattr("tickets.dashboard.queue.PER_PAGE", 2)

    response = agent_client.get(reverse("dashboard:queue"), {"view": "all"})

    assert "1–2 of 7<" in response.content.decode()
