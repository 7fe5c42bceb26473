"""The floors for create-ticket: the least a Django view can do for a JSON POST.

``create`` is the floor of issue 7: it authenticates nothing, parses the JSON and inserts
one row into a table the bench creates with raw SQL.  ``orm_create`` adds the two things
no create of ours can skip: it checks the API key and writes its row (a customer, the
smallest row a ticket needs) through the ORM.  The distance between the two is what the
ORM alone costs, before any rule of the product.  ``ticket_create`` runs the statements
DESIGN.md asks of every new ticket, through the ORM, and nothing else: the key, the
customer looked up and inserted, the inbox's next number under its row lock, the ticket,
its first message, its audit event and its task row, in one transaction (10 statements
counted as ours are, BEGIN and COMMIT included); no validation, no rule, no answer beyond
the ticket's id. Its task does nothing and is parked in 2100 (``PARKED``), so the worker
never runs it and the bench's backlog leaves it out.  What it reaches against the ORM
floor is the most any create with those statements can reach; the API throttle's
statement is left out (a throttle could count elsewhere), and so is everything the
services do in Python (validation, domain events, SLA clocks, the search document,
Markdown, the answer).
Mounted by helpdesk/urls.py only when HELPDESK_BENCH_FLOOR=1, so they never exist in
production.  They run through the same middleware as every other view.
"""

import json
from datetime import UTC, datetime
from functools import wraps

from django.db import connection, transaction
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.models import ApiKey
from tickets import outbox
from tickets.models import Customer, Inbox, Message, Ticket, TicketEvent
from tickets.services.tickets import take_ticket_number

PARKED = datetime(2100, 1, 1, tzinfo=UTC)
_parked_task = outbox.run.using(run_after=PARKED)

# Each organization's default inbox, read once per process (ours reads it from the
# process's copy too).
_default_inbox_ids: dict[int, int] = {}

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


def with_api_key(view):
    """The view gets the request's API key and its JSON fields, or does not run (401, 400)."""

    @wraps(view)
    def checked(request):
        try:
            api_key = ApiKey.objects.get_from_key(request.headers.get("X-API-Key", ""))
        except ApiKey.DoesNotExist:
            return HttpResponse(status=401)
        try:
            subject, body, email = parse(request)
        except (ValueError, KeyError, TypeError):
            return HttpResponseBadRequest("bad json")
        return view(request, api_key, subject, body, email)

    return checked


@csrf_exempt
@require_POST
@with_api_key
def orm_create(request, api_key, subject, body, email):
    customer = Customer.objects.create(organization_id=api_key.organization_id, email=email)
    return JsonResponse({"id": customer.public_id}, status=201)


@csrf_exempt
@require_POST
@with_api_key
def ticket_create(request, api_key, subject, body, email):
    organization_id = api_key.organization_id
    if organization_id not in _default_inbox_ids:
        _default_inbox_ids[organization_id] = Inbox.objects.get(
            organization_id=organization_id, is_default=True
        ).pk
    inbox = Inbox(pk=_default_inbox_ids[organization_id], organization_id=organization_id)
    now = timezone.now()
    with transaction.atomic():
        customer = Customer.objects.filter(organization_id=organization_id, email=email).first()
        if customer is None:
            customer = Customer.objects.create(organization_id=organization_id, email=email)
        ticket = Ticket(
            organization_id=organization_id,
            inbox=inbox,
            subject=subject,
            customer=customer,
            reply_address=email,
            created_at=now,
            updated_at=now,
        )
        ticket.number, prefix = take_ticket_number(inbox)
        ticket.reference = f"{prefix}-{ticket.number}"
        ticket.save(force_insert=True)
        Message.objects.create(
            ticket=ticket, author_type=Message.AuthorType.CUSTOMER, author_customer=customer, body=body
        )
        TicketEvent.objects.create(ticket=ticket, action=TicketEvent.Action.CREATED, actor_label="bench")
        _parked_task.enqueue([])
    return JsonResponse({"id": ticket.public_id}, status=201)


urlpatterns = [
    path("floor", create, name="bench-floor"),
    path("orm-floor", orm_create, name="bench-orm-floor"),
    path("ticket-floor", ticket_create, name="bench-ticket-floor"),
]
