"""Customer JWTs: an integrator's own sign-in vouches for its customer.

The integrator signs a short-lived JWT for the person signed in to its app and the app
sends it as ``Authorization: Bearer <jwt>``. We accept:

- ``alg`` HS256, signed with ``Organization.jwt_secret``; or RS256, verified with
  ``Organization.jwt_public_key`` (PEM) when the organization has configured one. No
  other algorithm, never ``none``; the key is chosen by the algorithm so an RSA public key
  can never be used as an HMAC secret.
- The organization is named by the ``iss`` claim (the organization's public id). When
  ``iss`` is absent, the ``kid`` header is read instead. When ``iss`` is present it wins
  and ``kid`` is ignored (an integrator may use ``kid`` for its own key rotation).
- Claims: ``sub`` (required: the customer's external id in the integrator's system),
  ``exp`` (required), ``email`` and ``name`` (optional; kept on the customer), ``nbf``
  and ``iat`` (checked when present). ``aud`` is not checked.
- A lifetime of at most ``settings.CUSTOMER_JWT_MAX_LIFETIME`` seconds (24 hours by
  default): ``exp - iat``, or ``exp - now`` without ``iat``. A JWT is a bearer credential
  that cannot be revoked one by one; an ``exp`` years ahead made a leaked token a key for
  years.

docs/customer-api.md says the same for integrators.
"""

import time
from dataclasses import dataclass

import jwt
from django.conf import settings

from helpdesk.text import forbidden_character_problem

from .models import Organization

ALGORITHMS = ("HS256", "RS256")
# Clock skew tolerated between the integrator's servers and ours.
LEEWAY_SECONDS = 30
MAX_TOKEN_LENGTH = 8192


class NotAJWT(Exception):
    """The bearer credential is not shaped like a JWT at all: someone else's to judge."""


class InvalidCustomerJWT(Exception):
    """A JWT that we must refuse (bad signature, expired, unknown issuer, ...)."""


@dataclass(frozen=True)
class CustomerClaims:
    organization: Organization
    external_id: str
    email: str
    name: str


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and not token.startswith(("hdk_", "hda_", "hdc_"))


def read_header(token: str) -> dict:
    if not looks_like_jwt(token) or len(token) > MAX_TOKEN_LENGTH:
        raise NotAJWT
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise NotAJWT from None
    if not isinstance(header, dict) or "alg" not in header:
        raise NotAJWT
    return header


def organization_named_by(header: dict, unverified_claims: dict) -> Organization:
    issuer = unverified_claims.get("iss")
    name = issuer if issuer not in (None, "") else header.get("kid")
    if not isinstance(name, str) or not name:
        raise InvalidCustomerJWT("The token names no organization (iss claim or kid header).")
    if forbidden_character_problem(name):
        # No organization's id has one; PostgreSQL would refuse the lookup outright.
        raise InvalidCustomerJWT("Unknown issuer.")
    organization = Organization.objects.filter(public_id=name).first()
    if organization is None:
        raise InvalidCustomerJWT("Unknown issuer.")
    return organization


def verification_key(organization: Organization, algorithm: str):
    if algorithm == "HS256":
        return organization.jwt_secret
    if algorithm == "RS256":
        if not organization.jwt_public_key.strip():
            raise InvalidCustomerJWT("This organization has no RS256 public key configured.")
        return organization.jwt_public_key
    raise InvalidCustomerJWT("Unsupported algorithm.")


def decode(token: str) -> CustomerClaims:
    """Verify a customer JWT and return who it names. Raises NotAJWT or InvalidCustomerJWT."""
    header = read_header(token)
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS:
        raise InvalidCustomerJWT("Unsupported algorithm.")
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise InvalidCustomerJWT("Malformed token.") from None
    organization = organization_named_by(header, unverified)
    try:
        claims = jwt.decode(
            token,
            key=verification_key(organization, algorithm),
            algorithms=[algorithm],
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "sub"], "verify_aud": False},
        )
    except (jwt.PyJWTError, ValueError, TypeError):
        # ValueError/TypeError: a malformed PEM key on our side must not become a 500.
        raise InvalidCustomerJWT("Invalid or expired token.") from None

    # PyJWT has already refused an iat that is not a number.
    start = claims.get("iat", time.time())
    max_lifetime = settings.CUSTOMER_JWT_MAX_LIFETIME
    if claims["exp"] - start > max_lifetime + LEEWAY_SECONDS:
        raise InvalidCustomerJWT(
            f"The token lives longer than the {max_lifetime} seconds allowed (exp - iat, or exp - now)."
        )

    external_id = claims.get("sub")
    email = claims.get("email") or ""
    name = claims.get("name") or ""
    if not isinstance(external_id, str) or not external_id.strip():
        raise InvalidCustomerJWT("The sub claim must name the customer.")
    if not isinstance(email, str) or not isinstance(name, str):
        raise InvalidCustomerJWT("The email and name claims must be strings.")
    # A JWT's JSON may carry NUL (\u0000) or a lone surrogate, which PostgreSQL cannot
    # store or even look up: the integrator's token is broken, so it is refused like one.
    for claim, value in (("sub", external_id), ("email", email), ("name", name)):
        problem = forbidden_character_problem(value)
        if problem:
            raise InvalidCustomerJWT(f"The {claim} claim cannot be used. {problem}")
    return CustomerClaims(
        organization=organization, external_id=external_id.strip(), email=email.strip(), name=name.strip()
    )
