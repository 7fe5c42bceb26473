"""One line break is one character on every face: what a client sends as CR LF (browsers,
Windows, mail) is stored as LF and counted once, against each face's documented limit
(``tickets/services/validation.validate_body``, ``helpdesk.fields.StrictMessageField``).

The dashboard's composer and forms have their own tests (test_composer.py); inbound mail is
in test_mail_inbound.py."""

import pytest
from rest_framework.test import APIClient

from accounts.models import CustomerToken
from tickets import limits, services
from tickets.actors import Actor
from tickets.models import Message, SavedReply, Ticket
from tickets.tests import factories
from tickets.tests.api_helpers import assert_error, ticket_payload

pytestmark = pytest.mark.django_db


def text_of(length: int) -> str:
    """``length`` characters counted with LF, in lines of 50: one line break in fifty."""
    lines = length // 50 - 1
    return ("y" * 49 + "\n") * lines + "z" * (length - 50 * lines)


def with_crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


AT_LIMIT = text_of(limits.MESSAGE_MAX_LENGTH)
OVER_LIMIT = text_of(limits.MESSAGE_MAX_LENGTH + 1)
SEED_AT_LIMIT = text_of(limits.SEED_MESSAGE_MAX_LENGTH)
SEED_OVER_LIMIT = text_of(limits.SEED_MESSAGE_MAX_LENGTH + 1)


def newest_body() -> str:
    return Message.objects.order_by("-id").values_list("body", flat=True).first()


# The services ---------------------------------------------------------------------------------


def test_the_service_check_stores_every_line_break_as_lf():
    # The bodies below are within the limits only when a line break counts once.
    assert len(AT_LIMIT) == limits.MESSAGE_MAX_LENGTH < len(with_crlf(AT_LIMIT))
    assert len(SEED_AT_LIMIT) == limits.SEED_MESSAGE_MAX_LENGTH < len(with_crlf(SEED_AT_LIMIT))
    assert (len(OVER_LIMIT), len(SEED_OVER_LIMIT)) == (
        limits.MESSAGE_MAX_LENGTH + 1,
        limits.SEED_MESSAGE_MAX_LENGTH + 1,
    )
    assert services.validate_body(" one\r\ntwo\rthree\nfour\r\n") == "one\ntwo\nthree\nfour"
    assert services.validate_body(with_crlf(AT_LIMIT)) == AT_LIMIT


@pytest.mark.parametrize("kind", ["reply", "note"])
def test_a_reply_or_note_through_the_service_is_stored_with_lf(ticket, agent, kind):
    message, _ = services.add_message(
        ticket=ticket, body=with_crlf(AT_LIMIT), actor=Actor.agent(agent), kind=kind
    )

    assert Message.objects.get(pk=message.pk).body == AT_LIMIT


def test_a_ticket_opened_through_the_service_is_stored_with_lf(inbox):
    ticket = factories.make_ticket(inbox, message=with_crlf(AT_LIMIT))

    assert ticket.messages.get().body == AT_LIMIT


def test_a_saved_reply_is_stored_with_lf(organization, owner):
    services.create_saved_reply(
        organization=organization, actor=Actor.agent(owner), title="Steps", body="One.\r\nTwo.\rThree."
    )

    assert SavedReply.objects.get().body == "One.\nTwo.\nThree."


# The native API -----------------------------------------------------------------------------------


def test_api_create_counts_a_crlf_line_break_once_and_stores_lf(api, inbox):
    too_long = api.post("/api/v1/tickets", ticket_payload(message=with_crlf(OVER_LIMIT)), format="json")
    assert_error(too_long, 400, field="message")
    assert not Ticket.objects.exists()

    response = api.post("/api/v1/tickets", ticket_payload(message=with_crlf(AT_LIMIT)), format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["messages"][0]["body"] == AT_LIMIT
    assert Ticket.objects.get().messages.get().body == AT_LIMIT


@pytest.mark.parametrize("kind", ["reply", "note"])
def test_api_reply_or_note_counts_a_crlf_line_break_once_and_stores_lf(api, ticket, kind):
    url = f"/api/v1/tickets/{ticket.public_id}/messages"

    too_long = api.post(url, {"body": with_crlf(OVER_LIMIT), "kind": kind}, format="json")
    assert_error(too_long, 400, field="body")
    assert ticket.messages.count() == 1

    response = api.post(url, {"body": with_crlf(AT_LIMIT), "kind": kind}, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["body"] == AT_LIMIT
    assert ticket.messages.count() == 2
    assert newest_body() == AT_LIMIT


def customer_client(customer) -> APIClient:
    token = CustomerToken(organization=customer.organization, customer=customer)
    plaintext = token.assign_secret()
    token.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


def test_customer_api_create_and_reply_count_a_crlf_line_break_once(inbox, ticket):
    me = customer_client(ticket.customer)
    create = {"subject": "Long log", "inbox": inbox.public_id}
    reply_url = f"/api/v1/me/tickets/{ticket.public_id}/messages"

    assert_error(
        me.post("/api/v1/me/tickets", {**create, "message": with_crlf(OVER_LIMIT)}, format="json"),
        400,
        "message",
    )
    assert_error(me.post(reply_url, {"body": with_crlf(OVER_LIMIT)}, format="json"), 400, "body")
    assert Message.objects.count() == 1

    created = me.post("/api/v1/me/tickets", {**create, "message": with_crlf(AT_LIMIT)}, format="json")
    assert created.status_code == 201, created.json()
    assert newest_body() == AT_LIMIT
    replied = me.post(reply_url, {"body": with_crlf(AT_LIMIT)}, format="json")
    assert replied.status_code == 201, replied.json()
    assert newest_body() == AT_LIMIT


# The dialects (their documents' 1–5000) ---------------------------------------------------------


def _appbox_refusal(response) -> str:
    assert response.json()["error"] == "Bad Request"
    return response.json()["details"][0]["field"]


def _ctxfy_refusal(response) -> str:
    payload = response.json()
    assert set(payload) == {"error", "message", "code", "details"}
    assert (payload["error"], payload["code"]) == ("Bad Request", 400)
    return payload["details"][0]["field"]


def _envelope_refusal(response) -> str:
    """SupportDesk's and the in-app API's ``{"success": false, "error": {...}}``."""
    payload = response.json()
    assert payload["success"] is False
    assert payload["error"]["code"] == "VALIDATION_ERROR"
    return payload["error"]["details"][0]["field"]


def _dialect_request(dialect, inbox, api_key):
    """The dialect's client, create URL, request body without the message, the message's
    field name and how its 400 names a field."""
    client = APIClient()
    if dialect == "appbox":
        client.credentials(HTTP_X_API_KEY=api_key)
        url = f"/compat/appbox/api/v1/paywall/{inbox.public_id}/create-ticket"
        return client, url, {"email": "user@example.com", "subject": "Long log"}, "message", _appbox_refusal
    if dialect == "ctxfy":
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")
        body = {"type": "technical", "reply_address": "user@example.com"}
        return client, "/compat/ctxfy/v1/support/tickets", body, "message", _ctxfy_refusal
    if dialect == "crawlchat":
        client.credentials(HTTP_X_API_KEY=api_key)
        url = f"/compat/crawlchat/ticket/{inbox.public_id}"
        return client, url, {"userEmail": "user@example.com", "title": "Long log"}, "message", _appbox_refusal
    if dialect == "supportdesk":
        services.upsert_customer(
            organization=inbox.organization,
            data=services.CustomerData(email="user@example.com", external_id="user_42"),
        )
        client.credentials(HTTP_X_API_KEY=api_key)
        url = "/compat/supportdesk/api/v1/tickets/api-create"
        return (
            client,
            url,
            {"customerExternalId": "user_42", "subject": "Long log"},
            "description",
            _envelope_refusal,
        )
    customer, _ = services.upsert_customer(
        organization=inbox.organization, data=services.CustomerData(email="user@example.com")
    )
    client = customer_client(customer)
    return client, "/compat/inapp/v1/support/tickets", {"subject": "Long log"}, "body", _envelope_refusal


@pytest.mark.parametrize("dialect", ["appbox", "ctxfy", "inapp", "supportdesk", "crawlchat"])
def test_dialect_create_counts_a_crlf_line_break_once_against_its_5000(dialect, inbox, api_key):
    client, url, body, field, refused_field = _dialect_request(dialect, inbox, api_key)

    too_long = client.post(url, {**body, field: with_crlf(SEED_OVER_LIMIT)}, format="json")
    assert too_long.status_code == 400, too_long.json()
    assert refused_field(too_long) == field
    assert not Ticket.objects.exists()

    response = client.post(url, {**body, field: with_crlf(SEED_AT_LIMIT)}, format="json")

    assert response.status_code == 201, response.json()
    assert Ticket.objects.get().messages.get().body == SEED_AT_LIMIT


def test_inapp_user_reply_and_admin_note_count_a_crlf_line_break_once(inbox, agent):
    customer, _ = services.upsert_customer(
        organization=inbox.organization, data=services.CustomerData(email="user@example.com")
    )
    user = customer_client(customer)
    admin = APIClient()
    admin.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.make_agent_token(agent)[1]}")
    ticket_id = user.post(
        "/compat/inapp/v1/support/tickets", {"subject": "Log", "body": "Hi"}, format="json"
    ).json()["id"]
    user_url = f"/compat/inapp/v1/support/tickets/{ticket_id}/messages"
    admin_url = f"/compat/inapp/v1/admin/support/tickets/{ticket_id}/messages"

    for client, url, extra in ((user, user_url, {}), (admin, admin_url, {"is_internal": True})):
        too_long = client.post(url, {"body": with_crlf(SEED_OVER_LIMIT), **extra}, format="json")
        assert too_long.status_code == 400, too_long.json()
        assert _envelope_refusal(too_long) == "body"
        assert Message.objects.count() == 1

    for client, url, extra in ((user, user_url, {}), (admin, admin_url, {"is_internal": True})):
        response = client.post(url, {"body": with_crlf(SEED_AT_LIMIT), **extra}, format="json")
        assert response.status_code == 201, response.json()
        assert response.json()["body"] == SEED_AT_LIMIT
        assert newest_body() == SEED_AT_LIMIT
    assert Message.objects.filter(kind=Message.Kind.NOTE).count() == 1


# The customer's private page -------------------------------------------------------------------


def test_private_page_reply_counts_a_crlf_line_break_once_and_stores_lf(client, ticket):
    too_long = client.post(f"{ticket.private_path}reply/", {"body": with_crlf(OVER_LIMIT)})
    assert too_long.status_code == 400
    assert "at most 65536 characters (it has 65537)" in too_long.content.decode()
    assert ticket.messages.count() == 1

    response = client.post(f"{ticket.private_path}reply/", {"body": with_crlf(AT_LIMIT)})

    assert response.status_code == 302
    assert ticket.messages.count() == 2
    assert newest_body() == AT_LIMIT
