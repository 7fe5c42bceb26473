"""Accounts in Django admin: email-login users, organizations, and credentials shown once."""

import re
from datetime import timedelta

import pytest
from django.contrib import admin as django_admin
from django.test import Client
from django.utils import timezone
from rest_framework_api_key.models import APIKey as LibraryAPIKey

from accounts.models import AgentToken, ApiKey, CustomerToken, Membership, Organization, User
from tickets import services
from tickets.tests import factories
from tickets.tests.admin_helpers import (
    admin_url,
    assert_changelist_queries_do_not_grow,
    browser_form,
    messages_of,
)

SHOWN_ONCE = re.compile(r"\b(hd[akc]_[A-Za-z0-9]+\.[A-Za-z0-9_\-]+)")


@pytest.fixture
def staff(db):
    return User.objects.create_superuser(email="admin@acme.test", password="pw", name="Ada Admin")


@pytest.fixture
def everything(organization, inbox, agent, owner):
    factories.make_api_key(organization, name="Backend", inbox=inbox)
    factories.make_agent_token(agent)
    customer, _ = services.upsert_customer(
        organization=organization, data=services.CustomerData(email="jane@example.test")
    )
    token = CustomerToken(organization=organization, customer=customer)
    token.assign_secret()
    token.save()


ACCOUNT_MODELS = [User, Organization, Membership, ApiKey, AgentToken, CustomerToken]


@pytest.mark.parametrize("model", ACCOUNT_MODELS, ids=lambda model: model.__name__)
def test_every_accounts_model_has_pages_that_render(staff_client, everything, model):
    changelist = staff_client.get(admin_url(model))
    assert changelist.status_code == 200
    assert changelist.context["cl"].result_count >= 1
    assert staff_client.get(admin_url(model), {"q": "acme"}).status_code == 200
    assert staff_client.get(admin_url(model, "add")).status_code == 200
    instance = model.objects.first()
    assert staff_client.get(admin_url(model, "change", instance.pk)).status_code == 200


def test_the_unused_library_api_key_model_is_not_offered_to_staff():
    assert not django_admin.site.is_registered(LibraryAPIKey)
    assert django_admin.site.is_registered(ApiKey)


def test_a_user_is_created_in_admin_with_an_email_login_and_no_username(staff_client):
    data = browser_form(
        staff_client,
        admin_url(User, "add"),
        email="New.Agent@Acme.test",
        name="New Agent",
        usable_password="true",
        password1="a-long-enough-password-42",
        password2="a-long-enough-password-42",
        _save="Save",
    )

    response = staff_client.post(admin_url(User, "add"), data)

    assert response.status_code == 302
    user = User.objects.get(email="new.agent@acme.test")
    assert user.check_password("a-long-enough-password-42")
    assert Client().login(email="new.agent@acme.test", password="a-long-enough-password-42")


def test_an_email_differing_only_in_case_is_refused(staff_client, agent):
    data = browser_form(
        staff_client,
        admin_url(User, "add"),
        email="AGENT@acme.test",
        usable_password="true",
        password1="a-long-enough-password-42",
        password2="a-long-enough-password-42",
        _save="Save",
    )

    response = staff_client.post(admin_url(User, "add"), data)

    assert response.status_code == 200
    assert "email" in response.context["adminform"].form.errors


def test_a_user_page_lists_memberships_and_saves(staff_client, agent):
    url = admin_url(User, "change", agent.pk)

    response = staff_client.post(url, browser_form(staff_client, url, name="Alice A.", _save="Save"))

    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.name == "Alice A." and agent.memberships.count() == 1


# Query counts --------------------------------------------------------------------------------


def _grow(count: int) -> None:
    for _ in range(count):
        organization = factories.make_organization()
        inbox = factories.make_inbox(organization)
        factories.make_api_key(organization, inbox=inbox)
        factories.make_agent(organization)


@pytest.mark.parametrize("model", [ApiKey, Membership, User, Organization], ids=lambda m: m.__name__)
def test_changelist_query_count_does_not_grow_with_rows(staff_client, model, django_assert_max_num_queries):
    _, many = assert_changelist_queries_do_not_grow(
        staff_client, admin_url(model), _grow, django_assert_max_num_queries
    )

    assert many >= 30


# Credentials are shown once ------------------------------------------------------------------


def test_a_new_api_key_is_shown_once_and_works(staff_client, organization, inbox):
    data = browser_form(
        staff_client,
        admin_url(ApiKey, "add"),
        organization=str(organization.pk),
        inbox=str(inbox.pk),
        name="Billing backend",
        _save="Save",
    )

    response = staff_client.post(admin_url(ApiKey, "add"), data, follow=True)

    texts = messages_of(response)
    keys = [match for text in texts for match in re.findall(r"hdk_[A-Za-z0-9]+\.[A-Za-z0-9]+", text)]
    assert len(keys) == 1
    api_key = ApiKey.objects.get_from_key(keys[0])
    assert (api_key.name, api_key.organization, api_key.inbox) == ("Billing backend", organization, inbox)

    change = staff_client.get(admin_url(ApiKey, "change", api_key.pk))
    listing = staff_client.get(admin_url(ApiKey))
    assert keys[0] not in change.content.decode()
    assert keys[0] not in listing.content.decode()


def test_an_api_key_cannot_be_restricted_to_another_organizations_inbox(
    staff_client, organization, other_inbox
):
    data = browser_form(
        staff_client,
        admin_url(ApiKey, "add"),
        organization=str(organization.pk),
        inbox=str(other_inbox.pk),
        name="Confused",
        _save="Save",
    )

    response = staff_client.post(admin_url(ApiKey, "add"), data)

    assert response.status_code == 200
    assert "inbox" in response.context["adminform"].form.errors
    assert not ApiKey.objects.exists()


def test_revoking_api_keys_stops_them_working(staff_client, client_for_key, organization, inbox):
    api_key, plaintext = factories.make_api_key(organization)
    assert client_for_key(plaintext).get("/api/v1/tickets").status_code == 200

    staff_client.post(admin_url(ApiKey), {"action": "revoke_keys", "_selected_action": [api_key.pk]})

    api_key.refresh_from_db()
    assert api_key.revoked
    assert client_for_key(plaintext).get("/api/v1/tickets").status_code == 401


def test_a_new_agent_token_is_shown_once_and_finds_its_user(staff_client, agent):
    data = browser_form(
        staff_client, admin_url(AgentToken, "add"), user=str(agent.pk), name="CLI", _save="Save"
    )

    response = staff_client.post(admin_url(AgentToken, "add"), data, follow=True)

    shown = [match for text in messages_of(response) for match in SHOWN_ONCE.findall(text)]
    assert len(shown) == 1 and shown[0].startswith("hda_")
    token = AgentToken.find(shown[0])
    assert token is not None and token.user == agent and token.name == "CLI"
    assert shown[0] not in staff_client.get(admin_url(AgentToken, "change", token.pk)).content.decode()


def test_a_new_customer_token_takes_its_customers_organization(staff_client, organization):
    customer, _ = services.upsert_customer(
        organization=organization, data=services.CustomerData(external_id="user_42")
    )
    data = browser_form(
        staff_client, admin_url(CustomerToken, "add"), customer=str(customer.pk), _save="Save"
    )

    response = staff_client.post(admin_url(CustomerToken, "add"), data, follow=True)

    shown = [match for text in messages_of(response) for match in SHOWN_ONCE.findall(text)]
    assert len(shown) == 1 and shown[0].startswith("hdc_")
    token = CustomerToken.find(shown[0])
    assert token.customer == customer and token.organization == organization
    # Minted by accounts.services with its default lifetime.
    lifetime = token.expires_at - timezone.now()
    assert timedelta(days=29) < lifetime <= timedelta(days=30)


def test_a_customer_token_may_not_live_longer_than_a_year(staff_client, organization):
    customer, _ = services.upsert_customer(
        organization=organization, data=services.CustomerData(external_id="user_42")
    )
    far = timezone.localtime() + timedelta(days=400)
    data = browser_form(
        staff_client,
        admin_url(CustomerToken, "add"),
        customer=str(customer.pk),
        expires_at_0=far.strftime("%Y-%m-%d"),
        expires_at_1=far.strftime("%H:%M:%S"),
        _save="Save",
    )

    response = staff_client.post(admin_url(CustomerToken, "add"), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["expires_at"] == [
        "A customer token may live at most 365 days."
    ]
    assert not CustomerToken.objects.exists()


def test_revoking_a_customer_token_in_admin_stops_it(staff_client, organization):
    from accounts.services import mint_customer_token

    customer, _ = services.upsert_customer(
        organization=organization, data=services.CustomerData(external_id="user_7")
    )
    token, plaintext = mint_customer_token(customer=customer, expires_at=timezone.now() + timedelta(days=1))

    staff_client.post(admin_url(CustomerToken), {"action": "revoke_tokens", "_selected_action": [token.pk]})

    assert CustomerToken.find(plaintext) is None


def test_revoking_tokens_makes_them_unusable(staff_client, agent):
    token, plaintext = factories.make_agent_token(agent)

    staff_client.post(admin_url(AgentToken), {"action": "revoke_tokens", "_selected_action": [token.pk]})

    assert AgentToken.find(plaintext) is None


def test_rotating_an_organizations_jwt_secret_replaces_it(staff_client, organization):
    before = organization.jwt_secret

    staff_client.post(
        admin_url(Organization), {"action": "rotate_jwt_secret", "_selected_action": [organization.pk]}
    )

    organization.refresh_from_db()
    assert organization.jwt_secret != before and len(organization.jwt_secret) >= 48


def test_an_organization_is_added_with_its_first_inbox_inline(staff_client):
    data = browser_form(
        staff_client,
        admin_url(Organization, "add"),
        name="Initech",
        slug="initech",
        plan="team",
        **{
            "inboxes-TOTAL_FORMS": "1",
            "inboxes-0-name": "Support",
            "inboxes-0-prefix": "INI",
            "inboxes-0-is_default": "on",
            "inboxes-0-daily_limit_per_customer": "2",
            "inboxes-0-auto_assignment": "off",
        },
        _save="Save",
    )

    response = staff_client.post(admin_url(Organization, "add"), data)

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    organization = Organization.objects.get(slug="initech")
    assert organization.inboxes.get().prefix == "INI"
