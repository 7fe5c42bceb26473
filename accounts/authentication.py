"""DRF authentication for each kind of API caller; each answers 401 for a bad credential."""

from django.utils import timezone
from rest_framework import authentication, exceptions

from tickets import services
from tickets.actors import Actor
from tickets.exceptions import InvalidInput

from . import customer_jwt
from .models import API_KEY_PREFIX, AgentToken, ApiKey, CustomerToken
from .principals import Principal

BAD_CREDENTIAL = "The credential is invalid, revoked or expired."


def bearer_token(request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    keyword, _, token = header.partition(" ")
    if keyword.lower() != "bearer":
        return None
    return token.strip() or None


def _touch(credential) -> None:
    # Write "last used" at most once a minute so a busy key does not write on every call.
    now = timezone.now()
    if credential.last_used_at is None or (now - credential.last_used_at).total_seconds() > 60:
        type(credential).objects.filter(pk=credential.pk).update(last_used_at=now)


class BearerAuthentication(authentication.BaseAuthentication):
    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class ApiKeyAuthentication(BearerAuthentication):
    """An organization API key, as ``X-API-Key: <key>`` or ``Authorization: Bearer <key>``."""

    def authenticate(self, request):
        key = request.META.get("HTTP_X_API_KEY")
        if key is None:
            token = bearer_token(request)
            if token is None or not token.startswith(f"{API_KEY_PREFIX}_"):
                return None
            key = token
        key = key.strip()
        try:
            api_key = ApiKey.objects.get_from_key(key)
        except ApiKey.DoesNotExist:
            raise exceptions.AuthenticationFailed(BAD_CREDENTIAL) from None
        if api_key.has_expired:
            raise exceptions.AuthenticationFailed(BAD_CREDENTIAL)
        _touch(api_key)
        return (None, Principal.for_api_key(api_key))


class AgentTokenAuthentication(BearerAuthentication):
    """An agent's personal token: ``Authorization: Bearer hda_...``."""

    def authenticate(self, request):
        token = bearer_token(request)
        if token is None or not token.startswith(f"{AgentToken.KIND_PREFIX}_"):
            return None
        agent_token = AgentToken.find(token)
        if agent_token is None or not agent_token.user.is_active:
            raise exceptions.AuthenticationFailed(BAD_CREDENTIAL)
        _touch(agent_token)
        return (agent_token.user, Principal.for_agent(agent_token.user))


# Customers ------------------------------------------------------------------------------
# A customer reaches the customer API (``/api/v1/me/...``) and the customer routes of the
# dialects with a token its integrator minted (``hdc_...``) or a JWT signed by the
# integrator's own sign-in. Both answer None for a bearer credential that is clearly of
# another kind, so they chain with each other and with the classes above.


class CustomerTokenAuthentication(BearerAuthentication):
    """A customer token minted by the integrator: ``Authorization: Bearer hdc_...``."""

    def authenticate(self, request):
        token = bearer_token(request)
        if token is None or not token.startswith(f"{CustomerToken.KIND_PREFIX}_"):
            return None
        customer_token = CustomerToken.find(token)
        if customer_token is None:
            raise exceptions.AuthenticationFailed(BAD_CREDENTIAL)
        customer = customer_token.customer
        # A token is only ever good for its own organization's customer.
        if customer.organization_id != customer_token.organization_id:
            raise exceptions.AuthenticationFailed(BAD_CREDENTIAL)
        _touch(customer_token)
        return (None, Principal.for_customer(customer, f"customer_token:{customer_token.pk}"))


class CustomerJWTAuthentication(BearerAuthentication):
    """A JWT from the integrator's own sign-in, naming the customer (accounts/customer_jwt.py)."""

    def authenticate(self, request):
        token = bearer_token(request)
        if token is None:
            return None
        try:
            claims = customer_jwt.decode(token)
        except customer_jwt.NotAJWT:
            return None
        except customer_jwt.InvalidCustomerJWT:
            raise exceptions.AuthenticationFailed(BAD_CREDENTIAL) from None
        try:
            customer, _ = services.upsert_customer(
                organization=claims.organization,
                data=services.CustomerData(
                    external_id=claims.external_id, email=claims.email, name=claims.name
                ),
                actor=Actor.system("Customer JWT"),
            )
        except InvalidInput:
            # e.g. the token's email belongs to a customer with another external id.
            raise exceptions.AuthenticationFailed(BAD_CREDENTIAL) from None
        return (None, Principal.for_customer(customer, f"customer_jwt:{customer.pk}"))
