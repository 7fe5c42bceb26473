"""Managing tags needs the owner or admin role; agents apply existing tags and create new
ones only where the organization allows it."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import AuditEvent
from tickets.models import Tag
from tickets.tests import factories
from tickets.tests.api_helpers import assert_error


def _bearer(user) -> APIClient:
    _, token = factories.make_agent_token(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def billing(organization):
    return Tag.objects.create(organization=organization, name="billing")


def test_an_agent_can_neither_rename_nor_delete_a_tag_through_the_api(agent, billing):
    # Before: any agent renamed and deleted the organization's tags.
    client = _bearer(agent)
    assert_error(client.patch(f"/api/v1/tags/{billing.pk}", {"name": "invoices"}, format="json"), 403)
    assert_error(client.delete(f"/api/v1/tags/{billing.pk}"), 403)
    billing.refresh_from_db()
    assert billing.name == "billing"
    assert not AuditEvent.objects.filter(action__startswith="tag_").exists()


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owners_and_admins_rename_and_delete_tags(organization, billing, role):
    manager = factories.make_agent(organization, email=f"{role}@acme.test", role=role)
    client = _bearer(manager)
    assert client.patch(f"/api/v1/tags/{billing.pk}", {"name": "invoices"}, format="json").status_code == 200
    assert client.delete(f"/api/v1/tags/{billing.pk}").status_code == 204
    assert not Tag.objects.filter(pk=billing.pk).exists()


def test_an_agent_creates_tags_only_where_the_organization_allows_it(organization, agent, ticket, billing):
    client = _bearer(agent)
    assert client.post("/api/v1/tags", {"name": "vip"}, format="json").status_code == 201

    organization.agents_may_create_tags = False
    organization.save(update_fields=["agents_may_create_tags"])
    assert_error(client.post("/api/v1/tags", {"name": "refund"}, format="json"), 403)
    # Applying an existing tag still works; a new name through a ticket is refused too.
    assert client.post("/api/v1/tags", {"name": "billing"}, format="json").status_code == 200
    applied = client.patch(f"/api/v1/tickets/{ticket.public_id}", {"tags": ["billing"]}, format="json")
    assert applied.status_code == 200
    assert applied.json()["tags"] == ["billing"]
    refused = client.patch(
        f"/api/v1/tickets/{ticket.public_id}", {"tags": ["billing", "refund"]}, format="json"
    )
    assert_error(refused, 403)
    assert not Tag.objects.filter(name="refund").exists()
    assert [tag.name for tag in ticket.tags.all()] == ["billing"]


def test_api_keys_keep_creating_tags_with_tickets(api, organization, inbox):
    organization.agents_may_create_tags = False
    organization.save(update_fields=["agents_may_create_tags"])
    created = api.post(
        "/api/v1/tickets",
        {
            "customer": {"email": "c@example.com"},
            "subject": "Hello",
            "message": "Hi",
            "tags": ["from-backend"],
        },
        format="json",
    )
    assert created.status_code == 201
    assert created.json()["tags"] == ["from-backend"]


def test_the_dashboard_sidebar_refuses_a_new_tag_when_agents_may_not_create_them(
    organization, agent_client, ticket, billing
):
    organization.agents_may_create_tags = False
    organization.save(update_fields=["agents_may_create_tags"])
    response = agent_client.post(
        reverse("dashboard:update_ticket", args=[ticket.public_id]),
        {"tags": "billing, brand-new"},
        follow=True,
    )
    assert "only owners and admins create tags here" in response.content.decode()
    assert not Tag.objects.filter(name="brand-new").exists()


def test_an_owner_sets_whether_agents_may_create_tags(organization, owner, client):
    client.force_login(owner)
    response = client.post(reverse("dashboard:settings-member-policy"), {})
    assert response.status_code == 302
    organization.refresh_from_db()
    assert organization.agents_may_create_tags is False
    event = AuditEvent.objects.get(action=AuditEvent.Action.ORGANIZATION_UPDATED)
    assert event.changes == {"agents_may_create_tags": {"before": True, "after": False}}
    client.post(reverse("dashboard:settings-member-policy"), {"agents_may_create_tags": "on"})
    organization.refresh_from_db()
    assert organization.agents_may_create_tags is True


def test_an_agent_cannot_change_the_policy(organization, agent_client):
    response = agent_client.post(reverse("dashboard:settings-member-policy"), {})
    assert response.status_code in {302, 403, 404}
    organization.refresh_from_db()
    assert organization.agents_may_create_tags is True
