"""Custom fields: their definitions (/api/v1/custom-fields), values on tickets by type,
filters (?cf.key=...), "required to resolve", and the dialects' metadata filling them."""

import pytest
from rest_framework.test import APIClient

from tickets import services
from tickets.actors import Actor
from tickets.exceptions import InvalidInput
from tickets.models import CustomField, Ticket, TicketEvent
from tickets.tests import factories
from tickets.tests.api_helpers import assert_error, ticket_payload

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("Tests")


def make_field(organization, key, type="text", **fields):  # noqa: A002
    return services.create_custom_field(
        organization=organization,
        actor=SYSTEM,
        key=key,
        label=key.replace("_", " ").title(),
        type=type,
        **fields,
    )


@pytest.fixture
def order_field(organization):
    return make_field(organization, "order_id")


# Definitions through the API ----------------------------------------------------------


def test_custom_field_is_created_listed_changed_and_deleted_through_the_api(api, organization, inbox):
    response = api.post(
        "/api/v1/custom-fields",
        {"key": "order_id", "label": "Order", "type": "text", "options": []},
        format="json",
    )
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["key"] == "order_id" and created["label"] == "Order" and created["type"] == "text"
    assert created["inboxes"] == [] and created["required_to_resolve"] is False

    listed = api.get("/api/v1/custom-fields").json()
    assert [field["key"] for field in listed] == ["order_id"]

    response = api.patch(
        f"/api/v1/custom-fields/{created['id']}",
        {"label": "Order number", "required_to_resolve": True, "inboxes": [inbox.public_id]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["label"] == "Order number"
    assert response.json()["inboxes"] == [inbox.public_id]

    assert api.delete(f"/api/v1/custom-fields/{created['id']}").status_code == 204
    assert not CustomField.objects.filter(organization=organization).exists()


def test_a_value_left_by_a_deleted_field_can_be_cleared_and_an_unknown_value_still_is_refused(
    api, organization, inbox, order_field
):
    ticket = factories.make_ticket(inbox, custom_fields={"order_id": "A-1042"})
    services.delete_custom_field(field=order_field, actor=SYSTEM)
    url = f"/api/v1/tickets/{ticket.public_id}"

    refused = api.patch(url, {"custom_fields": {"order_id": "A-2000"}}, format="json")
    cleared = api.patch(url, {"custom_fields": {"order_id": None}}, format="json")

    assert_error(refused, 400, field="custom_fields.order_id")
    assert cleared.status_code == 200, cleared.json()
    assert cleared.json()["custom_fields"] == {}
    ticket.refresh_from_db()
    assert ticket.custom_fields == {}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"key": "Order Id", "label": "Order", "type": "text"}, "key"),
        ({"key": "1st", "label": "Order", "type": "text"}, "key"),
        ({"key": "plan", "label": "Plan", "type": "dropdown", "options": []}, "options"),
        ({"key": "plan", "label": "Plan", "type": "colour"}, "type"),
        ({"key": "plan", "label": "Plan", "type": "text", "options": ["a"]}, "options"),
        ({"key": "plan", "label": "Plan", "type": "dropdown", "options": ["a", "a"]}, "options"),
    ],
)
def test_bad_custom_field_definition_is_a_400_naming_the_field(api, inbox, body, field):
    assert_error(api.post("/api/v1/custom-fields", body, format="json"), 400, field)
    assert not CustomField.objects.exists()


@pytest.mark.parametrize(("body", "field"), [({"type": "number"}, "type"), ({"key": "order_no"}, "key")])
def test_changing_a_fields_key_or_type_is_a_400_and_changes_nothing(api, order_field, body, field):
    url = f"/api/v1/custom-fields/{order_field.pk}"
    assert_error(api.patch(url, {**body, "label": "Renamed"}, format="json"), 400, field)
    order_field.refresh_from_db()
    assert (order_field.key, order_field.type, order_field.label) == ("order_id", "text", "Order Id")
    # Sent back unchanged, as read, they are no change at all.
    unchanged = {"key": "order_id", "type": "text", "label": "Order"}
    assert api.patch(url, unchanged, format="json").status_code == 200


def test_a_second_field_with_the_same_key_is_refused(api, order_field):
    body = {"key": "order_id", "label": "Again", "type": "text"}
    assert_error(api.post("/api/v1/custom-fields", body, format="json"), 400, "key")


def test_another_organizations_custom_field_is_a_404(api, other_organization):
    theirs = make_field(other_organization, "order_id")
    assert api.get(f"/api/v1/custom-fields/{theirs.pk}").status_code == 404
    assert api.delete(f"/api/v1/custom-fields/{theirs.pk}").status_code == 404


def test_an_agent_may_read_but_not_create_custom_fields(organization, agent, order_field):
    _, token = factories.make_agent_token(agent)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/v1/custom-fields").status_code == 200
    body = {"key": "plan", "label": "Plan", "type": "text"}
    assert_error(client.post("/api/v1/custom-fields", body, format="json"), 403)


# Values on tickets ----------------------------------------------------------------------


def test_ticket_is_created_patched_and_read_with_custom_fields(api, order_field, organization):
    make_field(organization, "amount", "decimal")
    response = api.post(
        "/api/v1/tickets",
        ticket_payload(custom_fields={"order_id": "A-1042", "amount": "12.50"}),
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["custom_fields"] == {"order_id": "A-1042", "amount": 12.5}
    ticket_id = response.json()["id"]

    response = api.patch(f"/api/v1/tickets/{ticket_id}", {"custom_fields": {"amount": None}}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["custom_fields"] == {"order_id": "A-1042"}
    assert api.get(f"/api/v1/tickets/{ticket_id}").json()["custom_fields"] == {"order_id": "A-1042"}

    event = TicketEvent.objects.get(field="custom_fields.amount")
    assert (event.before, event.after) == (12.5, None)


@pytest.mark.parametrize(
    ("type", "options", "good", "stored", "bad"),
    [
        ("text", [], "A-1042", "A-1042", 42),
        ("long_text", [], "line one\nline two", "line one\nline two", ["x"]),
        ("number", [], 3, 3, 2.5),
        ("decimal", [], "19.99", 19.99, "nineteen"),
        ("checkbox", [], True, True, "yes"),
        ("date", [], "2026-03-01", "2026-03-01", "01/03/2026"),
        ("dropdown", ["free", "pro"], "pro", "pro", "gold"),
        ("multi_select", ["web", "ios", "android"], ["ios", "web"], ["web", "ios"], ["web", "tv"]),
    ],
)
def test_each_type_keeps_a_good_value_and_refuses_a_bad_one_naming_it(
    api, organization, type, options, good, stored, bad
):
    make_field(organization, "value", type, options=options)
    response = api.post("/api/v1/tickets", ticket_payload(custom_fields={"value": good}), format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["custom_fields"] == {"value": stored}

    count = Ticket.objects.count()
    bad_response = api.post("/api/v1/tickets", ticket_payload(custom_fields={"value": bad}), format="json")
    assert_error(bad_response, 400, "custom_fields.value")
    assert Ticket.objects.count() == count

    patch = api.patch(
        f"/api/v1/tickets/{response.json()['id']}", {"custom_fields": {"value": bad}}, format="json"
    )
    assert_error(patch, 400, "custom_fields.value")


def test_unknown_key_and_field_of_another_inbox_are_refused(api, organization, inbox):
    other_inbox = factories.make_inbox(organization, name="Sales", prefix="SAL")
    make_field(organization, "deal", inboxes=[other_inbox])
    assert_error(
        api.post("/api/v1/tickets", ticket_payload(custom_fields={"nope": "x"}), format="json"),
        400,
        "custom_fields.nope",
    )
    assert_error(
        api.post("/api/v1/tickets", ticket_payload(custom_fields={"deal": "x"}), format="json"),
        400,
        "custom_fields.deal",
    )
    response = api.post(
        "/api/v1/tickets",
        ticket_payload(inbox=other_inbox.public_id, custom_fields={"deal": "x"}),
        format="json",
    )
    assert response.status_code == 201, response.json()


def test_required_to_resolve_blocks_resolving_until_filled(api, organization, inbox):
    make_field(organization, "order_id", required_to_resolve=True)
    ticket_id = api.post("/api/v1/tickets", ticket_payload(), format="json").json()["id"]

    body = assert_error(
        api.patch(f"/api/v1/tickets/{ticket_id}", {"status": "resolved"}, format="json"),
        400,
        "custom_fields.order_id",
    )
    assert "Order Id" in body["details"][0]["message"]
    assert Ticket.objects.get().status == "open"

    response = api.patch(
        f"/api/v1/tickets/{ticket_id}",
        {"status": "resolved", "custom_fields": {"order_id": "A-1"}},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "resolved"


def test_the_customer_may_close_their_ticket_without_the_required_fields(organization, inbox):
    make_field(organization, "order_id", required_to_resolve=True)
    ticket = factories.make_ticket(inbox)
    services.change_status(ticket=ticket, status="closed", actor=Actor.for_customer(ticket.customer))
    ticket.refresh_from_db()
    assert ticket.status == "closed"


def test_customers_cannot_set_custom_fields(organization, inbox, order_field):
    ticket = factories.make_ticket(inbox)
    with pytest.raises(services.tickets.PermissionDenied):
        services.update_ticket(
            ticket=ticket, actor=Actor.for_customer(ticket.customer), custom_fields={"order_id": "x"}
        )


# Filters --------------------------------------------------------------------------------


@pytest.fixture
def filtered_tickets(organization, inbox, order_field):
    make_field(organization, "amount", "number")
    make_field(organization, "due", "date")
    make_field(organization, "platforms", "multi_select", options=["web", "ios"])
    make_field(organization, "vip", "checkbox")
    values = [
        {"order_id": "A-1042", "amount": 5, "due": "2026-01-10", "platforms": ["web"], "vip": True},
        {"order_id": "A-2000", "amount": 10, "due": "2026-02-10", "platforms": ["ios"]},
        {"order_id": "A-3000", "amount": 50, "due": "2026-03-10", "platforms": ["web", "ios"], "vip": False},
    ]
    return [
        factories.make_ticket(inbox, subject=f"Ticket {n}", custom_fields=v) for n, v in enumerate(values)
    ]


@pytest.mark.parametrize(
    ("query", "subjects"),
    [
        ("cf.order_id=A-1042", ["Ticket 0"]),
        ("cf.amount__gte=10", ["Ticket 1", "Ticket 2"]),
        ("cf.amount__gte=10&cf.amount__lt=50", ["Ticket 1"]),
        ("cf.amount=50", ["Ticket 2"]),
        ("cf.due__lt=2026-03-01", ["Ticket 0", "Ticket 1"]),
        ("cf.platforms=ios", ["Ticket 1", "Ticket 2"]),
        ("cf.vip=true", ["Ticket 0"]),
        ("cf.vip=false", ["Ticket 2"]),
    ],
)
def test_custom_field_filters_narrow_the_list(api, filtered_tickets, query, subjects):
    response = api.get(f"/api/v1/tickets?{query}")
    assert response.status_code == 200, response.json()
    assert sorted(ticket["subject"] for ticket in response.json()["data"]) == subjects


@pytest.mark.parametrize(
    "query",
    ["cf.nope=1", "cf.amount=ten", "cf.order_id__gte=A", "cf.due__gte=yesterday", "cf.amount__like=1"],
)
def test_bad_custom_field_filter_is_a_400(api, filtered_tickets, query):
    assert_error(api.get(f"/api/v1/tickets?{query}"), 400, query.split("=")[0])


def test_another_organizations_fields_do_not_filter_ours(api, other_organization, inbox):
    make_field(other_organization, "secret")
    assert_error(api.get("/api/v1/tickets?cf.secret=x"), 400, "cf.secret")


@pytest.fixture
def removed_options(organization, inbox):
    """A plan and platforms whose "legacy" and "fax" options were removed after a ticket
    took them: the ticket keeps its values."""
    plan = make_field(organization, "plan", "dropdown", options=["free", "pro", "legacy"])
    platforms = make_field(organization, "platforms", "multi_select", options=["web", "ios", "fax"])
    legacy = {"plan": "legacy", "platforms": ["web", "fax"]}
    factories.make_ticket(inbox, subject="Legacy customer", custom_fields=legacy)
    factories.make_ticket(inbox, subject="Pro customer", custom_fields={"plan": "pro", "platforms": ["web"]})
    services.update_custom_field(field=plan, actor=SYSTEM, options=["free", "pro"])
    services.update_custom_field(field=platforms, actor=SYSTEM, options=["web", "ios"])


@pytest.mark.parametrize(
    ("query", "subjects"),
    [
        ("cf.plan=legacy", ["Legacy customer"]),
        ("cf.platforms=fax", ["Legacy customer"]),
        ("cf.plan=never-an-option", []),
        ("cf.platforms=web", ["Legacy customer", "Pro customer"]),
        ("cf.plan=pro", ["Pro customer"]),
    ],
)
def test_a_value_that_is_no_longer_an_option_filters_the_tickets_that_carry_it(
    api, removed_options, query, subjects
):
    response = api.get(f"/api/v1/tickets?{query}")
    assert response.status_code == 200, response.json()
    assert sorted(ticket["subject"] for ticket in response.json()["data"]) == subjects


def test_the_queue_filters_by_a_removed_option_and_shows_it_chosen(client, agent, removed_options):
    client.force_login(agent)
    response = client.get("/desk/?view=all&cf.plan=legacy")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Legacy customer" in page and "Pro customer" not in page
    assert not response.context["filter"].form.errors
    assert '<option value="legacy" selected>legacy (no longer an option)</option>' in page


# Services -------------------------------------------------------------------------------


def test_metadata_fills_only_the_fields_it_fits(organization, inbox, order_field):
    make_field(organization, "amount", "number")
    ticket, _ = services.create_ticket(
        inbox=inbox,
        customer=services.CustomerData(email="jane@example.com"),
        subject="From a dialect",
        message="Hello",
        actor=SYSTEM,
        metadata={"order_id": "A-7", "amount": "lots", "other": 1},
        custom_fields_from_metadata=True,
    )
    assert ticket.custom_fields == {"order_id": "A-7"}
    assert ticket.metadata == {"order_id": "A-7", "amount": "lots", "other": 1}


def test_clean_value_names_the_field(order_field):
    with pytest.raises(InvalidInput) as error:
        services.custom_fields.clean_value(order_field, 12)
    assert error.value.field == "custom_fields.order_id"


# Dialects ---------------------------------------------------------------------------------


def test_supportdesk_metadata_fills_matching_fields_and_its_answer_is_unchanged(api, organization, inbox):
    make_field(organization, "orderId")
    make_field(organization, "amount", "decimal")
    services.upsert_customer(
        organization=organization,
        data=services.CustomerData(email="john@acme.com", external_id="user_42"),
        actor=SYSTEM,
    )
    body = {
        "customerExternalId": "user_42",
        "subject": "Payment failed for order #12345",
        "description": "Payment attempt failed with CARD_DECLINED.",
        "priority": "HIGH",
        "metadata": {"orderId": "12345", "amount": 99.9},
    }
    response = api.post("/compat/supportdesk/api/v1/tickets/api-create", body, format="json")
    assert response.status_code == 201, response.json()
    assert "customFields" not in response.json()["data"] and "custom_fields" not in response.json()["data"]
    ticket = Ticket.objects.get()
    assert ticket.custom_fields == {"orderId": "12345", "amount": 99.9}
    assert ticket.metadata == {"orderId": "12345", "amount": 99.9}


def test_crawlchat_custom_tags_fill_matching_fields(api, organization, inbox):
    make_field(organization, "plan", "dropdown", options=["free", "pro"])
    make_field(organization, "seats", "number")
    make_field(organization, "trial", "checkbox")
    tags = {"plan": "pro", "trial": False, "seats": 12, "score": 4.5}
    response = api.post(
        f"/compat/crawlchat/ticket/{inbox.public_id}",
        {"userEmail": "user@email.com", "title": "Pricing", "message": "Explain", "customTags": tags},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert set(response.json()) == {"ticketNumber", "privateUrl"}
    assert Ticket.objects.get().custom_fields == {"plan": "pro", "trial": False, "seats": 12}


def test_crawlchat_number_and_single_option_fill_text_and_multi_select_fields(api, organization, inbox):
    # customTags values are strings, booleans or numbers: an order number sent as a number
    # is still the order number, and one option is the multi-select holding it.
    make_field(organization, "order_id")
    make_field(organization, "areas", "multi_select", options=["ui", "api"])
    tags = {"order_id": 1042, "areas": "api"}
    response = api.post(
        f"/compat/crawlchat/ticket/{inbox.public_id}",
        {"userEmail": "user@email.com", "title": "Pricing", "message": "Explain", "customTags": tags},
        format="json",
    )
    assert response.status_code == 201, response.json()
    ticket = Ticket.objects.get()
    assert ticket.custom_fields == {"order_id": "1042", "areas": ["api"]}
    assert ticket.metadata == tags


def test_appbox_user_meta_stays_customer_metadata(api, organization, inbox):
    make_field(organization, "plan")
    response = api.post(
        f"/compat/appbox/api/v1/paywall/{inbox.public_id}/create-ticket",
        {"email": "user@example.com", "subject": "Help", "message": "Hello", "userMeta": {"plan": "premium"}},
        format="json",
    )
    ticket = Ticket.objects.get()
    assert response.status_code in {200, 201}, response.content
    assert ticket.custom_fields == {}
    assert ticket.customer.metadata == {"plan": "premium"}


@pytest.mark.postgres
def test_custom_field_equality_is_answered_by_the_gin_index(organization, inbox, order_field):
    from django.db import connection
    from django.http import QueryDict

    from tickets.filters import filter_custom_fields

    for number in range(3):
        factories.make_ticket(inbox, custom_fields={"order_id": f"A-{number}"})
    tickets = filter_custom_fields(Ticket.objects.all(), QueryDict("cf.order_id=A-1"), [organization.pk])
    with connection.cursor() as cursor:
        # A three-row table is read whole whatever the indexes: ask for the index's plan.
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = tickets.explain()
    assert "ticket_custom_fields" in plan, plan
    assert [ticket.custom_fields for ticket in tickets] == [{"order_id": "A-1"}]
