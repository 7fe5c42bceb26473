"""Organization API keys read exactly where each seed document puts them.

The native API accepts a key as ``X-API-Key`` or ``Authorization: Bearer``; a dialect
accepts only its document's header (appbox, CrawlChat, SupportDesk: ``x-api-key``;
Ctxfy: ``Authorization: Bearer``), so a migrating client behaves as it did before.
"""

from rest_framework import exceptions

from accounts.authentication import BAD_CREDENTIAL, BearerAuthentication, _touch, bearer_token
from accounts.models import API_KEY_PREFIX, ApiKey
from accounts.principals import Principal
from helpdesk.schema import bearer, security_scheme


def principal_for_key(key: str) -> tuple[None, Principal]:
    try:
        api_key = ApiKey.objects.get_from_key(key.strip())
    except ApiKey.DoesNotExist:
        raise exceptions.AuthenticationFailed(BAD_CREDENTIAL) from None
    if api_key.has_expired:
        raise exceptions.AuthenticationFailed(BAD_CREDENTIAL)
    _touch(api_key)
    return (None, Principal.for_api_key(api_key))


class HeaderApiKeyAuthentication(BearerAuthentication):
    """An organization API key in the ``x-api-key`` header (any case), and nowhere else."""

    def authenticate(self, request):
        key = request.META.get("HTTP_X_API_KEY")
        if key is None:
            return None
        if not key.strip():
            raise exceptions.AuthenticationFailed(BAD_CREDENTIAL)
        return principal_for_key(key)

    def authenticate_header(self, request):
        return 'ApiKey header="x-api-key"'


class BearerApiKeyAuthentication(BearerAuthentication):
    """An organization API key as ``Authorization: Bearer hdk_...``, and nowhere else."""

    def authenticate(self, request):
        token = bearer_token(request)
        if token is None or not token.startswith(f"{API_KEY_PREFIX}_"):
            return None
        return principal_for_key(token)


HeaderApiKeyScheme = security_scheme(
    "tickets.dialects.authentication.HeaderApiKeyAuthentication",
    "DialectApiKeyHeader",
    {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
        "description": "An organization API key (`hdk_...`), as the seed documents send it.",
    },
)

BearerApiKeyScheme = security_scheme(
    "tickets.dialects.authentication.BearerApiKeyAuthentication",
    "DialectApiKeyBearer",
    bearer(
        "An organization API key as `Authorization: Bearer hdk_...`.", bearer_format="hdk_<lookup>.<secret>"
    ),
)
