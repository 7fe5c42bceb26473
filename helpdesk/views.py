from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render

from .api_errors import json_error

# Machine-facing prefixes answer errors in JSON, people get pages.
_JSON_PREFIXES = ("/api/", "/compat/", "/anymail/")


def home(request):
    if request.user.is_authenticated:
        return redirect("dashboard:queue")
    return redirect("login")


def health(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def not_found(request, exception=None):
    if request.path.startswith(_JSON_PREFIXES):
        return json_error(request, 404, "Not found.")
    return render(request, "404.html", status=404)


def server_error(request):
    if request.path.startswith(_JSON_PREFIXES):
        return json_error(request, 500, "An unexpected error occurred on the server.")
    return render(request, "500.html", status=500)
