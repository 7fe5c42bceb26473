"""The floors for create-ticket: the least a Django view can do for a JSON POST.

``create`` is the floor of issue 7: it authenticates nothing, parses the JSON and inserts
one row into a table the bench creates with raw SQL.  ``orm_create`` adds the two things
no create of ours can skip: it checks the API key and writes its row (a customer, the
smallest row a ticket needs) through the ORM.  The distance between the two is what the
ORM alone costs, before any rule of the product.  Mounted by helpdesk/urls.py only when
HELPDESK_BENCH_FLOOR=1, so they never exist in production.  They run through the same
middleware as every other view.
"""

import json

from django.db import connection
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.models import ApiKey
from tickets.models import Customer

TABLE_SQL = """
CREATE TABLE IF NOT EXISTS bench_floor (
    id bigserial PRIMARY KEY,
    subject varchar(200) NOT NULL,
    body text NOT NULL,
    email varchar(254) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)
"""


def parse(request) -> tuple[str, str, str]:
    data = json.loads(request.body)
    return str(data["subject"]), str(data["message"]), str(data["customer"]["email"])


@csrf_exempt
@require_POST
def create(request):
    try:
        subject, body, email = parse(request)
    except (ValueError, KeyError, TypeError):
        return HttpResponseBadRequest("bad json")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_floor (subject, body, email) VALUES (%s, %s, %s) RETURNING id",
            [subject, body, email],
        )
        (row_id,) = cursor.fetchone()
    return JsonResponse({"id": row_id}, status=201)


@csrf_exempt
@require_POST
def orm_create(request):
    try:
        api_key = ApiKey.objects.get_from_key(request.headers.get("X-API-Key", ""))
    except ApiKey.DoesNotExist:
        return HttpResponse(status=401)
    try:
        _, _, email = parse(request)
    except (ValueError, KeyError, TypeError):
        return HttpResponseBadRequest("bad json")
    customer = Customer.objects.create(organization_id=api_key.organization_id, email=email)
    return JsonResponse({"id": customer.public_id}, status=201)


urlpatterns = [
    path("floor", create, name="bench-floor"),
    path("orm-floor", orm_create, name="bench-orm-floor"),
]
