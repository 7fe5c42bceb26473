"""Settings pages: who may open each page and action, and what each action changes."""

import re

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core import mail
from django.urls import reverse

from accounts.models import ApiKey, AuditEvent, Membership, User
from tickets.models import Inbox
from tickets.tests import factories

RSA_PUBLIC_PEM = (
    rsa.generate_private_key(public_exponent=65537, key_size=2048)
    .public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)


@pytest.fixture
def admin(organization):
    return factories.make_agent(organization, email="admin@acme.test", name="Ada Admin", role="admin")


@pytest.fixture
def other_owner(other_organization, other_inbox):
    return factories.make_agent(other_organization, email="owner@globex.test", role="owner")


@pytest.fixture
def key(organization, owner):
    return factories.make_api_key(organization, name="Backend")[0]


@pytest.fixture
def setting_objects(inbox, agent, key, organization):
    """One object of each kind in ``organization``, for the URLs that name one."""
    return {
        "inbox": inbox,
        "member": Membership.objects.get(user=agent, organization=organization),
        "invitee": invitee_membership(organization),
        "api_key": key,
    }


def invitee_membership(organization):
    """Someone invited who has not chosen a password yet."""
    user = User(email="invitee@acme.test")
    user.set_unusable_password()
    user.save()
    return Membership.objects.create(user=user, organization=organization)


def login(client, user):
    client.force_login(user)
    return client


# Each case: method, URL name, which object the URL names, POST data (for the writes).
PAGES = [
    ("get", "dashboard:settings-inboxes", None, None),
    ("get", "dashboard:settings-inbox-create", None, None),
    ("get", "dashboard:settings-inbox-edit", "inbox", None),
    ("get", "dashboard:settings-inbox-mailbox", "inbox", None),
    ("get", "dashboard:settings-members", None, None),
    ("get", "dashboard:settings-member-remove", "member", None),
    ("get", "dashboard:settings-api-keys", None, None),
    ("get", "dashboard:settings-security", None, None),
    ("get", "dashboard:settings-activity", None, None),
]
ACTIONS = [
    (
        "post",
        "dashboard:settings-inbox-create",
        None,
        {"name": "Sales", "prefix": "SAL", "auto_assignment": "off", "daily_limit_per_customer": ""},
    ),
    (
        "post",
        "dashboard:settings-inbox-edit",
        "inbox",
        {
            "name": "Bills",
            "prefix": "INV",
            "auto_assignment": "least_loaded_n1",
            "daily_limit_per_customer": "3",
        },
    ),
    (
        "post",
        "dashboard:settings-inbox-mailbox",
        "inbox",
        {
            "protocol": "imap",
            "host": "imap.example.com",
            "port": "993",
            "security": "tls",
            "authentication": "password",
            "username": "support@example.com",
            "password": "app-password",
            "folder": "INBOX",
            "is_active": "on",
        },
    ),
    ("post", "dashboard:settings-members", None, {"email": "new@example.com", "role": "agent", "tier": "n1"}),
    ("post", "dashboard:settings-member-update", "member", {"role": "admin", "tier": "n2"}),
    ("post", "dashboard:settings-member-remove", "member", {}),
    ("post", "dashboard:settings-member-resend-invitation", "invitee", {}),
    ("post", "dashboard:settings-api-keys", None, {"name": "CI"}),
    ("post", "dashboard:settings-api-key-revoke", "api_key", {}),
    ("post", "dashboard:settings-jwt-rotate", None, {"confirm": "on"}),
    ("post", "dashboard:settings-jwt-public-key", None, {"jwt_public_key": RSA_PUBLIC_PEM}),
]
OBJECT_URL_KWARGS = {
    "inbox": lambda inbox: {"public_id": inbox.public_id},
    "member": lambda membership: {"pk": membership.pk},
    "invitee": lambda membership: {"pk": membership.pk},
    "api_key": lambda api_key: {"prefix": api_key.prefix},
}


def url_for(name, object_kind, objects):
    if object_kind is None:
        return reverse(name)
    return reverse(name, kwargs=OBJECT_URL_KWARGS[object_kind](objects[object_kind]))


def post_data(name, data, objects):
    if name == "dashboard:settings-member-update":
        pk = objects["member"].pk
        return {f"member-{pk}-{field}": value for field, value in data.items()}
    return data


CASES = PAGES + ACTIONS


@pytest.mark.parametrize("method, name, object_kind, data", CASES, ids=[f"{c[0]} {c[1]}" for c in CASES])
@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owners_and_admins_can_use_every_settings_page_and_action(
    client, request, setting_objects, role, method, name, object_kind, data
):
    user = request.getfixturevalue(role)
    login(client, user)
    url = url_for(name, object_kind, setting_objects)
    events_before = AuditEvent.objects.count()
    if method == "get":
        response = client.get(url)
        assert response.status_code == 200, response.content[:500]
    else:
        response = client.post(url, post_data(name, data, setting_objects))
        assert response.status_code == 302, response.content.decode()[:2000]
        assert AuditEvent.objects.count() == events_before + 1
        assert AuditEvent.objects.first().actor_user == user


@pytest.mark.parametrize("method, name, object_kind, data", CASES, ids=[f"{c[0]} {c[1]}" for c in CASES])
def test_an_agent_gets_403_on_every_settings_page_and_action(
    client, agent, setting_objects, method, name, object_kind, data
):
    login(client, agent)
    url = url_for(name, object_kind, setting_objects)
    response = getattr(client, method)(url, post_data(name, data or {}, setting_objects))
    assert response.status_code == 403
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("method, name, object_kind, data", CASES, ids=[f"{c[0]} {c[1]}" for c in CASES])
def test_anonymous_visitors_are_sent_to_sign_in(client, setting_objects, method, name, object_kind, data):
    url = url_for(name, object_kind, setting_objects)
    response = getattr(client, method)(url, post_data(name, data or {}, setting_objects))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


OBJECT_CASES = [case for case in CASES if case[2] is not None]


@pytest.mark.parametrize(
    "method, name, object_kind, data", OBJECT_CASES, ids=[f"{c[0]} {c[1]}" for c in OBJECT_CASES]
)
def test_an_owner_of_another_organization_gets_404_for_our_objects(
    client, other_owner, setting_objects, method, name, object_kind, data
):
    login(client, other_owner)
    url = url_for(name, object_kind, setting_objects)
    response = getattr(client, method)(url, post_data(name, data or {}, setting_objects))
    assert response.status_code == 404
    assert not AuditEvent.objects.exists()


WRONG_METHODS = [
    ("delete", "dashboard:settings-inboxes", None),
    ("post", "dashboard:settings-inboxes", None),
    ("put", "dashboard:settings-inbox-edit", "inbox"),
    ("put", "dashboard:settings-inbox-mailbox", "inbox"),
    ("get", "dashboard:settings-inbox-send-verification", "inbox"),
    ("get", "dashboard:settings-member-update", "member"),
    ("get", "dashboard:settings-member-resend-invitation", "invitee"),
    ("get", "dashboard:settings-api-key-revoke", "api_key"),
    ("post", "dashboard:settings-api-key-created", "api_key"),
    ("post", "dashboard:settings-security", None),
    ("get", "dashboard:settings-jwt-rotate", None),
    ("get", "dashboard:settings-jwt-public-key", None),
    ("post", "dashboard:settings-activity", None),
]


@pytest.mark.parametrize(
    "method, name, object_kind", WRONG_METHODS, ids=[f"{c[0]} {c[1]}" for c in WRONG_METHODS]
)
def test_a_wrong_method_is_405(client, owner, setting_objects, method, name, object_kind):
    login(client, owner)
    response = getattr(client, method)(url_for(name, object_kind, setting_objects))
    assert response.status_code == 405


def test_settings_of_another_organization_are_never_listed(client, owner, inbox, other_owner, other_inbox):
    factories.make_api_key(other_inbox.organization, name="Globex secret backend")
    login(client, owner)
    assert "Globex" not in client.get(reverse("dashboard:settings-inboxes")).content.decode()
    assert "Globex" not in client.get(reverse("dashboard:settings-api-keys")).content.decode()
    assert "globex" not in client.get(reverse("dashboard:settings-members")).content.decode()


def test_settings_root_opens_the_inboxes(client, owner):
    login(client, owner)
    response = client.get(reverse("dashboard:settings"))
    assert response.status_code == 302 and response["Location"] == reverse("dashboard:settings-inboxes")


# What the actions do


def test_creating_an_inbox_with_no_daily_limit_and_auto_assignment(client, owner, organization, inbox):
    login(client, owner)
    response = client.post(
        reverse("dashboard:settings-inbox-create"),
        {
            "name": "Sales",
            "prefix": "sal",
            "support_email": "sales@acme.test",
            "daily_limit_per_customer": "",
            "auto_assignment": "least_loaded_n1",
            "is_default": "on",
        },
    )
    assert response.status_code == 302
    sales = Inbox.objects.get(organization=organization, prefix="SAL")
    assert sales.daily_limit_per_customer is None
    assert sales.auto_assignment == "least_loaded_n1"
    assert sales.support_email == "sales@acme.test"
    assert sales.is_default
    inbox.refresh_from_db()
    assert not inbox.is_default


def test_an_inbox_form_shows_errors_and_changes_nothing(client, owner, organization, inbox):
    login(client, owner)
    response = client.post(
        reverse("dashboard:settings-inbox-create"),
        {"name": "Dup", "prefix": "INV", "auto_assignment": "off", "daily_limit_per_customer": "0"},
    )
    assert response.status_code == 200
    assert "Another inbox of this organization uses this prefix." in response.content.decode()
    assert Inbox.objects.filter(organization=organization).count() == 1
    assert not AuditEvent.objects.exists()


def test_inviting_from_the_agents_page_sends_the_set_password_email(
    client, owner, organization, django_capture_on_commit_callbacks
):
    login(client, owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("dashboard:settings-members"),
            {"email": "newbie@example.com", "name": "New Bie", "role": "admin", "tier": "n2"},
        )
    assert response.status_code == 302
    user = User.objects.get(email="newbie@example.com")
    membership = Membership.objects.get(user=user, organization=organization)
    assert (membership.role, membership.tier) == ("admin", "n2")
    assert len(mail.outbox) == 1 and "/accounts/reset/" in mail.outbox[0].body
    page = client.get(reverse("dashboard:settings-members"))
    assert [row["email"] for row in page.context["waiting"]] == ["newbie@example.com"]
    assert "Invitations waiting for an answer" in page.content.decode()


def test_an_admin_is_not_offered_the_owner_role_and_cannot_post_it(client, admin, organization, agent):
    login(client, admin)
    page = client.get(reverse("dashboard:settings-members")).content.decode()
    assert 'value="owner"' not in page
    membership = Membership.objects.get(user=agent, organization=organization)
    response = client.post(
        reverse("dashboard:settings-member-update", args=[membership.pk]),
        {f"member-{membership.pk}-role": "owner", f"member-{membership.pk}-tier": "n1"},
        follow=True,
    )
    assert "Only an owner" in response.content.decode()
    membership.refresh_from_db()
    assert membership.role == "agent"


def test_the_last_owner_cannot_demote_or_remove_themselves(client, owner, organization):
    login(client, owner)
    membership = Membership.objects.get(user=owner, organization=organization)
    response = client.post(
        reverse("dashboard:settings-member-update", args=[membership.pk]),
        {f"member-{membership.pk}-role": "agent", f"member-{membership.pk}-tier": "n1"},
        follow=True,
    )
    assert "at least one owner" in response.content.decode()
    response = client.post(reverse("dashboard:settings-member-remove", args=[membership.pk]), follow=True)
    assert "at least one owner" in response.content.decode()
    membership.refresh_from_db()
    assert membership.role == "owner"


def test_a_new_api_key_is_shown_once_on_the_next_page_and_never_again(client, owner, organization, inbox):
    login(client, owner)
    response = client.post(reverse("dashboard:settings-api-keys"), {"name": "Billing", "inbox": inbox.pk})
    api_key = ApiKey.objects.get(organization=organization, name="Billing")
    assert api_key.inbox == inbox
    assert response["Location"] == reverse("dashboard:settings-api-key-created", args=[api_key.prefix])
    page = client.get(response["Location"])
    assert "no-store" in page["Cache-Control"]
    plaintext = re.search(r'value="(hdk_[^"]+)"', page.content.decode()).group(1)
    assert ApiKey.objects.get_from_key(plaintext) == api_key
    again = client.get(response["Location"])
    assert again.status_code == 302
    assert plaintext not in client.get(reverse("dashboard:settings-api-keys")).content.decode()
    listing = client.get(reverse("dashboard:settings-api-keys")).content.decode()
    assert f"hdk_{api_key.prefix}" in listing and "Invoices" in listing


def test_an_api_key_cannot_be_restricted_to_another_organizations_inbox(
    client, owner, organization, other_inbox
):
    login(client, owner)
    response = client.post(
        reverse("dashboard:settings-api-keys"), {"name": "Sneaky", "inbox": other_inbox.pk}
    )
    assert response.status_code == 200
    assert not ApiKey.objects.filter(name="Sneaky").exists()


def test_revoking_an_api_key_from_the_page(client, owner, key):
    login(client, owner)
    client.post(reverse("dashboard:settings-api-key-revoke", args=[key.prefix]))
    key.refresh_from_db()
    assert key.revoked
    assert "Revoked" in client.get(reverse("dashboard:settings-api-keys")).content.decode()


def test_rotating_the_jwt_secret_needs_the_confirmation(client, owner, organization):
    login(client, owner)
    old = organization.jwt_secret
    client.post(reverse("dashboard:settings-jwt-rotate"), {})
    organization.refresh_from_db()
    assert organization.jwt_secret == old
    client.post(reverse("dashboard:settings-jwt-rotate"), {"confirm": "on"})
    organization.refresh_from_db()
    assert organization.jwt_secret != old
    assert organization.jwt_secret in client.get(reverse("dashboard:settings-security")).content.decode()


def test_an_invalid_public_key_is_shown_as_a_form_error(client, owner, organization):
    login(client, owner)
    response = client.post(reverse("dashboard:settings-jwt-public-key"), {"jwt_public_key": "garbage"})
    assert response.status_code == 200
    assert "Not a PEM public key" in response.content.decode()
    assert not AuditEvent.objects.exists()


def test_the_saved_replies_page_of_old_leads_to_the_macros(client, owner):
    # Saved replies became macros (Settings → Macros, the automation app's pages).
    login(client, owner)
    response = client.get(reverse("dashboard:settings-saved-replies"))
    assert response.status_code == 301
    assert response["Location"] == "/desk/automation/macros/"
    page = client.get(reverse("dashboard:settings-inboxes")).content.decode()
    assert 'href="/desk/automation/macros/"' in page and "Saved replies" not in page


def test_the_organization_switcher_choice_decides_whose_settings_are_shown(client, owner, other_organization):
    # Olga also owns Globex; with Globex chosen she sees Globex's inboxes.
    Membership.objects.create(user=owner, organization=other_organization, role="owner")
    factories.make_inbox(other_organization, name="Globex desk", prefix="GDK")
    login(client, owner)
    session = client.session
    session["organization_id"] = other_organization.pk
    session.save()
    assert "Globex desk" in client.get(reverse("dashboard:settings-inboxes")).content.decode()


# Query counts


def test_the_inbox_list_runs_a_fixed_number_of_queries(
    client, owner, organization, django_assert_max_num_queries
):
    login(client, owner)
    for number in range(2):
        factories.make_inbox(organization, name=f"Inbox {number}")
    client.get(reverse("dashboard:settings-inboxes"))
    with django_assert_max_num_queries(6):
        client.get(reverse("dashboard:settings-inboxes"))
    for number in range(10):
        factories.make_inbox(organization, name=f"More {number}")
    with django_assert_max_num_queries(6):
        client.get(reverse("dashboard:settings-inboxes"))


def test_the_member_list_runs_a_fixed_number_of_queries(
    client, owner, organization, django_assert_max_num_queries
):
    login(client, owner)
    factories.make_agent(organization)
    with django_assert_max_num_queries(6):
        client.get(reverse("dashboard:settings-members"))
    for _ in range(10):
        factories.make_agent(organization)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("dashboard:settings-members"))
    assert response.content.decode().count("Send invitation") == 1


def test_the_api_key_list_runs_a_fixed_number_of_queries(
    client, owner, organization, inbox, django_assert_max_num_queries
):
    login(client, owner)
    factories.make_api_key(organization, inbox=inbox)
    with django_assert_max_num_queries(7):
        client.get(reverse("dashboard:settings-api-keys"))
    for number in range(10):
        factories.make_api_key(organization, name=f"Key {number}", inbox=inbox)
    with django_assert_max_num_queries(7):
        client.get(reverse("dashboard:settings-api-keys"))


def test_the_audit_log_runs_a_fixed_number_of_queries(
    client, owner, organization, django_assert_max_num_queries
):
    login(client, owner)
    for number in range(12):
        factories.make_api_key(organization, name=f"Key {number}")
    with django_assert_max_num_queries(7):
        client.get(reverse("dashboard:settings-activity"))


def test_the_page_with_the_jwt_secret_is_never_cached(client, owner):
    login(client, owner)
    assert "no-store" in client.get(reverse("dashboard:settings-security"))["Cache-Control"]


@pytest.mark.parametrize("method, name, object_kind, data", CASES, ids=[f"{c[0]} {c[1]}" for c in CASES])
def test_an_agent_of_another_organization_gets_403_and_changes_nothing(
    client, other_agent, setting_objects, method, name, object_kind, data
):
    # Not a manager anywhere: refused before any lookup, so nothing about our objects leaks.
    login(client, other_agent)
    url = url_for(name, object_kind, setting_objects)
    response = getattr(client, method)(url, post_data(name, data or {}, setting_objects))
    assert response.status_code == 403
    assert not AuditEvent.objects.exists()


def test_a_pending_invitation_can_be_sent_again(
    client, owner, organization, django_capture_on_commit_callbacks
):
    invitee = invitee_membership(organization)
    login(client, owner)
    assert "Resend invitation" in client.get(reverse("dashboard:settings-members")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("dashboard:settings-member-resend-invitation", args=[invitee.pk]))
    assert [message.to for message in mail.outbox] == [["invitee@acme.test"]]
    assert "/accounts/reset/" in mail.outbox[0].body


def test_an_invitation_is_not_resent_to_someone_with_a_password(client, owner, organization, agent):
    login(client, owner)
    membership = Membership.objects.get(user=agent, organization=organization)
    response = client.post(
        reverse("dashboard:settings-member-resend-invitation", args=[membership.pk]), follow=True
    )
    assert "already chosen a password" in response.content.decode()
    assert mail.outbox == []
