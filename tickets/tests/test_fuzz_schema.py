"""Schemathesis against /api/schema/: every documented operation, with valid credentials.

No answer is a 5xx, and every answer conforms to the schema (status code documented,
content type, body shape, headers). Examples per operation are bounded and derandomized
so CI runs the same cases each time; the counts are printed in the "security counts"
section at the end of the run.
"""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import negative_data_rejection, positive_data_acceptance

from helpdesk.wsgi import application
from tickets.tests import factories, security_counts

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)

EXAMPLES_PER_OPERATION = 15

# Schema-valid data that the services refuse is expected: rules across fields (a customer
# needs an email *or* an external id), uniqueness, an unknown inbox. Those answer a
# documented 4xx in the error shape, which the other checks verify.
# Likewise an empty query parameter (``?updated_after=``) means "no filter", as
# django-filter reads it, rather than a malformed value.
EXCLUDED_CHECKS = [positive_data_acceptance, negative_data_rejection]


def api_key_header(case) -> str:
    """The header name the operation's own security scheme declares for the API key.

    Schemathesis tests a missing credential by deleting that exact name from the headers
    we pass, and header names are compared case-sensitively there: a key passed as
    ``X-API-Key`` to an operation documented with ``x-api-key`` stayed on the request, which
    then answered as an authenticated one (a 404 for the example's unknown customer).
    """
    schemes = case.operation.schema.raw_schema["components"]["securitySchemes"]
    for requirement in case.operation.definition.raw.get("security", []):
        for name in requirement:
            scheme = schemes[name]
            if scheme["type"] == "apiKey" and scheme["in"] == "header":
                return scheme["name"]
    return "X-API-Key"


@pytest.fixture(autouse=True)
def keep_the_test_connection_open():
    """Calls go straight to the WSGI app, whose request signals would close the test's
    database connection mid-transaction (PostgreSQL); Django's test client disconnects
    the same handler for the same reason."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def credentials(organization, inbox, other_inbox):
    """An API key, and data for the operations to find: a ticket and its customer."""
    factories.make_ticket(inbox, email="fuzz@example.com")
    return factories.make_api_key(organization)[1]


@pytest.fixture
def agent_credentials(organization, inbox, agent):
    factories.make_ticket(inbox, email="fuzz@example.com")
    return {"Authorization": f"Bearer {factories.make_agent_token(agent)[1]}"}


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@schema.parametrize()
@FUZZ_SETTINGS
def test_every_api_operation_with_an_api_key_never_fails_and_conforms_to_the_schema(case, credentials):
    security_counts.fuzz_examples[f"{case.operation.method.upper()} {case.operation.path} (API key)"] += 1
    case.call_and_validate(headers={api_key_header(case): credentials}, excluded_checks=EXCLUDED_CHECKS)


@schema.parametrize()
@FUZZ_SETTINGS
def test_every_api_operation_with_an_agent_token_never_fails_and_conforms_to_the_schema(
    case, agent_credentials
):
    security_counts.fuzz_examples[f"{case.operation.method.upper()} {case.operation.path} (agent token)"] += 1
    case.call_and_validate(headers=agent_credentials, excluded_checks=EXCLUDED_CHECKS)


@pytest.fixture
def customer_credentials(organization, inbox):
    from accounts.models import CustomerToken

    ticket = factories.make_ticket(inbox, email="fuzz@example.com")
    token = CustomerToken(organization=organization, customer=ticket.customer)
    plaintext = token.assign_secret()
    token.save()
    return {"Authorization": f"Bearer {plaintext}"}


@schema.include(path_regex=r"^/api/v1/me/").parametrize()
@FUZZ_SETTINGS
def test_every_customer_api_operation_with_a_customer_token_never_fails_and_conforms_to_the_schema(
    case, customer_credentials
):
    security_counts.fuzz_examples[
        f"{case.operation.method.upper()} {case.operation.path} (customer token)"
    ] += 1
    case.call_and_validate(headers=customer_credentials, excluded_checks=EXCLUDED_CHECKS)
