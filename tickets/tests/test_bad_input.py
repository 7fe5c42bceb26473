"""Bad input, everywhere it enters: each a 4xx in that face's shape, nothing stored, never a 500.

The cases are a table: an *entry point* (a face's write endpoint with a valid body and the
assertion for its error shape) crossed with *mutations* of that body (NUL, lone
surrogate, wrong type, unknown enum value, missing field, enormous metadata) and of the
request itself (malformed JSON, wrong content type, a body over the size limit). A new
face is a new row in ``ENTRY_POINTS``.
"""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import jwt
import pytest
from django.conf import settings
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper
from django.http.response import HttpResponseBase
from rest_framework.test import APIClient

from accounts.models import CustomerToken
from helpdesk.api_errors import status_phrase
from helpdesk.parsers import MAX_JSON_DEPTH
from tickets import services
from tickets.models import Customer, Message, Tag, Ticket, TicketEvent
from tickets.tests import factories
from tickets.tests.api_helpers import assert_error
from tickets.tests.test_dialect_inapp import customer_token

# What "nothing stored" means: every row of these models, compared before and after.
WATCHED_MODELS = (Ticket, Message, Customer, Tag, TicketEvent, CustomerToken)
# Bookkeeping of the credential or session a refused request was sent with, not something
# it stored.
IGNORED_FIELDS = {"last_used_at", "last_login"}


def snapshot(models=WATCHED_MODELS) -> dict:
    return {
        model.__name__: [
            {name: value for name, value in row.items() if name not in IGNORED_FIELDS}
            for row in model.objects.order_by("pk").values()
        ]
        for model in models
    }


@dataclass
class World:
    """The data the entry points act on."""

    client: APIClient
    ticket: Ticket
    customer: Customer
    tag: Tag
    # The dialects' own credentials: the organization key as a bearer token (Ctxfy), the
    # ticket's customer (in-app user routes) and an agent (in-app admin routes).
    bearer_key_client: APIClient
    customer_client: APIClient
    agent_client: APIClient


@dataclass(frozen=True)
class EntryPoint:
    name: str
    method: str
    path: Callable[[World], str]
    body: Callable[[World], dict]
    # Dotted paths of the body's text fields (for NUL/surrogate/wrong type), its enum
    # fields, its required fields and its metadata fields.
    text_fields: tuple[str, ...] = ()
    enum_fields: tuple[str, ...] = ()
    required_fields: tuple[str, ...] = ()
    metadata_fields: tuple[str, ...] = ()
    # Fields that name a customer by email address.
    email_fields: tuple[str, ...] = ()
    assert_shape: Callable[..., Any] = assert_error
    client: Callable[[World], APIClient] = field(default=lambda world: world.client)


ENTRY_POINTS = [
    EntryPoint(
        name="api: create ticket",
        method="post",
        path=lambda world: "/api/v1/tickets",
        body=lambda world: {
            "customer": {"email": "new@example.com", "name": "New Person", "external_id": "u-1"},
            "subject": "Refund please",
            "message": "I was charged twice.",
            "priority": "high",
            "category": "billing",
            "type": "question",
            "tags": ["billing"],
            "metadata": {"plan": "pro"},
        },
        text_fields=(
            "customer.email",
            "customer.name",
            "customer.external_id",
            "subject",
            "message",
            "category",
            "type",
            "tags[0]",
            "metadata.plan",
        ),
        enum_fields=("priority",),
        required_fields=("customer", "subject", "message"),
        metadata_fields=("metadata", "customer.metadata"),
        email_fields=("customer.email",),
    ),
    EntryPoint(
        name="api: update ticket",
        method="patch",
        path=lambda world: f"/api/v1/tickets/{world.ticket.public_id}",
        body=lambda world: {
            "subject": "A better subject",
            "status": "resolved",
            "priority": "low",
            "category": "billing",
            "tags": ["vip"],
            "metadata": {"order": "A-1"},
        },
        text_fields=("subject", "category", "tags[0]", "metadata.order"),
        enum_fields=("status", "priority"),
        metadata_fields=("metadata",),
    ),
    EntryPoint(
        name="api: add message",
        method="post",
        path=lambda world: f"/api/v1/tickets/{world.ticket.public_id}/messages",
        body=lambda world: {"body": "Thanks, we are on it.", "kind": "reply"},
        text_fields=("body",),
        enum_fields=("kind", "author_type"),
        required_fields=("body",),
    ),
    EntryPoint(
        name="api: upsert customer",
        method="post",
        path=lambda world: "/api/v1/customers",
        body=lambda world: {
            "email": "someone@example.com",
            "name": "Some One",
            "external_id": "ext-9",
            "metadata": {"plan": "free"},
        },
        text_fields=("email", "name", "external_id", "metadata.plan"),
        metadata_fields=("metadata",),
        email_fields=("email",),
    ),
    EntryPoint(
        name="api: update customer",
        method="patch",
        path=lambda world: f"/api/v1/customers/{world.customer.public_id}",
        body=lambda world: {"name": "Renamed", "metadata": {"plan": "team"}},
        text_fields=("name", "metadata.plan"),
        metadata_fields=("metadata",),
    ),
    EntryPoint(
        name="api: create tag",
        method="post",
        path=lambda world: "/api/v1/tags",
        body=lambda world: {"name": "urgent-ish"},
        text_fields=("name",),
        required_fields=("name",),
    ),
    EntryPoint(
        name="customer api: create ticket",
        method="post",
        path=lambda world: "/api/v1/me/tickets",
        body=lambda world: {
            "subject": "Payment not received",
            "message": "The payment has not appeared in my account.",
            "priority": "high",
            "category": "billing",
        },
        text_fields=("subject", "message", "category"),
        enum_fields=("priority",),
        required_fields=("subject", "message"),
        client=lambda world: world.customer_client,
    ),
    EntryPoint(
        name="customer api: reply",
        method="post",
        path=lambda world: f"/api/v1/me/tickets/{world.ticket.public_id}/messages",
        body=lambda world: {"body": "It was on March 14th at 2pm."},
        text_fields=("body",),
        required_fields=("body",),
        client=lambda world: world.customer_client,
    ),
    EntryPoint(
        name="api: rename tag",
        method="patch",
        path=lambda world: f"/api/v1/tags/{world.tag.pk}",
        body=lambda world: {"name": "renamed-tag"},
        text_fields=("name",),
        required_fields=("name",),
    ),
]


# The dialects: each seed product's write endpoints, each with its own error shape
# (docs/dialects.md). They share DialectView's parsing, so each row proves the shape.

STATUS_CODES = {
    400: "VALIDATION_ERROR",
    401: "UNAUTHORIZED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    503: "SERVICE_UNAVAILABLE",
}


def _json(response: HttpResponseBase, status_code: int) -> dict:
    assert response.status_code == status_code, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response["X-Request-ID"]
    return response.json()


def _server_side(response, status_code: int) -> set:
    """A 5xx body quotes the request id (``requestId``) in every dialect; nothing else does."""
    return {"requestId"} if status_code >= 500 else set()


def assert_appbox_error(response, status_code: int) -> dict:
    """appbox / CrawlChat: ``{"error": "<reason phrase>", "message", "details"?}``."""
    body = _json(response, status_code)
    assert set(body) <= {"error", "message", "details"} | _server_side(response, status_code), body
    assert body.get("requestId", response["X-Request-ID"]) == response["X-Request-ID"]
    assert body["error"] == status_phrase(status_code)
    assert isinstance(body["message"], str) and body["message"]
    assert status_code != 400 or body["details"], body
    return body


def assert_ctxfy_error(response, status_code: int) -> dict:
    """Ctxfy: ``{"error", "message", "code"}``, plus ``details`` on a 400, as documented."""
    body = _json(response, status_code)
    assert set(body) == {"error", "message", "code"} | ({"details"} if status_code == 400 else set()) | (
        _server_side(response, status_code)
    ), body
    assert body["error"] == status_phrase(status_code)
    assert body["code"] == status_code
    if status_code == 400:
        assert body["message"] == "The request contains invalid parameters or malformed data"
        assert body["details"], body
    return body


def assert_envelope_error(response, status_code: int) -> dict:
    """In-app / SupportDesk: ``{"success": false, "error": {"code", "message", "details"}}``."""
    body = _json(response, status_code)
    assert body["success"] is False
    assert set(body["error"]) == {"code", "message", "details"} | _server_side(response, status_code), body
    assert body["error"]["code"] == STATUS_CODES[status_code]
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert status_code != 400 or body["error"]["details"], body
    for detail in body["error"]["details"]:
        assert set(detail) == {"field", "message"}
    return body


def assert_supportdesk_error(response, status_code: int) -> dict:
    body = assert_envelope_error(response, status_code)
    assert set(body) == {"success", "error", "timestamp"}
    assert body["timestamp"].endswith("Z")
    return body


def assert_inapp_error(response, status_code: int) -> dict:
    body = assert_envelope_error(response, status_code)
    assert set(body) == {"success", "error"}
    return body


INAPP_TICKETS = "/compat/inapp/v1/support/tickets"
INAPP_ADMIN_TICKETS = "/compat/inapp/v1/admin/support/tickets"

ENTRY_POINTS += [
    EntryPoint(
        name="appbox: create ticket",
        method="post",
        path=lambda world: f"/compat/appbox/api/v1/paywall/{world.ticket.inbox.public_id}/create-ticket",
        body=lambda world: {
            "email": "user@example.com",
            "subject": "Cannot access premium features",
            "message": "I purchased a subscription yesterday.",
            "userMeta": {"my-user-uuid": "pojfoih27938y50ujtb4ip1n2b", "plan": "premium"},
        },
        text_fields=("email", "subject", "message", "userMeta.plan"),
        required_fields=("email", "subject", "message"),
        metadata_fields=("userMeta",),
        email_fields=("email",),
        assert_shape=assert_appbox_error,
    ),
    EntryPoint(
        name="ctxfy: create ticket",
        method="post",
        path=lambda world: "/compat/ctxfy/v1/support/tickets",
        body=lambda world: {"type": "billing", "reply_address": "123 Main St", "message": "Charged twice."},
        text_fields=("type", "reply_address", "message"),
        required_fields=("type", "reply_address", "message"),
        assert_shape=assert_ctxfy_error,
        client=lambda world: world.bearer_key_client,
    ),
    EntryPoint(
        name="inapp: user creates a ticket",
        method="post",
        path=lambda world: INAPP_TICKETS,
        body=lambda world: {
            "subject": "Payment not received",
            "body": "The payment has not appeared in my earnings.",
            "category": "billing",
            "priority": "high",
        },
        text_fields=("subject", "body"),
        enum_fields=("category", "priority"),
        required_fields=("subject", "body"),
        assert_shape=assert_inapp_error,
        client=lambda world: world.customer_client,
    ),
    EntryPoint(
        name="inapp: user replies",
        method="post",
        path=lambda world: f"{INAPP_TICKETS}/{world.ticket.public_id}/messages",
        body=lambda world: {"body": "It was on March 14th at 2pm."},
        text_fields=("body",),
        required_fields=("body",),
        assert_shape=assert_inapp_error,
        client=lambda world: world.customer_client,
    ),
    EntryPoint(
        name="inapp: admin updates a ticket",
        method="patch",
        path=lambda world: f"{INAPP_ADMIN_TICKETS}/{world.ticket.public_id}",
        body=lambda world: {"status": "resolved", "priority": "urgent", "category": "billing"},
        enum_fields=("status", "priority", "category"),
        assert_shape=assert_inapp_error,
        client=lambda world: world.agent_client,
    ),
    EntryPoint(
        name="inapp: admin replies",
        method="post",
        path=lambda world: f"{INAPP_ADMIN_TICKETS}/{world.ticket.public_id}/messages",
        body=lambda world: {"body": "The payout has been initiated.", "is_internal": False},
        text_fields=("body",),
        required_fields=("body",),
        assert_shape=assert_inapp_error,
        client=lambda world: world.agent_client,
    ),
    EntryPoint(
        name="supportdesk: create ticket",
        method="post",
        path=lambda world: "/compat/supportdesk/api/v1/tickets/api-create",
        body=lambda world: {
            "customerExternalId": "user_42",
            "subject": "Payment failed for order #12345",
            "description": "Payment attempt failed with CARD_DECLINED.",
            "priority": "HIGH",
            "category": "payments",
            "metadata": {"orderId": "12345", "amount": 99.9},
            "tagIds": [str(world.tag.pk)],
        },
        text_fields=(
            "customerExternalId",
            "subject",
            "description",
            "category",
            "metadata.orderId",
            "tagIds[0]",
        ),
        enum_fields=("priority",),
        required_fields=("customerExternalId", "subject", "description"),
        metadata_fields=("metadata",),
        assert_shape=assert_supportdesk_error,
    ),
    EntryPoint(
        name="crawlchat: create ticket",
        method="post",
        path=lambda world: f"/compat/crawlchat/ticket/{world.ticket.inbox.public_id}",
        body=lambda world: {
            "userEmail": "user@email.com",
            "title": "Enquiry about pricing",
            "message": "Please explain about the pricing plans",
            "customTags": {"plan": "pro"},
        },
        text_fields=("userEmail", "title", "message", "customTags.plan"),
        required_fields=("userEmail", "title", "message"),
        metadata_fields=("customTags",),
        email_fields=("userEmail",),
        assert_shape=assert_appbox_error,
    ),
]


# Body mutations ----------------------------------------------------------------------------


def _split(path: str) -> list:
    parts = []
    for piece in path.split("."):
        if "[" in piece:
            name, index = piece[:-1].split("[")
            parts.extend([name, int(index)])
        else:
            parts.append(piece)
    return parts


def _set(body: dict, path: str, value) -> dict:
    body = json.loads(json.dumps(body))
    *parents, last = _split(path)
    target = body
    for part in parents:
        target = target[part]
    target[last] = value
    return body


def _remove(body: dict, path: str) -> dict:
    body = json.loads(json.dumps(body))
    *parents, last = _split(path)
    target = body
    for part in parents:
        target = target[part]
    target.pop(last, None)
    return body


def mutations(entry: EntryPoint, valid: dict):
    """(label, body) pairs, each of which must be refused with a 400."""
    for path in entry.text_fields:
        yield f"NUL in {path}", _set(valid, path, "bad\x00value")
        yield f"lone surrogate in {path}", _set(valid, path, "bad\ud800value")
        if any(path.startswith(f"{metadata}.") for metadata in entry.metadata_fields):
            continue  # a metadata value may be any JSON type
        yield f"number instead of text in {path}", _set(valid, path, 12345)
        yield f"object instead of text in {path}", _set(valid, path, {"nested": "object"})
    for path in entry.enum_fields:
        yield f"unknown value of {path}", _set(valid, path, "definitely-not-a-choice")
        yield f"list instead of {path}", _set(valid, path, ["open"])
    for path in entry.required_fields:
        yield f"missing {path}", _remove(valid, path)
    for path in entry.email_fields:
        # Valid syntax (Django reads addresses up to 320 characters) but longer than an
        # address column holds: PostgreSQL refused the INSERT, a 500.
        yield f"overlong address in {path}", _set(valid, path, "a" * 250 + "@example.com")
    for path in entry.metadata_fields:
        yield f"enormous {path}", _set(valid, path, {f"key{n}": "x" * 1000 for n in range(200)})
        yield f"too deep {path}", _set(valid, path, {"a": {"b": {"c": {"d": {"e": 1}}}}})
        yield f"list instead of object in {path}", _set(valid, path, ["a", "b"])
        yield f"NUL in a key of {path}", _set(valid, path, {"bad\x00key": 1})
        yield f"surrogate in a key of {path}", _set(valid, path, {"bad\udfffkey": 1})
    yield "a list instead of an object", [valid]
    yield "null instead of an object", None


def body_cases():
    for entry in ENTRY_POINTS:
        # The world does not exist yet at collection time; labels come from a stand-in.
        yield from (
            pytest.param(entry, label, id=f"{entry.name} | {label}")
            for label, _ in mutations(entry, entry.body(_STAND_IN))
        )


class _StandIn:
    """Enough of a World to build bodies at collection time (labels do not depend on it)."""

    ticket = customer = None
    tag = type("Tag", (), {"pk": "00000000-0000-4000-8000-000000000000"})()


_STAND_IN = _StandIn()


def _bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def world(api, api_key, inbox, organization, agent):
    ticket = factories.make_ticket(inbox, email="victim@example.com", subject="Existing ticket")
    tag, _ = services.get_or_create_tag(organization=organization, name="existing")
    # SupportDesk opens tickets only for a customer that already exists.
    services.upsert_customer(
        organization=organization, data=services.CustomerData(email="john@acme.com", external_id="user_42")
    )
    return World(
        client=api,
        ticket=ticket,
        customer=ticket.customer,
        tag=tag,
        bearer_key_client=_bearer(api_key),
        customer_client=_bearer(customer_token(ticket.customer)),
        agent_client=_bearer(factories.make_agent_token(agent)[1]),
    )


def send(entry: EntryPoint, world: World, raw: bytes | str, content_type: str = "application/json"):
    client = entry.client(world)
    return getattr(client, entry.method)(entry.path(world), raw, content_type=content_type)


def encode(body) -> str:
    # json.dumps escapes NUL and lone surrogates as \u0000 and \ud800, as a client would.
    return json.dumps(body)


# Tests --------------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=lambda entry: entry.name)
def test_each_entry_point_accepts_its_valid_body_so_the_refusals_below_mean_something(entry, world):
    response = send(entry, world, encode(entry.body(world)))
    assert response.status_code in (200, 201), response.content


@pytest.mark.parametrize(("entry", "label"), list(body_cases()))
def test_bad_body_is_refused_with_400_in_the_face_shape_and_nothing_is_stored(entry, label, world):
    bodies = dict(mutations(entry, entry.body(world)))
    before = snapshot()
    response = send(entry, world, encode(bodies[label]))
    entry.assert_shape(response, 400)
    assert snapshot() == before


@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=lambda entry: entry.name)
@pytest.mark.parametrize(
    "raw",
    [
        '{"subject": "unterminated',
        "{'single': 'quotes'}",
        "{,}",
        "[1, 2,]",
        '{"a": NaN}',
        "\xff\xfe not utf-8",
        "",
    ],
    ids=["unterminated", "single quotes", "stray comma", "trailing comma", "NaN", "not utf-8", "empty"],
)
def test_malformed_json_is_a_400_and_stores_nothing(entry, raw, world):
    before = snapshot()
    payload = raw.encode("latin-1") if raw.startswith("\xff") else raw
    response = send(entry, world, payload)
    if raw == "" and entry.method == "patch" and not entry.required_fields:
        # An empty PATCH is a request to change nothing, and changes nothing.
        assert response.status_code == 200, response.content
    else:
        entry.assert_shape(response, 400)
    assert snapshot() == before


@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=lambda entry: entry.name)
@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml"],
)
def test_wrong_content_type_is_a_415_and_stores_nothing(entry, content_type, world):
    before = snapshot()
    response = send(entry, world, encode(entry.body(world)), content_type=content_type)
    entry.assert_shape(response, 415)
    assert snapshot() == before


@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=lambda entry: entry.name)
def test_body_over_the_size_limit_is_a_413_and_stores_nothing(entry, world):
    before = snapshot()
    body = entry.body(world)
    body["padding"] = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = send(entry, world, encode(body))
    entry.assert_shape(response, 413)
    assert snapshot() == before


def _deeply_nested(body: dict, depth: int) -> str:
    """The valid body with one more field nested ``depth`` arrays deep."""
    return encode(body)[:-1] + ', "nested": ' + "[" * depth + "]" * depth + "}"


@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=lambda entry: entry.name)
@pytest.mark.parametrize("depth", [500, 10_000])
def test_deeply_nested_json_is_a_400_in_the_face_shape_and_stores_nothing(entry, depth, world):
    # 10,000 levels made Python's json raise RecursionError (a 500); a few hundred were
    # parsed, then walked recursively, or silently accepted by the dialects.
    before = snapshot()
    response = send(entry, world, _deeply_nested(entry.body(world), depth))
    entry.assert_shape(response, 400)
    assert snapshot() == before


def test_nesting_up_to_the_limit_is_still_accepted(world):
    entry = ENTRY_POINTS[0]
    body = {**entry.body(world), "metadata": {"plan": "pro"}}
    # Depth counts every array and object, the body itself included.
    raw = _deeply_nested(body, MAX_JSON_DEPTH - 1)
    assert send(entry, world, raw).status_code == 201


@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=lambda entry: entry.name)
def test_a_database_outage_is_a_503_with_retry_after_in_the_face_shape(entry, world):
    # Every query fails as if PostgreSQL had gone away; the first one (the credential's
    # lookup) is where it shows.
    before = snapshot()
    with mock.patch.object(
        CursorWrapper, "execute", side_effect=OperationalError("server closed the connection")
    ):
        response = send(entry, world, encode(entry.body(world)))
    entry.assert_shape(response, 503)
    assert int(response["Retry-After"]) > 0
    assert snapshot() == before


@pytest.mark.parametrize(
    "query",
    [
        "q=%00",
        "status=%00",
        "status=nonsense",
        "priority=%00",
        "tag=%00",
        "customer=%00",
        "customer_email=%00",
        "external_id=%00",
        "assignee=%00",
        "inbox=%00",
        "category=%00",
        "created_after=%00",
        "created_after=yesterday",
        "sort=%00",
        "sort=password",
        "page=%00",
        "page=-1",
        "per_page=0",
        "per_page=abc",
    ],
)
def test_bad_query_parameters_on_the_ticket_list_are_a_400_in_the_error_shape(api, query, world):
    response = api.get(f"/api/v1/tickets?{query}")
    assert_error(response, 400)


def test_a_page_past_the_end_is_a_404_and_an_oversized_per_page_is_capped_as_documented(api, world):
    assert_error(api.get("/api/v1/tickets?page=99999999999999999999999"), 404)
    response = api.get("/api/v1/tickets?per_page=100000")
    assert response.status_code == 200
    assert response.json()["pagination"]["per_page"] == 100


@pytest.mark.parametrize("query", ["q=%00", "email=%00", "external_id=%00"])
def test_bad_query_parameters_on_the_customer_list_are_a_400(api, query, world):
    assert_error(api.get(f"/api/v1/customers?{query}"), 400)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/tickets/%00",
        "/api/v1/tickets/%00/messages",
        "/api/v1/tickets/%00/events",
        "/api/v1/customers/%00",
        "/api/v1/inboxes/%00",
        "/api/v1/tags/%00",
        "/api/v1/tags/not-a-uuid",
        "/api/v1/tickets/" + "A" * 5000,
    ],
)
def test_garbage_in_a_path_parameter_is_a_404_in_the_error_shape(api, path, world):
    assert_error(api.get(path), 404)


@pytest.mark.parametrize("path", ["/t/%00/key/", "/t/abc/%00/", "/desk/%00", "/accounts/%00/"])
def test_nul_in_a_page_path_is_a_404_page_not_a_500(client, path, db):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def _customer_jwt(organization, **claims) -> str:
    payload = {"iss": organization.public_id, "sub": "user-42", "exp": int(time.time()) + 600}
    return jwt.encode({**payload, **claims}, organization.jwt_secret, algorithm="HS256")


@pytest.mark.parametrize(
    ("path", "assert_shape"),
    [("/api/v1/me/tickets", assert_error), (INAPP_TICKETS, assert_inapp_error)],
    ids=["customer api", "inapp"],
)
@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "user\x0042"},
        {"name": "Jane\x00Doe"},
        {"email": "jane\x00@example.com"},
        {"sub": "user\ud80042"},
        {"iss": "01JC3V5Q8W1S7Y2K4M6N8P0R2T\x00"},
        {"email": "a" * 250 + "@example.com"},
    ],
    ids=["NUL in sub", "NUL in name", "NUL in email", "surrogate in sub", "NUL in iss", "overlong email"],
)
def test_a_customer_jwt_with_text_that_cannot_be_stored_is_a_401_and_stores_nothing(
    path, assert_shape, claims, organization, world
):
    before = snapshot()
    response = _bearer(_customer_jwt(organization, **claims)).get(path)
    assert_shape(response, 401)
    assert snapshot() == before


@pytest.mark.parametrize(
    "page",
    ["99999999999999999999", "1" * 5000],
    ids=["past the database's integers as an OFFSET (was a 500)", "too long for Python to read as a number"],
)
def test_an_impossible_queue_page_is_a_page_not_a_500(agent_client, page, world):
    # Django's get_page, as HTML pages do: past the end is the last page, not a number the first.
    response = agent_client.get(f"/desk/?view=all&page={page}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    "form",
    [
        "username=agent%00%40acme.test&password=x%00y",
        "username=" + "a" * 10_000 + "&password=x",
        # Invalid UTF-8 (an encoded lone surrogate) as a browser could send it.
        "username=agent%ED%A0%80%40acme.test&password=x",
        "password=only",
    ],
    ids=["NUL", "enormous", "invalid utf-8", "missing username"],
)
def test_the_sign_in_form_refuses_bad_input_with_a_form_error_not_a_500(client, agent, form):
    response = client.post("/accounts/login/", form, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert response.context["form"].errors
    assert "_auth_user_id" not in client.session


def test_an_overlong_idempotency_key_header_is_a_400_naming_it(api, world):
    before = snapshot()
    response = api.post(
        "/api/v1/tickets",
        encode(ENTRY_POINTS[0].body(world)),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k" * 300,
    )
    assert_error(response, 400, field="Idempotency-Key")
    assert snapshot() == before
