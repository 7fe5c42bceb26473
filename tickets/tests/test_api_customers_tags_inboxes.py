"""Customers (upsert by external id), tags (CRUD) and inboxes through the native API."""

import pytest
from rest_framework.test import APIClient

from tickets import services
from tickets.models import Customer, Tag
from tickets.tests import factories
from tickets.tests.api_helpers import assert_error

pytestmark = pytest.mark.django_db


# Customers --------------------------------------------------------------------------------


def test_customer_create_is_201_then_upsert_by_external_id_is_200(api, inbox):
    created = api.post(
        "/api/v1/customers",
        {"external_id": "user-7", "email": "Sam@Example.com", "name": "Sam", "metadata": {"plan": "free"}},
        format="json",
    )
    updated = api.post(
        "/api/v1/customers",
        {"external_id": "user-7", "name": "Sam Smith", "metadata": {"tokens": 3}},
        format="json",
    )

    assert created.status_code == 201
    assert updated.status_code == 200
    assert updated.json()["id"] == created.json()["id"]
    customer = Customer.objects.get()
    assert (customer.email, customer.name, customer.metadata) == (
        "sam@example.com",
        "Sam Smith",
        {"plan": "free", "tokens": 3},
    )


def test_customer_upsert_by_email_attaches_the_external_id(api, inbox):
    factories.make_ticket(inbox, email="lee@example.com")

    response = api.post(
        "/api/v1/customers", {"email": "lee@example.com", "external_id": "u-9"}, format="json"
    )

    assert response.status_code == 200
    assert Customer.objects.get().external_id == "u-9"


def test_customer_needs_an_email_or_external_id(api, inbox):
    assert_error(api.post("/api/v1/customers", {"name": "Nobody"}, format="json"), 400, field="email")


def test_customer_email_owned_by_another_external_id_is_400(api, inbox):
    api.post("/api/v1/customers", {"external_id": "a", "email": "x@example.com"}, format="json")

    response = api.post("/api/v1/customers", {"external_id": "b", "email": "x@example.com"}, format="json")

    assert_error(response, 400, field="email")


def test_customers_list_filters_and_retrieve(api, inbox):
    first = factories.make_ticket(inbox, email="ann@example.com", name="Ann").customer
    factories.make_ticket(inbox, email="bob@example.com", name="Bob")

    by_email = api.get("/api/v1/customers", {"email": "ANN@example.com"}).json()
    by_q = api.get("/api/v1/customers", {"q": "bob"}).json()
    one = api.get(f"/api/v1/customers/{first.public_id}")

    assert [row["email"] for row in by_email["data"]] == ["ann@example.com"]
    assert [row["name"] for row in by_q["data"]] == ["Bob"]
    assert by_email["pagination"]["total"] == 1
    assert one.json()["email"] == "ann@example.com"


def test_customer_patch_replaces_metadata_and_changes_fields(api, inbox):
    customer = factories.make_ticket(inbox, email="ann@example.com").customer

    response = api.patch(
        f"/api/v1/customers/{customer.public_id}",
        {"name": "Ann Lee", "email": "ann.lee@example.com", "metadata": {"plan": "pro"}},
        format="json",
    )

    assert response.status_code == 200, response.json()
    customer.refresh_from_db()
    assert (customer.name, customer.email, customer.metadata) == (
        "Ann Lee",
        "ann.lee@example.com",
        {"plan": "pro"},
    )


def test_customer_patch_with_bad_values_is_400(api, inbox):
    customer = factories.make_ticket(inbox).customer

    body = assert_error(
        api.patch(f"/api/v1/customers/{customer.public_id}", {"email": "nope", "metadata": 3}, format="json"),
        400,
    )
    assert {detail["field"] for detail in body["details"]} == {"email", "metadata"}


# Tags ---------------------------------------------------------------------------------


def test_tags_create_list_rename_delete(api, inbox):
    created = api.post("/api/v1/tags", {"name": "billing"}, format="json")
    again = api.post("/api/v1/tags", {"name": "billing"}, format="json")
    tag_id = created.json()["id"]

    assert created.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == tag_id
    assert [row["name"] for row in api.get("/api/v1/tags").json()["data"]] == ["billing"]
    assert api.get(f"/api/v1/tags/{tag_id}").json()["name"] == "billing"

    renamed = api.patch(f"/api/v1/tags/{tag_id}", {"name": "invoices"}, format="json")
    assert renamed.json()["name"] == "invoices"

    assert api.delete(f"/api/v1/tags/{tag_id}").status_code == 204
    assert not Tag.objects.exists()


def test_tag_rename_to_an_existing_name_is_400(api, organization, inbox):
    first = services.get_or_create_tag(organization=organization, name="a")[0]
    services.get_or_create_tag(organization=organization, name="b")

    assert_error(api.patch(f"/api/v1/tags/{first.pk}", {"name": "b"}, format="json"), 400, field="name")


def test_tag_name_bounds_are_checked(api, inbox):
    assert_error(api.post("/api/v1/tags", {"name": ""}, format="json"), 400, field="name")
    assert_error(api.post("/api/v1/tags", {"name": "x" * 51}, format="json"), 400, field="name")
    assert_error(api.post("/api/v1/tags", {}, format="json"), 400, field="name")


def test_unknown_tag_id_is_404(api, inbox):
    assert_error(api.get("/api/v1/tags/not-a-uuid"), 404)
    assert_error(api.get("/api/v1/tags/6b1d8f5e-2f7b-4a43-9a59-6c0f5a6f1e10"), 404)


def test_agent_of_two_organizations_must_use_a_key_to_create_a_tag(agent, inbox, other_organization):
    factories.make_agent(other_organization, email=agent.email)
    _, token = factories.make_agent_token(agent)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    assert_error(client.post("/api/v1/tags", {"name": "x"}, format="json"), 400, field="organization")


# Inboxes ------------------------------------------------------------------------------


def test_inboxes_list_and_retrieve(api, organization, inbox):
    sales = factories.make_inbox(organization, name="Sales", prefix="SAL", daily_limit_per_customer=None)

    listed = api.get("/api/v1/inboxes").json()
    one = api.get(f"/api/v1/inboxes/{sales.public_id}").json()

    assert [row["prefix"] for row in listed["data"]] == ["INV", "SAL"]
    assert one == {
        "id": sales.public_id,
        "name": "Sales",
        "prefix": "SAL",
        "support_email": "",
        "daily_limit_per_customer": None,
        "auto_assignment": "off",
        "auto_resolve_pending_days": None,
        "assign_on_reply": True,
        "is_default": False,
        "business_hours": None,
        "satisfaction_survey": False,
        "satisfaction_delay_minutes": 60,
        "created_at": one["created_at"],
    }


def test_inboxes_are_read_only(api, inbox):
    assert_error(api.post("/api/v1/inboxes", {"name": "x"}, format="json"), 405)
    assert_error(api.delete(f"/api/v1/inboxes/{inbox.public_id}"), 405)


@pytest.mark.parametrize("path", ["/api/v1/customers", "/api/v1/tags", "/api/v1/inboxes"])
def test_list_query_counts_do_not_grow_with_rows(
    api, organization, inbox, path, django_assert_max_num_queries
):
    def count_queries() -> int:
        with django_assert_max_num_queries(6) as captured:
            assert api.get(path, {"per_page": 100}).status_code == 200
        return len(captured.captured_queries)

    api.get("/api/v1/inboxes")  # the key's first use of the minute is recorded: not the list's cost
    factories.make_ticket(inbox, tags=["first"])
    few = count_queries()
    for index in range(25):
        factories.make_ticket(inbox, tags=[f"tag-{index}"])
        factories.make_inbox(organization, prefix=f"X{index}")

    assert count_queries() == few
