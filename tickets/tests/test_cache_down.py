"""The cache down hurts nobody: every face answers as usual with Redis unreachable.

Before, a private ticket page (even with a wrong key), portal sign-in and the support form
answered 500 from the portal's counters in the cache. Now limits count in the database
and the cache degrades (``helpdesk/cache.py``): a read misses, a write is dropped, the
outage is logged, and ``/readyz`` says so with a 503 while ``/healthz`` stays up.
"""

import logging

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from helpdesk import cache as degrading_cache
from tickets.portal import session
from tickets.tests.test_faults import CLOSED_REDIS

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def redis_down():
    degrading_cache.DegradingRedisCache._last_logged = 0.0  # log the first failure of each test
    with override_settings(CACHES=CLOSED_REDIS, REDIS_URL="redis://127.0.0.1:1/0"):
        yield


def _no_500(response):
    assert response.status_code < 500, (response.status_code, response.content[:300])
    return response


def test_the_private_ticket_page_answers_with_the_right_key_and_the_wrong_one(ticket, caplog):
    # Creating the ticket already met the outage (its triggers read the cache): log again.
    degrading_cache.DegradingRedisCache._last_logged = 0.0
    with caplog.at_level(logging.ERROR, logger="helpdesk.cache"):
        page = _no_500(Client().get(ticket.private_path))
    assert page.status_code == 200
    assert ticket.subject in page.content.decode()
    assert "Cache unavailable" in caplog.text
    wrong = _no_500(Client().get(f"/t/{ticket.public_id}/tk_{'A' * 32}/"))
    assert wrong.status_code == 404


def test_a_customer_replies_through_the_private_link(ticket):
    response = _no_500(Client().post(f"{ticket.private_path}reply/", {"body": "More detail."}))
    assert response.status_code == 302


def test_portal_sign_in_asks_for_a_link_and_signs_in(organization, ticket):
    client = Client()
    asked = _no_500(client.post(f"/t/portal/{organization.slug}/", {"email": ticket.customer.email}))
    assert asked.status_code == 200
    token = session.make_signin_token(ticket.customer, nonce="cache-down")
    signed_in = _no_500(client.post(f"/t/portal/{organization.slug}/signin/{token}/"))
    assert signed_in.status_code == 302
    assert _no_500(client.get(f"/t/portal/{organization.slug}/tickets/")).status_code == 200


def test_the_support_form_creates_a_ticket(inbox):
    client = Client()
    assert _no_500(client.get(f"/t/new/{inbox.public_id}/")).status_code == 200
    response = _no_500(
        client.post(
            f"/t/new/{inbox.public_id}/",
            {
                "email": "jane@example.com",
                "name": "Jane",
                "subject": "Help",
                "message": "Please",
                "website": "",
            },
        )
    )
    assert response.status_code == 302


def test_agents_sign_in_reset_passwords_and_work_the_queue(agent, ticket):
    client = Client()
    assert (
        _no_500(client.post("/accounts/login/", {"username": agent.email, "password": PASSWORD})).status_code
        == 302
    )
    assert _no_500(client.get(reverse("dashboard:queue"))).status_code == 200
    assert _no_500(client.get(reverse("dashboard:ticket", args=[ticket.public_id]))).status_code == 200
    reply = client.post(
        reverse("dashboard:add_message", args=[ticket.public_id]), {"body": "On it.", "kind": "reply"}
    )
    assert _no_500(reply).status_code in {200, 302}
    assert _no_500(Client().post("/accounts/password-reset/", {"email": agent.email})).status_code == 302


def test_staff_sign_in_to_admin(db):
    from accounts.models import User

    User.objects.create_superuser(email="root@example.test", password=PASSWORD)
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "root@example.test", "password": PASSWORD}
    )
    assert _no_500(response).status_code == 302
    assert _no_500(client.get("/admin/")).status_code == 200


def test_the_api_the_customer_api_and_a_dialect_answer(api, api_key, inbox, ticket):
    assert _no_500(api.get("/api/v1/tickets")).status_code == 200
    created = api.post(
        "/api/v1/tickets",
        {"customer": {"email": "c@example.com", "external_id": "u1"}, "subject": "Hello", "message": "Hi"},
        format="json",
    )
    assert _no_500(created).status_code == 201
    token = api.post(f"/api/v1/customers/{ticket.customer.public_id}/tokens", {}, format="json")
    assert _no_500(token).status_code == 201
    customer = APIClient()
    customer.credentials(HTTP_AUTHORIZATION=f"Bearer {token.json()['token']}")
    assert _no_500(customer.get("/api/v1/me/tickets")).status_code == 200
    dialect = APIClient()
    dialect.credentials(HTTP_X_API_KEY=api_key)
    response = dialect.post(
        "/compat/supportdesk/api/v1/tickets/api-create",
        {
            "customerExternalId": "u1",
            "subject": "Payment failed",
            "description": "Declined.",
            "priority": "HIGH",
        },
        format="json",
    )
    assert _no_500(response).status_code == 201


def test_readiness_reports_the_cache_down_as_503_and_liveness_stays_up(client, db, caplog):
    with caplog.at_level(logging.ERROR, logger="helpdesk.health"):
        ready = client.get("/readyz")
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["cache"] == {
        "status": "unavailable",
        "backend": "redis",
        "error": "ConnectionError",
    }
    assert body["checks"]["database"]["status"] == "ok"
    assert "Readiness: cache unavailable" in caplog.text
    assert client.get("/healthz").status_code == 200
