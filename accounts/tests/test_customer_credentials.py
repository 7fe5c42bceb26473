"""Customer credentials: integrator-minted tokens and JWTs from the integrator's own sign-in."""

import time
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.utils import timezone
from rest_framework.test import APIClient, APIRequestFactory

from accounts import services as account_services
from accounts.authentication import (
    BAD_CREDENTIAL,
    AgentTokenAuthentication,
    ApiKeyAuthentication,
    CustomerJWTAuthentication,
    CustomerTokenAuthentication,
)
from accounts.models import CustomerToken
from accounts.principals import PrincipalKind
from tickets.models import Customer
from tickets.tests import factories


@pytest.fixture
def jane_ticket(inbox):
    return factories.make_ticket(inbox, email="jane@example.com", subject="Jane's question")


@pytest.fixture
def jane(jane_ticket):
    customer = jane_ticket.customer
    customer.external_id = "user-42"
    customer.save(update_fields=["external_id"])
    return customer


@pytest.fixture
def bob_ticket(inbox):
    return factories.make_ticket(inbox, email="bob@example.com", subject="Bob's question")


def _client(credential: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {credential}")
    return client


def _mint(customer, lifetime=timedelta(days=1)):
    return account_services.mint_customer_token(customer=customer, expires_at=timezone.now() + lifetime)


def _claims(organization, **overrides):
    claims = {
        "iss": organization.public_id,
        "sub": "user-42",
        "email": "jane@example.com",
        "name": "Jane Doe",
        "exp": int(time.time()) + 600,
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def _hs256(organization, **overrides) -> str:
    return jwt.encode(_claims(organization, **overrides), organization.jwt_secret, algorithm="HS256")


@pytest.fixture
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _public_pem(private_key) -> str:
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _request(token: str):
    return APIRequestFactory().get("/api/v1/me/tickets", HTTP_AUTHORIZATION=f"Bearer {token}")


def _listed_ids(client) -> list[str]:
    response = client.get("/api/v1/me/tickets")
    assert response.status_code == 200, response.json()
    return [ticket["id"] for ticket in response.json()["data"]]


# Customer tokens ------------------------------------------------------------------------


def test_a_valid_customer_token_sees_only_its_customers_tickets(jane, jane_ticket, bob_ticket):
    _, plaintext = _mint(jane)
    assert _listed_ids(_client(plaintext)) == [jane_ticket.public_id]


def test_a_customer_token_authenticates_as_that_customer(jane):
    token, plaintext = _mint(jane)
    user, principal = CustomerTokenAuthentication().authenticate(_request(plaintext))
    assert user is None
    assert principal.kind == PrincipalKind.CUSTOMER
    assert principal.customer == jane
    assert principal.organization_ids == frozenset({jane.organization_id})
    assert principal.credential_id == f"customer_token:{token.pk}"
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_an_expired_customer_token_is_refused(jane):
    token, plaintext = _mint(jane)
    CustomerToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = _client(plaintext).get("/api/v1/me/tickets")
    assert response.status_code == 401
    assert response.json()["message"] == BAD_CREDENTIAL
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_customer_token_is_refused(jane):
    token, plaintext = _mint(jane)
    account_services.revoke_customer_token(token=token)
    assert _client(plaintext).get("/api/v1/me/tickets").status_code == 401


@pytest.mark.parametrize(
    "mangle",
    [
        lambda plaintext: plaintext[:-3] + "abc",  # right lookup, wrong secret
        lambda plaintext: "hdc_" + "A" * 12 + ".nothing",  # unknown lookup
        lambda plaintext: "hdc_garbage",  # not even shaped right
    ],
)
def test_a_wrong_customer_token_is_refused(jane, mangle):
    _, plaintext = _mint(jane)
    assert _client(mangle(plaintext)).get("/api/v1/me/tickets").status_code == 401


def test_a_customer_token_whose_customer_moved_organization_is_refused(jane, other_organization):
    _, plaintext = _mint(jane)
    Customer.objects.filter(pk=jane.pk).update(organization=other_organization)
    assert _client(plaintext).get("/api/v1/me/tickets").status_code == 401


def test_token_minting_bounds_are_enforced_in_the_service(jane):
    from tickets.exceptions import InvalidInput

    with pytest.raises(InvalidInput):
        account_services.customer_token_expiry(expires_in=30)
    with pytest.raises(InvalidInput):
        account_services.customer_token_expiry(expires_in=366 * 86400)
    with pytest.raises(InvalidInput):
        account_services.mint_customer_token(customer=jane, expires_at=timezone.now() - timedelta(seconds=1))


def test_revoking_twice_keeps_the_first_time(jane):
    token, _ = _mint(jane)
    first = account_services.revoke_customer_token(token=token).revoked_at
    assert account_services.revoke_customer_token(token=token).revoked_at == first


# JWTs -----------------------------------------------------------------------------------


def test_a_valid_hs256_jwt_sees_only_its_customers_tickets(organization, jane, jane_ticket, bob_ticket):
    assert _listed_ids(_client(_hs256(organization))) == [jane_ticket.public_id]


def test_a_jwt_for_a_new_person_creates_the_customer(organization, inbox):
    token = _hs256(organization, sub="new-7", email="New@Example.com", name="New Person")
    client = _client(token)
    assert _listed_ids(client) == []
    customer = Customer.objects.get(external_id="new-7")
    assert (customer.organization, customer.email, customer.name) == (
        organization,
        "new@example.com",
        "New Person",
    )
    created = client.post("/api/v1/me/tickets", {"subject": "First one", "message": "Hello"}, format="json")
    assert created.status_code == 201
    assert customer.tickets.count() == 1


def test_a_jwt_finds_a_customer_known_by_email_and_links_the_external_id(organization, jane_ticket):
    customer = jane_ticket.customer
    assert customer.external_id == ""
    assert _listed_ids(_client(_hs256(organization, sub="app-1"))) == [jane_ticket.public_id]
    customer.refresh_from_db()
    assert customer.external_id == "app-1"


def test_an_expired_jwt_is_refused(organization, jane):
    token = _hs256(organization, exp=int(time.time()) - 120)
    assert _client(token).get("/api/v1/me/tickets").status_code == 401


def test_a_jwt_without_expiry_is_refused(organization, jane):
    token = jwt.encode(
        {"iss": organization.public_id, "sub": "user-42"}, organization.jwt_secret, algorithm="HS256"
    )
    assert _client(token).get("/api/v1/me/tickets").status_code == 401


def test_a_jwt_living_31_years_is_refused(organization, jane):
    now = int(time.time())
    # Before: an exp 31 years ahead was accepted.
    with_iat = _hs256(organization, iat=now, exp=now + 31 * 365 * 86400)
    without_iat = _hs256(organization, exp=now + 31 * 365 * 86400)
    for token in (with_iat, without_iat):
        response = _client(token).get("/api/v1/me/tickets")
        assert response.status_code == 401


def test_a_jwt_is_refused_past_the_configured_lifetime_and_accepted_within_it(organization, jane, settings):
    settings.CUSTOMER_JWT_MAX_LIFETIME = 3600
    now = int(time.time())
    assert _client(_hs256(organization, iat=now, exp=now + 3600)).get("/api/v1/me/tickets").status_code == 200
    too_long = _hs256(organization, iat=now - 60, exp=now + 3600 + 60)
    assert _client(too_long).get("/api/v1/me/tickets").status_code == 401
    assert _client(_hs256(organization, exp=now + 2 * 3600)).get("/api/v1/me/tickets").status_code == 401


def test_a_jwt_without_sub_is_refused(organization, jane):
    assert _client(_hs256(organization, sub=None)).get("/api/v1/me/tickets").status_code == 401


def test_a_wrongly_signed_jwt_is_refused(organization, jane):
    token = jwt.encode(_claims(organization), "not-the-organization-secret-" * 2, algorithm="HS256")
    assert _client(token).get("/api/v1/me/tickets").status_code == 401


def test_a_jwt_signed_by_another_organization_cannot_claim_this_one(organization, other_organization, jane):
    token = jwt.encode(_claims(organization), other_organization.jwt_secret, algorithm="HS256")
    assert _client(token).get("/api/v1/me/tickets").status_code == 401


def test_another_organizations_jwt_only_reaches_its_own_customers(
    organization, other_organization, other_inbox, jane, jane_ticket
):
    globex_ticket = factories.make_ticket(other_inbox, email="jane@example.com")
    token = _hs256(other_organization)
    assert _listed_ids(_client(token)) == [globex_ticket.public_id]
    assert _client(token).get(f"/api/v1/me/tickets/{jane_ticket.public_id}").status_code == 404


def test_a_jwt_from_an_unknown_issuer_is_refused(organization, jane):
    token = _hs256(organization, iss="01HZZZZZZZZZZZZZZZZZZZZZZZ")
    assert _client(token).get("/api/v1/me/tickets").status_code == 401


def test_the_kid_header_names_the_organization_when_there_is_no_iss(organization, jane, jane_ticket):
    token = jwt.encode(
        _claims(organization, iss=None),
        organization.jwt_secret,
        algorithm="HS256",
        headers={"kid": organization.public_id},
    )
    assert _listed_ids(_client(token)) == [jane_ticket.public_id]


def test_an_unsigned_jwt_is_refused(organization, jane):
    token = jwt.encode(_claims(organization), None, algorithm="none")
    assert _client(token).get("/api/v1/me/tickets").status_code == 401


def test_an_rs256_jwt_is_verified_with_the_configured_public_key(organization, jane, jane_ticket, rsa_key):
    organization.jwt_public_key = _public_pem(rsa_key)
    organization.save(update_fields=["jwt_public_key"])
    token = jwt.encode(_claims(organization), rsa_key, algorithm="RS256")
    assert _listed_ids(_client(token)) == [jane_ticket.public_id]


def test_an_rs256_jwt_signed_with_another_key_is_refused(organization, jane, rsa_key):
    organization.jwt_public_key = _public_pem(rsa_key)
    organization.save(update_fields=["jwt_public_key"])
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(_claims(organization), stranger, algorithm="RS256")
    assert _client(token).get("/api/v1/me/tickets").status_code == 401


def test_an_rs256_jwt_is_refused_when_no_public_key_is_configured(organization, jane, rsa_key):
    token = jwt.encode(_claims(organization), rsa_key, algorithm="RS256")
    assert _client(token).get("/api/v1/me/tickets").status_code == 401


def test_the_public_key_cannot_be_used_as_an_hmac_secret(organization, jane, rsa_key):
    # The classic algorithm confusion: sign HS256 with the (public) PEM as the secret.
    pem = _public_pem(rsa_key)
    organization.jwt_public_key = pem
    organization.save(update_fields=["jwt_public_key"])
    import base64
    import hashlib
    import hmac
    import json

    def segment(data) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    signing_input = f"{segment({'alg': 'HS256', 'typ': 'JWT'})}.{segment(_claims(organization))}"
    signature = hmac.new(pem.encode(), signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
    assert _client(token).get("/api/v1/me/tickets").status_code == 401


def test_a_broken_public_key_on_our_side_is_a_401_not_a_crash(organization, jane, rsa_key):
    organization.jwt_public_key = "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----"
    organization.save(update_fields=["jwt_public_key"])
    token = jwt.encode(_claims(organization), rsa_key, algorithm="RS256")
    assert _client(token).get("/api/v1/me/tickets").status_code == 401


def test_a_jwt_whose_email_belongs_to_someone_else_is_refused(organization, jane, bob_ticket):
    bob = bob_ticket.customer
    bob.external_id = "user-99"
    bob.save(update_fields=["external_id"])
    token = _hs256(organization, sub="user-42", email="bob@example.com")
    assert _client(token).get("/api/v1/me/tickets").status_code == 401


# Chaining -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "credential",
    ["hdk_abcdefgh.secret", "hda_abcdefghijkl.secret", "plain-opaque-token", "a.b"],
)
def test_the_jwt_class_leaves_other_kinds_of_bearer_tokens_alone(db, credential):
    assert CustomerJWTAuthentication().authenticate(_request(credential)) is None


def test_the_token_class_leaves_jwts_and_other_tokens_alone(organization, db):
    assert CustomerTokenAuthentication().authenticate(_request(_hs256(organization))) is None
    assert CustomerTokenAuthentication().authenticate(_request("hdk_abcdefgh.secret")) is None


def test_the_integrator_and_agent_classes_leave_customer_credentials_alone(organization, jane):
    _, plaintext = _mint(jane)
    for credential in (plaintext, _hs256(organization)):
        assert ApiKeyAuthentication().authenticate(_request(credential)) is None
        assert AgentTokenAuthentication().authenticate(_request(credential)) is None
