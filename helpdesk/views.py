import logging

from django.contrib.staticfiles import finders
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from . import health as health_checks
from .api_errors import JSON_PREFIXES, json_error

logger = logging.getLogger(__name__)

DASHBOARD_PREFIX = "/desk/"
# Pages customers reach without signing in: an error there keeps their page's look and
# never points them at the agents' dashboard.
CUSTOMER_PREFIXES = ("/t/", "/satisfaction/")

# The last resort when even the 500 template cannot be rendered.
BARE_SERVER_ERROR = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Server error</title></head>'
    "<body><main><h1>Something went wrong</h1><p>The error was logged. Please try again in a moment.</p>"
    "</main></body></html>"
)


def home(request):
    if request.user.is_authenticated:
        return redirect("dashboard:queue")
    return redirect("login")


FAVICON = "img/favicon.svg"


@require_safe
def favicon(request):
    """/favicon.ico, which browsers ask for on pages without an icon link (admin, the API's
    JSON) and which people try by hand: the same icon the pages link to, not a 404."""
    path = finders.find(FAVICON)
    if path is None:
        raise Http404("No favicon.")
    with open(path, "rb") as icon:
        response = HttpResponse(icon.read(), content_type="image/svg+xml")
    patch_cache_control(response, public=True, max_age=86400)
    return response


def health(request):
    """Liveness: the process answers. It asks no dependency (see ``readiness``)."""
    return JsonResponse({"status": "ok"})


def readiness(request):
    """Readiness: database, cache and task queue, as JSON; 503 when one is down."""
    ready, body = health_checks.readiness()
    response = JsonResponse(body, status=200 if ready else 503)
    if not ready:
        response["Retry-After"] = "10"
    patch_cache_control(response, no_store=True)
    return response


def error_layout(request) -> str:
    """The frame a refused or missing page is shown in: the dashboard's, with its
    navigation, for a signed-in agent under /desk/; the portal's for customers' pages; a
    plain styled page elsewhere."""
    path = request.path
    if path.startswith(DASHBOARD_PREFIX):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and getattr(request, "membership", None):
            return "dashboard/layout.html"
    if path.startswith(CUSTOMER_PREFIXES):
        return "portal/base.html"
    return "base.html"


def not_found(request, exception=None):
    if request.path.startswith(JSON_PREFIXES):
        return json_error(request, 404, "Not found.")
    response = render(request, "404.html", {"layout": error_layout(request), "error_page": True}, status=404)
    response.is_error_page = True  # already the people's page (PeoplesErrorPagesUnderDebugMiddleware)
    return response


def permission_denied(request, exception=None):
    if request.path.startswith(JSON_PREFIXES):
        return json_error(request, 403, "You do not have permission to perform this action.")
    return render(request, "403.html", {"layout": error_layout(request), "error_page": True}, status=403)


def bad_request(request, exception=None):
    """Django's 400 for a body it cannot read: a body over the size limit is a 413."""
    status = 413 if isinstance(exception, RequestDataTooBig) else 400
    if request.path.startswith(JSON_PREFIXES):
        message = "The request body is too large." if status == 413 else "The request could not be read."
        return json_error(request, status, message)
    return render(request, "400.html", {"too_large": status == 413}, status=status)


def server_error(request):
    """The 500 page reads nothing from the database, which may be what just failed: no
    request context (no session, user or organization lookups), only the path decides
    whether it wears the dashboard's frame (``dashboard/safe_layout.html``)."""
    if request.path.startswith(JSON_PREFIXES):
        return json_error(request, 500, "An unexpected error occurred on the server.")
    in_dashboard = request.path.startswith(DASHBOARD_PREFIX)
    layout = "dashboard/safe_layout.html" if in_dashboard else "base.html"
    try:
        page = loader.render_to_string("500.html", {"layout": layout, "in_dashboard": in_dashboard})
    except Exception:
        logger.exception("The 500 page could not be rendered")
        page = BARE_SERVER_ERROR
    return HttpResponseServerError(page)
