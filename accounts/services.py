"""Changes to who may act: every write to credentials and organization settings goes here.

Like ``tickets/services.py``: keyword-only functions, one transaction each, domain errors
from ``tickets/exceptions.py``.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from tickets.exceptions import InvalidInput

from .models import CustomerToken, Membership

# Customer tokens --------------------------------------------------------------------------
# Minted by an integrator (organization API key) so its customer can call the customer API
# (``/api/v1/me/...``) for themselves. The plaintext is returned once and stored hashed.

CUSTOMER_TOKEN_DEFAULT_LIFETIME = timedelta(days=30)
CUSTOMER_TOKEN_MIN_LIFETIME = timedelta(minutes=1)
CUSTOMER_TOKEN_MAX_LIFETIME = timedelta(days=365)


def customer_token_expiry(*, expires_in: int | None = None, expires_at: datetime | None = None) -> datetime:
    """When a new token expires: ``expires_in`` seconds from now, or ``expires_at``, or the default."""
    now = timezone.now()
    if expires_in is not None and expires_at is not None:
        raise InvalidInput("expires_in", "Give expires_in or expires_at, not both.")
    if expires_at is not None:
        if timezone.is_naive(expires_at):
            raise InvalidInput("expires_at", "Include a time zone (e.g. 2026-12-31T23:59:59Z).")
        lifetime = expires_at - now
        field_name = "expires_at"
    elif expires_in is not None:
        lifetime = timedelta(seconds=expires_in)
        field_name = "expires_in"
    else:
        lifetime = CUSTOMER_TOKEN_DEFAULT_LIFETIME
        field_name = "expires_in"
    if lifetime < CUSTOMER_TOKEN_MIN_LIFETIME:
        raise InvalidInput(field_name, "A customer token must live at least 60 seconds.")
    if lifetime > CUSTOMER_TOKEN_MAX_LIFETIME:
        raise InvalidInput(field_name, "A customer token may live at most 365 days.")
    return now + lifetime


def mint_customer_token(*, customer, expires_at: datetime) -> tuple[CustomerToken, str]:
    """A new token for ``customer``; returns ``(token, plaintext)`` — show the plaintext once."""
    if expires_at <= timezone.now():
        raise InvalidInput("expires_at", "Must be in the future.")
    with transaction.atomic():
        token = CustomerToken(
            organization_id=customer.organization_id, customer=customer, expires_at=expires_at
        )
        plaintext = token.assign_secret()
        token.save()
    return token, plaintext


def revoke_customer_token(*, token: CustomerToken) -> CustomerToken:
    """Stop a token working at once; revoking twice keeps the first revocation time."""
    with transaction.atomic():
        token = CustomerToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
    return token


# Availability (the agent dashboard) ---------------------------------------------------


def set_availability(*, membership: Membership, is_available: bool) -> Membership:
    """Say whether this agent takes auto-assigned tickets in this organization."""
    with transaction.atomic():
        locked = Membership.objects.select_for_update().select_related("organization").get(pk=membership.pk)
        if locked.is_available != is_available:
            locked.is_available = is_available
            locked.save(update_fields=["is_available"])
        return locked
