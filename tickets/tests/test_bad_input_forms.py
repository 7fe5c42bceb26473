"""Bad input through the HTML forms: each refused with a form error, nothing stored, never a 500.

The same idea as ``test_bad_input.py``, for the faces people use: the support form, the
portal's forms, the dashboard's composer, sidebar, bulk actions and settings. A form is a
row of ``FORMS`` (its valid fields, which of them are text, choices or required, and how it
shows a refusal) crossed with mutations of those fields and of the request itself.

A form body cannot carry a lone surrogate: browsers send U+FFFD in its place (HTML's
USVString rule) and Django decodes invalid UTF-8 the same way, so the surrogate rows of the
JSON faces have no counterpart here; NUL does, and is refused by every text field.
"""

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib.messages import constants, get_messages
from django.test import Client

from accounts.models import AgentToken, ApiKey, Membership, User
from tickets import services
from tickets.models import Customer, Inbox, Message, SavedReply, Tag, Ticket, TicketEvent
from tickets.tests import factories
from tickets.tests.test_bad_input import snapshot as rows_of

# The dashboard's settings write more than tickets: every model a form here could touch.
WATCHED_MODELS = (
    Ticket,
    Message,
    Customer,
    Tag,
    TicketEvent,
    Inbox,
    SavedReply,
    ApiKey,
    AgentToken,
    Membership,
    User,
)


def snapshot() -> dict:
    return rows_of(WATCHED_MODELS)


@dataclass
class Pages:
    """The data the forms act on, and a browser for each kind of visitor."""

    ticket: Ticket
    member: Membership
    anonymous: Client
    agent: Client
    owner: Client


@dataclass(frozen=True)
class Form:
    name: str
    path: Callable[[Pages], str]
    fields: Callable[[Pages], dict]
    who: str = "anonymous"
    text_fields: tuple[str, ...] = ()
    choice_fields: tuple[str, ...] = ()
    required_fields: tuple[str, ...] = ()
    # How the page shows a refusal: "page" renders the form again with its errors (in the
    # context variable ``context``); "message" redirects back with an error message, as the
    # ticket sidebar and the bulk bar do (POST, redirect, GET).
    refusal: str = "page"
    context: str = "form"
    refusal_status: int = 400


def assert_refused(form: Form, response) -> None:
    assert response.status_code < 500, response.content[:500]
    if form.refusal == "message":
        assert response.status_code == 302, response.content[:500]
        levels = [message.level for message in get_messages(response.wsgi_request)]
        assert constants.ERROR in levels, levels
        return
    assert response.status_code == form.refusal_status, response.content[:500]
    assert response["Content-Type"].startswith("text/html")
    assert response.context[form.context].errors


def _ticket_page(pages: Pages) -> str:
    return f"/desk/tickets/{pages.ticket.public_id}"


FORMS = [
    Form(
        name="support form",
        path=lambda pages: f"/t/new/{pages.ticket.inbox.public_id}/",
        fields=lambda pages: {
            "email": "new@example.com",
            "name": "New Person",
            "subject": "Cannot log in",
            "message": "The page says my password is wrong.",
        },
        text_fields=("email", "name", "subject", "message"),
        required_fields=("email", "subject", "message"),
    ),
    Form(
        name="portal reply",
        path=lambda pages: f"{pages.ticket.private_path}reply/",
        fields=lambda pages: {"body": "It still happens."},
        text_fields=("body",),
        required_fields=("body",),
    ),
    Form(
        name="portal sign-in link",
        path=lambda pages: f"/t/portal/{pages.ticket.organization.slug}/",
        fields=lambda pages: {"email": "victim@example.com"},
        text_fields=("email",),
        required_fields=("email",),
    ),
    Form(
        name="dashboard reply composer",
        path=lambda pages: f"{_ticket_page(pages)}/messages",
        fields=lambda pages: {"kind": "reply", "body": "We are on it.", "status_after": "resolved"},
        who="agent",
        text_fields=("body",),
        choice_fields=("kind", "status_after"),
        required_fields=("kind", "body"),
        context="message_form",
    ),
    Form(
        name="dashboard note composer",
        path=lambda pages: f"{_ticket_page(pages)}/messages",
        fields=lambda pages: {"kind": "note", "body": "Checked the logs."},
        who="agent",
        text_fields=("body",),
        choice_fields=("kind",),
        required_fields=("kind", "body"),
        context="message_form",
    ),
    Form(
        name="dashboard ticket sidebar",
        path=lambda pages: f"{_ticket_page(pages)}/update",
        fields=lambda pages: {
            "status": "resolved",
            "priority": "high",
            "assignee": "agent@acme.test",
            "category": "billing",
            "tags": "vip, refund",
        },
        who="agent",
        text_fields=("assignee", "category", "tags"),
        choice_fields=("status", "priority"),
        refusal="message",
    ),
    Form(
        name="dashboard bulk status",
        path=lambda pages: "/desk/bulk",
        fields=lambda pages: {"action": "status", "status": "resolved", "ticket": pages.ticket.public_id},
        who="agent",
        text_fields=("ticket",),
        choice_fields=("action", "status"),
        required_fields=("action", "ticket"),
        refusal="message",
    ),
    Form(
        name="dashboard bulk priority",
        path=lambda pages: "/desk/bulk",
        fields=lambda pages: {"action": "priority", "priority": "high", "ticket": pages.ticket.public_id},
        who="agent",
        choice_fields=("priority",),
        required_fields=("priority",),
        refusal="message",
    ),
    Form(
        name="dashboard bulk tag",
        path=lambda pages: "/desk/bulk",
        fields=lambda pages: {"action": "tag", "tag": "vip", "ticket": pages.ticket.public_id},
        who="agent",
        text_fields=("tag",),
        required_fields=("tag",),
        refusal="message",
    ),
    Form(
        name="dashboard bulk assign",
        path=lambda pages: "/desk/bulk",
        fields=lambda pages: {
            "action": "assign",
            "assignee": "agent@acme.test",
            "ticket": pages.ticket.public_id,
        },
        who="agent",
        text_fields=("assignee",),
        required_fields=("assignee",),
        refusal="message",
    ),
    Form(
        name="settings: new inbox",
        path=lambda pages: "/desk/settings/inboxes/new/",
        fields=lambda pages: {
            "name": "Billing",
            "prefix": "BIL",
            "support_email": "billing@acme.test",
            "daily_limit_per_customer": "3",
            "auto_assignment": "off",
        },
        who="owner",
        text_fields=("name", "prefix", "support_email", "daily_limit_per_customer"),
        choice_fields=("auto_assignment",),
        required_fields=("name", "prefix"),
        refusal_status=200,
    ),
    Form(
        name="settings: invite member",
        path=lambda pages: "/desk/settings/members/",
        fields=lambda pages: {
            "email": "new.agent@acme.test",
            "name": "New Agent",
            "role": "agent",
            "tier": "n2",
        },
        who="owner",
        text_fields=("email", "name"),
        choice_fields=("role", "tier"),
        required_fields=("email", "role", "tier"),
        refusal_status=200,
    ),
    Form(
        name="settings: member role and tier",
        path=lambda pages: f"/desk/settings/members/{pages.member.pk}/",
        fields=lambda pages: {
            f"member-{pages.member.pk}-role": "admin",
            f"member-{pages.member.pk}-tier": "n3",
        },
        who="owner",
        refusal="message",
    ),
    Form(
        name="settings: new API key",
        path=lambda pages: "/desk/settings/api-keys/",
        fields=lambda pages: {"name": "Billing backend", "inbox": ""},
        who="owner",
        text_fields=("name", "inbox"),
        required_fields=("name",),
        refusal_status=200,
    ),
    Form(
        # Macros replaced saved replies (the automation app's settings page).
        name="settings: macro",
        path=lambda pages: "/desk/automation/macros/new/",
        fields=lambda pages: {"name": "Refund", "reply": "We have refunded you.", "shortcut": "r"},
        who="owner",
        text_fields=("name", "reply", "actions", "shortcut"),
        required_fields=("name", "reply"),
    ),
    Form(
        name="profile: name",
        path=lambda pages: "/desk/profile/",
        fields=lambda pages: {"name": "Alice A."},
        who="agent",
        text_fields=("name",),
        context="profile_form",
    ),
    Form(
        name="profile: new agent token",
        path=lambda pages: "/desk/profile/tokens/",
        fields=lambda pages: {"name": "Laptop"},
        who="agent",
        text_fields=("name",),
        required_fields=("name",),
        context="token_form",
    ),
]


def mutations(form: Form, valid: dict):
    """(label, fields) pairs, each of which the form must refuse."""
    for name in form.text_fields:
        yield f"NUL in {name}", {**valid, name: "bad\x00value"}
        yield f"enormous {name}", {**valid, name: "x" * 100_000}
    for name in form.choice_fields:
        yield f"unknown choice of {name}", {**valid, name: "definitely-not-a-choice"}
    for name in form.required_fields:
        yield f"missing {name}", {key: value for key, value in valid.items() if key != name}
    if form.required_fields:
        # (A form whose fields are all optional, like the sidebar, sent empty changes nothing.)
        yield "no fields at all", {}


_MEMBER = "settings: member role and tier"


def cases():
    for form in FORMS:
        # Labels do not depend on the data, so a stand-in builds them at collection time.
        yield from (
            pytest.param(form, label, id=f"{form.name} | {label}") for label in bodies(form, _STAND_IN)
        )


class _StandIn:
    """Enough of Pages to build field names at collection time."""

    class ticket:  # noqa: N801 - stands in for an instance
        public_id = "01STANDIN"
        private_path = "/t/01STANDIN/key/"

        class inbox:  # noqa: N801
            public_id = "01STANDIN"

        class organization:  # noqa: N801
            slug = "acme"

    class member:  # noqa: N801
        pk = 0


_STAND_IN = _StandIn()


def bodies(form: Form, pages: Pages) -> dict:
    valid = form.fields(pages)
    if form.name == _MEMBER:
        prefix = f"member-{pages.member.pk}"
        return {
            "unknown role": {**valid, f"{prefix}-role": "emperor"},
            "unknown tier": {**valid, f"{prefix}-tier": "n9"},
            "no fields at all": {},
        }
    return dict(mutations(form, valid))


@pytest.fixture
def pages(inbox, organization, agent, owner):
    ticket = factories.make_ticket(inbox, email="victim@example.com", subject="Existing ticket")
    services.get_or_create_tag(organization=organization, name="existing")
    member = Membership.objects.get(organization=organization, user=agent)
    agent_client, owner_client = Client(), Client()
    agent_client.force_login(agent)
    owner_client.force_login(owner)
    return Pages(ticket=ticket, member=member, anonymous=Client(), agent=agent_client, owner=owner_client)


def post(form: Form, pages: Pages, data, content_type: str = "application/x-www-form-urlencoded"):
    client = getattr(pages, form.who)
    if isinstance(data, dict):
        data = urlencode(data, doseq=True)
    return client.post(form.path(pages), data, content_type=content_type)


# Tests --------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", FORMS, ids=lambda form: form.name)
def test_each_form_accepts_its_valid_fields_so_the_refusals_below_mean_something(form, pages):
    response = post(form, pages, form.fields(pages))
    assert response.status_code in (200, 302), response.content[:500]
    if response.status_code == 302:
        levels = [message.level for message in get_messages(response.wsgi_request)]
        assert constants.ERROR not in levels
    else:
        assert not response.context.get("form") or not response.context["form"].errors


@pytest.mark.parametrize(("form", "label"), list(cases()))
def test_bad_fields_are_refused_with_a_form_error_and_nothing_is_stored(form, label, pages):
    data = bodies(form, pages)[label]
    before = snapshot()
    response = post(form, pages, data)
    assert_refused(form, response)
    assert snapshot() == before


@pytest.mark.parametrize("form", [form for form in FORMS if form.required_fields], ids=lambda form: form.name)
@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        ('{"subject": "JSON where a form belongs"}', "application/json"),
        ("%%%=&&=%zz&\x00=\x00", "application/x-www-form-urlencoded"),
        ("body=hello", "multipart/form-data"),
        ("<xml>not a form</xml>", "application/xml"),
    ],
    ids=["JSON", "garbage", "multipart without boundary", "XML"],
)
def test_a_malformed_or_foreign_body_is_refused_and_stores_nothing(form, raw, content_type, pages):
    before = snapshot()
    response = post(form, pages, raw, content_type=content_type)
    if response.status_code == 400 and not (response.context and form.context in response.context):
        # A body Django cannot parse at all is its "Bad Request" page, before any form.
        assert response["Content-Type"].startswith("text/html")
    else:
        assert_refused(form, response)
    assert snapshot() == before


@pytest.mark.parametrize("form", FORMS, ids=lambda form: form.name)
def test_a_body_over_the_size_limit_is_a_413_page_and_stores_nothing(form, pages):
    before = snapshot()
    data = {**form.fields(pages), "padding": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}
    response = post(form, pages, data)
    assert response.status_code == 413, response.content[:500]
    assert response["Content-Type"].startswith("text/html")
    assert b"too large" in response.content
    assert snapshot() == before


# JSON typed into a form ----------------------------------------------------------------------

# Python's json decodes nesting recursively: this deep raised RecursionError, a 500 page.
DEEP_JSON = "[" * 10_000 + "]" * 10_000


@pytest.fixture
def staff(organization):
    user = User.objects.create_superuser(email="admin@acme.test", password="pw", name="Ada Admin")
    Membership.objects.create(user=user, organization=organization, role=Membership.Role.ADMIN)
    return user


@pytest.mark.parametrize(
    ("who", "path", "field"),
    [
        ("agent", "/desk/automation/macros/new/", "actions"),
        ("owner", "/desk/automation/triggers/", "conditions"),
        ("owner", "/desk/automation/triggers/", "actions"),
        ("staff", "/admin/tickets/customer/add/", "metadata"),
        ("staff", "/admin/tickets/ticket/add/", "metadata"),
        ("staff", "/admin/tickets/customfield/add/", "options"),
        ("staff", "/admin/automation/trigger/add/", "conditions"),
        ("staff", "/admin/automation/macro/add/", "actions"),
        ("staff", "/admin/sla/businesshours/add/", "weekly"),
        ("staff", "/admin/sla/slapolicy/add/", "conditions"),
    ],
)
def test_json_nested_10000_deep_in_a_form_field_is_that_fields_error_not_a_500(
    who, path, field, pages, staff, staff_client
):
    client = staff_client if who == "staff" else getattr(pages, who)
    before = snapshot()
    response = client.post(path, {"name": "Deep", field: DEEP_JSON})
    assert response.status_code in (200, 400), response.content[:500]
    form = response.context["adminform"].form if who == "staff" else response.context["form"]
    assert field in form.errors
    assert snapshot() == before
