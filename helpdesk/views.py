from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_cache_control

from . import health as health_checks
from .api_errors import JSON_PREFIXES, json_error


def home(request):
    if request.user.is_authenticated:
        return redirect("dashboard:queue")
    return redirect("login")


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


def not_found(request, exception=None):
    if request.path.startswith(JSON_PREFIXES):
        return json_error(request, 404, "Not found.")
    return render(request, "404.html", status=404)


def bad_request(request, exception=None):
    """Django's 400 for a body it cannot read: a body over the size limit is a 413."""
    status = 413 if isinstance(exception, RequestDataTooBig) else 400
    if request.path.startswith(JSON_PREFIXES):
        message = "The request body is too large." if status == 413 else "The request could not be read."
        return json_error(request, status, message)
    return render(request, "400.html", {"too_large": status == 413}, status=status)


def server_error(request):
    if request.path.startswith(JSON_PREFIXES):
        return json_error(request, 500, "An unexpected error occurred on the server.")
    return render(request, "500.html", status=500)
