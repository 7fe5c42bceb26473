"""Injection: XSS payloads in every displayed field never execute; every page has a CSP;
every form needs its CSRF token; CR/LF in subjects or names never makes an email header.

Surfaces are a table (``HTML_SURFACES``): a new page is a row. The detector parses the
page and fails on anything a payload could have become: an ``on*`` attribute, a script
without our nonce, a ``javascript:`` URL.
"""

from html.parser import HTMLParser

import pytest
from django.core import mail
from django.test import Client

from accounts.models import User
from tickets import services
from tickets.actors import Actor
from tickets.tests import factories

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "'><iframe src=javascript:alert(1)>",
    "[click me](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "<body onload=alert(1)>",
    "{{ 7|add:7 }}{% csrf_token %}",
    "</textarea><script>alert(1)</script>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
]
PAYLOAD_TEXT = " ".join(PAYLOADS)


class ExecutableFinder(HTMLParser):
    """Collects what in a page could run script that we did not put there ourselves."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.findings: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.findings.append(f"<{tag} {name}={value!r}>")
            if name in {"href", "src", "action", "formaction", "xlink:href"} and value:
                if value.strip().lower().replace("\x00", "").startswith(("javascript:", "data:text/html")):
                    self.findings.append(f"<{tag} {name}={value!r}>")
        if tag == "script" and "nonce" not in attributes and not attributes.get("src", "").startswith("/"):
            self.findings.append(f"<script {attributes}> without our nonce")
        if tag in {"iframe", "object", "embed", "base"}:
            self.findings.append(f"<{tag}>")


def executable_parts(html: str) -> list[str]:
    finder = ExecutableFinder()
    finder.feed(html)
    return finder.findings


def assert_inert(html: str, where: str):
    findings = executable_parts(html)
    assert not findings, f"{where}: {findings}"
    for payload in ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<svg onload=alert(1)>"):
        assert payload not in html, f"{where}: {payload} unescaped"


def test_the_detector_finds_each_payload_when_unescaped():
    # The control: each payload, pasted raw into a page, is caught.
    for payload in PAYLOADS[:4] + PAYLOADS[5:7]:
        assert executable_parts(f"<p>{payload}</p>"), payload


@pytest.fixture(autouse=True)
def sending_mail(settings):
    # Tests run with SUPPORT_EMAIL_SENDER=none; send to Django's test outbox instead.
    settings.SUPPORT_EMAIL_SENDER = "console"
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


@pytest.fixture
def poisoned(organization, inbox, agent, django_capture_on_commit_callbacks):
    """A ticket with a payload in every field that is ever displayed."""
    inbox.support_email = "support-copy@acme.test"
    inbox.save()
    with django_capture_on_commit_callbacks(execute=True):
        ticket, _ = services.create_ticket(
            inbox=inbox,
            customer=services.CustomerData(
                email="xss@example.com",
                name='<img src=x onerror=alert("name")>',
                metadata={'<svg onload=alert("key")>': '<script>alert("value")</script>'},
            ),
            subject='"><svg onload=alert(1)> subject',
            message=PAYLOAD_TEXT,
            category="<script>alert(1)</script>",
            type='<img src=x onerror=alert("type")>',
            tags=['<svg onload=alert("tag")>'],
            metadata={'<img src=x onerror=alert("k")>': "[x](javascript:alert(1))"},
            actor=Actor.system("Tests"),
            attachments=[
                services.UploadedFile(
                    filename='<img src=x onerror=alert("file")>.txt', content_type="text/plain", content=b"hi"
                )
            ],
        )
        services.add_message(ticket=ticket, body=PAYLOAD_TEXT, actor=Actor.agent(agent))
        services.add_message(ticket=ticket, body=PAYLOAD_TEXT, kind="note", actor=Actor.agent(agent))
    return ticket


def staff_client(organization) -> Client:
    user = User.objects.create_superuser(email="staff@acme.test", password="staff password 123")
    client = Client()
    client.force_login(user)
    return client


def agent_client(agent) -> Client:
    client = Client()
    client.force_login(agent)
    return client


# Each row: (name, how to get the page). New faces (dashboard ticket page, reports, dialect
# pages) add rows here.
HTML_SURFACES = [
    ("portal ticket page", lambda ticket, agent: Client().get(ticket.private_path)),
    ("dashboard queue", lambda ticket, agent: agent_client(agent).get("/desk/")),
    ("dashboard queue rows", lambda ticket, agent: agent_client(agent).get("/desk/rows")),
    (
        "dashboard ticket page",
        lambda ticket, agent: agent_client(agent).get(f"/desk/tickets/{ticket.public_id}/"),
    ),
    (
        "dashboard timeline",
        lambda ticket, agent: agent_client(agent).get(f"/desk/tickets/{ticket.public_id}/timeline"),
    ),
    ("dashboard notifications", lambda ticket, agent: agent_client(agent).get("/desk/notifications/")),
    # A model missing from the admin answers 404 here, and the row fails: it is never skipped.
    (
        "admin ticket list",
        lambda ticket, agent: staff_client(ticket.organization).get(
            "/admin/tickets/ticket/", {"q": PAYLOADS[0]}
        ),
    ),
    (
        "admin ticket page",
        lambda ticket, agent: staff_client(ticket.organization).get(
            f"/admin/tickets/ticket/{ticket.pk}/change/"
        ),
    ),
    (
        "admin customer page",
        lambda ticket, agent: staff_client(ticket.organization).get(
            f"/admin/tickets/customer/{ticket.customer_id}/change/"
        ),
    ),
    (
        "admin message list",
        lambda ticket, agent: staff_client(ticket.organization).get("/admin/tickets/message/"),
    ),
]


@pytest.mark.parametrize(("name", "fetch"), HTML_SURFACES, ids=[row[0] for row in HTML_SURFACES])
def test_payloads_render_inert_on_every_html_surface(name, fetch, poisoned, agent):
    response = fetch(poisoned, agent)
    assert response.status_code == 200, name
    html = response.content.decode()
    assert_inert(html, name)
    assert "Content-Security-Policy" in response.headers
    csp = response.headers["Content-Security-Policy"]
    assert_strict_csp(csp)


def test_payloads_render_inert_in_every_email_html_body(poisoned):
    html_bodies = [
        (message.subject, content)
        for message in mail.outbox
        for content, mimetype in getattr(message, "alternatives", [])
        if mimetype == "text/html"
    ]
    assert html_bodies, "the poisoned ticket sent no HTML email"
    for subject, html in html_bodies:
        assert_inert(html, f"email {subject!r}")


def test_the_api_returns_sanitized_body_html(poisoned, api):
    for message in api.get(f"/api/v1/tickets/{poisoned.public_id}").json()["messages"]:
        assert_inert(message["body_html"], "API body_html")


def assert_strict_csp(csp: str):
    # Scripts only from us (a nonce is added on pages that use one), never inline.
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";") if " " in part.strip())
    assert directives["script-src"].startswith("'self'"), csp
    assert "'unsafe-inline'" not in directives["script-src"] and "'unsafe-eval'" not in csp, csp
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'", csp


# CSP on every page -----------------------------------------------------------------------------

HTML_PAGES = [
    "/accounts/login/",
    "/accounts/password-reset/",
    "/api/docs/",
    "/desk/",
    "/admin/login/",
    "/this-page-does-not-exist/",
]


@pytest.mark.parametrize("path", HTML_PAGES)
def test_every_html_page_carries_the_content_security_policy(client, agent, path, inbox):
    client.force_login(agent)
    response = client.get(path)
    if response["Content-Type"].startswith("text/html"):
        assert_strict_csp(response["Content-Security-Policy"])
    else:
        assert response.status_code in (301, 302)


def test_the_portal_and_support_form_carry_the_content_security_policy(client, ticket, inbox):
    for path in (ticket.private_path, f"/t/new/{inbox.public_id}/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_strict_csp(response["Content-Security-Policy"])


# CSRF on every form -----------------------------------------------------------------------------


def csrf_cases(ticket, inbox, organization):
    key = f"/t/{ticket.public_id}/{ticket.access_key}"
    return [
        ("/accounts/login/", {"username": "agent@acme.test", "password": "correct horse battery staple"}),
        ("/accounts/password-reset/", {"email": "agent@acme.test"}),
        (f"{key}/reply/", {"body": "Hello"}),
        (f"{key}/close/", {}),
        (f"{key}/reopen/", {}),
        (f"/t/new/{inbox.public_id}/", {"email": "a@example.com", "subject": "Hello there", "message": "Hi"}),
        (f"/t/portal/{organization.slug}/", {"email": ticket.customer.email}),
    ]


def test_every_form_post_without_the_csrf_token_is_refused_with_403(ticket, inbox, organization, agent):
    from tickets.models import Message, Ticket

    before = (Ticket.objects.count(), Message.objects.count())
    for path, data in csrf_cases(ticket, inbox, organization):
        client = Client(enforce_csrf_checks=True)
        response = client.post(path, data)
        assert response.status_code == 403, (path, response.status_code)
    assert (Ticket.objects.count(), Message.objects.count()) == before
    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_a_portal_form_post_with_the_token_is_accepted(ticket):
    client = Client(enforce_csrf_checks=True)
    page = client.get(ticket.private_path)
    token = (
        page.cookies["csrftoken"].value if "csrftoken" in page.cookies else client.cookies["csrftoken"].value
    )
    response = client.post(
        f"/t/{ticket.public_id}/{ticket.access_key}/reply/",
        {"body": "Thanks", "csrfmiddlewaretoken": token},
        HTTP_ORIGIN="null",
    )
    assert response.status_code in (200, 302), response.status_code


# Email header injection -------------------------------------------------------------------------


def test_cr_lf_in_a_subject_or_name_never_becomes_an_email_header(
    inbox, agent, django_capture_on_commit_callbacks
):
    inbox.support_email = "support-copy@acme.test"
    inbox.save()
    evil = "Hello\r\nBcc: evil@attacker.test\r\nX-Injected: yes"
    with django_capture_on_commit_callbacks(execute=True):
        try:
            ticket = factories.make_ticket(
                inbox, email="victim@example.com", subject=evil, name="Eve\r\nBcc: evil2@attacker.test"
            )
        except Exception as error:  # refused at the door is as good as neutralized
            assert "subject" in str(error).lower() or "name" in str(error).lower()
            return
        services.add_message(ticket=ticket, body="Answer", actor=Actor.agent(agent))
    assert mail.outbox, "no email was sent"
    for message in mail.outbox:
        raw = message.message().as_bytes().decode("utf-8", "replace")
        headers = raw.split("\n\n", 1)[0]
        assert "\nBcc:" not in headers and "\nX-Injected:" not in headers, headers
        recipients = [address.lower() for address in message.recipients()]
        assert not any("attacker.test" in address for address in recipients), recipients


# Browser: no payload fires a dialog -------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_no_payload_fires_a_dialog_in_chromium(live_server, page, artifacts_dir):
    organization = factories.make_organization(name="Acme", slug="acme-browser")
    inbox = factories.make_inbox(organization, prefix="XSS")
    agent = factories.make_agent(organization, email="agent-browser@acme.test")
    ticket, _ = services.create_ticket(
        inbox=inbox,
        customer=services.CustomerData(email="xss@example.com", name='<img src=x onerror=alert("name")>'),
        subject='"><svg onload=alert(1)>',
        message=PAYLOAD_TEXT,
        tags=['<svg onload=alert("tag")>'],
        actor=Actor.system("Tests"),
    )
    services.add_message(ticket=ticket, body=PAYLOAD_TEXT, actor=Actor.agent(agent))
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{live_server.url}{ticket.private_path}")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(artifacts_dir / "xss-portal.png"), full_page=True)
    # The agent's queue shows the subject and customer name.
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "agent-browser@acme.test")
    page.fill("#id_password", "correct horse battery staple")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(artifacts_dir / "xss-desk.png"), full_page=True)
    assert dialogs == []


def test_every_dashboard_form_post_without_the_csrf_token_is_refused_with_403(ticket, agent):
    from tickets.models import Message

    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    base = f"/desk/tickets/{ticket.public_id}"
    posts = [
        (f"{base}/messages", {"body": "Hello", "kind": "reply"}),
        (f"{base}/update", {"status": "closed", "priority": "urgent"}),
        (f"{base}/take", {}),
        (f"{base}/rotate-link", {}),
        ("/desk/bulk", {"tickets": [ticket.public_id], "action": "close"}),
        ("/desk/preview", {"body": "x"}),
        ("/desk/notifications/read", {}),
        ("/desk/availability", {"is_available": "0"}),
        ("/desk/organization", {"organization": "1"}),
        ("/accounts/logout/", {}),
    ]
    before = (Message.objects.count(), ticket.access_key)
    for path, data in posts:
        response = client.post(path, data)
        assert response.status_code == 403, (path, response.status_code)
    ticket.refresh_from_db()
    assert (Message.objects.count(), ticket.access_key) == before
    assert (ticket.status, ticket.priority, ticket.assignee_id) == ("open", "normal", None)
