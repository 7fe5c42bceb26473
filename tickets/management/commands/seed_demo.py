"""Create a demo of Helpdesk to try by hand: organizations, people, an API key, tickets.

    python manage.py seed_demo            readable summary: sign-in, API key, URLs
    python manage.py seed_demo --json     the same as one JSON object on stdout, nothing else
    python manage.py seed_demo --if-new   do nothing when the demo exists (make dev uses this)

Demo data for local use only: every demo user has the documented password below.

Running it again on an existing demo does not duplicate anything: it makes sure the demo
users, memberships and inboxes are there (and resets the demo users' passwords to the
documented one), then mints a fresh demo API key for each organization, because keys are
stored hashed and an earlier one cannot be printed again. Earlier demo keys keep working;
revoke them in /admin/ if you like.

Tickets are created through tickets/services.py, as an integrator's backend and the
agents would create them, with notifications switched off (the demo customers' addresses
are made up; a configured mail provider would try to reach them). Then, and only because
this is demo data, their timestamps are moved into the last 30 days with queryset
``update()`` so the queue, reports and "first response" times look lived in.
"""

import json
import random
import sys
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import AgentToken, ApiKey, Membership, Organization, User
from tickets import events, services
from tickets.actors import Actor
from tickets.models import Customer, Inbox, Message, Notification, Tag, Ticket, TicketEvent

from ._demo_content import (
    ACME_CUSTOMERS,
    ACME_REPEATS,
    ACME_THREADS,
    DEMO_PASSWORD,
    GLOBEX_CUSTOMERS,
    GLOBEX_THREADS,
    REPEAT_FIRST_REPLIES,
    REPEAT_FOLLOW_UPS,
    SAVED_REPLIES,
    DemoThread,
)

DEMO_SLUG = "acme"
OTHER_SLUG = "globex"
DEMO_KEY_NAME = "Demo key (seed_demo)"
DEMO_CUSTOMER_EXTERNAL_ID = "user_42"

# What the side-effect hooks of the services are called; silenced while seeding.


@dataclass
class DemoPerson:
    email: str
    name: str
    role: str
    tier: str = Membership.Tier.N1
    is_available: bool = True
    is_superuser: bool = False


@dataclass
class DemoOrganization:
    name: str
    slug: str
    plan: str
    inboxes: list  # (name, prefix, is_default, daily limit, auto-assignment, support email)
    people: dict  # role in the story ("agent", "senior", "owner", "admin") -> DemoPerson
    customers: list
    threads: list
    repeats: list = field(default_factory=list)


ACME = DemoOrganization(
    name="Acme Support",
    slug=DEMO_SLUG,
    plan=Organization.Plan.BUSINESS,
    inboxes=[
        ("Support", "SUP", True, None, Inbox.AutoAssignment.OFF, "support@acme.test"),
        ("Billing", "INV", False, None, Inbox.AutoAssignment.LEAST_LOADED_N1, "billing@acme.test"),
        # appbox's paywall: its document's limit of two new tickets per user per day.
        ("Paywall", "PAY", False, 2, Inbox.AutoAssignment.OFF, "paywall@acme.test"),
    ],
    people={
        "agent": DemoPerson("agent@acme.test", "Alice Agent", Membership.Role.AGENT, Membership.Tier.N1),
        "senior": DemoPerson("senior@acme.test", "Sam Senior", Membership.Role.AGENT, Membership.Tier.N2),
        "owner": DemoPerson(
            "owner@acme.test", "Olga Owner", Membership.Role.OWNER, Membership.Tier.N3, is_available=False
        ),
        "admin": DemoPerson(
            "admin@acme.test",
            "Ada Admin",
            Membership.Role.ADMIN,
            Membership.Tier.N3,
            is_available=False,
            is_superuser=True,
        ),
    },
    customers=ACME_CUSTOMERS,
    threads=ACME_THREADS,
    repeats=ACME_REPEATS,
)

GLOBEX = DemoOrganization(
    name="Globex",
    slug=OTHER_SLUG,
    plan=Organization.Plan.TEAM,
    inboxes=[("Help", "GLX", True, None, Inbox.AutoAssignment.OFF, "help@globex.test")],
    people={
        "agent": DemoPerson("agent@globex.test", "Gil Globex", Membership.Role.AGENT, Membership.Tier.N1)
    },
    customers=GLOBEX_CUSTOMERS,
    threads=GLOBEX_THREADS,
)


@contextmanager
def notifications_silenced():
    """Seed without emailing anyone: the demo customers' addresses are made up.

    ``SUPPORT_EMAIL_SENDER=none`` is the product's own "store only" switch, so no
    Delivery rows or emails come out of the services while seeding.
    """
    with override_settings(SUPPORT_EMAIL_SENDER="none"):
        yield


class Command(BaseCommand):
    help = (
        "Create (or refresh) the demo organizations, people, API keys and ~50 tickets, "
        "and print how to use them."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print one JSON object and nothing else."
        )
        parser.add_argument(
            "--if-new", action="store_true", help="Do nothing (exit 0) when the demo organization exists."
        )

    def handle(self, *args, as_json: bool = False, if_new: bool = False, **options):
        if if_new and Organization.objects.filter(slug=DEMO_SLUG).exists():
            self.stderr.write(
                f'Demo data already present (organization "{DEMO_SLUG}"); nothing done. '
                "Run `manage.py seed_demo` without --if-new to print the sign-in and a fresh API key."
            )
            return

        # With --json, stdout carries the JSON object alone: anything printed while seeding
        # (a console mail backend, a warning) goes to stderr.
        with redirect_stdout(sys.stderr if as_json else sys.stdout), notifications_silenced():
            with transaction.atomic():
                self.random = random.Random(42)  # noqa: S311 - demo data, not secrets
                self.now = timezone.now()
                acme = self.seed(ACME)
                globex = self.seed(GLOBEX)
                tokens = self.mint_demo_tokens(acme, globex)

        summary = self.summary(acme, globex, tokens)
        if as_json:
            self.stdout.write(_dumps(summary))
        else:
            self.stdout.write(self.readable(summary))

    # Seeding ----------------------------------------------------------------------------

    def seed(self, spec: DemoOrganization) -> dict:
        organization, created = Organization.objects.get_or_create(
            slug=spec.slug, defaults={"name": spec.name, "plan": spec.plan}
        )
        if created:
            events.publish(events.OrganizationCreated(actor=Actor.system(), organization_id=organization.pk))
        inboxes = {}
        for name, prefix, is_default, limit, auto_assignment, support_email in spec.inboxes:
            inboxes[prefix], _ = Inbox.objects.get_or_create(
                organization=organization,
                prefix=prefix,
                defaults={
                    "name": name,
                    "is_default": is_default
                    and not Inbox.objects.filter(organization=organization, is_default=True).exists(),
                    "daily_limit_per_customer": limit,
                    "auto_assignment": auto_assignment,
                    "support_email": support_email,
                    # The operator seeds these demo addresses: vouched for, like
                    # SUPPORT_EMAIL_VERIFIED_DOMAINS.
                    "support_email_verified_at": timezone.now() if support_email else None,
                },
            )
        # Inboxes written here, not through the services: name their new version as they do.
        services.inboxes_changed(organization.pk)
        people = {role: self.ensure_person(organization, person) for role, person in spec.people.items()}
        if spec is ACME:
            # Saved replies are macros now (shared, reply only). The tickets app never
            # imports the automation app: its model is named here, not imported.
            macro_model = apps.get_model("automation", "Macro")
            for title, body in SAVED_REPLIES:
                macro_model.objects.get_or_create(
                    organization=organization, owner=None, name=title, defaults={"reply": body, "actions": []}
                )
        api_key, key = ApiKey.objects.create_key(organization=organization, name=DEMO_KEY_NAME)
        if not Ticket.objects.filter(organization=organization).exists():
            self.seed_tickets(spec, organization, inboxes, people, Actor.integrator(api_key))
        return {
            "organization": organization,
            "created": created,
            "inboxes": list(inboxes.values()),
            "people": people,
            "api_key": key,
        }

    def mint_demo_tokens(self, acme: dict, globex: dict) -> dict:
        """Fresh credentials for the agent API (inapp admin) and the customer API (inapp user).

        Like the demo API key, they are shown only now; earlier ones keep working.
        """

        def agent_token(user) -> str:
            token = AgentToken(user=user, name=DEMO_KEY_NAME)
            plaintext = token.assign_secret()
            token.save()
            return plaintext

        customer = Customer.objects.filter(
            organization=acme["organization"], external_id=DEMO_CUSTOMER_EXTERNAL_ID
        ).first()
        customer_token = ""
        if customer is not None:
            _, customer_token = account_services.mint_customer_token(
                customer=customer, expires_at=account_services.customer_token_expiry()
            )
        return {
            "agent": agent_token(acme["people"]["agent"]),
            "other_agent": agent_token(globex["people"]["agent"]),
            "customer": customer_token,
        }

    def ensure_person(self, organization, person: DemoPerson) -> User:
        user = User.objects.filter(email=person.email).first()
        if user is None:
            user = User(email=person.email)
        user.name = person.name
        user.is_active = True
        if person.is_superuser:
            user.is_staff = user.is_superuser = True
        # Reset on every run: the printed sign-in must work even if someone changed it.
        user.set_password(DEMO_PASSWORD)
        user.save()
        Membership.objects.update_or_create(
            user=user,
            organization=organization,
            defaults={"role": person.role, "tier": person.tier, "is_available": person.is_available},
        )
        return user

    def seed_tickets(self, spec: DemoOrganization, organization, inboxes, people, integrator: Actor) -> None:
        customers = {customer.email: customer for customer in spec.customers}
        threads = list(spec.threads)
        others = [c for c in spec.customers if c.external_id != DEMO_CUSTOMER_EXTERNAL_ID]
        for index, (prefix, subject, opening, tags, priority) in enumerate(spec.repeats * 3):
            if len(threads) >= 50:
                break
            # Vary how far each conversation got: new and unassigned, answered, or done.
            steps = [("customer", opening)]
            if index % 4 != 3:
                steps += [("assign", "agent"), ("reply", REPEAT_FIRST_REPLIES[subject])]
            if index % 4 in (1, 2):
                steps += [("customer", REPEAT_FOLLOW_UPS[subject])]
            if index % 4 == 1:
                steps += [("note", "Answered with the usual steps."), ("status", "resolved")]
            customer = others[(index * 7) % len(others)]
            threads.append(
                DemoThread(
                    customer.email,
                    prefix,
                    subject,
                    tuple(steps),
                    priority=priority,
                    category="billing" if prefix == "INV" else "technical",
                    type="question",
                    tags=tags,
                    channel="email" if index % 3 == 0 else "api",
                )
            )
        planned = [(thread, self.days_ago(thread)) for thread in threads]
        # Oldest first, so reference numbers grow with time as they would have.
        planned.sort(key=lambda item: -item[1])
        today_customers: set = set()
        for thread, days_ago in planned:
            if days_ago == 0:
                # The daily limit counts today's tickets: keep the demo customer's budget
                # whole for the API quickstart, and everyone else under the limit.
                key = (thread.customer, thread.inbox)
                if thread.customer == "john@acme.com" or key in today_customers:
                    days_ago = 1
                today_customers.add(key)
            customer = customers[thread.customer]
            self.play(inboxes[thread.inbox], customer, thread, people, integrator, days_ago)
        self.backdate_customers(organization)

    def days_ago(self, thread: DemoThread) -> int:
        statuses = [value for kind, value in thread.steps if kind == "status"]
        final = statuses[-1] if statuses else ("in_progress" if len(thread.steps) > 1 else "open")
        low, high = {"closed": (10, 30), "resolved": (3, 20), "in_progress": (1, 7), "open": (0, 3)}[final]
        return self.random.randint(low, high)

    def play(
        self, inbox, customer_spec, thread: DemoThread, people, integrator: Actor, days_ago: int
    ) -> Ticket:
        """Replay one conversation through the services, then date each step."""
        agents = {"agent": people["agent"], "senior": people.get("senior", people["agent"])}
        responder = people["agent"]
        gaps = [0] + [self.random.randint(4, 240) for _ in thread.steps[1:]]
        start = (
            self.now - timedelta(days=days_ago) - timedelta(minutes=sum(gaps) + self.random.randint(15, 300))
        )
        timeline = []  # (moment, first event id, first message id, first notification id)
        ticket = None
        moment = start
        for (kind, value), gap in zip(thread.steps, gaps, strict=True):
            moment = moment + timedelta(minutes=gap)
            marks = (
                _last_id(TicketEvent),
                _last_id(Message),
                _last_id(Notification),
            )
            if ticket is None:
                ticket, _ = services.create_ticket(
                    inbox=inbox,
                    customer=services.CustomerData(
                        email=customer_spec.email,
                        external_id=customer_spec.external_id,
                        name=customer_spec.name,
                        metadata=customer_spec.metadata,
                    ),
                    subject=thread.subject,
                    message=value,
                    actor=integrator,
                    priority=thread.priority,
                    category=thread.category,
                    type=thread.type,
                    channel=thread.channel,
                    metadata=thread.metadata,
                    tags=thread.tags,
                    auto_assign=False,
                )
            elif kind == "customer":
                services.add_message(
                    ticket=ticket,
                    body=value,
                    actor=Actor.for_customer(ticket.customer),
                    channel=thread.channel,
                )
            elif kind == "reply":
                services.add_message(ticket=ticket, body=value, actor=Actor.agent(responder), channel="web")
            elif kind == "note":
                services.add_message(ticket=ticket, body=value, kind="note", actor=Actor.agent(responder))
            elif kind == "assign":
                responder = agents[value]
                services.assign(ticket=ticket, assignee=responder, actor=Actor.agent(people["agent"]))
            elif kind == "status":
                services.change_status(ticket=ticket, status=value, actor=Actor.agent(responder))
            timeline.append((moment, *marks))
        self.date_steps(ticket, timeline)
        return ticket

    def date_steps(self, ticket: Ticket, timeline) -> None:
        """Demo only: give each step's rows its moment, and the ticket its dates (who spoke
        last included, so the queue's waits are the thread's, not the seeding's)."""
        for moment, event_mark, message_mark, notification_mark in timeline:
            TicketEvent.objects.filter(ticket=ticket, pk__gt=event_mark).update(created_at=moment)
            Message.objects.filter(ticket=ticket, pk__gt=message_mark).update(created_at=moment)
            Notification.objects.filter(ticket=ticket, pk__gt=notification_mark).update(
                created_at=moment, read_at=moment if moment < self.now - timedelta(days=2) else None
            )
        ticket.refresh_from_db()
        moves = list(TicketEvent.objects.filter(ticket=ticket, action="status_changed").order_by("pk"))
        first_reply = (
            Message.objects.filter(ticket=ticket, kind=Message.Kind.REPLY)
            .exclude(author_type=Message.AuthorType.CUSTOMER)
            .order_by("created_at", "pk")
            .first()
        )
        resolved = next((e for e in reversed(moves) if e.after in ("resolved", "closed")), None)
        closed = next((e for e in reversed(moves) if e.after == "closed"), None)
        Ticket.objects.filter(pk=ticket.pk).update(
            created_at=timeline[0][0],
            updated_at=timeline[-1][0],
            first_response_at=first_reply.created_at if first_reply else None,
            resolved_at=resolved.created_at if resolved and ticket.resolved_at else None,
            closed_at=closed.created_at if closed and ticket.closed_at else None,
            **services.recount_who_spoke_last(ticket),
        )

    def backdate_customers(self, organization) -> None:
        for customer in Customer.objects.filter(organization=organization):
            first = customer.tickets.order_by("created_at").values_list("created_at", flat=True).first()
            if first is not None:
                Customer.objects.filter(pk=customer.pk).update(created_at=first)

    # Output -------------------------------------------------------------------------------

    def summary(self, acme: dict, globex: dict, tokens: dict) -> dict:
        base_url = settings.SITE_URL
        organization = acme["organization"]
        demo_customer = Customer.objects.filter(
            organization=organization, external_id=DEMO_CUSTOMER_EXTERNAL_ID
        ).first()
        demo_ticket = (
            Ticket.objects.filter(customer=demo_customer).order_by("created_at").first()
            if demo_customer
            else None
        )
        tag = Tag.objects.filter(organization=organization, name="billing").first()

        def person(user):
            return {"email": user.email, "password": DEMO_PASSWORD, "name": user.display_name}

        def inboxes(found):
            return [
                {
                    "public_id": inbox.public_id,
                    "prefix": inbox.prefix,
                    "name": inbox.name,
                    "is_default": inbox.is_default,
                    "daily_limit_per_customer": inbox.daily_limit_per_customer,
                    "auto_assignment": inbox.auto_assignment,
                }
                for inbox in found
            ]

        return {
            "base_url": base_url,
            "api_key": acme["api_key"],
            "organization": {
                "name": organization.name,
                "slug": organization.slug,
                "id": organization.public_id,
            },
            "inboxes": inboxes(acme["inboxes"]),
            "agent": {**person(acme["people"]["agent"]), "api_token": tokens["agent"]},
            "second_agent": person(acme["people"]["senior"]),
            "owner": person(acme["people"]["owner"]),
            "admin": {**person(acme["people"]["admin"]), "url": f"{base_url}/admin/"},
            "customer": {
                "email": demo_customer.email if demo_customer else "",
                "external_id": DEMO_CUSTOMER_EXTERNAL_ID,
                "id": demo_customer.public_id if demo_customer else "",
                "token": tokens["customer"],
            },
            "ticket": (
                {
                    "id": demo_ticket.public_id,
                    "reference": demo_ticket.reference,
                    "private_url": demo_ticket.private_url,
                }
                if demo_ticket
                else None
            ),
            "tag": {"id": str(tag.pk), "name": tag.name} if tag else None,
            "urls": {
                "dashboard": f"{base_url}{reverse('dashboard:queue')}",
                "admin": f"{base_url}/admin/",
                "api": f"{base_url}/api/v1/",
                "api_docs": f"{base_url}{reverse('api-docs')}",
                "api_schema": f"{base_url}{reverse('schema')}",
            },
            "other_organization": {
                "name": globex["organization"].name,
                "slug": globex["organization"].slug,
                "api_key": globex["api_key"],
                "inboxes": inboxes(globex["inboxes"]),
                "agent": {**person(globex["people"]["agent"]), "api_token": tokens["other_agent"]},
            },
            "created": acme["created"],
        }

    def readable(self, summary: dict) -> str:
        inbox_lines = []
        for inbox in summary["inboxes"]:
            notes = ["default inbox"] if inbox["is_default"] else []
            if inbox["daily_limit_per_customer"] is not None:
                notes.append(f"{inbox['daily_limit_per_customer']} new tickets per customer per day")
            notes.append(
                "auto-assigns to the least-loaded available N1 agent"
                if inbox["auto_assignment"] != Inbox.AutoAssignment.OFF
                else "no auto-assignment"
            )
            inbox_lines.append(
                f"    {inbox['name']:<8} {inbox['prefix']:<4} {inbox['public_id']}  ({'; '.join(notes)})"
            )
        other = summary["other_organization"]
        other_inbox = other["inboxes"][0]
        urls = summary["urls"]
        state = "created" if summary["created"] else "already existed; fresh API keys minted"
        curl_body = json_compact(
            {
                "customer": {"email": "john@acme.com", "external_id": DEMO_CUSTOMER_EXTERNAL_ID},
                "subject": "Payment failed for order #12345",
                "message": "Payment attempt failed with CARD_DECLINED.",
                "priority": "high",
            }
        )
        lines = [
            f"Helpdesk demo ({summary['organization']['name']}: {state}). Demo data, for local use only.",
            "",
            f"  Agent dashboard   {urls['dashboard']}",
            f"    agent  {summary['agent']['email']:<18} password {DEMO_PASSWORD}   (N1, available)",
            f"    agent  {summary['second_agent']['email']:<18} password {DEMO_PASSWORD}   (N2)",
            f"    owner  {summary['owner']['email']:<18} password {DEMO_PASSWORD}",
            f"  Django admin      {urls['admin']}",
            f"    staff  {summary['admin']['email']:<18} password {DEMO_PASSWORD}   (superuser)",
            f"  API docs          {urls['api_docs']}",
            "",
            "  API key (all inboxes of Acme Support; shown once, store it):",
            f"    {summary['api_key']}",
            f"  Agent token of {summary['agent']['email']} (agent API, inapp admin routes):",
            f"    {summary['agent']['api_token']}",
            f"  Customer token of {summary['customer']['email']} (customer API, inapp user routes):",
            f"    {summary['customer']['token']}",
            "  Inboxes (name, prefix, id):",
            *inbox_lines,
            "",
            f"  Second organization, to try isolation: {other['name']} ({other['slug']})",
            f"    API key  {other['api_key']}",
            f"    inbox    {other_inbox['name']} {other_inbox['prefix']} {other_inbox['public_id']}",
            f"    agent    {other['agent']['email']} password {DEMO_PASSWORD}",
            "",
            "  Create a ticket:",
            f"    curl -X POST {summary['base_url']}/api/v1/tickets \\",
            f"      -H 'X-API-Key: {summary['api_key']}' -H 'Content-Type: application/json' \\",
            f"      -d '{curl_body}'",
            "",
            "  Again, as JSON with a fresh API key: make demo-credentials",
        ]
        return "\n".join(lines)


def _last_id(model) -> int:
    return model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _dumps(value) -> str:
    return json.dumps(value, indent=2, default=_json_default)


def json_compact(value) -> str:
    return json.dumps(value, separators=(", ", ": "))


def _json_default(value):
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"Not JSON serializable: {value!r}")
