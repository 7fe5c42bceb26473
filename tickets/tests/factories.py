"""Test data built the way the product builds it: tickets and messages through services."""

import itertools

from django.db import connection
from django.utils import timezone

from accounts.models import AgentToken, ApiKey, Membership, Organization, User
from tickets import events, services
from tickets.actors import Actor
from tickets.models import Inbox, Ticket

_sequence = itertools.count(1)


def make_organization(name: str = "", slug: str = "", **fields) -> Organization:
    """An organization as ``create_organization`` leaves it: with the defaults the other
    apps make when they hear of it (the acknowledgement triggers)."""
    number = next(_sequence)
    organization = Organization.objects.create(
        name=name or f"Organization {number}", slug=slug or f"organization-{number}", **fields
    )
    events.publish(events.OrganizationCreated(actor=Actor.system(), organization_id=organization.pk))
    organization.refresh_from_db()
    return organization


def make_inbox(
    organization, name: str = "Support", prefix: str = "", *, address_verified: bool = True, **fields
) -> Inbox:
    """An inbox as an installation has it; a ``support_email`` given here is already
    verified unless ``address_verified=False`` (tests of verification itself go through
    the services)."""
    prefix = prefix or f"S{next(_sequence)}"
    if fields.get("support_email") and address_verified:
        fields.setdefault("support_email_verified_at", timezone.now())
    inbox = Inbox.objects.create(organization=organization, name=name, prefix=prefix, **fields)
    # Every write of an inbox names a new version of the organization's inboxes: a test
    # that changes one later through the services, not by saving it, sees its change.
    services.inboxes_changed(organization.pk)
    return inbox


def make_api_key(organization, name: str = "Backend", inbox=None) -> tuple[ApiKey, str]:
    return ApiKey.objects.create_key(organization=organization, name=name, inbox=inbox)


def make_agent(
    organization,
    email: str = "",
    name: str = "",
    role: str = "agent",
    tier: str = "n1",
    is_available: bool = True,
    password: str = "correct horse battery staple",
) -> User:
    email = email or f"agent{next(_sequence)}@example.test"
    user = User.objects.filter(email=email).first() or User.objects.create_user(
        email=email, password=password, name=name
    )
    Membership.objects.create(
        user=user, organization=organization, role=role, tier=tier, is_available=is_available
    )
    return user


def make_agent_token(user, name: str = "Laptop") -> tuple[AgentToken, str]:
    token = AgentToken(user=user, name=name)
    plaintext = token.assign_secret()
    token.save()
    return token, plaintext


def make_ticket(
    inbox,
    email: str = "",
    subject: str = "Cannot log in",
    message: str = "Help me please.",
    actor: Actor | None = None,
    **fields,
):
    email = email or f"customer{next(_sequence)}@example.test"
    ticket, _ = services.create_ticket(
        inbox=inbox,
        customer=services.CustomerData(email=email, name=fields.pop("name", "")),
        subject=subject,
        message=message,
        actor=actor or Actor.system("Tests"),
        **fields,
    )
    return ticket


def enqueued_task_names(backend) -> list[str]:
    """The names of the tasks a (dummy) backend was given, in order, with the calls of each
    outbox task (tickets/outbox.py) in its place."""
    names = []
    for result in backend.results:
        if result.task.module_path == "tickets.outbox.run":
            names.extend(task_path.rpartition(".")[2] for task_path, _ in result.args[0])
        else:
            names.append(result.task.name)
    return names


def copy_ticket_in_the_database(template_pk: int, copies: int, **columns: str) -> None:
    """``copies`` copies of one ticket, made by the database (a query-plan test needs a few
    hundred rows, and services would take seconds): each gets its own public id, number,
    reference and access key from ``g`` (1 to ``copies``); ``columns`` sets others by SQL
    expressions of ``g`` (a literal % written %%)."""
    replaced = {
        "public_id": "'01JPLAN' || lpad(g::text, 19, '0')",
        "number": "1000 + g",
        "reference": "'INV-' || (1000 + g)",
        "access_key": "'tk_plan_' || g",
        **columns,
    }
    columns_copied = [
        connection.ops.quote_name(field.column)
        for field in Ticket._meta.concrete_fields
        if field.column != "id" and not getattr(field, "generated", False)
    ]
    names = ", ".join(columns_copied)
    values = ", ".join(replaced.get(column.strip('"'), column) for column in columns_copied)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO tickets_ticket ({names}) SELECT {values} "  # noqa: S608 - our own column names
            "FROM tickets_ticket, generate_series(1, %s) AS g WHERE id = %s",
            [copies, template_pk],
        )
