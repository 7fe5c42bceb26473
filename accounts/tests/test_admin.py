"""Accounts in Django admin: email-login users, organizations, and credentials shown once."""

import re
from datetime import timedelta

import pytest
from django.contrib import admin as django_admin
from django.test import Client
from django.utils import timezone
from rest_framework_api_key.models import APIKey as LibraryAPIKey

from accounts.models import AgentToken, ApiKey, AuditEvent, CustomerToken, Membership, Organization, User
from tickets import services
from tickets.actors import Actor
from tickets.models import TicketEvent
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
    signed_in = Client().post(
        "/accounts/login/", {"username": "new.agent@acme.test", "password": "a-long-enough-password-42"}
    )
    assert signed_in.status_code == 302


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


# Every write goes through a service and leaves an audit event ---------------------------------


def audit(action: str, **filters) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, **filters))


def delete_in_admin(client: Client, instance):
    """The delete page's confirmation, as a browser posts it."""
    return client.post(admin_url(type(instance), "delete", instance.pk), {"post": "yes"}, follow=True)


def delete_selected(client: Client, model, instances):
    """Django's "Delete selected" action, confirmed."""
    return client.post(
        admin_url(model),
        {"action": "delete_selected", "post": "yes", "_selected_action": [str(i.pk) for i in instances]},
        follow=True,
    )


def test_rotating_a_jwt_secret_in_admin_is_audited_with_the_staff_members_name(
    staff_client, staff, organization
):
    staff_client.post(
        admin_url(Organization), {"action": "rotate_jwt_secret", "_selected_action": [organization.pk]}
    )

    (event,) = audit("jwt_secret_rotated", organization=organization)
    assert (event.actor_user, event.actor_label) == (staff, "Ada Admin")


def test_deleting_the_last_owners_membership_is_refused_and_changes_nothing(
    staff_client, organization, owner, agent
):
    membership = owner.memberships.get()

    response = delete_in_admin(staff_client, membership)

    assert "Nothing was deleted: The organization needs at least one owner." in messages_of(response)
    assert Membership.objects.filter(pk=membership.pk).exists()
    assert not audit("member_removed")


def test_deleting_an_agents_membership_unassigns_their_open_tickets(
    staff_client, staff, organization, inbox, owner, agent
):
    ticket = factories.make_ticket(inbox)
    services.assign(ticket=ticket, assignee=agent, actor=Actor.agent(owner))
    membership = agent.memberships.get()

    response = delete_in_admin(staff_client, membership)

    assert response.status_code == 200
    assert not Membership.objects.filter(pk=membership.pk).exists()
    ticket.refresh_from_db()
    assert ticket.assignee is None
    (event,) = audit("member_removed", organization=organization)
    assert (event.target, event.actor_user) == ("agent@acme.test", staff)


def test_deleting_selected_memberships_with_the_last_owner_among_them_deletes_none(
    staff_client, organization, owner, agent
):
    memberships = [agent.memberships.get(), owner.memberships.get()]

    response = delete_selected(staff_client, Membership, memberships)

    assert any("The organization needs at least one owner." in text for text in messages_of(response))
    assert Membership.objects.filter(organization=organization).count() == 2
    assert not audit("member_removed")


def test_demoting_the_last_owner_on_the_membership_page_is_refused(staff_client, organization, owner):
    membership = owner.memberships.get()
    url = admin_url(Membership, "change", membership.pk)

    response = staff_client.post(
        url, browser_form(staff_client, url, role="agent", _save="Save"), follow=True
    )

    assert "Nothing was saved: The organization needs at least one owner." in messages_of(response)
    membership.refresh_from_db()
    assert membership.role == "owner"


def test_availability_changed_in_the_list_or_by_an_action_is_audited(
    staff_client, staff, organization, agent
):
    membership = agent.memberships.get()

    staff_client.post(
        admin_url(Membership),
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": str(membership.pk),
            "_save": "Save",
        },
    )
    membership.refresh_from_db()
    assert membership.is_available is False
    staff_client.post(
        admin_url(Membership), {"action": "mark_available", "_selected_action": [str(membership.pk)]}
    )

    membership.refresh_from_db()
    assert membership.is_available is True
    events = AuditEvent.objects.filter(action="member_updated", actor_user=staff).order_by("pk")
    assert [event.changes for event in events] == [
        {"is_available": {"before": True, "after": False}},
        {"is_available": {"before": False, "after": True}},
    ]


def test_a_membership_added_in_admin_is_an_invitation_with_its_audit_event(
    staff_client, staff, organization, other_agent
):
    data = browser_form(
        staff_client,
        admin_url(Membership, "add"),
        user=str(other_agent.pk),
        organization=str(organization.pk),
        role="admin",
        tier="n2",
        _save="Save",
    )

    assert staff_client.post(admin_url(Membership, "add"), data).status_code == 302

    membership = Membership.objects.get(user=other_agent, organization=organization)
    assert (membership.role, membership.tier) == ("admin", "n2")
    (event,) = audit("member_invited", organization=organization)
    assert (event.target, event.actor_user) == ("agent@globex.test", staff)


def test_removing_a_membership_on_the_users_page_unassigns_their_open_tickets(
    staff_client, staff, organization, inbox, owner, agent
):
    ticket = factories.make_ticket(inbox)
    services.assign(ticket=ticket, assignee=agent, actor=Actor.agent(owner))
    url = admin_url(User, "change", agent.pk)

    response = staff_client.post(url, browser_form(staff_client, url, **{"memberships-0-DELETE": "on"}))

    assert response.status_code == 302
    assert not agent.memberships.exists()
    ticket.refresh_from_db()
    assert ticket.assignee is None
    assert audit("member_removed", actor_user=staff)


def test_demoting_the_last_owner_in_the_organizations_inline_is_refused(staff_client, organization, owner):
    url = admin_url(Organization, "change", organization.pk)
    data = browser_form(staff_client, url, _save="Save")
    row = next(key for key, value in data.items() if key.endswith("-user") and value == str(owner.pk))

    response = staff_client.post(url, {**data, row.replace("-user", "-role"): "agent"}, follow=True)

    assert "Nothing was saved: The organization needs at least one owner." in messages_of(response)
    assert owner.memberships.get().role == "owner"


def test_deleting_a_user_who_is_the_last_owner_is_refused(staff_client, organization, owner):
    response = delete_in_admin(staff_client, owner)

    assert any("The organization needs at least one owner." in text for text in messages_of(response))
    assert User.objects.filter(pk=owner.pk).exists() and owner.memberships.exists()


def test_deleting_an_agents_account_unassigns_their_tickets_and_is_audited(
    staff_client, staff, organization, inbox, owner, agent
):
    ticket = factories.make_ticket(inbox)
    services.assign(ticket=ticket, assignee=agent, actor=Actor.agent(owner))

    delete_in_admin(staff_client, agent)

    assert not User.objects.filter(pk=agent.pk).exists()
    ticket.refresh_from_db()
    assert ticket.assignee is None
    unassigned = TicketEvent.objects.get(ticket=ticket, action="assigned", actor_user=staff)
    assert (unassigned.before, unassigned.after) == (agent.pk, None)
    (removed,) = audit("member_removed", organization=organization)
    (deleted,) = audit("user_deleted", actor_user=staff)
    assert removed.target == deleted.target == "agent@acme.test"
    assert deleted.changes == {"organizations": ["Acme"]}


def test_an_organization_is_created_and_changed_through_the_services(staff_client, staff):
    add = browser_form(
        staff_client,
        admin_url(Organization, "add"),
        name="Initech",
        slug="initech",
        plan="team",
        _save="Save",
    )
    assert staff_client.post(admin_url(Organization, "add"), add).status_code == 302
    organization = Organization.objects.get(slug="initech")
    url = admin_url(Organization, "change", organization.pk)

    response = staff_client.post(
        url, browser_form(staff_client, url, plan="business", monthly_ticket_quota="500", _save="Save")
    )

    assert response.status_code == 302
    organization.refresh_from_db()
    assert (organization.plan, organization.monthly_ticket_quota) == ("business", 500)
    (created,) = audit("organization_created", organization=organization, actor_user=staff)
    (updated,) = audit("organization_updated", organization=organization, actor_user=staff)
    assert created.changes["plan"] == "team"
    assert updated.changes == {
        "plan": {"before": "team", "after": "business"},
        "monthly_ticket_quota": {"before": None, "after": 500},
    }


def test_an_inbox_added_in_the_organizations_inline_is_audited(staff_client, staff, organization, inbox):
    url = admin_url(Organization, "change", organization.pk)
    data = browser_form(staff_client, url, _save="Save")
    row = int(data["inboxes-TOTAL_FORMS"])
    data.update(
        {
            "inboxes-TOTAL_FORMS": str(row + 1),
            f"inboxes-{row}-name": "Sales",
            f"inboxes-{row}-prefix": "SAL",
            f"inboxes-{row}-is_default": "on",
            f"inboxes-{row}-auto_assignment": "off",
        }
    )

    response = staff_client.post(url, data)

    assert response.status_code == 302, response.context and response.context["inline_admin_formsets"]
    sales = organization.inboxes.get(prefix="SAL")
    inbox.refresh_from_db()
    assert sales.is_default and not inbox.is_default
    assert audit("inbox_created", organization=organization, actor_user=staff)


def test_organizations_cannot_be_deleted_in_admin(staff_client, organization):
    response = staff_client.post(admin_url(Organization, "delete", organization.pk), {"post": "yes"})

    assert response.status_code == 403
    assert Organization.objects.filter(pk=organization.pk).exists()


def test_a_new_api_key_is_audited_and_revoked_from_its_own_page(staff_client, staff, organization):
    data = browser_form(
        staff_client, admin_url(ApiKey, "add"), organization=str(organization.pk), name="CRM", _save="Save"
    )
    staff_client.post(admin_url(ApiKey, "add"), data)
    api_key = ApiKey.objects.get(name="CRM")

    staff_client.post(
        admin_url(ApiKey, "change", api_key.pk),
        {"CHANGE_FORM-action": "revoke_keys", "_selected_action": [str(api_key.pk)]},
    )

    api_key.refresh_from_db()
    assert api_key.revoked
    assert [event.actor_user for event in audit("api_key_created", organization=organization)] == [staff]
    assert [event.actor_user for event in audit("api_key_revoked", organization=organization)] == [staff]


def test_revoking_api_keys_in_bulk_records_an_audit_event_each(staff_client, staff, organization):
    keys = [factories.make_api_key(organization, name=name)[0] for name in ("One", "Two")]

    staff_client.post(admin_url(ApiKey), {"action": "revoke_keys", "_selected_action": [k.pk for k in keys]})

    assert sorted(event.target.split(" ")[0] for event in audit("api_key_revoked", actor_user=staff)) == [
        "One",
        "Two",
    ]


def test_credentials_are_not_edited_or_deleted_in_admin(staff_client, organization, agent):
    api_key, _ = factories.make_api_key(organization, name="Backend")
    token, _ = factories.make_agent_token(agent)
    for credential in (api_key, token):
        url = admin_url(type(credential), "change", credential.pk)
        staff_client.post(url, {"name": "Renamed", "_save": "Save"})
        assert staff_client.post(admin_url(type(credential), "delete", credential.pk)).status_code == 403
        credential.refresh_from_db()
        assert credential.name == "Backend" if credential is api_key else credential.name == "Laptop"


def test_an_agent_token_made_by_staff_is_audited_as_theirs_for_the_agent(staff_client, staff, agent):
    data = browser_form(
        staff_client, admin_url(AgentToken, "add"), user=str(agent.pk), name="CLI", _save="Save"
    )
    staff_client.post(admin_url(AgentToken, "add"), data)
    token = AgentToken.objects.get(name="CLI")

    staff_client.post(admin_url(AgentToken), {"action": "revoke_tokens", "_selected_action": [token.pk]})

    (created,) = audit("agent_token_created")
    (revoked,) = audit("agent_token_revoked")
    assert (created.actor_user, created.changes) == (staff, {"user": "agent@acme.test"})
    assert revoked.actor_user == staff


def test_customer_tokens_minted_and_revoked_in_admin_are_audited(staff_client, staff, organization):
    customer, _ = services.upsert_customer(
        organization=organization, data=services.CustomerData(external_id="user_42")
    )
    data = browser_form(
        staff_client, admin_url(CustomerToken, "add"), customer=str(customer.pk), _save="Save"
    )
    staff_client.post(admin_url(CustomerToken, "add"), data)
    token = CustomerToken.objects.get()

    staff_client.post(admin_url(CustomerToken), {"action": "revoke_tokens", "_selected_action": [token.pk]})

    token.refresh_from_db()
    assert token.revoked_at is not None
    assert [event.actor_user for event in audit("customer_token_created", organization=organization)] == [
        staff
    ]
    assert [event.actor_user for event in audit("customer_token_revoked", organization=organization)] == [
        staff
    ]


def test_promoting_one_owner_and_removing_the_other_in_one_inline_save_keeps_an_owner(
    staff_client, organization, owner, agent
):
    url = admin_url(Organization, "change", organization.pk)
    data = browser_form(staff_client, url, _save="Save")
    rows = {value: key.removesuffix("-user") for key, value in data.items() if key.endswith("-user")}

    response = staff_client.post(
        url, {**data, f"{rows[str(agent.pk)]}-role": "owner", f"{rows[str(owner.pk)]}-DELETE": "on"}
    )

    assert response.status_code == 302
    assert list(organization.memberships.values_list("user__email", "role")) == [("agent@acme.test", "owner")]
