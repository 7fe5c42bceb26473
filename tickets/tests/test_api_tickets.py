"""Tickets through the native API: create, retrieve, update, messages, events, private link."""

import pytest
from rest_framework.test import APIClient

from tickets.models import Customer, IdempotencyKey, Message, Ticket, TicketEvent
from tickets.tests import factories
from tickets.tests.api_helpers import REQUEST_ID, assert_error, ticket_payload

pytestmark = pytest.mark.django_db


# Create ---------------------------------------------------------------------------------


def test_create_with_x_api_key_answers_201_with_the_whole_ticket(api, inbox):
    response = api.post("/api/v1/tickets", ticket_payload(priority="high", tags=["billing"]), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["reference"] == "INV-1"
    assert body["number"] == 1
    assert body["inbox"] == inbox.public_id
    assert body["status"] == "open"
    assert body["priority"] == "high"
    assert body["channel"] == "api"
    assert body["tags"] == ["billing"]
    assert body["customer"]["email"] == "jane@example.com"
    assert body["private_url"].startswith("http://testserver/t/")
    assert [message["body"] for message in body["messages"]] == ["I was charged twice for my subscription."]
    for name in ("id", "subject", "category", "type", "assignee", "metadata", "created_at", "updated_at"):
        assert name in body
    assert REQUEST_ID.match(response["X-Request-ID"])


def test_create_with_authorization_bearer_key_works_the_same(api_key, inbox):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")

    response = client.post("/api/v1/tickets", ticket_payload(), format="json")

    assert response.status_code == 201, response.json()
    assert Ticket.objects.get().inbox == inbox


def test_path_with_a_trailing_slash_is_tolerated(api, inbox):
    response = api.post("/api/v1/tickets/", ticket_payload(), format="json")

    assert response.status_code == 201


def test_customer_is_created_on_first_ticket_and_reused_with_metadata_merged(api, inbox):
    first = api.post(
        "/api/v1/tickets",
        ticket_payload(
            customer={"email": "Jane@Example.com", "external_id": "u-1", "metadata": {"plan": "pro"}}
        ),
        format="json",
    )
    second = api.post(
        "/api/v1/tickets",
        ticket_payload(customer={"external_id": "u-1", "metadata": {"tokens": 40}}, subject="Another one"),
        format="json",
    )

    assert first.status_code == second.status_code == 201
    assert Customer.objects.count() == 1
    customer = Customer.objects.get()
    assert first.json()["customer"]["id"] == second.json()["customer"]["id"] == customer.public_id
    assert customer.email == "jane@example.com"
    assert customer.metadata == {"plan": "pro", "tokens": 40}
    assert Ticket.objects.filter(customer=customer).count() == 2


def test_inbox_may_be_left_out_when_the_key_is_restricted_to_one(organization, inbox, client_for_key):
    factories.make_inbox(organization, name="Sales", prefix="SAL")
    restricted = factories.make_inbox(organization, name="Refunds", prefix="REF")
    _, key = factories.make_api_key(organization, inbox=restricted)

    response = client_for_key(key).post("/api/v1/tickets", ticket_payload(), format="json")

    assert response.status_code == 201
    assert response.json()["reference"] == "REF-1"


def test_inbox_may_be_left_out_when_the_organization_has_a_default(api, organization, inbox):
    factories.make_inbox(organization, name="Sales", prefix="SAL")

    response = api.post("/api/v1/tickets", ticket_payload(), format="json")

    assert response.json()["inbox"] == inbox.public_id


def test_inbox_may_be_left_out_when_the_organization_has_only_one(client_for_key):
    organization = factories.make_organization()
    only = factories.make_inbox(organization, prefix="ONE")
    _, key = factories.make_api_key(organization)

    response = client_for_key(key).post("/api/v1/tickets", ticket_payload(), format="json")

    assert response.status_code == 201
    assert response.json()["inbox"] == only.public_id


def test_inbox_must_be_named_when_there_are_several_and_no_default(client_for_key):
    organization = factories.make_organization()
    factories.make_inbox(organization, prefix="ONE")
    factories.make_inbox(organization, prefix="TWO")
    _, key = factories.make_api_key(organization)

    response = client_for_key(key).post("/api/v1/tickets", ticket_payload(), format="json")

    assert_error(response, 400, field="inbox")


def test_named_inbox_is_used(api, organization, inbox):
    sales = factories.make_inbox(organization, name="Sales", prefix="SAL")

    response = api.post("/api/v1/tickets", ticket_payload(inbox=sales.public_id), format="json")

    assert response.json()["reference"] == "SAL-1"


def test_unknown_inbox_is_404(api, inbox):
    response = api.post("/api/v1/tickets", ticket_payload(inbox="01JUNKNOWNINBOX00000000000"), format="json")

    assert_error(response, 404)


def test_key_restricted_to_one_inbox_cannot_create_in_another(organization, inbox, client_for_key):
    restricted = factories.make_inbox(organization, name="Refunds", prefix="REF")
    _, key = factories.make_api_key(organization, inbox=restricted)

    response = client_for_key(key).post(
        "/api/v1/tickets", ticket_payload(inbox=inbox.public_id), format="json"
    )

    body = assert_error(response, 403)
    assert "restricted" in body["message"]
    assert not Ticket.objects.exists()


def test_key_restricted_to_one_inbox_cannot_read_tickets_of_another(organization, inbox, client_for_key):
    restricted = factories.make_inbox(organization, name="Refunds", prefix="REF")
    _, key = factories.make_api_key(organization, inbox=restricted)
    elsewhere = factories.make_ticket(inbox)
    own = factories.make_ticket(restricted)
    client = client_for_key(key)

    assert_error(client.get(f"/api/v1/tickets/{elsewhere.public_id}"), 404)
    listed = client.get("/api/v1/tickets").json()["data"]
    assert [ticket["id"] for ticket in listed] == [own.public_id]
    assert_error(
        client.patch(f"/api/v1/tickets/{elsewhere.public_id}", {"priority": "low"}, format="json"), 404
    )
    assert [inbox["id"] for inbox in client.get("/api/v1/inboxes").json()["data"]] == [restricted.public_id]


def test_agent_token_creates_tickets_in_its_organization(agent, inbox):
    _, token = factories.make_agent_token(agent)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    response = client.post("/api/v1/tickets", ticket_payload(), format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["channel"] == "agent"
    event = TicketEvent.objects.get(action="created")
    assert event.actor_user == agent


# Idempotency ----------------------------------------------------------------------------


def test_retried_create_with_the_same_idempotency_key_returns_the_first_ticket(api, inbox):
    first = api.post("/api/v1/tickets", ticket_payload(), format="json", HTTP_IDEMPOTENCY_KEY="order-42")
    retry = api.post("/api/v1/tickets", ticket_payload(), format="json", HTTP_IDEMPOTENCY_KEY="order-42")

    assert first.status_code == retry.status_code == 201
    assert retry.json()["id"] == first.json()["id"]
    assert retry["Idempotent-Replayed"] == "true"
    assert Ticket.objects.count() == 1
    assert Message.objects.count() == 1


def test_idempotent_replay_ignores_the_order_of_metadata_keys(api, inbox):
    one = ticket_payload(customer={"email": "a@example.com", "metadata": {"a": 1, "b": 2}})
    two = ticket_payload(customer={"email": "a@example.com", "metadata": {"b": 2, "a": 1}})

    first = api.post("/api/v1/tickets", one, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    retry = api.post("/api/v1/tickets", two, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert retry.status_code == 201
    assert retry.json()["id"] == first.json()["id"]


def test_same_idempotency_key_with_a_different_body_is_422(api, inbox):
    api.post("/api/v1/tickets", ticket_payload(), format="json", HTTP_IDEMPOTENCY_KEY="order-42")

    response = api.post(
        "/api/v1/tickets",
        ticket_payload(subject="Something else"),
        format="json",
        HTTP_IDEMPOTENCY_KEY="order-42",
    )

    assert_error(response, 422)
    assert Ticket.objects.count() == 1


def test_idempotency_key_of_a_failed_create_may_be_used_again(api, inbox):
    failed = api.post(
        "/api/v1/tickets",
        ticket_payload(inbox="01JUNKNOWNINBOX00000000000"),
        format="json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert failed.status_code == 404
    inbox.daily_limit_per_customer = 0
    inbox.save()
    limited = api.post("/api/v1/tickets", ticket_payload(), format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert limited.status_code == 429
    assert not IdempotencyKey.objects.exists()


def test_too_long_idempotency_key_is_400(api, inbox):
    response = api.post("/api/v1/tickets", ticket_payload(), format="json", HTTP_IDEMPOTENCY_KEY="k" * 256)

    assert_error(response, 400, field="Idempotency-Key")


def test_retried_message_with_the_same_idempotency_key_adds_one_message(api, ticket):
    url = f"/api/v1/tickets/{ticket.public_id}/messages"
    first = api.post(url, {"body": "We are on it."}, format="json", HTTP_IDEMPOTENCY_KEY="reply-1")
    retry = api.post(url, {"body": "We are on it."}, format="json", HTTP_IDEMPOTENCY_KEY="reply-1")
    other = api.post(url, {"body": "Something else"}, format="json", HTTP_IDEMPOTENCY_KEY="reply-1")

    assert first.status_code == retry.status_code == 201
    assert retry.json()["id"] == first.json()["id"]
    assert_error(other, 422)
    assert ticket.messages.count() == 2


def test_idempotency_key_used_for_a_ticket_cannot_add_a_message(api, inbox, ticket):
    api.post("/api/v1/tickets", ticket_payload(), format="json", HTTP_IDEMPOTENCY_KEY="shared")

    response = api.post(
        f"/api/v1/tickets/{ticket.public_id}/messages",
        {"body": "Hi"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="shared",
    )

    assert_error(response, 422)


# Retrieve and update --------------------------------------------------------------------


def test_the_ticket_says_who_spoke_last_and_an_internal_note_is_not_an_answer(api, ticket, agent):
    from tickets import services
    from tickets.actors import Actor

    opened = api.get(f"/api/v1/tickets/{ticket.public_id}").json()
    assert opened["last_customer_message_at"] == opened["created_at"]
    assert opened["last_agent_reply_at"] is None

    services.add_message(ticket=ticket, actor=Actor.agent(agent), body="Checking.", kind="note")
    noted = api.get(f"/api/v1/tickets/{ticket.public_id}").json()
    assert noted["last_agent_reply_at"] is None

    reply, _ = services.add_message(ticket=ticket, actor=Actor.agent(agent), body="Refunded.")
    answered = api.get(f"/api/v1/tickets?q={ticket.reference}").json()["data"][0]
    assert answered["last_agent_reply_at"] == reply.created_at.isoformat().replace("+00:00", "Z")


def test_retrieve_includes_messages_and_internal_notes(api, ticket, agent):
    from tickets import services
    from tickets.actors import Actor

    services.add_message(ticket=ticket, body="Checking with billing.", kind="note", actor=Actor.agent(agent))

    response = api.get(f"/api/v1/tickets/{ticket.public_id}")

    assert response.status_code == 200
    kinds = [(message["kind"], message["author"]["type"]) for message in response.json()["messages"]]
    assert kinds == [("reply", "customer"), ("note", "agent")]
    assert response.json()["messages"][1]["author"]["name"] == "Alice Agent"


def test_patch_changes_status_through_the_state_machine(api, ticket):
    response = api.patch(f"/api/v1/tickets/{ticket.public_id}", {"status": "resolved"}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "resolved"
    assert response.json()["resolved_at"] is not None
    event = ticket.events.get(action="status_changed")
    assert (event.before, event.after) == ("open", "resolved")


def test_illegal_status_move_is_409_with_a_clear_message(api, ticket):
    api.patch(f"/api/v1/tickets/{ticket.public_id}", {"status": "closed"}, format="json")

    response = api.patch(f"/api/v1/tickets/{ticket.public_id}", {"status": "resolved"}, format="json")

    body = assert_error(response, 409)
    assert body["message"] == "A closed ticket cannot become resolved."
    ticket.refresh_from_db()
    assert ticket.status == "closed"


def test_failed_patch_changes_nothing(api, ticket):
    api.patch(f"/api/v1/tickets/{ticket.public_id}", {"status": "closed"}, format="json")

    response = api.patch(
        f"/api/v1/tickets/{ticket.public_id}", {"priority": "urgent", "status": "resolved"}, format="json"
    )

    assert response.status_code == 409
    ticket.refresh_from_db()
    assert ticket.priority == "normal"


def test_patch_assigns_by_id_and_by_email_and_unassigns(api, ticket, agent, owner):
    url = f"/api/v1/tickets/{ticket.public_id}"

    by_id = api.patch(url, {"assignee": agent.pk}, format="json")
    assert by_id.json()["assignee"] == {"id": agent.pk, "name": "Alice Agent", "email": "agent@acme.test"}
    assert by_id.json()["status"] == "in_progress"

    by_email = api.patch(url, {"assignee": "OWNER@acme.test"}, format="json")
    assert by_email.json()["assignee"]["id"] == owner.pk

    nobody = api.patch(url, {"assignee": None}, format="json")
    assert nobody.json()["assignee"] is None


def test_assigning_an_agent_of_another_organization_is_400(api, ticket, other_agent):
    response = api.patch(
        f"/api/v1/tickets/{ticket.public_id}", {"assignee": other_agent.email}, format="json"
    )

    assert_error(response, 400, field="assignee")


def test_patch_sets_priority_tags_metadata_and_records_events(api, ticket):
    response = api.patch(
        f"/api/v1/tickets/{ticket.public_id}",
        {
            "priority": "urgent",
            "tags": ["vip", "billing"],
            "metadata": {"order": "A-1"},
            "category": "refund",
        },
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["priority"], body["tags"], body["metadata"], body["category"]) == (
        "urgent",
        ["billing", "vip"],
        {"order": "A-1"},
        "refund",
    )
    actions = set(ticket.events.values_list("action", flat=True))
    assert {"updated", "tags_changed"} <= actions


def test_patch_moves_the_ticket_to_another_inbox_with_a_new_reference(api, ticket, organization):
    billing = factories.make_inbox(organization, name="Billing", prefix="BIL")

    response = api.patch(f"/api/v1/tickets/{ticket.public_id}", {"inbox": billing.public_id}, format="json")

    assert response.status_code == 200, response.json()
    assert (response.json()["inbox"], response.json()["reference"]) == (billing.public_id, "BIL-1")
    assert api.get(f"/api/v1/tickets/{ticket.public_id}").json()["inbox"] == billing.public_id
    assert set(ticket.events.filter(field="inbox").values_list("before", "after")) == {
        (ticket.inbox.public_id, billing.public_id)
    }


def test_moving_to_an_unknown_or_another_organizations_inbox_is_400_and_changes_nothing(
    api, ticket, other_inbox
):
    for inbox_id in (other_inbox.public_id, "01NOTANINBOX"):
        response = api.patch(
            f"/api/v1/tickets/{ticket.public_id}", {"inbox": inbox_id, "priority": "urgent"}, format="json"
        )
        assert_error(response, 400, field="inbox")
    ticket.refresh_from_db()
    assert (ticket.inbox_id, ticket.priority) == (ticket.inbox.pk, "normal")
    assert ticket.reference.endswith("-1")


def test_a_key_restricted_to_one_inbox_cannot_move_a_ticket_out_of_it(ticket, organization, inbox):
    billing = factories.make_inbox(organization, name="Billing", prefix="BIL")
    _, key = factories.make_api_key(organization, inbox=inbox)
    restricted = APIClient()
    restricted.credentials(HTTP_X_API_KEY=key)

    response = restricted.patch(
        f"/api/v1/tickets/{ticket.public_id}", {"inbox": billing.public_id}, format="json"
    )

    assert_error(response, 403)
    ticket.refresh_from_db()
    assert ticket.inbox_id == inbox.pk


def test_messages_list_shows_replies_and_notes_to_integrators(api, ticket):
    url = f"/api/v1/tickets/{ticket.public_id}/messages"
    api.post(url, {"body": "We refunded you."}, format="json")
    api.post(url, {"body": "Refund id R-9", "kind": "note"}, format="json")

    response = api.get(url)

    assert response.status_code == 200
    assert [(message["kind"], message["body"]) for message in response.json()["data"]] == [
        ("reply", "Help me please."),
        ("reply", "We refunded you."),
        ("note", "Refund id R-9"),
    ]


def test_reply_as_the_customer_is_recorded_as_theirs(api, ticket):
    response = api.post(
        f"/api/v1/tickets/{ticket.public_id}/messages",
        {"body": "Any news?", "author_type": "customer"},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["author"]["type"] == "customer"


def test_agent_reply_renders_markdown_safely(api, ticket):
    response = api.post(
        f"/api/v1/tickets/{ticket.public_id}/messages",
        {"body": "**Done** <script>alert(1)</script>"},
        format="json",
    )

    assert "<strong>Done</strong>" in response.json()["body_html"]
    assert "<script>" not in response.json()["body_html"]


def test_customer_reply_on_a_closed_ticket_is_409(api, ticket):
    api.patch(f"/api/v1/tickets/{ticket.public_id}", {"status": "closed"}, format="json")

    response = api.post(
        f"/api/v1/tickets/{ticket.public_id}/messages",
        {"body": "Hello?", "author_type": "customer"},
        format="json",
    )

    assert_error(response, 409)


def test_events_list_the_history(api, ticket):
    api.patch(f"/api/v1/tickets/{ticket.public_id}", {"priority": "high"}, format="json")

    response = api.get(f"/api/v1/tickets/{ticket.public_id}/events")

    assert response.status_code == 200
    events = response.json()["data"]
    assert [event["action"] for event in events] == ["created", "updated"]
    assert events[1]["field"] == "priority"
    assert (events[1]["before"], events[1]["after"]) == ("normal", "high")
    assert events[1]["actor"] == "API key “Backend”"


def test_rotating_the_private_link_gives_a_new_url(api, ticket, client):
    old_url = ticket.private_url

    response = api.post(f"/api/v1/tickets/{ticket.public_id}/rotate-private-link")

    assert response.status_code == 200
    assert response.json()["private_url"] != old_url
    assert ticket.events.filter(action="access_key_rotated").exists()
    assert client.get(ticket.private_path).status_code == 404


def test_assignee_id_beyond_any_real_id_is_400_not_a_database_error(api, ticket):
    response = api.patch(f"/api/v1/tickets/{ticket.public_id}", {"assignee": "9" * 30}, format="json")

    assert_error(response, 400, field="assignee")
    assert api.get("/api/v1/tickets", {"assignee": "9" * 30}).json()["data"] == []


def test_inactive_agent_cannot_be_assigned(api, ticket, agent):
    agent.is_active = False
    agent.save()

    assert_error(api.patch(f"/api/v1/tickets/{ticket.public_id}", {"assignee": agent.pk}, format="json"), 400)
