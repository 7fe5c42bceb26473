"""Nobody reads what is not theirs: every route × every foreign credential is refused.

Routes come from walking ``get_resolver()``, so a route added by any face is covered the
day it is merged; filling its path parameters needs a row in ``PARAMETERS`` (the test
fails, naming the parameter, until one is added). Public routes are listed, with the
reason, in ``PUBLIC_ROUTES``.

The victim is a ticket of organization Acme; the attackers hold Globex's API key, the
token of another Acme customer, another ticket's private link, a Globex agent (session
and personal token), or nothing. Each request must be refused (401/403/404/405, or a
redirect to sign in) and no answer may contain the victim's subject, email, ids or keys.
A route without a victim in its path (a list) may answer the attacker with their own
data, never the victim's.
"""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from accounts.models import CustomerToken
from automation import services as automation_services
from sla import services as sla_services
from tickets import services
from tickets.actors import Actor
from tickets.models import SavedReply
from tickets.tests import factories, security_counts
from webhooks import services as webhook_services

# Route (as walked) prefixes that are public, and why.
PUBLIC_ROUTES = {
    "": "home: redirects to sign-in or the dashboard",
    "healthz": "liveness check for orchestrators, no data",
    "favicon.ico": "the site's icon, the same file as the static one the pages link to",
    "readyz": "readiness check for load balancers: dependency status only, no data",
    "accounts/": "sign-in, sign-out and password reset pages",
    "api/schema/": "the OpenAPI document",
    "api/docs/": "the interactive API docs",
    "t/new/": "the public support form",
    "t/portal/": "the customer's sign-in-by-email pages (a signed, expiring token is the credential)",
    "anymail/": "provider webhooks, guarded by ANYMAIL WEBHOOK_SECRET (tests in test_mail_webhook_auth.py)",
    "desk/verify-address/": "the link mailed to a new support address: its signed token is the credential",
    "admin/login/": "the staff sign-in page",
    "admin/logout/": "staff sign-out",
    "^media/": "uploaded files are served only with DEBUG on; attachments go through the portal",
}

# 429: the portal's private-link guessing throttle refuses before looking the link up.
REFUSED = {401, 403, 404, 405, 429}


def walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def all_routes() -> list[str]:
    return sorted(set(walk(get_resolver().url_patterns)))


def protected_routes() -> list[str]:
    return [
        route
        for route in all_routes()
        if not any(route == public or (public and route.startswith(public)) for public in PUBLIC_ROUTES)
    ]


# How to fill each path parameter: (route prefix, parameter) -> attribute of the victim,
# checked in order, the first matching prefix wins.
PARAMETERS = [
    ("api/v1/^tickets/", "id", "ticket_id"),
    ("api/v1/^tickets/", "other_id", "ticket_id"),
    ("api/v1/^me/tickets/", "id", "ticket_id"),
    ("api/v1/^customers/", "id", "customer_id"),
    ("api/v1/^customers/", "customer_id", "customer_id"),
    ("api/v1/^customers/", "token_id", "token_id"),
    ("api/v1/^inboxes/", "id", "inbox_id"),
    ("api/v1/^tags/", "pk", "tag_id"),
    ("api/v1/^webhooks/", "id", "webhook_id"),
    ("api/v1/^custom-fields/", "pk", "custom_field_pk"),
    ("api/v1/^triggers/", "pk", "trigger_pk"),
    ("api/v1/^macros/", "pk", "macro_pk"),
    ("desk/automation/", "trigger_id", "trigger_pk"),
    ("desk/automation/", "macro_id", "macro_pk"),
    ("api/v1/^webhooks/", "delivery_id", "webhook_delivery_id"),
    ("desk/settings/webhooks/", "public_id", "webhook_id"),
    ("desk/settings/webhooks/", "delivery_id", "webhook_delivery_id"),
    ("api/v1/^business-hours/", "id", "business_hours_id"),
    ("api/v1/^sla-policies/", "id", "sla_policy_id"),
    ("desk/settings/service-levels/hours/", "public_id", "business_hours_id"),
    ("desk/settings/service-levels/policies/", "public_id", "sla_policy_id"),
    ("satisfaction/", "public_id", "ticket_id"),
    ("satisfaction/", "access_key", "attacker_access_key"),
    ("t/", "public_id", "ticket_id"),
    ("desk/attachments/", "public_id", "attachment_id"),
    ("desk/customers/", "public_id", "customer_id"),
    ("desk/", "public_id", "ticket_id"),
    ("desk/", "notification_id", "notification_pk"),
    ("desk/", "participant_id", "participant_pk"),
    ("desk/", "other_id", "ticket_id"),
    ("desk/", "message_id", "message_id"),
    ("desk/settings/members/", "pk", "membership_pk"),
    ("desk/settings/api-keys/", "prefix", "api_key_prefix"),
    ("desk/profile/tokens/", "pk", "agent_token_pk"),
    # The attacker's own, valid private key, put on the victim's ticket.
    ("t/", "access_key", "attacker_access_key"),
    ("t/", "attachment_id", "attachment_id"),
    ("compat/", "paywall_id", "inbox_id"),
    ("compat/", "collection_id", "inbox_id"),
    ("compat/", "ticket_id", "ticket_id"),
    ("admin/", "app_label", "app_label"),
    ("admin/", "customer_id", "customer_pk"),
    ("admin/", "object_id", "ticket_pk"),
    ("admin/", "attachment_id", "ticket_pk"),
    ("admin/", "pk", "ticket_pk"),
    ("admin/", "content_type_id", "content_type_id"),
    ("admin/", "url", "admin_url"),
    ("admin/", "uidb64", "admin_url"),
    ("admin/", "token", "admin_url"),
    ("admin/", "id", "ticket_pk"),
    ("admin/", "path", "admin_url"),
]


def parameter_value(route: str, name: str, victim: dict) -> str:
    for prefix, parameter, attribute in PARAMETERS:
        if parameter == name and route.startswith(prefix):
            return str(victim[attribute])
    pytest.fail(f"No row in PARAMETERS for {name!r} in route {route!r}: add one.")


def fill(route: str, victim: dict) -> str:
    # Regex groups first: "(?P<id>...)" also looks like a "<id>" converter.
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda match: parameter_value(route, match.group(1), victim), route)
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda match: parameter_value(route, match.group(1), victim), path)
    path = path.replace("/?$", "").replace("\\Z", "").replace("$", "").replace("^", "")
    path = re.sub(r"\(\?:([^)|]*)[^)]*\)\??", r"\1", path)  # optional/alternative groups: first branch
    return "/" + path


@pytest.fixture
def victim(organization, inbox, agent, django_capture_on_commit_callbacks):
    ticket = factories.make_ticket(
        inbox, email="victim.person@example.com", subject="Victim secret subject", name="Vera Victim"
    )
    services.add_message(
        ticket=ticket, body="Victim private words", actor=Actor.agent(agent), changes={"assignee": None}
    )
    with django_capture_on_commit_callbacks(execute=True):
        # A notification (someone else's assignment: nobody is told of their own).
        services.assign(ticket=ticket, assignee=agent, actor=Actor.system("Tests"))
    tag, _ = services.get_or_create_tag(organization=organization, name="victim-tag")
    token = CustomerToken(organization=organization, customer=ticket.customer)
    victim_token = token.assign_secret()
    token.save()
    attacker_ticket = factories.make_ticket(inbox, email="attacker@example.com", subject="Attacker ticket")
    saved_reply = SavedReply.objects.create(
        organization=organization, title="Victim reply", body="Victim private words"
    )
    participant = services.add_participant(
        ticket=ticket, email="victim.colleague@example.com", actor=Actor.agent(agent)
    )
    api_key, _ = factories.make_api_key(organization, name="Victim key")
    # A webhook endpoint and a delivery (a ping, never sent: its drain waits for a commit
    # that the test's transaction never makes).
    webhook, webhook_secret = webhook_services.create_endpoint(
        organization=organization,
        actor=Actor.system("Tests"),
        url="https://93.184.216.34/victim-hooks",
        events=["*"],
    )
    webhook_delivery = webhook_services.send_test(endpoint=webhook, actor=Actor.system("Tests"))
    agent_token, _ = factories.make_agent_token(agent)
    custom_field = services.create_custom_field(
        organization=organization,
        actor=Actor.system("Tests"),
        key="victim_field",
        label="Victim field",
        type="text",
    )
    trigger = automation_services.create_trigger(
        organization=organization,
        actor=Actor.system("Tests"),
        name="Victim trigger",
        event="ticket.created",
        actions=[{"type": "add_note", "value": "Victim private words"}],
    )
    macro = automation_services.create_macro(
        organization=organization,
        actor=Actor.system("Tests"),
        name="Victim macro",
        reply="Victim private words",
    )
    business_hours = sla_services.create_business_hours(
        organization=organization,
        actor=Actor.system("Tests"),
        name="Victim hours",
        weekly=[{"day": "mon", "start": "09:00", "end": "17:00"}],
    )
    sla_policy = sla_services.create_policy(
        organization=organization,
        actor=Actor.system("Tests"),
        name="Victim policy",
        targets={"first_reply_minutes": 60},
    )
    from django.contrib.contenttypes.models import ContentType

    return {
        "ticket": ticket,
        "ticket_id": ticket.public_id,
        "ticket_pk": ticket.pk,
        "notification_pk": agent.notifications.first().pk,
        "participant_pk": participant.pk,
        "membership_pk": agent.memberships.get(organization=organization).pk,
        "saved_reply_pk": saved_reply.pk,
        "custom_field_pk": custom_field.pk,
        "trigger_pk": trigger.pk,
        "macro_pk": macro.pk,
        "api_key_prefix": api_key.prefix,
        "agent_token_pk": agent_token.pk,
        "customer_id": ticket.customer.public_id,
        "customer_pk": ticket.customer.pk,
        "inbox_id": inbox.public_id,
        "tag_id": tag.pk,
        "webhook_id": webhook.public_id,
        "webhook_delivery_id": webhook_delivery.public_id,
        "business_hours_id": business_hours.public_id,
        "sla_policy_id": sla_policy.public_id,
        "token_id": token.pk,
        "attachment_id": "01ZZZZZZZZZZZZZZZZZZZZZZZZ",
        "message_id": ticket.messages.first().public_id,
        "attacker_ticket": attacker_ticket,
        "attacker_access_key": attacker_ticket.access_key,
        "app_label": "tickets",
        "content_type_id": ContentType.objects.get_for_model(type(ticket)).pk,
        "admin_url": "x",
        "secrets": [
            "Victim secret subject",
            "victim.person@example.com",
            "Vera Victim",
            "Victim private words",
            ticket.public_id,
            ticket.customer.public_id,
            ticket.access_key,
            victim_token,
            webhook.public_id,
            webhook_secret,
            "victim-hooks",
            "Victim hours",
            "Victim policy",
        ],
    }


def make_credentials(victim, other_api_key, other_agent):
    attacker_customer = victim["attacker_ticket"].customer
    token = CustomerToken(organization=attacker_customer.organization, customer=attacker_customer)
    customer_token = token.assign_secret()
    token.save()
    agent_token = factories.make_agent_token(other_agent)[1]

    def with_headers(**headers):
        def build():
            client = APIClient()
            client.credentials(**headers)
            return client

        return build

    def other_ticket_session():
        # Whatever the portal remembers after opening one's own ticket opens nothing else.
        client = APIClient()
        client.get(victim["attacker_ticket"].private_path)
        return client

    def other_agent_session():
        client = APIClient()
        client.force_login(other_agent)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {agent_token}")
        return client

    return {
        "another organization's API key": with_headers(HTTP_X_API_KEY=other_api_key),
        "another customer's token": with_headers(HTTP_AUTHORIZATION=f"Bearer {customer_token}"),
        "another ticket's private link": other_ticket_session,
        "an agent of another organization": other_agent_session,
        "no credentials": with_headers(),
    }


def has_victim_parameter(route: str) -> bool:
    return bool(re.search(r"<|\(\?P<", route))


def test_the_walk_finds_the_api_portal_dashboard_and_admin_routes():
    routes = all_routes()
    for expected in ("api/v1/^tickets/?$", "t/<str:public_id>/<str:access_key>/", "desk/", "admin/"):
        assert any(route.startswith(expected) for route in routes), expected
    assert protected_routes()


def test_every_route_refuses_every_foreign_credential_and_leaks_nothing(
    victim, other_api_key, other_agent, other_organization
):
    credentials = make_credentials(victim, other_api_key, other_agent)
    failures = []
    for route in protected_routes():
        path = fill(route, victim)
        for credential, build in credentials.items():
            client = build()
            for method in ("get", "post"):
                response = (
                    getattr(client, method)(path, {}, format="json") if method == "post" else client.get(path)
                )
                body = response.content.decode("utf-8", "replace")
                leaked = [secret for secret in victim["secrets"] if secret in body]
                location = response.get("Location", "")
                # A redirect to sign in, or away to the caller's own pages (e.g. their
                # notification list), refuses as long as it does not point at the victim.
                redirected_to_sign_in = response.status_code in (301, 302, 303) and (
                    "login" in location or not any(secret in location for secret in victim["secrets"])
                )
                refused = response.status_code in REFUSED or redirected_to_sign_in
                own_list = not has_victim_parameter(route) and credential != "no credentials"
                if leaked:
                    failures.append(f"{method.upper()} {path} with {credential}: leaked {leaked}")
                elif not refused and not (own_list and response.status_code < 500):
                    failures.append(f"{method.upper()} {path} with {credential}: {response.status_code}")
            security_counts.isolation_checks[route].add(credential)
    assert not failures, "\n".join(failures)


def test_the_filled_urls_do_reach_the_victim_with_the_right_credentials(victim, api):
    # The control: the same paths open for the victim's own organization, so the refusals
    # above are about the credential, not about a malformed URL.
    routes = {route for route in all_routes() if route.startswith(("api/v1/^tickets/", "api/v1/^customers/"))}
    opened = 0
    for route in sorted(routes):
        if any(word in route for word in ("rotate", "tokens", "erase", "merge", "split", "other_id")):
            # POST or DELETE only (and erasing would empty the victim's ticket for the checks
            # below).
            continue
        response = api.get(fill(route, victim))
        assert response.status_code == 200, (route, response.content[:200])
        opened += 1
    assert opened >= 5
    ticket = victim["ticket"]
    portal = APIClient().get(ticket.private_path)
    assert portal.status_code == 200
    assert b"Victim secret subject" in portal.content
