"""In-app Support API (seed 002) under /compat/inapp: every documented route and the lifecycle."""

import time

import jwt
import pytest
from rest_framework.test import APIClient

from accounts.models import CustomerToken
from tickets import services
from tickets.actors import Actor
from tickets.models import Message, Ticket
from tickets.tests import factories

BASE = "/compat/inapp/v1/support/tickets"
ADMIN = "/compat/inapp/v1/admin/support/tickets"
CREATE_BODY = {
    "subject": "Payment not received",
    "body": "I completed a 30-minute session yesterday but the payment has not appeared in my earnings.",
    "category": "billing",
    "priority": "high",
}
REPLY_BODY = {
    "body": "Thank you for looking into this. The session was with user janecoach on March 14th at 2pm."
}
ADMIN_REPLY_BODY = {
    "body": "I've checked the payout logs. The payment was captured successfully "
    "and a payout has been initiated."
}


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def customer_token(customer) -> str:
    token = CustomerToken(organization=customer.organization, customer=customer)
    plaintext = token.assign_secret()
    token.save()
    return plaintext


@pytest.fixture
def customer(organization):
    customer, _ = services.upsert_customer(
        organization=organization,
        data=services.CustomerData(email="coach@example.com", external_id="coach_1", name="Coach"),
    )
    return customer


@pytest.fixture
def user(customer, inbox):
    return bearer(customer_token(customer))


@pytest.fixture
def admin(agent):
    return bearer(factories.make_agent_token(agent)[1])


def create(user) -> dict:
    response = user.post(BASE, CREATE_BODY, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.json()
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body


# The user's routes ---------------------------------------------------------------------


def test_create_answers_201_with_the_ticket_and_its_first_message(user, customer):
    body = create(user)
    ticket = Ticket.objects.get()
    message = ticket.messages.get()
    assert body == {
        "id": ticket.public_id,
        "subject": "Payment not received",
        "status": "open",
        "priority": "high",
        "category": "billing",
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
        "messages": [
            {
                "id": message.public_id,
                "body": CREATE_BODY["body"],
                "is_admin": False,
                "created_at": body["created_at"],
            }
        ],
    }
    assert body["created_at"].endswith("Z")
    assert ticket.customer == customer


def test_category_and_priority_are_optional_and_priority_defaults_to_normal(user):
    response = user.post(BASE, {"subject": "Hello there", "body": "A question."}, format="json")
    assert response.status_code == 201
    assert response.json()["priority"] == "normal"
    assert response.json()["category"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"subject": None}, "subject"),
        ({"body": None}, "body"),
        ({"category": "refunds"}, "category"),
        ({"priority": "critical"}, "priority"),
        ({"body": "x" * 5001}, "body"),
    ],
)
def test_invalid_create_is_a_400_validation_error_naming_the_field(user, change, field):
    body = {key: value for key, value in {**CREATE_BODY, **change}.items() if value is not None}
    error = assert_error(user.post(BASE, body, format="json"), 400, "VALIDATION_ERROR")
    assert error["error"]["details"][0]["field"] == field
    assert not Ticket.objects.exists()


def test_list_is_the_documented_envelope_with_pagination(user, customer, inbox):
    for _ in range(2):
        create(user)
    factories.make_ticket(inbox, email="someone-else@example.com")
    response = user.get(BASE, {"page": 1, "per_page": 20})
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert body["pagination"] == {"page": 1, "per_page": 20, "total": 2, "total_pages": 1}
    assert set(body["data"][0]) == {
        "id",
        "subject",
        "status",
        "priority",
        "category",
        "created_at",
        "updated_at",
    }


def test_list_pages_through_the_users_tickets(user, inbox):
    inbox.daily_limit_per_customer = None
    inbox.save()
    ids = [create(user)["id"] for _ in range(3)]
    first = user.get(BASE, {"per_page": 2}).json()
    second = user.get(BASE, {"page": 2, "per_page": 2}).json()
    assert first["pagination"] == {"page": 1, "per_page": 2, "total": 3, "total_pages": 2}
    assert [item["id"] for item in first["data"] + second["data"]] == ids[::-1]
    assert user.get(BASE, {"page": 9}).json()["data"] == []
    assert_error(user.get(BASE, {"per_page": "many"}), 400, "VALIDATION_ERROR")


def test_get_shows_the_thread_without_internal_notes(user, agent):
    ticket_id = create(user)["id"]
    ticket = Ticket.objects.get()
    services.add_message(ticket=ticket, body="Internal: check payouts", kind="note", actor=Actor.agent(agent))
    services.add_message(ticket=ticket, body="Thank you for reporting this.", actor=Actor.agent(agent))
    body = user.get(f"{BASE}/{ticket_id}").json()
    assert [(message["body"][:9], message["is_admin"]) for message in body["messages"]] == [
        ("I complet", False),
        ("Thank you", True),
    ]
    assert body["status"] == "in_progress"
    assert "Internal" not in str(body)


def test_reply_answers_201_with_the_message_object(user):
    ticket_id = create(user)["id"]
    response = user.post(f"{BASE}/{ticket_id}/messages", REPLY_BODY, format="json")
    assert response.status_code == 201
    message = Message.objects.order_by("-id").first()
    assert response.json() == {
        "id": message.public_id,
        "body": REPLY_BODY["body"],
        "is_admin": False,
        "created_at": response.json()["created_at"],
    }


def test_close_returns_the_ticket_closed_and_a_closed_ticket_takes_no_reply(user):
    ticket_id = create(user)["id"]
    response = user.post(f"{BASE}/{ticket_id}/close")
    assert response.status_code == 200
    assert response.json()["status"] == "closed"
    assert response.json()["id"] == ticket_id
    assert_error(
        user.post(f"{BASE}/{ticket_id}/messages", REPLY_BODY, format="json"), 409, "INVALID_TRANSITION"
    )


def test_another_users_ticket_is_not_found(user, organization, inbox):
    other = factories.make_ticket(inbox, email="other@example.com")
    for response in (
        user.get(f"{BASE}/{other.public_id}"),
        user.post(f"{BASE}/{other.public_id}/messages", REPLY_BODY, format="json"),
        user.post(f"{BASE}/{other.public_id}/close"),
    ):
        assert_error(response, 404, "NOT_FOUND")
    other.refresh_from_db()
    assert other.status == "open"
    assert other.messages.count() == 1


def test_a_customer_jwt_signed_with_the_organizations_secret_works(organization, inbox):
    token = jwt.encode(
        {
            "iss": organization.public_id,
            "sub": "coach_9",
            "email": "nine@example.com",
            "exp": int(time.time()) + 60,
        },
        organization.jwt_secret,
        algorithm="HS256",
    )
    client = bearer(token)
    assert client.post(BASE, CREATE_BODY, format="json").status_code == 201
    assert Ticket.objects.get().customer.external_id == "coach_9"
    assert client.get(BASE).json()["pagination"]["total"] == 1


@pytest.mark.parametrize("header", [None, "Bearer hdc_nope.nope", "Bearer not-a-token", "Basic abc"])
def test_missing_or_bad_user_credentials_are_401(inbox, header):
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    assert_error(client.get(BASE), 401, "UNAUTHORIZED")
    assert_error(client.post(BASE, CREATE_BODY, format="json"), 401, "UNAUTHORIZED")


def test_an_organization_api_key_is_not_a_user_credential(api_key, inbox):
    assert_error(bearer(api_key).get(BASE), 401, "UNAUTHORIZED")


# The admin's routes --------------------------------------------------------------------


def test_admin_list_filters_by_status_and_paginates(admin, user, inbox, agent):
    inbox.daily_limit_per_customer = None
    inbox.save()
    first, second = create(user)["id"], create(user)["id"]
    services.change_status(
        ticket=Ticket.objects.get(public_id=first), status="resolved", actor=Actor.agent(agent)
    )
    body = admin.get(ADMIN, {"status": "open", "page": 1, "per_page": 20}).json()
    assert body["success"] is True
    assert [item["id"] for item in body["data"]] == [second]
    assert body["pagination"]["total"] == 1
    assert body["data"][0]["user"]["email"] == "coach@example.com"
    assert admin.get(ADMIN).json()["pagination"]["total"] == 2
    assert_error(admin.get(ADMIN, {"status": "pending"}), 400, "VALIDATION_ERROR")


def test_admin_patch_changes_status_and_priority_as_documented(admin, user):
    ticket_id = create(user)["id"]
    response = admin.patch(
        f"{ADMIN}/{ticket_id}", {"status": "in_progress", "priority": "urgent"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "in_progress"
    assert response.json()["priority"] == "urgent"
    ticket = Ticket.objects.get()
    assert (ticket.status, ticket.priority) == ("in_progress", "urgent")
    assert ticket.events.filter(action="status_changed").exists()


@pytest.mark.parametrize("field", ["assignee_id", "assigned_to", "assignee"])
def test_admin_patch_assigns_by_id_or_email_under_each_accepted_name(admin, user, agent, organization, field):
    colleague = factories.make_agent(organization, email="colleague@acme.test", name="Colleague")
    ticket_id = create(user)["id"]
    body = admin.patch(f"{ADMIN}/{ticket_id}", {field: colleague.pk}, format="json").json()
    assert body["assignee"] == {"id": colleague.pk, "name": "Colleague", "email": "colleague@acme.test"}
    assert body["status"] == "in_progress"
    body = admin.patch(f"{ADMIN}/{ticket_id}", {field: "agent@acme.test"}, format="json").json()
    assert body["assignee"]["id"] == agent.pk
    body = admin.patch(f"{ADMIN}/{ticket_id}", {field: None}, format="json").json()
    assert body["assignee"] is None


def test_admin_patch_refuses_an_agent_of_another_organization(admin, user, other_agent):
    ticket_id = create(user)["id"]
    error = assert_error(
        admin.patch(f"{ADMIN}/{ticket_id}", {"assignee_id": other_agent.pk}, format="json"),
        400,
        "VALIDATION_ERROR",
    )
    assert error["error"]["details"][0]["field"] == "assignee_id"


def test_lifecycle_open_in_progress_resolved_closed_and_illegal_moves_are_409(admin, user):
    ticket_id = create(user)["id"]
    for step in ("in_progress", "resolved", "closed"):
        assert admin.patch(f"{ADMIN}/{ticket_id}", {"status": step}, format="json").json()["status"] == step
    assert_error(
        admin.patch(f"{ADMIN}/{ticket_id}", {"status": "resolved"}, format="json"), 409, "INVALID_TRANSITION"
    )
    # Admin can close from any status, and a user's reply reopens a resolved ticket.
    second = create(user)["id"]
    assert admin.patch(f"{ADMIN}/{second}", {"status": "closed"}, format="json").json()["status"] == "closed"


def test_user_reply_to_a_resolved_ticket_reopens_it(admin, user):
    ticket_id = create(user)["id"]
    admin.patch(f"{ADMIN}/{ticket_id}", {"status": "resolved"}, format="json")
    user.post(f"{BASE}/{ticket_id}/messages", REPLY_BODY, format="json")
    assert user.get(f"{BASE}/{ticket_id}").json()["status"] == "open"


def test_admin_reply_is_marked_is_admin_and_the_user_sees_it(admin, user):
    ticket_id = create(user)["id"]
    response = admin.post(f"{ADMIN}/{ticket_id}/messages", ADMIN_REPLY_BODY, format="json")
    assert response.status_code == 201
    assert response.json()["is_admin"] is True
    assert response.json()["is_internal"] is False
    thread = user.get(f"{BASE}/{ticket_id}").json()
    assert thread["messages"][-1]["body"] == ADMIN_REPLY_BODY["body"]
    assert thread["messages"][-1]["is_admin"] is True
    assert thread["status"] == "in_progress"


def test_admin_internal_note_is_never_shown_to_the_user(admin, user):
    ticket_id = create(user)["id"]
    admin.post(f"{ADMIN}/{ticket_id}/messages", {"body": "Fraud check", "is_internal": True}, format="json")
    assert "Fraud check" not in str(user.get(f"{BASE}/{ticket_id}").json())
    assert admin.get(f"{ADMIN}/{ticket_id}").json()["messages"][-1]["is_internal"] is True


def test_user_credential_on_an_admin_route_is_403(user):
    ticket_id = create(user)["id"]
    assert_error(user.get(ADMIN), 403, "FORBIDDEN")
    assert_error(user.patch(f"{ADMIN}/{ticket_id}", {"status": "closed"}, format="json"), 403, "FORBIDDEN")
    assert_error(
        user.post(f"{ADMIN}/{ticket_id}/messages", ADMIN_REPLY_BODY, format="json"), 403, "FORBIDDEN"
    )


def test_admin_without_a_token_is_401(inbox):
    assert_error(APIClient().get(ADMIN), 401, "UNAUTHORIZED")


def test_agent_of_another_organization_sees_nothing(other_agent, user):
    ticket_id = create(user)["id"]
    outsider = bearer(factories.make_agent_token(other_agent)[1])
    assert outsider.get(ADMIN).json()["pagination"]["total"] == 0
    assert_error(outsider.get(f"{ADMIN}/{ticket_id}"), 404, "NOT_FOUND")
    assert_error(
        outsider.patch(f"{ADMIN}/{ticket_id}", {"status": "closed"}, format="json"), 404, "NOT_FOUND"
    )
    assert_error(
        outsider.post(f"{ADMIN}/{ticket_id}/messages", ADMIN_REPLY_BODY, format="json"), 404, "NOT_FOUND"
    )
    assert Ticket.objects.get().status == "open"


def test_wrong_method_and_unknown_route_keep_the_inapp_shape(user):
    assert_error(user.delete(BASE), 405, "METHOD_NOT_ALLOWED")
    assert_error(user.get("/compat/inapp/v1/nothing"), 404, "NOT_FOUND")


def test_list_query_count_does_not_grow_with_the_page(admin, user, inbox, django_assert_max_num_queries):
    inbox.daily_limit_per_customer = None
    inbox.save()
    for _ in range(6):
        create(user)
    with django_assert_max_num_queries(8):
        assert len(admin.get(ADMIN, {"per_page": 6}).json()["data"]) == 6
    with django_assert_max_num_queries(8):
        assert len(user.get(BASE, {"per_page": 6}).json()["data"]) == 6


def test_an_id_that_cannot_be_a_ticket_is_a_404(user, admin):
    assert_error(user.get(f"{BASE}/ab%00cd"), 404, "NOT_FOUND")
    assert_error(admin.patch(f"{ADMIN}/%E2%80%A8", {"status": "closed"}, format="json"), 404, "NOT_FOUND")
