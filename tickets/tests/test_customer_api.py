"""The customer API (/api/v1/me/...) and the integrator endpoints that mint its tokens."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import CustomerToken
from tickets import services
from tickets.actors import Actor
from tickets.models import Message, Ticket, TicketEvent
from tickets.tests import factories


@pytest.fixture
def jane_ticket(inbox, agent):
    ticket = factories.make_ticket(inbox, email="jane@example.com", subject="Jane's question")
    services.add_message(ticket=ticket, body="Public answer", actor=Actor.agent(agent))
    services.add_message(ticket=ticket, body="SECRET NOTE about Jane", kind="note", actor=Actor.agent(agent))
    return ticket


@pytest.fixture
def jane(jane_ticket):
    return jane_ticket.customer


@pytest.fixture
def bob_ticket(inbox):
    return factories.make_ticket(inbox, email="bob@example.com", subject="Bob's question")


def _mint(api, customer, **body):
    return api.post(f"/api/v1/customers/{customer.public_id}/tokens", body, format="json")


@pytest.fixture
def as_jane(api, jane) -> APIClient:
    token = _mint(api, jane).json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


# Minting ----------------------------------------------------------------------------------


def test_an_integrator_mints_a_token_shown_once(api, jane):
    response = _mint(api, jane)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {"id", "token", "expires_at", "created_at"}
    assert body["token"].startswith(f"hdc_{body['id']}.")
    stored = CustomerToken.objects.get(lookup=body["id"])
    assert stored.customer == jane
    assert body["token"] not in stored.hashed_secret
    expires = stored.expires_at - timezone.now()
    assert timedelta(days=29, hours=23) < expires <= timedelta(days=30)


def test_a_token_may_live_for_a_given_number_of_seconds_or_until_a_date(api, jane):
    short = _mint(api, jane, expires_in=3600).json()
    stored = CustomerToken.objects.get(lookup=short["id"])
    assert timedelta(minutes=59) < stored.expires_at - timezone.now() <= timedelta(hours=1)
    until = (timezone.now() + timedelta(days=3)).replace(microsecond=0)
    dated = _mint(api, jane, expires_at=until.isoformat())
    assert dated.status_code == 201
    assert CustomerToken.objects.get(lookup=dated.json()["id"]).expires_at == until


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"expires_in": 10}, "expires_in"),
        ({"expires_in": 400 * 86400}, "expires_in"),
        ({"expires_in": 3600, "expires_at": "2030-01-01T00:00:00Z"}, "expires_in"),
        ({"expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"expires_at": "soon"}, "expires_at"),
    ],
)
def test_token_lifetimes_are_bounded(api, jane, body, field):
    response = _mint(api, jane, **body)
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == 400
    assert error["details"][0]["field"] == field
    assert not CustomerToken.objects.exists()


def test_the_token_list_never_shows_secrets(api, jane):
    minted = _mint(api, jane).json()
    response = api.get(f"/api/v1/customers/{jane.public_id}/tokens")
    assert response.status_code == 200
    [listed] = response.json()["data"]
    assert listed["id"] == minted["id"]
    assert listed["is_active"] is True
    assert "token" not in listed
    assert minted["token"] not in response.content.decode()
    assert response.json()["pagination"]["total"] == 1


def test_a_revoked_token_stops_working_at_once(api, jane, as_jane):
    token_id = CustomerToken.objects.get().lookup
    assert as_jane.get("/api/v1/me/tickets").status_code == 200
    response = api.delete(f"/api/v1/customers/{jane.public_id}/tokens/{token_id}")
    assert response.status_code == 204
    assert CustomerToken.objects.get().revoked_at is not None
    assert as_jane.get("/api/v1/me/tickets").status_code == 401
    listed = api.get(f"/api/v1/customers/{jane.public_id}/tokens").json()["data"][0]
    assert listed["is_active"] is False and listed["revoked_at"]


def test_another_organization_cannot_mint_list_or_revoke(client_for_key, other_api_key, api, jane):
    other = client_for_key(other_api_key)
    token_id = _mint(api, jane).json()["id"]
    assert _mint(other, jane).status_code == 404
    assert other.get(f"/api/v1/customers/{jane.public_id}/tokens").status_code == 404
    assert other.delete(f"/api/v1/customers/{jane.public_id}/tokens/{token_id}").status_code == 404
    assert CustomerToken.objects.get().revoked_at is None


def test_a_key_restricted_to_one_inbox_cannot_mint(client_for_key, organization, inbox, jane):
    _, restricted = factories.make_api_key(organization, inbox=inbox)
    response = _mint(client_for_key(restricted), jane)
    assert response.status_code == 403
    assert "restricted" in response.json()["message"]


def test_minting_needs_an_organization_api_key(jane, agent, as_jane):
    _, agent_token = factories.make_agent_token(agent)
    as_agent = APIClient()
    as_agent.credentials(HTTP_AUTHORIZATION=f"Bearer {agent_token}")
    assert _mint(as_agent, jane).status_code == 403
    assert _mint(as_jane, jane).status_code == 401
    assert _mint(APIClient(), jane).status_code == 401


# The customer's own tickets -------------------------------------------------------------


def test_a_customer_lists_only_their_own_tickets(as_jane, jane_ticket, bob_ticket, other_inbox):
    factories.make_ticket(other_inbox, email="jane@example.com")
    response = as_jane.get("/api/v1/me/tickets")
    assert response.status_code == 200
    body = response.json()
    assert [ticket["id"] for ticket in body["data"]] == [jane_ticket.public_id]
    assert body["pagination"] == {
        "page": 1,
        "per_page": 20,
        "total": 1,
        "total_pages": 1,
        "total_is_capped": False,
    }
    listed = body["data"][0]
    assert listed["private_url"] == jane_ticket.private_url
    assert "assignee" not in listed and "metadata" not in listed


def test_the_list_paginates_and_filters_by_status(as_jane, inbox, jane, django_assert_max_num_queries):
    inbox.daily_limit_per_customer = None
    inbox.save(update_fields=["daily_limit_per_customer"])
    for number in range(5):
        factories.make_ticket(inbox, email="jane@example.com", subject=f"Question {number}")
    with django_assert_max_num_queries(8):
        page = as_jane.get("/api/v1/me/tickets?per_page=2&page=2").json()
    assert len(page["data"]) == 2
    assert page["pagination"]["total"] == 6
    assert page["pagination"]["total_pages"] == 3
    services.change_status(
        ticket=Ticket.objects.filter(customer=jane).first(), status="closed", actor=Actor.for_customer(jane)
    )
    closed = as_jane.get("/api/v1/me/tickets?status=closed").json()
    assert closed["pagination"]["total"] == 1


def test_a_ticket_shows_public_messages_and_never_internal_notes(as_jane, jane_ticket):
    response = as_jane.get(f"/api/v1/me/tickets/{jane_ticket.public_id}")
    assert response.status_code == 200
    body = response.json()
    assert [message["body"] for message in body["messages"]] == ["Help me please.", "Public answer"]
    assert "SECRET NOTE" not in response.content.decode()
    assert body["messages"][1]["author"] == {"type": "agent", "name": "Alice Agent"}


def test_the_messages_list_holds_public_messages_only(as_jane, jane_ticket, django_assert_max_num_queries):
    # + 2 for the token's rate window: counted, and day-old windows swept as it starts.
    with django_assert_max_num_queries(8):
        response = as_jane.get(f"/api/v1/me/tickets/{jane_ticket.public_id}/messages")
    assert response.status_code == 200
    assert [message["body"] for message in response.json()["data"]] == ["Help me please.", "Public answer"]
    assert "SECRET NOTE" not in response.content.decode()


def test_another_customers_ticket_is_not_found(as_jane, bob_ticket, other_inbox):
    elsewhere = factories.make_ticket(other_inbox, email="jane@example.com")
    for ticket in (bob_ticket, elsewhere):
        assert as_jane.get(f"/api/v1/me/tickets/{ticket.public_id}").status_code == 404
        assert as_jane.get(f"/api/v1/me/tickets/{ticket.public_id}/messages").status_code == 404
        assert as_jane.post(f"/api/v1/me/tickets/{ticket.public_id}/close").status_code == 404
        reply = as_jane.post(f"/api/v1/me/tickets/{ticket.public_id}/messages", {"body": "hi"}, format="json")
        assert reply.status_code == 404
        assert reply.json()["error"] == "Not Found"
    bob_ticket.refresh_from_db()
    assert bob_ticket.status == "open" and bob_ticket.messages.count() == 1


def test_a_customer_opens_a_ticket_for_themselves(as_jane, jane, inbox):
    response = as_jane.post(
        "/api/v1/me/tickets",
        {"subject": "New problem", "message": "It is **broken**.", "priority": "high", "category": "billing"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    ticket = Ticket.objects.get(public_id=body["id"])
    assert (ticket.customer, ticket.inbox, ticket.channel) == (jane, inbox, "web")
    assert (ticket.priority, ticket.category) == ("high", "billing")
    assert body["messages"][0]["body_html"] == "<p>It is <strong>broken</strong>.</p>"
    assert ticket.events.get(action=TicketEvent.Action.CREATED).actor_customer == jane


def test_a_customer_may_name_an_inbox_of_their_organization_only(as_jane, organization, other_inbox):
    second = factories.make_inbox(organization, name="Sales", prefix="SAL")
    ok = as_jane.post(
        "/api/v1/me/tickets",
        {"subject": "Pricing", "message": "How much?", "inbox": second.public_id},
        format="json",
    )
    assert ok.status_code == 201
    assert ok.json()["inbox"] == second.public_id
    foreign = as_jane.post(
        "/api/v1/me/tickets",
        {"subject": "Pricing", "message": "How much?", "inbox": other_inbox.public_id},
        format="json",
    )
    assert foreign.status_code == 404


def test_creating_keeps_the_api_bounds_and_the_daily_limit(as_jane, inbox):
    inbox.daily_limit_per_customer = 2
    inbox.save(update_fields=["daily_limit_per_customer"])
    short = as_jane.post("/api/v1/me/tickets", {"subject": "Hi", "message": "x"}, format="json")
    assert short.status_code == 400
    assert short.json()["details"][0]["field"] == "subject"
    # Jane opened one ticket today already; the inbox allows two.
    assert (
        as_jane.post("/api/v1/me/tickets", {"subject": "Second", "message": "x"}, format="json").status_code
        == 201
    )
    third = as_jane.post("/api/v1/me/tickets", {"subject": "Third", "message": "x"}, format="json")
    assert third.status_code == 429
    assert "Retry-After" in third


def test_a_retried_create_with_the_same_idempotency_key_creates_once(as_jane, jane):
    body = {"subject": "Retry me", "message": "Once only"}
    first = as_jane.post("/api/v1/me/tickets", body, format="json", HTTP_IDEMPOTENCY_KEY="abc-123")
    again = as_jane.post("/api/v1/me/tickets", body, format="json", HTTP_IDEMPOTENCY_KEY="abc-123")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert first.json()["id"] == again.json()["id"]
    assert jane.tickets.filter(subject="Retry me").count() == 1


def test_idempotency_keys_of_two_customers_never_meet(api, as_jane, bob_ticket):
    body = {"subject": "Same words", "message": "Same body"}
    janes = as_jane.post("/api/v1/me/tickets", body, format="json", HTTP_IDEMPOTENCY_KEY="shared-key")
    as_bob = APIClient()
    as_bob.credentials(HTTP_AUTHORIZATION=f"Bearer {_mint(api, bob_ticket.customer).json()['token']}")
    bobs = as_bob.post("/api/v1/me/tickets", body, format="json", HTTP_IDEMPOTENCY_KEY="shared-key")
    assert bobs.status_code == 201
    assert bobs.json()["id"] != janes.json()["id"]
    assert Ticket.objects.get(public_id=bobs.json()["id"]).customer == bob_ticket.customer


def test_a_customer_replies_through_the_service(as_jane, jane, jane_ticket):
    response = as_jane.post(
        f"/api/v1/me/tickets/{jane_ticket.public_id}/messages",
        {"body": "Thanks, still broken"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["author"]["type"] == "customer"
    message = jane_ticket.messages.order_by("-id").first()
    assert (message.body, message.author_customer, message.kind, message.channel) == (
        "Thanks, still broken",
        jane,
        Message.Kind.REPLY,
        "web",
    )
    assert jane_ticket.events.filter(action="replied", actor_customer=jane).exists()


def test_a_customer_cannot_post_an_internal_note(as_jane, jane_ticket):
    response = as_jane.post(
        f"/api/v1/me/tickets/{jane_ticket.public_id}/messages", {"body": "x", "kind": "note"}, format="json"
    )
    assert response.status_code == 201
    assert jane_ticket.messages.order_by("-id").first().kind == Message.Kind.REPLY


def test_a_customer_closes_and_reopens_only_a_resolved_ticket(as_jane, jane, jane_ticket, agent):
    assert as_jane.post(f"/api/v1/me/tickets/{jane_ticket.public_id}/reopen").status_code == 409
    services.change_status(ticket=jane_ticket, status="resolved", actor=Actor.agent(agent))
    reopened = as_jane.post(f"/api/v1/me/tickets/{jane_ticket.public_id}/reopen")
    assert reopened.status_code == 200
    assert reopened.json()["status"] == "open"
    closed = as_jane.post(f"/api/v1/me/tickets/{jane_ticket.public_id}/close")
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed"
    assert jane_ticket.events.filter(action="status_changed", actor_customer=jane).count() == 2
    refused = as_jane.post(
        f"/api/v1/me/tickets/{jane_ticket.public_id}/messages", {"body": "hello?"}, format="json"
    )
    assert refused.status_code == 409
    assert as_jane.post(f"/api/v1/me/tickets/{jane_ticket.public_id}/reopen").status_code == 409


def test_other_credentials_do_not_open_the_customer_api(api, agent, jane_ticket):
    _, agent_token = factories.make_agent_token(agent)
    as_agent = APIClient()
    as_agent.credentials(HTTP_AUTHORIZATION=f"Bearer {agent_token}")
    for client in (api, as_agent, APIClient()):
        response = client.get("/api/v1/me/tickets")
        assert response.status_code == 401
        assert response.json()["error"] == "Unauthorized"


def test_a_customer_token_does_not_open_the_integrator_api(as_jane, jane_ticket):
    assert as_jane.get("/api/v1/tickets").status_code == 401
    assert as_jane.get(f"/api/v1/tickets/{jane_ticket.public_id}").status_code == 401


def test_the_customer_endpoints_are_in_the_schema_under_their_tag():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    # The router tolerates one trailing slash; whether the schema shows it is not ours to say.
    paths = {path.rstrip("/"): operations for path, operations in schema["paths"].items()}
    assert "post" in paths["/api/v1/me/tickets"]
    assert paths["/api/v1/me/tickets"]["get"]["tags"] == ["customer"]
    assert paths["/api/v1/me/tickets/{id}/reopen"]["post"]["tags"] == ["customer"]
    assert "post" in paths["/api/v1/customers/{customer_id}/tokens"]
    assert "delete" in paths["/api/v1/customers/{customer_id}/tokens/{token_id}"]
