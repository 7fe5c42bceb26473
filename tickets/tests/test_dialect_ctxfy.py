"""Ctxfy (seed 001) under /compat/ctxfy: the seed's request, the truthful status, its errors."""

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tickets import notifications, services
from tickets.models import Customer, Delivery, Ticket

URL = "/compat/ctxfy/v1/support/tickets"
SEED_BODY = {"type": "example_string", "reply_address": "123 Main St", "message": "example_string"}
UNAUTHORIZED = {
    "error": "Unauthorized",
    "message": "Authentication required. Please provide a valid API token",
    "code": 401,
}


@pytest.fixture
def ctxfy(api_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")
    return client


def test_seed_example_with_an_organization_key_creates_a_stored_ticket(ctxfy, inbox):
    response = ctxfy.post(URL, SEED_BODY, format="json")
    assert response.status_code == 201, response.json()
    ticket = Ticket.objects.get()
    body = response.json()
    assert set(body) == {"id", "created_at", "status", "sent_at"}
    assert body["id"] == ticket.public_id
    assert body["created_at"].endswith("Z")
    assert body["status"] == "stored"
    assert body["sent_at"] is None
    # A reply address that is not an email names the user by external id.
    assert ticket.customer.external_id == "123 Main St"
    assert ticket.reply_address == "123 Main St"
    assert ticket.type == "example_string"
    assert ticket.subject == "Example string: example_string"
    assert ticket.messages.get().body == "example_string"


def test_email_reply_address_finds_the_customer_and_enriches_the_ticket(ctxfy, inbox, organization):
    services.upsert_customer(
        organization=organization,
        data=services.CustomerData(
            email="jane@example.com",
            external_id="u_981",
            metadata={"plan": "pro", "token_balance": 1200},
        ),
    )
    body = {"type": "billing", "reply_address": "Jane@Example.com", "message": "I was charged twice.\nHelp."}
    assert ctxfy.post(URL, body, format="json").status_code == 201
    ticket = Ticket.objects.get()
    assert Customer.objects.count() == 1
    assert ticket.metadata == {"user_id": "u_981", "subscription_plan": "pro", "token_balance": 1200}
    assert ticket.subject == "Billing: I was charged twice."


def test_enrichment_of_an_unknown_user_says_what_is_not_known(ctxfy, inbox):
    ctxfy.post(URL, {**SEED_BODY, "reply_address": "new@example.com"}, format="json")
    ticket = Ticket.objects.get()
    assert ticket.metadata == {
        "user_id": ticket.customer.public_id,
        "subscription_plan": None,
        "token_balance": None,
    }


def _fake_mail(status):
    """Stand in for the email helper: a queued new_ticket Delivery, then the task's outcome."""

    def ticket_created(ticket_id):
        ticket = Ticket.objects.get(pk=ticket_id)
        delivery = Delivery.objects.create(
            ticket=ticket, recipient=ticket.inbox.notification_address, kind=Delivery.Kind.NEW_TICKET
        )
        if status != Delivery.Status.QUEUED:
            Delivery.objects.filter(pk=delivery.pk).update(
                status=status, sent_at=timezone.now() if status == Delivery.Status.SENT else None
            )

    return ticket_created


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("outcome", ["sent", "queued", "failed"])
def test_status_tells_what_happened_to_the_support_copy(inbox, api_key, monkeypatch, settings, outcome):
    settings.SUPPORT_EMAIL_SENDER = "console"
    # A backend that ran the mail before the answer (Django's own immediate one): the
    # status reports what happened. Ours sends after the response (next test).
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    monkeypatch.setattr(notifications, "ticket_created", _fake_mail(outcome))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")
    body = client.post(URL, SEED_BODY, format="json").json()
    assert body["status"] == outcome
    if outcome == "sent":
        assert body["sent_at"].endswith("Z")
    else:
        assert body["sent_at"] is None


@pytest.mark.django_db(transaction=True)
def test_with_a_sender_the_same_content_goes_to_the_support_address_after_the_answer(
    inbox, api_key, settings, mailoutbox
):
    settings.MAILERS = {"default": {"BACKEND": "anymail.backends.test.EmailBackend"}}
    settings.SUPPORT_EMAIL_SENDER = "console"
    settings.SUPPORT_EMAIL = "support@acme.test"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")
    body = {"type": "billing", "reply_address": "jane@example.com", "message": "I was charged twice."}
    response = client.post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    # The default backend sends after the response: the answer could only say "queued",
    # and by the time the test client returns, the copy has gone.
    assert response.json()["status"] == "queued"
    assert response.json()["sent_at"] is None
    to_support = [email for email in mailoutbox if "support@acme.test" in email.to]
    assert len(to_support) == 1
    assert "I was charged twice." in to_support[0].body


@pytest.mark.django_db(transaction=True)
def test_with_a_worker_backend_the_copy_is_queued(inbox, api_key, settings):
    settings.SUPPORT_EMAIL_SENDER = "console"
    settings.TASKS = {
        "default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend", "QUEUES": ["default"]}
    }
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")
    body = client.post(URL, SEED_BODY, format="json").json()
    assert (body["status"], body["sent_at"]) == ("queued", None)


@pytest.mark.django_db(transaction=True)
def test_with_no_sender_the_ticket_is_only_stored(inbox, api_key, settings, mailoutbox):
    settings.SUPPORT_EMAIL_SENDER = "none"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")
    body = client.post(URL, SEED_BODY, format="json").json()
    assert (body["status"], body["sent_at"]) == ("stored", None)
    assert mailoutbox == []
    assert not Delivery.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": None}, "type"),
        ({"reply_address": None}, "reply_address"),
        ({"message": None}, "message"),
        ({"message": ""}, "message"),
        ({"message": "x" * 5001}, "message"),
        ({"type": 42}, "type"),
    ],
)
def test_invalid_parameters_are_the_documented_400(ctxfy, inbox, change, field):
    body = {key: value for key, value in {**SEED_BODY, **change}.items() if value is not None}
    response = ctxfy.post(URL, body, format="json")
    assert response.status_code == 400
    payload = response.json()
    assert set(payload) == {"error", "message", "code", "details"}
    assert payload["error"] == "Bad Request"
    assert payload["message"] == "The request contains invalid parameters or malformed data"
    assert payload["code"] == 400
    assert payload["details"][0]["field"] == field
    assert set(payload["details"][0]) == {"field", "message"}
    assert not Ticket.objects.exists()


def test_malformed_json_is_the_documented_400(ctxfy, inbox):
    response = ctxfy.post(URL, '{"type": ', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == 400


def test_missing_token_is_exactly_the_documented_401(inbox):
    response = APIClient().post(URL, SEED_BODY, format="json")
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


@pytest.mark.parametrize("header", ["Bearer hdk_wrong.key", "Bearer nonsense", "Token abc"])
def test_invalid_token_is_exactly_the_documented_401(inbox, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.post(URL, SEED_BODY, format="json")
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_x_api_key_header_is_not_ctxfys_and_is_refused(api_key, inbox):
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=api_key)
    assert client.post(URL, SEED_BODY, format="json").json() == UNAUTHORIZED


def test_server_error_is_the_documented_500_with_a_request_id(ctxfy, inbox, monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(services, "create_ticket", explode)
    response = ctxfy.post(URL, SEED_BODY, format="json")
    assert response.status_code == 500
    assert response.json() == {
        "error": "Internal Server Error",
        "message": "An unexpected error occurred on the server",
        "code": 500,
        "requestId": response["X-Request-ID"],
    }
    assert not Customer.objects.exists()


def test_daily_limit_is_429_in_the_ctxfy_shape_and_leaves_no_new_customer(ctxfy, inbox):
    inbox.daily_limit_per_customer = 0
    inbox.save()
    response = ctxfy.post(URL, SEED_BODY, format="json")
    assert response.status_code == 429
    assert response.json()["code"] == 429
    assert not Customer.objects.exists()


def test_tickets_go_to_the_keys_own_organization(ctxfy, inbox, other_inbox):
    ctxfy.post(URL, SEED_BODY, format="json")
    assert Ticket.objects.get().inbox == inbox


def _customer_token(customer) -> str:
    from accounts.models import CustomerToken

    token = CustomerToken(organization=customer.organization, customer=customer)
    plaintext = token.assign_secret()
    token.save()
    return plaintext


def test_a_customer_token_names_the_user_and_enriches_from_their_metadata(inbox, organization):
    customer, _ = services.upsert_customer(
        organization=organization,
        data=services.CustomerData(
            email="dev@example.com", external_id="usr_7", metadata={"subscription_plan": "team", "tokens": 50}
        ),
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {_customer_token(customer)}")
    response = client.post(URL, SEED_BODY, format="json")
    assert response.status_code == 201, response.json()
    ticket = Ticket.objects.get()
    assert ticket.customer == customer
    assert ticket.reply_address == "123 Main St"
    assert ticket.metadata == {"user_id": "usr_7", "subscription_plan": "team", "token_balance": 50}
    assert Customer.objects.count() == 1


def test_a_customer_jwt_names_the_user(inbox, organization):
    import time

    import jwt

    token = jwt.encode(
        {"iss": organization.public_id, "sub": "usr_8", "exp": int(time.time()) + 60},
        organization.jwt_secret,
        algorithm="HS256",
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.post(URL, SEED_BODY, format="json").status_code == 201
    assert Ticket.objects.get().customer.external_id == "usr_8"


def test_a_revoked_customer_token_is_the_documented_401(inbox, organization):
    customer, _ = services.upsert_customer(
        organization=organization, data=services.CustomerData(email="gone@example.com")
    )
    plaintext = _customer_token(customer)
    from accounts.models import CustomerToken

    CustomerToken.objects.update(revoked_at=timezone.now())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert client.post(URL, SEED_BODY, format="json").json() == UNAUTHORIZED


def test_a_customer_token_of_another_organization_opens_the_ticket_there_only(
    inbox, other_inbox, other_organization
):
    customer, _ = services.upsert_customer(
        organization=other_organization, data=services.CustomerData(email="globex-user@example.com")
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {_customer_token(customer)}")
    assert client.post(URL, SEED_BODY, format="json").status_code == 201
    ticket = Ticket.objects.get()
    assert ticket.inbox == other_inbox
    assert ticket.customer == customer
