import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.contrib.auth.tokens import default_token_generator
from django.core import mail

from accounts import services
from accounts.models import AgentToken, ApiKey, AuditEvent, Membership, User
from tickets import services as ticket_services
from tickets.actors import Actor
from tickets.exceptions import InvalidInput, PermissionDenied
from tickets.models import Inbox, TicketEvent
from tickets.tests import factories


@pytest.fixture
def invite(django_capture_on_commit_callbacks):
    """invite_member, with its after-commit email sent as a committed request would."""

    def call(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return services.invite_member(**kwargs)

    return call


@pytest.fixture
def admin(organization):
    return factories.make_agent(organization, email="admin@acme.test", name="Ada Admin", role="admin")


def membership_of(user, organization) -> Membership:
    return Membership.objects.select_related("organization", "user").get(user=user, organization=organization)


def public_key_pem(key) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


# Inboxes


def test_create_inbox_records_an_audit_event(organization, owner):
    inbox = ticket_services.create_inbox(
        organization=organization,
        actor=Actor.agent(owner),
        name="Billing",
        prefix="bil",
        daily_limit_per_customer=None,
        auto_assignment=Inbox.AutoAssignment.LEAST_LOADED_N1,
    )
    assert inbox.prefix == "BIL"
    assert inbox.daily_limit_per_customer is None
    event = AuditEvent.objects.get()
    assert event.action == AuditEvent.Action.INBOX_CREATED
    assert event.organization == organization
    assert event.actor_user == owner
    assert event.changes["prefix"] == "BIL"


def test_a_new_default_inbox_takes_the_role_from_the_old_one(organization, inbox, owner):
    new = ticket_services.create_inbox(
        organization=organization, actor=Actor.agent(owner), name="Sales", prefix="SAL", is_default=True
    )
    inbox.refresh_from_db()
    assert new.is_default and not inbox.is_default
    ticket_services.update_inbox(inbox=inbox, actor=Actor.agent(owner), is_default=True)
    new.refresh_from_db()
    inbox.refresh_from_db()
    assert inbox.is_default and not new.is_default


def test_inbox_prefix_must_be_unique_in_the_organization(organization, inbox, owner, other_organization):
    with pytest.raises(InvalidInput) as error:
        ticket_services.create_inbox(
            organization=organization, actor=Actor.agent(owner), name="Other", prefix="INV"
        )
    assert error.value.field == "prefix"
    other_owner = factories.make_agent(other_organization, role="owner")
    ticket_services.create_inbox(
        organization=other_organization, actor=Actor.agent(other_owner), name="X", prefix="INV"
    )


def test_update_inbox_records_each_changed_field_before_and_after(inbox, owner):
    ticket_services.update_inbox(
        inbox=inbox, actor=Actor.agent(owner), name="Invoices", daily_limit_per_customer=5, support_email=""
    )
    event = AuditEvent.objects.get(action=AuditEvent.Action.INBOX_UPDATED)
    assert event.changes == {"daily_limit_per_customer": {"before": None, "after": 5}}


def test_update_inbox_without_changes_records_nothing(inbox, owner):
    ticket_services.update_inbox(inbox=inbox, actor=Actor.agent(owner), name=inbox.name)
    assert not AuditEvent.objects.exists()


def test_an_agent_cannot_change_inboxes(inbox, agent):
    with pytest.raises(PermissionDenied):
        ticket_services.update_inbox(inbox=inbox, actor=Actor.agent(agent), name="Hacked")
    inbox.refresh_from_db()
    assert inbox.name == "Invoices"


# Members


def test_inviting_a_new_person_creates_a_user_without_password_and_mails_a_set_password_link(
    organization, owner, invite
):
    membership, created = invite(
        organization=organization,
        actor=Actor.agent(owner),
        email="New.Person@Example.com",
        name="New Person",
        role=Membership.Role.AGENT,
        tier=Membership.Tier.N2,
    )
    user = User.objects.get(email="new.person@example.com")
    assert created and membership.user == user and membership.tier == "n2"
    assert not user.has_usable_password()
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["new.person@example.com"]
    assert sent.subject == "Olga Owner added you to Acme on Helpdesk"
    html = sent.alternatives[0].content
    assert "Olga Owner added you to Acme on Helpdesk as agent." in sent.body
    assert "Choose a password to sign in" in sent.body
    assert "Choose your password</a>" in html and "<strong>Acme</strong>" in html
    link = next(word for word in sent.body.split() if "/accounts/reset/" in word)
    assert link in html
    uidb64, token = link.rstrip("/").split("/")[-2:]
    assert default_token_generator.check_token(user, token)
    assert AuditEvent.objects.get().action == AuditEvent.Action.MEMBER_INVITED


def test_set_password_link_from_the_invitation_lets_the_person_choose_a_password(
    client, organization, owner, invite
):
    invite(organization=organization, actor=Actor.agent(owner), email="new@example.com")
    link = next(word for word in mail.outbox[0].body.split() if "/accounts/reset/" in word)
    path = link.removeprefix("http://testserver")
    response = client.get(path)
    assert response.status_code == 302  # Django swaps the token for a session and redirects
    response = client.post(
        response["Location"],
        {"new_password1": "a quite long passphrase", "new_password2": "a quite long passphrase"},
    )
    assert response.status_code == 302
    assert User.objects.get(email="new@example.com").check_password("a quite long passphrase")


def test_inviting_a_member_twice_is_refused(organization, owner, agent, invite):
    with pytest.raises(InvalidInput) as error:
        invite(organization=organization, actor=Actor.agent(owner), email="AGENT@acme.test")
    assert error.value.field == "email"
    assert mail.outbox == []


def test_an_admin_cannot_make_an_owner(organization, admin):
    with pytest.raises(PermissionDenied):
        services.invite_member(
            organization=organization, actor=Actor.agent(admin), email="x@example.com", role="owner"
        )
    assert not User.objects.filter(email="x@example.com").exists()


def test_role_and_tier_changes_are_recorded(organization, owner, agent):
    services.update_membership(
        membership=membership_of(agent, organization), actor=Actor.agent(owner), role="admin", tier="n3"
    )
    membership = membership_of(agent, organization)
    assert (membership.role, membership.tier) == ("admin", "n3")
    assert AuditEvent.objects.get().changes == {
        "role": {"before": "agent", "after": "admin"},
        "tier": {"before": "n1", "after": "n3"},
    }


def test_the_last_owner_cannot_be_demoted_or_removed(organization, owner):
    with pytest.raises(InvalidInput):
        services.update_membership(
            membership=membership_of(owner, organization), actor=Actor.agent(owner), role="admin"
        )
    with pytest.raises(InvalidInput):
        services.remove_member(membership=membership_of(owner, organization), actor=Actor.agent(owner))
    assert membership_of(owner, organization).role == "owner"


def test_an_owner_can_step_down_when_another_owner_remains(organization, owner):
    second = factories.make_agent(organization, role="owner")
    services.update_membership(
        membership=membership_of(owner, organization), actor=Actor.agent(second), role="admin"
    )
    assert membership_of(owner, organization).role == "admin"


def test_an_admin_cannot_demote_or_remove_an_owner(organization, owner, admin):
    factories.make_agent(organization, role="owner")
    with pytest.raises(PermissionDenied):
        services.update_membership(
            membership=membership_of(owner, organization), actor=Actor.agent(admin), role="agent"
        )
    with pytest.raises(PermissionDenied):
        services.remove_member(membership=membership_of(owner, organization), actor=Actor.agent(admin))


def test_removing_a_member_unassigns_their_open_tickets_through_the_ticket_services(
    organization, inbox, owner, agent
):
    ticket = factories.make_ticket(inbox)
    ticket_services.assign(ticket=ticket, assignee=agent, actor=Actor.agent(owner))
    services.remove_member(membership=membership_of(agent, organization), actor=Actor.agent(owner))
    ticket.refresh_from_db()
    assert ticket.assignee is None
    last_assignment = TicketEvent.objects.filter(ticket=ticket, action="assigned").last()
    assert (last_assignment.before, last_assignment.after) == (agent.pk, None)
    assert last_assignment.actor_user == owner
    assert not Membership.objects.filter(user=agent, organization=organization).exists()
    assert User.objects.filter(pk=agent.pk).exists()
    assert AuditEvent.objects.get().action == AuditEvent.Action.MEMBER_REMOVED


def test_an_agent_sets_their_own_availability(organization, agent):
    services.set_availability(membership=membership_of(agent, organization), is_available=False)
    assert membership_of(agent, organization).is_available is False


def test_an_agent_cannot_change_their_own_role(organization, agent):
    with pytest.raises(PermissionDenied):
        services.update_membership(
            membership=membership_of(agent, organization), actor=Actor.agent(agent), role="admin"
        )


# API keys


def test_a_new_api_key_works_once_shown_and_is_stored_hashed(organization, inbox, owner):
    api_key, plaintext = services.create_api_key(
        organization=organization, actor=Actor.agent(owner), name="Billing backend", inbox=inbox
    )
    assert plaintext.startswith("hdk_")
    assert plaintext not in api_key.hashed_key and plaintext not in api_key.pk
    assert ApiKey.objects.get_from_key(plaintext) == api_key
    assert api_key.inbox == inbox
    assert AuditEvent.objects.get().changes == {"inbox": "Invoices"}


def test_an_api_key_cannot_be_restricted_to_another_organizations_inbox(organization, owner, other_inbox):
    with pytest.raises(InvalidInput):
        services.create_api_key(
            organization=organization, actor=Actor.agent(owner), name="X", inbox=other_inbox
        )


def test_a_revoked_api_key_stops_working(client_for_key, organization, inbox, owner):
    api_key, plaintext = services.create_api_key(
        organization=organization, actor=Actor.agent(owner), name="Backend"
    )
    assert client_for_key(plaintext).get("/api/v1/tickets").status_code == 200
    services.revoke_api_key(api_key=api_key, actor=Actor.agent(owner))
    assert client_for_key(plaintext).get("/api/v1/tickets").status_code == 401
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["api_key_revoked", "api_key_created"]


# Customer JWTs


def test_rotating_the_jwt_secret_replaces_it(organization, owner):
    old = organization.jwt_secret
    services.rotate_jwt_secret(organization=organization, actor=Actor.agent(owner))
    organization.refresh_from_db()
    assert organization.jwt_secret != old and len(organization.jwt_secret) >= 32
    event = AuditEvent.objects.get()
    assert event.action == AuditEvent.Action.JWT_SECRET_ROTATED
    assert old not in str(event.changes) and organization.jwt_secret not in str(event.changes)


def test_an_rsa_public_key_is_accepted_and_can_be_cleared(organization, owner):
    pem = public_key_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    services.set_jwt_public_key(organization=organization, actor=Actor.agent(owner), pem=pem)
    organization.refresh_from_db()
    assert organization.jwt_public_key.startswith("-----BEGIN PUBLIC KEY-----")
    services.set_jwt_public_key(organization=organization, actor=Actor.agent(owner), pem="")
    organization.refresh_from_db()
    assert organization.jwt_public_key == ""
    assert AuditEvent.objects.count() == 2


@pytest.mark.parametrize(
    "pem, message",
    [
        ("not a key", "Not a PEM public key"),
        ("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", "Not a PEM public key"),
    ],
)
def test_a_malformed_public_key_is_refused(organization, owner, pem, message):
    with pytest.raises(InvalidInput) as error:
        services.set_jwt_public_key(organization=organization, actor=Actor.agent(owner), pem=pem)
    assert message in error.value.message


def test_a_non_rsa_or_short_public_key_is_refused(organization, owner):
    with pytest.raises(InvalidInput, match="RSA"):
        services.validate_jwt_public_key(public_key_pem(ec.generate_private_key(ec.SECP256R1())))
    with pytest.raises(InvalidInput, match="2048"):
        services.validate_jwt_public_key(
            public_key_pem(rsa.generate_private_key(public_exponent=65537, key_size=1024))  # noqa: S505 - the point of the test
        )


# Personal API tokens


def test_an_agent_token_is_shown_once_and_authenticates_the_agent_api(client, organization, inbox, agent):
    token, plaintext = services.create_agent_token(user=agent, name="Laptop")
    assert plaintext.startswith("hda_") and plaintext not in token.hashed_secret
    assert AgentToken.find(plaintext) == token
    services.revoke_agent_token(token=token, actor=Actor.agent(agent))
    assert AgentToken.find(plaintext) is None
    assert list(AuditEvent.objects.values_list("action", flat=True)) == [
        "agent_token_revoked",
        "agent_token_created",
    ]


def test_only_the_owner_of_a_token_revokes_it(agent, owner):
    token, _ = services.create_agent_token(user=agent, name="Laptop")
    with pytest.raises(PermissionDenied):
        services.revoke_agent_token(token=token, actor=Actor.agent(owner))


# Saved replies (tickets/services.py)


def test_saved_replies_are_created_updated_and_deleted_with_audit_events(organization, owner):
    actor = Actor.agent(owner)
    reply = ticket_services.create_saved_reply(
        organization=organization, actor=actor, title="Refund", body="Hi {{ customer_name }}, done."
    )
    ticket_services.update_saved_reply(saved_reply=reply, actor=actor, title="Refund sent", body=reply.body)
    reply.refresh_from_db()
    assert reply.title == "Refund sent"
    ticket_services.delete_saved_reply(saved_reply=reply, actor=actor)
    assert list(AuditEvent.objects.values_list("action", flat=True)) == [
        "saved_reply_deleted",
        "saved_reply_updated",
        "saved_reply_created",
    ]


def test_a_saved_reply_needs_a_title_and_a_body(organization, owner):
    with pytest.raises(InvalidInput):
        ticket_services.create_saved_reply(
            organization=organization, actor=Actor.agent(owner), title="", body="x"
        )
    with pytest.raises(InvalidInput):
        ticket_services.create_saved_reply(
            organization=organization, actor=Actor.agent(owner), title="x", body=" "
        )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_owners_demoting_each_other_at_once_leave_one_owner():
    import threading

    from django.db import connection

    organization = factories.make_organization()
    first = factories.make_agent(organization, role="owner")
    second = factories.make_agent(organization, role="owner")
    start = threading.Barrier(2)
    outcomes = []

    def demote(actor_user, target_user):
        try:
            start.wait(timeout=30)
            services.update_membership(
                membership=membership_of(target_user, organization),
                actor=Actor.agent(actor_user),
                role="admin",
            )
            outcomes.append("demoted")
        except (InvalidInput, PermissionDenied) as error:
            outcomes.append(type(error).__name__)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=demote, args=(first, second)),
        threading.Thread(target=demote, args=(second, first)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # The loser is refused: either the organization would lose its last owner, or the
    # loser has just stopped being an owner and may no longer demote one.
    assert outcomes.count("demoted") == 1 and len(outcomes) == 2
    assert Membership.objects.filter(organization=organization, role="owner").count() == 1


def test_resending_an_invitation_mails_a_working_link_and_is_recorded(
    organization, owner, invite, django_capture_on_commit_callbacks
):
    membership, _ = invite(organization=organization, actor=Actor.agent(owner), email="late@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        services.resend_invitation(membership=membership, actor=Actor.agent(owner))
    assert len(mail.outbox) == 2
    link = next(word for word in mail.outbox[1].body.split() if "/accounts/reset/" in word)
    assert default_token_generator.check_token(membership.user, link.rstrip("/").split("/")[-1])
    assert AuditEvent.objects.first().action == AuditEvent.Action.INVITATION_RESENT


@pytest.mark.parametrize("prefix", ["", "1AB", "TOO-LONG", "ABCDEFGHIJK"])
def test_an_inbox_prefix_must_be_capitals_and_digits(organization, owner, prefix):
    with pytest.raises(InvalidInput) as error:
        ticket_services.create_inbox(
            organization=organization, actor=Actor.agent(owner), name="X", prefix=prefix
        )
    assert error.value.field == "prefix"


def test_staff_read_the_audit_log_in_admin_but_cannot_edit_it(client, organization, owner):
    services.rotate_jwt_secret(organization=organization, actor=Actor.agent(owner))
    staff = User.objects.create_superuser(email="staff@example.com", password="x")
    client.force_login(staff)
    listing = client.get("/admin/accounts/auditevent/")
    assert listing.status_code == 200 and "JWT secret rotated" in listing.content.decode()
    event = AuditEvent.objects.get()
    assert client.get(f"/admin/accounts/auditevent/{event.pk}/change/").status_code == 200
    assert client.post(f"/admin/accounts/auditevent/{event.pk}/delete/").status_code == 403
    assert client.get("/admin/accounts/auditevent/add/").status_code == 403
