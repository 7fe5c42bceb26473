from django.core.exceptions import RequestDataTooBig
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render

from .api_errors import JSON_PREFIXES, json_error


def home(request):
    if request.user.is_authenticated:
        return redirect("dashboard:queue")
    return redirect("login")


def health(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


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
