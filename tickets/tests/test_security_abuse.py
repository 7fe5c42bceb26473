"""Abuse: guessing is throttled, secrets are stored hashed and compared in constant time."""

import hashlib
from unittest import mock

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import override_settings

from accounts.models import AgentToken, ApiKey, CustomerToken
from tickets.tests import factories

PASSWORD = "correct horse battery staple"


def sign_in(client, email, password, address="203.0.113.7"):
    return client.post("/accounts/login/", {"username": email, "password": password}, REMOTE_ADDR=address)


# Sign-in guessing ---------------------------------------------------------------------------


@override_settings(LOGIN_FAILURES_PER_EMAIL=5)
def test_after_five_wrong_passwords_even_the_right_one_is_refused_with_429(client, agent):
    for _ in range(4):
        assert sign_in(client, agent.email, "wrong guess").status_code == 200
    # The fifth wrong password locks: its answer is already the lockout page.
    assert sign_in(client, agent.email, "wrong guess").status_code == 429
    response = sign_in(client, agent.email, PASSWORD)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert b"Too many failed sign-in attempts" in response.content
    assert "_auth_user_id" not in client.session


@override_settings(LOGIN_FAILURES_PER_EMAIL=5)
def test_the_email_lock_holds_across_client_addresses(client, agent):
    for n in range(5):
        sign_in(client, agent.email, "wrong", address=f"198.51.100.{n}")
    assert sign_in(client, agent.email, PASSWORD, address="192.0.2.99").status_code == 429


@override_settings(
    LOGIN_FAILURES_PER_EMAIL=100,
    LOGIN_FAILURES_PER_ADDRESS=3,
    SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
)
def test_behind_the_proxy_the_address_lock_holds_the_guesser_not_everyone(client, agent):
    proxy = "10.0.0.2"
    for n in range(3):
        client.post(
            "/accounts/login/",
            {"username": f"guess{n}@example.com", "password": "wrong"},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR="198.51.100.7",
        )

    def from_client(address, forwarded_for):
        return client.post(
            "/accounts/login/",
            {"username": agent.email, "password": PASSWORD},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR=forwarded_for,
        )

    # A guesser cannot dodge the lock by claiming another address: the proxy's entry counts.
    assert from_client(proxy, "192.0.2.50, 198.51.100.7").status_code == 429
    assert from_client(proxy, "192.0.2.1").status_code == 302


@override_settings(LOGIN_FAILURES_PER_EMAIL=100, LOGIN_FAILURES_PER_ADDRESS=10)
def test_one_address_guessing_many_emails_is_throttled(client, agent):
    for n in range(10):
        sign_in(client, f"nobody{n}@acme.test", "wrong")
    assert sign_in(client, agent.email, PASSWORD).status_code == 429
    # Another address is not affected.
    assert sign_in(client, agent.email, PASSWORD, address="192.0.2.1").status_code == 302


@override_settings(LOGIN_FAILURES_PER_EMAIL=5)
def test_a_successful_sign_in_clears_the_count_for_that_email(client, agent):
    for _ in range(4):
        sign_in(client, agent.email, "wrong")
    assert sign_in(client, agent.email, PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        sign_in(client, agent.email, "wrong")
    assert sign_in(client, agent.email, PASSWORD).status_code == 302


@override_settings(LOGIN_FAILURES_PER_EMAIL=3)
def test_a_locked_attempt_never_checks_the_password(client, agent):
    # Spied on the hasher, where a password is checked whoever calls it: the form looks up
    # ``authenticate`` through its own module, so a spy on ``django.contrib.auth`` saw nothing.
    verify = MD5PasswordHasher.verify
    with mock.patch.object(MD5PasswordHasher, "verify", autospec=True, side_effect=verify) as checked:
        for _ in range(3):
            sign_in(client, agent.email, "wrong")
        assert checked.call_count == 3  # the spy sees every password that is checked
        assert sign_in(client, agent.email, PASSWORD).status_code == 429
    assert checked.call_count == 3


# Secrets at rest ------------------------------------------------------------------------------


def test_api_keys_are_stored_only_as_a_hash(organization):
    api_key, plaintext = factories.make_api_key(organization)
    row = ApiKey.objects.values().get(pk=api_key.pk)
    secret_part = plaintext.partition(".")[2]
    for value in row.values():
        assert plaintext not in str(value)
        assert secret_part not in str(value)
    assert row["hashed_key"] and row["hashed_key"] != plaintext


@pytest.mark.parametrize("model", [AgentToken, CustomerToken])
def test_agent_and_customer_tokens_are_stored_only_as_a_sha256_hash(model, agent, organization, ticket):
    token = (
        model(user=agent, name="x")
        if model is AgentToken
        else model(organization=organization, customer=ticket.customer)
    )
    plaintext = token.assign_secret()
    token.save()
    row = model.objects.values().get(pk=token.pk)
    secret_part = plaintext.partition(".")[2]
    assert all(secret_part not in str(value) for value in row.values())
    assert row["hashed_secret"] == hashlib.sha256(plaintext.encode()).hexdigest()
    assert len(secret_part) >= 22  # >= 128 bits of url-safe randomness


def test_agent_tokens_are_compared_in_constant_time(agent):
    _, plaintext = factories.make_agent_token(agent)
    with mock.patch(
        "accounts.secrets.constant_time_compare",
        wraps=__import__("django.utils.crypto", fromlist=["constant_time_compare"]).constant_time_compare,
    ) as compare:
        assert AgentToken.find(plaintext) is not None
        assert AgentToken.find(plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")) is None
    assert compare.call_count == 2


def test_api_keys_are_compared_through_the_password_hasher_in_constant_time(api, organization, inbox):
    with mock.patch("rest_framework_api_key.crypto.constant_time_compare", return_value=True) as compare:
        api.get("/api/v1/inboxes")
    assert compare.called


def test_private_links_are_compared_in_constant_time(client, ticket):
    with mock.patch("tickets.portal.views.constant_time_compare", return_value=False) as compare:
        response = client.get(ticket.private_path)
    assert response.status_code == 404
    compare.assert_called_once_with(ticket.access_key, ticket.access_key)


def test_private_link_keys_have_at_least_128_bits_of_randomness(ticket):
    key = ticket.access_key.removeprefix("tk_")
    assert len(key) * 6 >= 128


def test_a_wrong_private_link_key_is_a_404_that_does_not_reveal_the_ticket(client, ticket):
    response = client.get(f"/t/{ticket.public_id}/tk_{'A' * 32}/")
    assert response.status_code == 404
    assert ticket.subject.encode() not in response.content
