"""Which status each documented operation answered in the tests, against the OpenAPI document.

``install()`` wraps Django's test client (DRF's ``APIClient`` goes through it too): every
request to a path under ``/api/`` or ``/compat/`` is recorded as (method, path, status).
``undocumented()`` finds the operation each recorded request reached — the documented path
its own path falls under — and returns every status that operation does not list. A method
the path does not document (a refused method) must answer a status one of the path's
operations lists (405, or 401 when the credential is checked first).

The root ``conftest.py`` installs it for the whole run and checks at the end of the session;
``tickets/tests/test_schema_statuses.py`` drives good and bad requests at every operation.
"""

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

TRACKED_PREFIXES = ("/api/", "/compat/")
METHODS = ("get", "put", "post", "delete", "patch")

# (method, path, status) of every tracked request since the run started.
OBSERVED: set[tuple[str, str, int]] = set()
_listeners: list[set[tuple[str, str, int]]] = []


def install() -> None:
    from django.test.client import Client

    original = Client.request
    if getattr(original, "records_statuses", False):
        return

    def request(self, **environ):
        response = original(self, **environ)
        path = environ.get("PATH_INFO", "")
        if path.startswith(TRACKED_PREFIXES):
            observation = (environ.get("REQUEST_METHOD", "GET").lower(), path, response.status_code)
            OBSERVED.add(observation)
            for listener in _listeners:
                listener.add(observation)
        return response

    request.records_statuses = True
    Client.request = request


@contextmanager
def recording() -> Iterator[set[tuple[str, str, int]]]:
    """The observations made inside the block."""
    observed: set[tuple[str, str, int]] = set()
    _listeners.append(observed)
    try:
        yield observed
    finally:
        _listeners.remove(observed)


def current_schema() -> dict:
    """The OpenAPI document as /api/schema/ serves it (postprocessing hooks included)."""
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def _patterns(schema: dict) -> list[tuple[re.Pattern, str, dict]]:
    # A literal segment wins over a placeholder: fewer placeholders are tried first.
    templates = sorted(schema["paths"].items(), key=lambda pair: pair[0].count("{"))
    return [
        (re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"), template, item)
        for template, item in templates
    ]


def operation_for(schema: dict, path: str) -> tuple[str, dict] | None:
    """The documented path a request's path falls under (one trailing slash tolerated, as
    the routes do), and its path item; None when it is no documented path."""
    path = path.rstrip("/") or "/"
    for pattern, template, item in _patterns(schema):
        if pattern.match(path):
            return template, item
    return None


def undocumented(schema: dict, observed: Iterable[tuple[str, str, int]]) -> list[str]:
    """``"POST /compat/inapp/v1/support/tickets answered 422"`` for each status an operation
    answered that the document does not list for it."""
    problems = set()
    for method, path, status in observed:
        found = operation_for(schema, path)
        if found is None or method not in METHODS:
            continue  # not an operation (the schema, the docs, an unknown path); HEAD, OPTIONS
        template, item = found
        if method in item:
            listed = set(item[method]["responses"])
            where = f"{method.upper()} {template}"
        else:
            listed = {code for other in METHODS if other in item for code in item[other]["responses"]}
            where = f"{method.upper()} {template} (a method the path refuses)"
        if str(status) not in listed:
            problems.add(f"{where} answered {status}; listed: {', '.join(sorted(listed))}")
    return sorted(problems)
