"""Settings → Service levels (owners and admins) and the admin pages."""

import pytest
from django.test import Client
from django.urls import reverse

from sla.models import BusinessHours, SlaPolicy
from tickets.tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(owner):
    client = Client()
    client.force_login(owner)
    return client


def test_only_owners_and_admins_open_the_settings(agent_client, owner_client):
    url = reverse("sla-dashboard:overview")
    assert agent_client.get(url).status_code == 403
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/accounts/login" in anonymous["Location"]
    response = owner_client.get(url)
    assert response.status_code == 200
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    assert "No SLA policies yet" in response.content.decode()


def test_an_owner_adds_hours_and_a_policy_then_edits_and_deletes_them(owner_client, inbox):
    url = reverse("sla-dashboard:overview")
    response = owner_client.post(
        url,
        {
            "kind": "hours",
            "hours-name": "Office",
            "hours-time_zone": "Europe/Berlin",
            "hours-weekly": "mon 09:00-12:00, 13:00-17:00\nfri 09:00-15:00",
            "hours-holidays": "2026-12-25",
            "hours-inboxes": [inbox.pk],
        },
    )
    assert response.status_code == 302, response.content.decode()
    hours = BusinessHours.objects.get()
    assert hours.weekly == [
        {"day": "mon", "start": "09:00", "end": "12:00"},
        {"day": "mon", "start": "13:00", "end": "17:00"},
        {"day": "fri", "start": "09:00", "end": "15:00"},
    ]
    inbox.refresh_from_db()
    assert inbox.business_hours == hours

    response = owner_client.post(
        url,
        {
            "kind": "policy",
            "policy-name": "Pro",
            "policy-is_active": "on",
            "policy-time_basis": "business",
            "policy-priorities": ["high", "urgent"],
            "policy-customer_metadata": "plan = pro",
            "policy-first_reply_minutes": "60",
            "policy-warning_percent": "80",
        },
    )
    assert response.status_code == 302, response.content.decode()
    policy = SlaPolicy.objects.get()
    assert policy.conditions == {"priority": ["high", "urgent"], "customer_metadata": {"plan": "pro"}}
    assert policy.warning_percent == 80

    page = owner_client.get(reverse("sla-dashboard:policy", args=[policy.public_id])).content.decode()
    assert 'value="Pro"' in page and "plan = pro" in page
    data = {
        "name": "Pro customers",
        "is_active": "on",
        "time_basis": "calendar",
        "priorities": ["urgent"],
        "first_reply_minutes": "30",
    }
    assert (
        owner_client.post(reverse("sla-dashboard:policy", args=[policy.public_id]), data).status_code == 302
    )
    policy.refresh_from_db()
    assert (policy.name, policy.first_reply_minutes, policy.time_basis) == ("Pro customers", 30, "calendar")

    owner_client.post(reverse("sla-dashboard:policy-delete", args=[policy.public_id]))
    owner_client.post(reverse("sla-dashboard:hours-delete", args=[hours.public_id]))
    assert not SlaPolicy.objects.exists() and not BusinessHours.objects.exists()


def test_bad_input_shows_the_error_on_its_field_and_saves_nothing(owner_client):
    response = owner_client.post(
        reverse("sla-dashboard:overview"),
        {
            "kind": "hours",
            "hours-name": "Office",
            "hours-time_zone": "Mars/Base",
            "hours-weekly": "mon 09:00-17:00",
        },
    )
    assert response.status_code == 200
    assert "Unknown time zone" in response.content.decode()
    response = owner_client.post(
        reverse("sla-dashboard:overview"),
        {"kind": "policy", "policy-name": "Empty", "policy-time_basis": "business"},
    )
    assert "Set at least one target." in response.content.decode()
    assert not BusinessHours.objects.exists() and not SlaPolicy.objects.exists()


def test_another_organizations_policy_is_404(owner_client, other_organization):
    from sla import services
    from tickets.actors import Actor

    other_owner = factories.make_agent(other_organization, role="owner")
    policy = services.create_policy(
        organization=other_organization,
        actor=Actor.agent(other_owner),
        name="Theirs",
        targets={"first_reply_minutes": 5},
    )
    assert owner_client.get(reverse("sla-dashboard:policy", args=[policy.public_id])).status_code == 404
    assert (
        owner_client.post(reverse("sla-dashboard:policy-delete", args=[policy.public_id])).status_code == 404
    )


@pytest.fixture
def staff(db):
    from accounts.models import User

    return User.objects.create_superuser(email="staff@example.test", password="correct horse battery staple")


def test_admin_creates_a_policy_and_hours_through_the_services(staff_client, organization, inbox):
    response = staff_client.post(
        reverse("admin:sla_businesshours_add"),
        {
            "organization": organization.pk,
            "name": "Office",
            "time_zone": "Europe/Berlin",
            "weekly": '[{"day": "mon", "start": "09:00", "end": "17:00"}]',
            "holidays": "[]",
            "inboxes": [inbox.pk],
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    inbox.refresh_from_db()
    assert inbox.business_hours.name == "Office"
    response = staff_client.post(
        reverse("admin:sla_slapolicy_add"),
        {
            "organization": organization.pk,
            "name": "All",
            "position": 0,
            "is_active": "on",
            "time_basis": "business",
            "conditions": "{}",
            "first_reply_minutes": 30,
            "raise_priority_to": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert SlaPolicy.objects.get().first_reply_minutes == 30
    response = staff_client.post(
        reverse("admin:sla_businesshours_add"),
        {
            "organization": organization.pk,
            "name": "Bad",
            "time_zone": "Nowhere/Land",
            "weekly": "[]",
            "holidays": "[]",
        },
    )
    assert response.status_code == 200
    assert BusinessHours.objects.count() == 1
    assert staff_client.get(reverse("admin:sla_slapolicy_changelist")).status_code == 200
    assert staff_client.get(reverse("admin:sla_businesshours_changelist")).status_code == 200


def test_an_owner_turns_on_the_satisfaction_survey_of_an_inbox(owner_client, inbox):
    response = owner_client.post(
        reverse("sla-dashboard:overview"),
        {
            "kind": "survey",
            "inbox": inbox.public_id,
            "satisfaction_survey": "on",
            "satisfaction_delay_minutes": "15",
        },
    )
    assert response.status_code == 302
    inbox.refresh_from_db()
    assert (inbox.satisfaction_survey, inbox.satisfaction_delay_minutes) == (True, 15)
    owner_client.post(
        reverse("sla-dashboard:overview"),
        {"kind": "survey", "inbox": inbox.public_id, "satisfaction_delay_minutes": "-3"},
    )
    inbox.refresh_from_db()
    assert inbox.satisfaction_survey is True  # refused whole
