"""Who is calling the API, once their credential has been checked.

DRF's ``request.auth`` holds a Principal; views scope their querysets with it and hand
``principal.actor`` to the services.
"""

from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from tickets.actors import Actor


class PrincipalKind(StrEnum):
    INTEGRATOR = "integrator"
    AGENT = "agent"
    CUSTOMER = "customer"


@dataclass(frozen=True)
class Principal:
    kind: PrincipalKind
    organization_ids: frozenset[int]
    api_key: object | None = None
    user: object | None = None
    customer: object | None = None
    credential_id: str = ""

    @classmethod
    def for_api_key(cls, api_key) -> "Principal":
        return cls(
            kind=PrincipalKind.INTEGRATOR,
            organization_ids=frozenset({api_key.organization_id}),
            api_key=api_key,
            credential_id=f"key:{api_key.pk}",
        )

    @classmethod
    def for_agent(cls, user) -> "Principal":
        organization_ids = frozenset(user.memberships.values_list("organization_id", flat=True))
        return cls(
            kind=PrincipalKind.AGENT,
            organization_ids=organization_ids,
            user=user,
            credential_id=f"user:{user.pk}",
        )

    @classmethod
    def for_customer(cls, customer, credential_id: str) -> "Principal":
        return cls(
            kind=PrincipalKind.CUSTOMER,
            organization_ids=frozenset({customer.organization_id}),
            customer=customer,
            credential_id=credential_id,
        )

    @property
    def is_integrator(self) -> bool:
        return self.kind == PrincipalKind.INTEGRATOR

    @property
    def is_agent(self) -> bool:
        return self.kind == PrincipalKind.AGENT

    @property
    def is_customer(self) -> bool:
        return self.kind == PrincipalKind.CUSTOMER

    @property
    def restricted_inbox_id(self) -> int | None:
        """An integrator key may be limited to one inbox."""
        return self.api_key.inbox_id if self.api_key is not None else None

    @cached_property
    def actor(self) -> Actor:
        if self.is_integrator:
            return Actor.integrator(self.api_key)
        if self.is_agent:
            return Actor.agent(self.user)
        return Actor.for_customer(self.customer)
