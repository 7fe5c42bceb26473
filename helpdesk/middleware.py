import re
import secrets

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.cache import patch_cache_control

from .api_errors import JSON_PREFIXES, problem_body
from .problems import log_server_side, problem_for

_ACCEPTABLE_REQUEST_ID = re.compile(r"^[A-Za-z0-9_.:-]{8,100}$")


class RequestIDMiddleware:
    """Give every request an id, echo it as X-Request-ID, and let error bodies quote it.

    A caller's own X-Request-ID is kept when it looks like an id, so a trace can follow a
    request from the integrator's logs into ours.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request.request_id = (
            incoming if _ACCEPTABLE_REQUEST_ID.match(incoming) else f"req_{secrets.token_hex(12)}"
        )
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response


API_PREFIX = "/api/"


class ApiErrorsMiddleware:
    """Keep the native API's error shape at the edge DRF does not reach: a 404 that
    Django's resolver answers (an unknown route under /api/) is given the error shape even
    when DEBUG would render its technical page.

    The body size is not checked here: ``StrictJSONParser`` is the one place a JSON body is
    read, and refuses one over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` in the face's own shape.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        from .api_errors import json_error

        response = self.get_response(request)
        if response.status_code == 404 and not response.get("Content-Type", "").startswith(
            "application/json"
        ):
            return json_error(request, 404, "Not found.")
        return response


class RefuseNulInPathMiddleware:
    """A NUL character in the path is a 404 on every face, before any view runs.

    Path parameters (ticket ids, private-link keys) go straight into database lookups,
    and PostgreSQL refuses NUL in text: without this guard ``/api/v1/tickets/%00`` or
    ``/t/%00/x/`` was a 500. Raising Http404 here lets ``handler404`` answer in the
    face's own shape (JSON under /api/ and /compat/, a page elsewhere).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # The dialects answer a NUL in their ids themselves, in their own documented shape.
        if "\x00" in request.path and not request.path.startswith("/compat/"):
            raise Http404("No such page.")
        return self.get_response(request)


class DatabaseOutageMiddleware:
    """A database outage is a 503 with ``Retry-After`` on every face, never a 500.

    The JSON faces under DRF (native API, customer API, dialects) answer it themselves,
    through ``helpdesk.problems``; this catches it everywhere else — the dashboard, the
    portal, sign-in, the inbound mail webhooks (whose providers then retry), ``/healthz``
    — from the same Problem, as JSON under the machine prefixes and as a page elsewhere.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        problem = problem_for(exception, request=request)
        log_server_side(problem, exception, request, face="Django")
        if request.path.startswith(JSON_PREFIXES):
            response = JsonResponse(problem_body(request, problem), status=problem.status)
        else:
            # Rendered without the request: its context processors would ask the database.
            response = HttpResponse(render_to_string("503.html"), status=problem.status)
        for name, value in problem.headers.items():
            response[name] = value
        return response


class PrivatePagesMiddleware:
    """``Cache-Control: private, no-store`` on every page of a person's own: the dashboard,
    the portal and the sign-in pages.

    They show tickets, customers' messages and CSRF tokens; a shared proxy or the
    browser's disk cache must never keep a copy for the next person at the same machine.
    """

    PREFIXES = ("/desk/", "/t/", "/accounts/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(self.PREFIXES):
            patch_cache_control(response, private=True, no_store=True)
        return response


class PeoplesErrorPagesUnderDebugMiddleware:
    """With DEBUG (``make dev``) Django answers a 404 with its technical page instead of
    ``handler404``: on the dashboard and the customers' pages that page echoes the address
    (a private link's key among them), lists the routes and has no way back. People's
    pages get the same 404 page as in production; other paths keep the technical page
    for the developer. Placed inside the session, user and organization middleware, so the
    page can wear the dashboard's frame, and inside the one that marks people's pages
    private, so this page is marked too.
    """

    PREFIXES = ("/desk/", "/t/", "/satisfaction/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code == 404
            and settings.DEBUG
            and request.path.startswith(self.PREFIXES)
            and not getattr(response, "is_error_page", False)
        ):
            from .views import not_found

            return not_found(request)
        return response
