"""The native API's one error shape: a ``Problem`` (``helpdesk/problems.py``) written as

{"error": "Bad Request", "message": "...", "code": 400,
 "details": [{"field": "email", "message": "..."}], "request_id": "req_..."}
"""

from django.http import JsonResponse
from rest_framework.response import Response

from .problems import Problem, log_server_side, problem_for, status_phrase

__all__ = ["JSON_PREFIXES", "error_body", "exception_handler", "json_error", "problem_body", "status_phrase"]

# Machine-facing prefixes answer errors in JSON, people get pages.
JSON_PREFIXES = ("/api/", "/compat/", "/anymail/")


def error_body(request, status_code: int, message: str, details=None) -> dict:
    return {
        "error": status_phrase(status_code),
        "message": message,
        "code": status_code,
        "details": details or [],
        "request_id": getattr(request, "request_id", ""),
    }


def problem_body(request, problem: Problem) -> dict:
    return error_body(request, problem.status, problem.message, problem.details)


def exception_handler(exc, context):
    """DRF's exception handler for the native and customer APIs."""
    request = context.get("request")
    problem = problem_for(exc, request=request)
    if problem.is_unexpected:
        # Django's own 500 path logs it with the traceback, tells error reporters, and
        # answers in this shape (``helpdesk.views.server_error``).
        return None
    log_server_side(problem, exc, request, face="the native API")
    return Response(problem_body(request, problem), status=problem.status, headers=problem.headers)


def json_error(request, status_code: int, message: str) -> JsonResponse:
    return JsonResponse(error_body(request, status_code, message), status=status_code)
