import pytest
from django.core.cache import cache

from sla import services
from tickets.actors import Actor
from tickets.tests.test_mail_smtp import smtp_server, smtp_settings  # noqa: F401 - a real SMTP sink


@pytest.fixture(autouse=True)
def fresh_levels_cache(request):
    """Each test reads the policies it made: the shared cache (in the database) starts
    empty, and so does this process's copy (a rolled-back test's organization id and
    version come again in the next test). Pure tests (no database) have nothing cached."""
    services._local.clear()
    if not request.node.get_closest_marker("django_db") and "db" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("db")
    cache.clear()
    yield


@pytest.fixture
def manager(owner) -> Actor:
    return Actor.agent(owner)


@pytest.fixture
def make_policy(organization, manager, django_capture_on_commit_callbacks):
    """A policy made through the service, its cache refresh run as after a real commit."""

    def make(name="Standard", targets=None, **fields):
        with django_capture_on_commit_callbacks(execute=True):
            return services.create_policy(
                organization=organization,
                actor=manager,
                name=name,
                targets=targets
                or {"first_reply_minutes": 60, "next_reply_minutes": 240, "resolution_minutes": 1440},
                **fields,
            )

    return make


@pytest.fixture
def make_hours(organization, manager, django_capture_on_commit_callbacks):
    def make(name="Office", weekly=None, **fields):
        with django_capture_on_commit_callbacks(execute=True):
            return services.create_business_hours(
                organization=organization,
                actor=manager,
                name=name,
                time_zone=fields.pop("time_zone", "Europe/Berlin"),
                weekly=weekly
                or [
                    {"day": day, "start": "09:00", "end": "17:00"}
                    for day in ("mon", "tue", "wed", "thu", "fri")
                ],
                **fields,
            )

    return make
