"""The floor for create-ticket: the least a Django view can do for a JSON POST.

It authenticates nothing, parses the JSON and inserts one row into a table the bench
creates with raw SQL.  Mounted by helpdesk/urls.py only when HELPDESK_BENCH_FLOOR=1, so it
never exists in production.  It runs through the same middleware as every other view.
"""

import json

from django.db import connection
from django.http import HttpResponseBadRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

TABLE_SQL = """
CREATE TABLE IF NOT EXISTS bench_floor (
    id bigserial PRIMARY KEY,
    subject varchar(200) NOT NULL,
    body text NOT NULL,
    email varchar(254) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)
"""


@csrf_exempt
@require_POST
def create(request):
    try:
        data = json.loads(request.body)
        subject = str(data["subject"])
        body = str(data["message"])
        email = str(data["customer"]["email"])
    except (ValueError, KeyError, TypeError):
        return HttpResponseBadRequest("bad json")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_floor (subject, body, email) VALUES (%s, %s, %s) RETURNING id",
            [subject, body, email],
        )
        (row_id,) = cursor.fetchone()
    return JsonResponse({"id": row_id}, status=201)


urlpatterns = [path("floor", create, name="bench-floor")]
