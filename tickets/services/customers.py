"""Customers: found by the integrator's id or their email, created on first contact."""

import secrets
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from accounts.models import Organization
from tickets import events, limits
from tickets.actors import Actor
from tickets.exceptions import CustomerErased, InvalidInput
from tickets.models import Customer

from .validation import normalize_email, validate_length, validate_metadata

# External ids Helpdesk writes itself: an erased customer's (``erased:<public id>``) and a
# provisional record's (see ``customer_for_unproven_sender``). Taken from a caller, such an
# id would find those records and fill them again.
ERASED_EXTERNAL_ID_PREFIX = "erased:"
PROVISIONAL_PREFIX = "unverified-sender:"
RESERVED_EXTERNAL_ID_PREFIXES = (ERASED_EXTERNAL_ID_PREFIX, PROVISIONAL_PREFIX)


def validate_external_id(external_id: str, *, field_name: str = "external_id") -> str:
    validate_length(external_id, limits.EXTERNAL_ID_MAX_LENGTH, field_name=field_name)
    if external_id.startswith(RESERVED_EXTERNAL_ID_PREFIXES):
        raise InvalidInput(
            field_name, f"Ids starting with {' or '.join(RESERVED_EXTERNAL_ID_PREFIXES)} are Helpdesk's own."
        )
    return external_id


def refuse_erased(customer: Customer) -> None:
    if customer.erased_at is not None:
        raise CustomerErased("This customer was erased; their record takes no new details or credentials.")


def customer_by_external_id(*, organization: Organization, external_id: str) -> Customer | None:
    """The customer the integrator knows by this id; never an erased or provisional record."""
    if not external_id or external_id.startswith(RESERVED_EXTERNAL_ID_PREFIXES):
        return None
    return Customer.objects.filter(organization=organization, external_id=external_id).first()


@dataclass(frozen=True)
class CustomerData:
    """A customer as a caller names them: by email, by the integrator's id, or both."""

    email: str = ""
    external_id: str = ""
    name: str = ""
    metadata: dict = field(default_factory=dict)


def _find_customer(organization: Organization, email: str, external_id: str) -> Customer | None:
    # Each is unique within an organization: get() reads the one row, unsorted.
    if external_id:
        try:
            return Customer.objects.get(organization=organization, external_id=external_id)
        except Customer.DoesNotExist:
            pass
    if email:
        try:
            return Customer.objects.get(organization=organization, email=email)
        except Customer.DoesNotExist:
            pass
    return None


def _merge_into_customer(customer: Customer, data: CustomerData, email: str, actor: Actor) -> Customer:
    changes = {}
    if data.external_id and customer.external_id != data.external_id:
        if customer.external_id:
            raise InvalidInput("customer.email", "This email belongs to a customer with another external id.")
        changes["external_id"] = (customer.external_id, data.external_id)
    if email and customer.email != email:
        if Customer.objects.filter(organization_id=customer.organization_id, email=email).exists():
            raise InvalidInput("customer.email", "Another customer already has this email.")
        changes["email"] = (customer.email, email)
    if data.name and customer.name != data.name:
        changes["name"] = (customer.name, data.name)
    if data.metadata:
        merged = {**customer.metadata, **data.metadata}
        if merged != customer.metadata:
            changes["metadata"] = (
                customer.metadata,
                validate_metadata(merged, field_name="customer.metadata"),
            )
    return _save_changes(customer, changes, actor)


def _save_changes(customer: Customer, changes: dict, actor: Actor) -> Customer:
    """Write ``changes`` (field → (before, after)) and tell them as customer.updated."""
    if changes:
        for name, (_, after) in changes.items():
            setattr(customer, name, after)
        customer.save(update_fields=[*changes, "updated_at"])
        events.publish(
            events.CustomerUpdated(
                actor=actor,
                organization_id=customer.organization_id,
                customer_id=customer.pk,
                changes=changes,
            )
        )
    return customer


class NewCustomerRace(Exception):
    """Another transaction inserted the same new customer first, and no savepoint was kept.

    The surrounding transaction can no longer run statements: whoever asked for
    ``savepoint=False`` rolls it back and runs again, and then finds the winner's row.
    """


def upsert_customer(
    *,
    organization: Organization,
    data: CustomerData,
    actor: Actor | None = None,
    savepoint: bool = True,
) -> tuple[Customer, bool]:
    """Find the customer by external id, then email, and merge ``data`` in; or create them.

    Concurrent calls for the same new person converge on one row: the loser of the insert
    race finds the winner's row and merges into it. With ``savepoint=False`` the insert
    runs without the savepoint that makes this possible (two round trips fewer) and the
    loser raises ``NewCustomerRace`` instead, for a caller that owns its transaction and
    can run it again.
    """
    actor = actor or Actor.system()
    email = normalize_email(data.email, field_name="customer.email")
    external_id = (data.external_id or "").strip()
    if not email and not external_id:
        raise InvalidInput("customer", "An email or an external id is required.")
    validate_external_id(external_id, field_name="customer.external_id")
    validate_length(data.name or "", limits.NAME_MAX_LENGTH, field_name="customer.name")
    metadata = validate_metadata(data.metadata, field_name="customer.metadata")

    # No savepoint of its own: inside create_ticket's transaction it would cost two round
    # trips per request; the insert below keeps the savepoint its race handling needs,
    # unless the caller would rather run its transaction again.
    with transaction.atomic(savepoint=False):
        existing = _find_customer(organization, email, external_id)
        if existing is not None:
            return _merge_into_customer(existing, data, email, actor), False
        try:
            with transaction.atomic(savepoint=savepoint):
                customer = Customer.objects.create(
                    organization=organization,
                    email=email,
                    external_id=external_id,
                    name=data.name or "",
                    metadata=metadata,
                )
        except IntegrityError as error:
            if not savepoint:
                raise NewCustomerRace from error
            existing = _find_customer(organization, email, external_id)
            if existing is None:
                raise
            return _merge_into_customer(existing, data, email, actor), False
        events.publish(
            events.CustomerCreated(actor=actor, organization_id=organization.pk, customer_id=customer.pk)
        )
        return customer, True


def update_customer(
    *, customer: Customer, actor: Actor | None = None, name=None, email=None, metadata=None
) -> Customer:
    """Change a customer's details; metadata given here replaces the stored object."""
    actor = actor or Actor.system()
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        refuse_erased(customer)
        wanted = {}
        if name is not None:
            wanted["name"] = validate_length(name, limits.NAME_MAX_LENGTH, field_name="name")
        if email is not None:
            normalized = normalize_email(email)
            if not normalized and not customer.external_id:
                raise InvalidInput("email", "A customer without an external id needs an email.")
            clash = Customer.objects.filter(organization_id=customer.organization_id, email=normalized)
            if normalized and clash.exclude(pk=customer.pk).exists():
                raise InvalidInput("email", "Another customer already has this email.")
            wanted["email"] = normalized
        if metadata is not None:
            wanted["metadata"] = validate_metadata(metadata)
        changes = {
            name: (getattr(customer, name), value)
            for name, value in wanted.items()
            if getattr(customer, name) != value
        }
        return _save_changes(customer, changes, actor)


# Senders who typed an address -------------------------------------------------------------

# A provisional record (external id ``PROVISIONAL_PREFIX``...): the ticket of someone who
# typed an existing customer's address waits there, off that customer's record, until the
# address is proven.


def is_provisional(customer: Customer) -> bool:
    return not customer.email and customer.external_id.startswith(PROVISIONAL_PREFIX)


def customer_for_unproven_sender(
    *, organization: Organization, email: str, name: str, actor: Actor
) -> Customer:
    """The customer a support-form or email request is filed under, before its sender has
    proven the address: someone new becomes a customer with that email; an address that
    already belongs to a customer gets a provisional record instead, so nobody reaches an
    existing customer's details or history by typing their address. ``confirm_sender``
    moves the ticket onto the real record once the address is proven.
    """
    email = normalize_email(email, field_name="customer.email")
    existing = Customer.objects.filter(organization=organization, email=email).exists() if email else False
    if not existing:
        customer, _ = upsert_customer(
            organization=organization, data=CustomerData(email=email, name=name), actor=actor
        )
        return customer
    validate_length(name or "", limits.NAME_MAX_LENGTH, field_name="customer.name")
    return Customer.objects.create(
        organization=organization,
        external_id=f"{PROVISIONAL_PREFIX}{secrets.token_hex(10)}",
        name=name or "",
    )
