"""What the mail provider tells us after sending: bounces and spam complaints."""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tickets.models import Customer, Delivery

TROUBLE = {"bounced": Delivery.Status.BOUNCED, "complained": Delivery.Status.COMPLAINED}


def record_delivery_trouble(
    *, provider_message_id: str, recipient: str, trouble: str, description: str = ""
) -> int:
    """Mark the deliveries the provider reports as bounced or complained about, and flag
    that address on the customers it was sent to (their record says why they hear
    nothing). Returns how many deliveries matched; an unknown id changes nothing."""
    status = TROUBLE[trouble]
    recipient = (recipient or "").strip().lower()
    if not provider_message_id:
        return 0
    deliveries = Delivery.objects.filter(provider_message_id=provider_message_id)
    if recipient:
        deliveries = deliveries.filter(recipient__iexact=recipient)
    with transaction.atomic():
        found = list(deliveries.select_related("ticket").select_for_update(of=("self",)))
        now = timezone.now()
        for delivery in found:
            delivery.status = status
            delivery.last_error = (description or Delivery.Status(status).label)[:2000]
            delivery.save(update_fields=["status", "last_error"])
            if delivery.ticket is None:
                continue
            address = delivery.recipient.lower()
            ticket = delivery.ticket
            addressed = Q(email__iexact=address)
            if (ticket.reply_address or "").strip().lower() == address:
                addressed |= Q(pk=ticket.customer_id)
            customers = Customer.objects.filter(addressed, organization_id=ticket.organization_id)
            # A complaint outranks a bounce: never downgrade it.
            if trouble == "bounced":
                customers = customers.exclude(email_problem=Customer.EmailProblem.COMPLAINED)
            customers.update(email_problem=trouble, email_problem_at=now)
    return len(found)
