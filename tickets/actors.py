"""Who is acting on a ticket: recorded on every event, and checked by the state machine."""

from dataclasses import dataclass
from enum import StrEnum


class ActorKind(StrEnum):
    AGENT = "agent"
    CUSTOMER = "customer"
    INTEGRATOR = "integrator"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    label: str
    user: object | None = None
    customer: object | None = None
    # The credential that acted: idempotency keys are namespaced by it, so one caller's key
    # never replays another's answer.
    credential: str = ""

    @classmethod
    def agent(cls, user) -> "Actor":
        return cls(kind=ActorKind.AGENT, label=user.display_name, user=user, credential=f"agent:{user.pk}")

    @classmethod
    def for_customer(cls, customer, *, credential: str = "") -> "Actor":
        """The customer acting; ``credential`` names who sent it when that is not the
        customer themselves (an integrator posting a reply on their behalf)."""
        return cls(
            kind=ActorKind.CUSTOMER,
            label=customer.display_name,
            customer=customer,
            credential=credential or f"customer:{customer.pk}",
        )

    @classmethod
    def integrator(cls, api_key) -> "Actor":
        return cls(
            kind=ActorKind.INTEGRATOR, label=f"API key “{api_key.name}”", credential=f"key:{api_key.prefix}"
        )

    @classmethod
    def system(cls, label: str = "Helpdesk") -> "Actor":
        return cls(kind=ActorKind.SYSTEM, label=label, credential="system")

    @property
    def is_customer(self) -> bool:
        return self.kind == ActorKind.CUSTOMER
