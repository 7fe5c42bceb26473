"""Secrets out of logs (issue 14, "Private-link keys and portal sign-in tokens are written
to the access log"): the shipped gunicorn access log and Django's request loggers write
[redacted] in place of private-link keys, sign-in and verification tokens."""

import logging
import runpy
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from helpdesk.redaction import RedactingGunicornLogger, redact
from tickets.tests import factories

KEY = "tk_Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4"
TICKET_ID = "01JABCDEFGHJKMNPQRSTVWXYZ0"

SECRET_URLS = [
    (f"/t/{TICKET_ID}/{KEY}/", f"/t/{TICKET_ID}/[redacted]/"),
    (f"/t/{TICKET_ID}/{KEY}/reply/", f"/t/{TICKET_ID}/[redacted]/reply/"),
    ("/t/portal/acme/signin/eyJjdXN0b21lciI6IjAxSiJ9:1vQ:abc/", "/t/portal/acme/signin/[redacted]/"),
    ("/desk/verify-address/eyJpbmJveCI6IjAxSiJ9:1vQ:sig/", "/desk/verify-address/[redacted]/"),
    ("/accounts/reset/MQ/cz8a1b-0123456789abcdef/", "/accounts/reset/MQ/[redacted]/"),
    ("/t/new/INBOX/?token=abc&x=1", "/t/new/INBOX/?token=[redacted]&x=1"),
]


@pytest.mark.parametrize(("url", "expected"), SECRET_URLS)
def test_secret_parts_of_urls_are_redacted(url, expected):
    assert redact(url) == expected


def test_ordinary_urls_are_left_alone():
    for url in ["/desk/tickets/01JABCDEFGHJKMNPQRSTVWXYZ0/", "/api/v1/tickets?page=2", "/t/new/01J/sent/"]:
        assert redact(url) == url


def test_the_shipped_gunicorn_access_log_redacts_the_private_link(capsys):
    shipped = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))
    assert shipped["logger_class"] == "helpdesk.redaction.RedactingGunicornLogger"
    config = Config()
    config.set("accesslog", "-")
    config.set("access_log_format", shipped["access_log_format"])
    logger = RedactingGunicornLogger(config)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/t/{TICKET_ID}/{KEY}/",
        "PATH_INFO": f"/t/{TICKET_ID}/{KEY}/",
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
        "HTTP_REFERER": f"https://help.example.com/t/{TICKET_ID}/{KEY}/",
    }
    response = SimpleNamespace(status="200 OK", sent=10, headers=[("X-Request-ID", "req_1")])
    request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])

    logger.access(response, request, environ, timedelta(milliseconds=5))

    line = capsys.readouterr().out
    assert f"/t/{TICKET_ID}/[redacted]/" in line
    assert KEY not in line


def test_djangos_request_log_never_holds_a_private_link_key(client, inbox, caplog):
    ticket = factories.make_ticket(inbox)
    wrong = f"/t/{ticket.public_id}/tk_wrong-{KEY}/"

    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get(wrong).status_code == 404

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Not Found" in logged
    assert KEY not in logged and "[redacted]" in logged


def test_the_development_server_log_never_holds_a_sign_in_token(caplog):
    token = "eyJjdXN0b21lciI6IjAxSiJ9:1vQ:abcdef"
    with caplog.at_level(logging.INFO, logger="django.server"):
        logging.getLogger("django.server").info(
            '"%s" %s %s', f"GET /t/portal/acme/signin/{token}/ HTTP/1.1", 200, 5
        )

    assert token not in caplog.text
