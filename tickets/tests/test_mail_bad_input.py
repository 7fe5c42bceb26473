"""A bad-input table for inbound mail (issue 14, "How it is checked"): empty From, huge
headers, broken MIME, 8-bit headers and a loop each get a clear answer from the webhook
(never a 500), store at most one well-formed ticket, and send nothing to a robot."""

import json

import pytest
from django.core import mail

from tickets.models import Ticket
from tickets.tests.test_mail_inbound import (
    basic_auth,
    mail_settings,  # noqa: F401 - the same provider settings as the inbound tests
)

HEAD = "To: support@acme.test\r\nMessage-ID: <{name}@example.org>\r\nMIME-Version: 1.0\r\n"


def raw(name: str, headers: str, body: str = "Hello there.\r\n", content_type="text/plain; charset=utf-8"):
    return f"{HEAD.format(name=name)}{headers}Content-Type: {content_type}\r\n\r\n{body}"


CASES = [
    # (name, raw MIME, tickets expected, mail to the sender expected)
    ("empty-from", raw("empty-from", "From: \r\nSubject: No sender\r\n"), 0, False),
    ("null-from", raw("null-from", "From: <>\r\nSubject: Bounce-ish\r\n"), 0, False),
    ("huge-subject", raw("huge-subject", f"From: bob@example.org\r\nSubject: {'A' * 100_000}\r\n"), 1, True),
    (
        "many-headers",
        raw("many-headers", "From: bob@example.org\r\nSubject: Lots\r\n" + "X-Junk: y\r\n" * 5000),
        1,
        True,
    ),
    (
        "broken-multipart",
        raw(
            "broken-multipart",
            "From: bob@example.org\r\nSubject: Broken parts\r\n",
            body="--nope\r\nContent-Type: text/plain\r\n\r\nhalf a part",
            content_type='multipart/mixed; boundary="never-closed"',
        ),
        1,
        True,
    ),
    (
        "8bit-subject",
        raw("8bit-subject", "From: Zoë <zoe@example.org>\r\nSubject: Café crème ☕\r\n"),
        1,
        True,
    ),
    (
        "loop",
        raw(
            "loop",
            "From: helpdesk@acme.test\r\nSubject: [INV-9] Our own mail\r\nX-Helpdesk-Kind: confirmation\r\n",
        ),
        0,
        False,
    ),
    (
        "auto-loop",
        raw(
            "auto-loop",
            "From: robot@example.org\r\nSubject: Out of office\r\nAuto-Submitted: auto-replied\r\n",
        ),
        0,
        False,
    ),
]


@pytest.mark.parametrize(("name", "source", "tickets", "answered"), CASES, ids=[case[0] for case in CASES])
def test_bad_mail_gets_a_clear_answer_and_never_a_500(
    client, inbox, name, source, tickets, answered, django_capture_on_commit_callbacks
):
    payload = {
        "email": source,
        "envelope": json.dumps({"to": ["support@acme.test"], "from": "x@example.org"}),
        "charsets": json.dumps({"to": "UTF-8", "subject": "UTF-8", "from": "UTF-8"}),
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/anymail/sendgrid/inbound/", payload, **basic_auth())

    assert response.status_code in {200, 400, 413}
    assert Ticket.objects.count() == tickets
    if tickets:
        ticket = Ticket.objects.get()
        assert 1 <= len(ticket.subject) <= 200
    to_outside = [email for email in mail.outbox if email.to != ["support@acme.test"]]
    assert bool(to_outside) == answered
