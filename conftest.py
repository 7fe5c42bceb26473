"""Fixtures shared by every app's tests: two organizations, their inboxes, keys and agents.

Data is built through the services where a rule applies (tickets, customers), as the
real faces build it.
"""

import threading

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.db import connection
from django.test import Client
from django.test.testcases import LiveServerThread
from rest_framework.test import APIClient

from helpdesk.tests import status_recorder
from tickets.tests import factories

# PostgreSQL-only tests -------------------------------------------------------------------

POSTGRES_ONLY = "needs PostgreSQL: run with DATABASE_URL=postgres://... (CI does)"


def pytest_collection_modifyitems(config, items):
    """Skips the tests marked ``postgres`` when the run is on SQLite, with the reason shown
    (``-ra``): the one place that decides, so no test can skip quietly for another reason."""
    if connection.vendor == "postgresql":
        return
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(pytest.mark.skip(reason=POSTGRES_ONLY))


# The live server on SQLite ------------------------------------------------------------------


class OneRequestAtATimeServer(ThreadedWSGIServer):
    """The browser tests' server on SQLite, where every request thread shares the test's one
    in-memory connection. Two requests at once (the composer's typing poll and the Send it
    precedes) would interleave their transactions on that connection, and the second BEGIN
    fails as "cannot start a transaction within a transaction". Connections stay threaded, so
    an idle keep-alive socket blocks nobody; only the application runs one request at a time."""

    def set_app(self, application):
        lock = threading.Lock()

        def one_at_a_time(environ, start_response):
            with lock:
                response = application(environ, start_response)
                try:
                    # Read under the lock: a streaming response queries as it is iterated.
                    return [b"".join(response)]
                finally:
                    response.close()

        super().set_app(one_at_a_time)


def pytest_configure(config):
    if connection.vendor == "sqlite":
        LiveServerThread.server_class = OneRequestAtATimeServer


# Statuses the run observes, against the OpenAPI document ---------------------------------


def pytest_sessionstart(session):
    status_recorder.install()


def pytest_sessionfinish(session, exitstatus):
    """Fails a run whose requests got a status the OpenAPI document does not list for the
    operation that answered it (see ``helpdesk/tests/status_recorder.py``)."""
    if exitstatus != pytest.ExitCode.OK or not status_recorder.OBSERVED:
        return
    problems = status_recorder.undocumented(status_recorder.current_schema(), status_recorder.OBSERVED)
    if not problems:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write("\n")
        reporter.write_sep("=", "statuses observed that the OpenAPI document does not list", red=True)
        for problem in problems:
            reporter.write_line(problem)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def no_tasks_left_from_an_earlier_test():
    """Each test starts outside a request. A test-client response nobody closed leaves its
    thread "inside" that request for the after-response task backend, which would then hold
    back every task the next test enqueues by calling a service directly."""
    from helpdesk import tasks_backend

    tasks_backend._after_response.set(None)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """MD5 instead of the production hasher, as Django's testing docs advise: many tests
    sign people up or in, and no test is about the hasher itself."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def organization(db):
    return factories.make_organization(name="Acme", slug="acme")


@pytest.fixture
def inbox(organization):
    return factories.make_inbox(organization, name="Invoices", prefix="INV", is_default=True)


@pytest.fixture
def other_organization(db):
    return factories.make_organization(name="Globex", slug="globex")


@pytest.fixture
def other_inbox(other_organization):
    return factories.make_inbox(other_organization, name="Globex support", prefix="GLX", is_default=True)


@pytest.fixture
def api_key(organization, inbox):
    """The plaintext of an unrestricted key of ``organization``."""
    return factories.make_api_key(organization)[1]


@pytest.fixture
def other_api_key(other_organization, other_inbox):
    return factories.make_api_key(other_organization)[1]


@pytest.fixture
def agent(organization):
    return factories.make_agent(organization, email="agent@acme.test", name="Alice Agent")


@pytest.fixture
def owner(organization):
    return factories.make_agent(organization, email="owner@acme.test", name="Olga Owner", role="owner")


@pytest.fixture
def other_agent(other_organization):
    return factories.make_agent(other_organization, email="agent@globex.test", name="Bob Globex")


@pytest.fixture
def agent_client(client, agent) -> Client:
    client.force_login(agent)
    return client


@pytest.fixture
def staff_client(staff) -> Client:
    """Signed in as the ``staff`` user, which each admin test module defines for itself."""
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture
def client_for_key():
    """An API client factory sending ``X-API-Key``."""

    def make(key: str) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_X_API_KEY=key)
        return client

    return make


@pytest.fixture
def api(client_for_key, api_key) -> APIClient:
    return client_for_key(api_key)


@pytest.fixture
def ticket(inbox):
    return factories.make_ticket(inbox)


# Browser tests ---------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, with the flags this closed network needs (see STACK.md)."""
    import os

    if not os.path.exists(CHROMIUM):
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium; CI does)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture
def artifacts_dir():
    """Where browser tests save screenshots; CI keeps this folder."""
    from pathlib import Path

    path = Path(__file__).resolve().parent / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path
