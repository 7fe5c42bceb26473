"""Who may call the native API: organization keys, agent tokens, and everything else (401)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AgentToken, ApiKey
from tickets.tests import factories
from tickets.tests.api_helpers import assert_error

pytestmark = pytest.mark.django_db


def _client(**headers) -> APIClient:
    client = APIClient()
    client.credentials(**headers)
    return client


# API keys ---------------------------------------------------------------------------------


def test_key_is_accepted_as_x_api_key_and_as_bearer(api_key, ticket):
    for client in (_client(HTTP_X_API_KEY=api_key), _client(HTTP_AUTHORIZATION=f"Bearer {api_key}")):
        response = client.get(f"/api/v1/tickets/{ticket.public_id}")
        assert response.status_code == 200


def test_bearer_keyword_is_case_insensitive(api_key, inbox):
    assert _client(HTTP_AUTHORIZATION=f"bearer {api_key}").get("/api/v1/tickets").status_code == 200


def test_keys_are_shown_with_a_recognisable_prefix_and_stored_hashed(organization):
    api_key, plaintext = factories.make_api_key(organization)

    assert plaintext.startswith(f"hdk_{api_key.prefix}.")
    assert len(plaintext.partition(".")[2]) >= 32
    stored = ApiKey.objects.get(pk=api_key.pk)
    assert plaintext not in stored.hashed_key
    assert plaintext.partition(".")[2] not in stored.pk


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_X_API_KEY": ""},
        {"HTTP_X_API_KEY": "nonsense"},
        {"HTTP_X_API_KEY": "hdk_AAAAAAAA.not-the-secret"},
        {"HTTP_AUTHORIZATION": "Bearer "},
        {"HTTP_AUTHORIZATION": "Bearer hdk_AAAAAAAA.not-the-secret"},
        {"HTTP_AUTHORIZATION": "Bearer something-else"},
        {"HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz"},
        {"HTTP_AUTHORIZATION": "Bearer hda_AAAAAAAAAAAA.not-a-token"},
    ],
)
def test_missing_or_bad_credential_is_401_in_the_error_shape(inbox, headers):
    response = _client(**headers).get("/api/v1/tickets")

    assert_error(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_key_with_a_wrong_secret_is_401(api_key, inbox):
    prefix, _, secret = api_key.partition(".")
    tampered = f"{prefix}.{secret[:-1]}{'A' if secret[-1] != 'A' else 'B'}"

    assert_error(_client(HTTP_X_API_KEY=tampered).get("/api/v1/tickets"), 401)


def test_revoked_key_is_401(organization, inbox):
    api_key, plaintext = factories.make_api_key(organization)
    api_key.revoked = True
    api_key.save()

    assert_error(_client(HTTP_X_API_KEY=plaintext).get("/api/v1/tickets"), 401)


def test_expired_key_is_401(organization, inbox):
    api_key, plaintext = factories.make_api_key(organization)
    api_key.expiry_date = timezone.now() - timedelta(minutes=1)
    api_key.save()

    assert_error(_client(HTTP_AUTHORIZATION=f"Bearer {plaintext}").get("/api/v1/tickets"), 401)


def test_key_use_is_recorded_at_most_once_a_minute(organization, inbox):
    api_key, plaintext = factories.make_api_key(organization)
    client = _client(HTTP_X_API_KEY=plaintext)

    client.get("/api/v1/tickets")
    first_use = ApiKey.objects.get(pk=api_key.pk).last_used_at
    client.get("/api/v1/tickets")

    assert first_use is not None
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at == first_use


# Organization isolation -------------------------------------------------------------------


def test_key_of_one_organization_gets_404_for_anothers_objects(api, inbox, other_organization, other_inbox):
    ticket = factories.make_ticket(other_inbox)
    tag = factories_tag(other_organization)

    for path in (
        f"/api/v1/tickets/{ticket.public_id}",
        f"/api/v1/tickets/{ticket.public_id}/messages",
        f"/api/v1/tickets/{ticket.public_id}/events",
        f"/api/v1/inboxes/{other_inbox.public_id}",
        f"/api/v1/customers/{ticket.customer.public_id}",
        f"/api/v1/tags/{tag.pk}",
    ):
        assert_error(api.get(path), 404)
    assert_error(api.patch(f"/api/v1/tickets/{ticket.public_id}", {"status": "closed"}, format="json"), 404)
    assert_error(api.post(f"/api/v1/tickets/{ticket.public_id}/messages", {"body": "x"}, format="json"), 404)
    assert_error(api.post(f"/api/v1/tickets/{ticket.public_id}/rotate-private-link"), 404)
    assert_error(
        api.patch(f"/api/v1/customers/{ticket.customer.public_id}", {"name": "X"}, format="json"), 404
    )
    assert_error(api.patch(f"/api/v1/tags/{tag.pk}", {"name": "renamed"}, format="json"), 404)
    assert_error(api.delete(f"/api/v1/tags/{tag.pk}"), 404)
    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_key_of_one_organization_cannot_create_in_anothers_inbox(api, inbox, other_inbox):
    response = api.post(
        "/api/v1/tickets",
        {
            "inbox": other_inbox.public_id,
            "customer": {"email": "a@b.test"},
            "subject": "Hello",
            "message": "Hi",
        },
        format="json",
    )

    assert_error(response, 404)
    assert not other_inbox.tickets.exists()


def test_lists_show_only_the_callers_organization(api, inbox, other_organization, other_inbox):
    mine = factories.make_ticket(inbox)
    factories.make_ticket(other_inbox)
    factories_tag(other_organization)

    assert [row["id"] for row in api.get("/api/v1/tickets").json()["data"]] == [mine.public_id]
    assert [row["id"] for row in api.get("/api/v1/inboxes").json()["data"]] == [inbox.public_id]
    assert [row["id"] for row in api.get("/api/v1/customers").json()["data"]] == [mine.customer.public_id]
    assert api.get("/api/v1/tags").json()["data"] == []


def test_filtering_by_another_organizations_ids_finds_nothing(api, inbox, other_inbox):
    foreign = factories.make_ticket(other_inbox)

    response = api.get(
        "/api/v1/tickets", {"inbox": other_inbox.public_id, "customer": foreign.customer.public_id}
    )

    assert response.json()["data"] == []


def factories_tag(organization):
    from tickets import services

    return services.get_or_create_tag(organization=organization, name="secret-project")[0]


# Agent tokens -----------------------------------------------------------------------------


def test_agent_token_reaches_the_same_endpoints_scoped_to_its_organizations(agent, inbox, other_inbox):
    mine = factories.make_ticket(inbox)
    foreign = factories.make_ticket(other_inbox)
    _, token = factories.make_agent_token(agent)
    client = _client(HTTP_AUTHORIZATION=f"Bearer {token}")

    assert [row["id"] for row in client.get("/api/v1/tickets").json()["data"]] == [mine.public_id]
    assert client.get(f"/api/v1/tickets/{mine.public_id}").status_code == 200
    assert_error(client.get(f"/api/v1/tickets/{foreign.public_id}"), 404)
    reply = client.post(f"/api/v1/tickets/{mine.public_id}/messages", {"body": "On it."}, format="json")
    assert reply.status_code == 201
    assert reply.json()["author"] == {"type": "agent", "name": "Alice Agent"}


def test_agent_of_two_organizations_sees_both(agent, inbox, other_organization, other_inbox):
    factories.make_agent(other_organization, email=agent.email)
    factories.make_ticket(inbox)
    factories.make_ticket(other_inbox)
    _, token = factories.make_agent_token(agent)

    response = _client(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/v1/tickets")

    assert response.json()["pagination"]["total"] == 2


def test_agent_token_filters_assignee_me(agent, inbox, api):
    from tickets import services
    from tickets.actors import Actor

    mine = factories.make_ticket(inbox)
    factories.make_ticket(inbox)
    services.assign(ticket=mine, assignee=agent, actor=Actor.agent(agent))
    _, token = factories.make_agent_token(agent)

    response = _client(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/v1/tickets", {"assignee": "me"})

    assert [row["id"] for row in response.json()["data"]] == [mine.public_id]
    assert_error(api.get("/api/v1/tickets", {"assignee": "me"}), 400, field="assignee")


@pytest.mark.parametrize("state", ["revoked", "expired", "inactive user"])
def test_unusable_agent_token_is_401(agent, inbox, state):
    token, plaintext = factories.make_agent_token(agent)
    if state == "revoked":
        AgentToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    elif state == "expired":
        AgentToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    else:
        agent.is_active = False
        agent.save()

    assert_error(_client(HTTP_AUTHORIZATION=f"Bearer {plaintext}").get("/api/v1/tickets"), 401)


def test_agent_token_is_stored_hashed(agent):
    token, plaintext = factories.make_agent_token(agent)

    assert plaintext.startswith("hda_")
    assert plaintext not in token.hashed_secret
    assert AgentToken.find(plaintext) == token
    assert AgentToken.find(plaintext + "x") is None
