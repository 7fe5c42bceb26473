"""The OpenAPI document lists every status each operation answers: good and bad requests at
every documented operation, each status compared with the operations' listed responses.

The whole run is checked the same way at its end (the root ``conftest.py``); this module
does it on its own, with a representative set of requests per operation, so a focused run
catches a missing status too.
"""

import copy

import pytest
from rest_framework.test import APIClient

from accounts.models import CustomerToken
from helpdesk.tests import status_recorder
from tickets import services
from tickets.models import Inbox
from tickets.tests import factories

pytestmark = pytest.mark.django_db

MISSING_ID = "01ZZZZZZZZZZZZZZZZZZZZZZZZ"

# A body each create answers 201 to; a second one with the same Idempotency-Key and another
# body is the 422 the document must list.
GOOD_BODIES = {
    "api_v1_tickets_create": {
        "customer": {"email": "jane@example.com"},
        "subject": "Cannot log in",
        "message": "Help me please.",
    },
    "api_v1_tickets_messages_create": {"body": "We are on it."},
    "api_v1_me_tickets_create": {"subject": "Cannot log in", "message": "Help me please."},
    "api_v1_me_tickets_messages_create": {"body": "Any news?"},
    "appbox_create_ticket": {"email": "jane@example.com", "subject": "Premium", "message": "It is locked."},
    "ctxfy_create_support_ticket": {"type": "billing", "reply_address": "jane@example.com", "message": "Hi"},
    "crawlchat_create_ticket": {"userEmail": "jane@example.com", "title": "Pricing", "message": "Plans?"},
    "supportdesk_create_ticket": {
        "customerExternalId": "jane_1",
        "subject": "Payment",
        "description": "Failed",
    },
    "inapp_create_ticket": {"subject": "Payment not received", "body": "It has not arrived."},
    "inapp_reply": {"body": "Thank you."},
    "inapp_admin_reply": {"body": "We have checked."},
}


@pytest.fixture(scope="module")
def schema():
    return status_recorder.current_schema()


@pytest.fixture
def world(organization, inbox, api_key, agent):
    Inbox.objects.filter(pk=inbox.pk).update(daily_limit_per_customer=None)
    customer, _ = services.upsert_customer(
        organization=organization,
        data=services.CustomerData(email="jane@example.com", external_id="jane_1", name="Jane"),
    )
    token = CustomerToken(organization=organization, customer=customer)
    customer_token = token.assign_secret()
    token.save()
    ticket = factories.make_ticket(inbox, email="jane@example.com")
    # Erased while the operations are driven: someone whose tokens nothing else uses.
    erasable, _ = services.upsert_customer(
        organization=organization, data=services.CustomerData(email="erase.me@example.com")
    )
    return {
        "inbox": inbox,
        "customer": customer,
        "erasable_customer": erasable,
        "ticket": ticket,
        "credentials": {
            "ApiKeyHeader": {"HTTP_X_API_KEY": api_key},
            "DialectApiKeyHeader": {"HTTP_X_API_KEY": api_key},
            "ApiKeyBearer": {"HTTP_AUTHORIZATION": f"Bearer {api_key}"},
            "DialectApiKeyBearer": {"HTTP_AUTHORIZATION": f"Bearer {api_key}"},
            "AgentToken": {"HTTP_AUTHORIZATION": f"Bearer {factories.make_agent_token(agent)[1]}"},
            "customerToken": {"HTTP_AUTHORIZATION": f"Bearer {customer_token}"},
        },
    }


def operations(schema):
    for template, item in schema["paths"].items():
        for method in status_recorder.METHODS:
            if method in item:
                yield template, method, item


def fill(template: str, world: dict, *, missing: bool = False) -> str:
    """The template's placeholders as ids that exist (or, with ``missing``, that do not)."""
    values = {
        "{id}": world["ticket"].public_id,
        "{ticket_id}": world["ticket"].public_id,
        "{paywall_id}": world["inbox"].public_id,
        "{collection_id}": world["inbox"].public_id,
        "{customer_id}": world["customer"].public_id,
        "{token_id}": MISSING_ID,
        "{other_id}": MISSING_ID,
    }
    if template.startswith("/api/v1/customers/{id}"):
        values["{id}"] = world["customer"].public_id
    if template == "/api/v1/customers/{id}/erase":
        values["{id}"] = world["erasable_customer"].public_id
    if template.startswith("/api/v1/tags/{id}") or template.startswith("/api/v1/inboxes/{id}"):
        values["{id}"] = MISSING_ID
    path = template
    for placeholder, value in values.items():
        path = path.replace(placeholder, MISSING_ID if missing else value)
    return path


def credential(operation: dict, world: dict) -> dict:
    schemes = [name for requirement in operation.get("security", []) for name in requirement]
    return next((world["credentials"][name] for name in schemes if name in world["credentials"]), {})


def wrong_credential(operation: dict, world: dict) -> dict:
    """A real credential of a kind this operation does not take."""
    schemes = {name for requirement in operation.get("security", []) for name in requirement}
    return next(value for name, value in world["credentials"].items() if name not in schemes)


def changed(body: dict) -> dict:
    """The body with its last text field (the message) changed: another request under the
    same key."""
    name = [name for name, value in body.items() if isinstance(value, str)][-1]
    return {**body, name: body[name] + " (again)"}


def drive(template: str, method: str, item: dict, world: dict, settings) -> None:
    """Good and bad requests at one operation."""
    operation = item[method]
    client = APIClient()
    call = getattr(client, method)
    path = fill(template, world)
    headers = credential(operation, world)
    takes_body = "requestBody" in operation

    call(path, format="json")  # no credential
    call(path, format="json", **wrong_credential(operation, world))
    if "{" in template:
        call(fill(template, world, missing=True), {}, format="json", **headers)
    refused = next((other for other in status_recorder.METHODS if other not in item), None)
    if refused:
        getattr(client, refused)(path, {}, format="json", **headers)
    if any(parameter["in"] == "query" for parameter in operation.get("parameters", [])):
        call(path, {"page": "nonsense"}, **headers)
        call(path, {"page": "99999999999999999999"}, **headers)
    if method == "get":
        call(path, **headers)
    if takes_body:
        call(path, [], format="json", **headers)
        call(path, "not json", content_type="text/plain", **headers)
        call(path, "{", content_type="application/json", **headers)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        call(path, {"padding": "x" * (limit + 1)}, format="json", **headers)
    body = GOOD_BODIES.get(operation["operationId"])
    if body is not None:
        key = f"key-{operation['operationId']}"
        call(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key, **headers)
        call(path, changed(body), format="json", HTTP_IDEMPOTENCY_KEY=key, **headers)


def test_every_status_an_operation_answers_is_listed_for_it(schema, world, settings):
    with status_recorder.recording() as observed:
        for template, method, item in operations(schema):
            drive(template, method, item, world, settings)

    assert status_recorder.undocumented(schema, observed) == []
    # The requests reached what they aim at: refusals, missing ids, bad bodies, and a key
    # reused with another body on every operation that takes one.
    assert {200, 201, 400, 401, 403, 404, 405, 413, 415} <= {status for _, _, status in observed}
    reused = {(method, path) for method, path, status in observed if status == 422}
    assert reused == {
        (method, fill(template, world))
        for template, method, item in operations(schema)
        if item[method]["operationId"] in GOOD_BODIES
    }


def test_a_status_missing_from_the_document_is_reported(schema, world, settings):
    inapp = "/compat/inapp/v1/support/tickets"
    with status_recorder.recording() as observed:
        drive(inapp, "post", schema["paths"][inapp], world, settings)
    trimmed = copy.deepcopy(schema)
    del trimmed["paths"][inapp]["post"]["responses"]["422"]
    del trimmed["paths"][inapp]["get"]["responses"]["405"]
    del trimmed["paths"][inapp]["post"]["responses"]["405"]

    problems = status_recorder.undocumented(trimmed, observed)

    assert f"POST {inapp} answered 422; listed: " in "\n".join(problems)
    assert any(
        problem.startswith(f"PUT {inapp} (a method the path refuses) answered 405") for problem in problems
    )
