"""Merge, split and link in Django admin: actions that call the same services as the
dashboard and the API, as the signed-in staff member."""

from itertools import combinations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from helpdesk.admin_common import BOTH_LOCATIONS, ReadOnlyAdmin

from .. import services
from ..actors import Actor
from ..exceptions import HelpdeskError
from ..models import Ticket, TicketLink


def ticket_link(ticket: Ticket) -> str:
    url = reverse("admin:tickets_ticket_change", args=[ticket.pk])
    return format_html('<a href="{}">{}</a> {}', url, ticket.reference, ticket.subject)


class TicketLinkInline(admin.TabularInline):
    model = TicketLink
    fk_name = "ticket"
    extra = 0
    can_delete = False
    fields = ("kind", "other_ticket", "created_at")
    readonly_fields = fields
    verbose_name_plural = "linked tickets"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("ticket", "other")

    @admin.display(description="Ticket")
    def other_ticket(self, link):
        return ticket_link(link.other)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TicketRelationsActions:
    """TicketAdmin's merge and link actions."""

    relation_actions = ("merge_tickets", "link_as_related")

    @admin.action(description="Merge into one ticket…", location=BOTH_LOCATIONS, permissions=["change"])
    def merge_tickets(self, request, queryset):
        """Ask which ticket the others go into (the oldest selected, unless staff type
        another), then merge each of the others into it."""
        selected = list(queryset.select_related("organization").order_by("created_at", "pk"))
        if "apply" in request.POST:
            into = request.POST.get("into", "").strip()
            target = self._merge_target(selected, into)
            if target is None:
                self.message_user(
                    request,
                    f"No ticket {into} among those selected or in their organization.",
                    messages.ERROR,
                )
                return None
            actor = Actor.agent(request.user)
            merged, refused = [], []
            for source in selected:
                if source.pk == target.pk:
                    continue
                try:
                    services.merge_tickets(source=source, target=target, actor=actor)
                except HelpdeskError as error:
                    refused.append(f"{source.reference}: {error.message}")
                else:
                    merged.append(source.reference)
            if merged:
                self.message_user(
                    request, f"Merged into {target.reference}: {', '.join(merged)}.", messages.SUCCESS
                )
            if refused:
                self.message_user(request, "Refused — " + "; ".join(refused), messages.WARNING)
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Merge tickets",
            "tickets": selected,
            "suggested": selected[0].reference if len(selected) > 1 else "",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "action": "merge_tickets",
        }
        return TemplateResponse(request, "admin/tickets/ticket/merge_confirmation.html", context)

    @staticmethod
    def _merge_target(selected: list[Ticket], into: str) -> Ticket | None:
        if not into:
            return None
        for ticket in selected:
            if into.lower() in {ticket.reference.lower(), ticket.public_id.lower()}:
                return ticket
        organization_ids = {ticket.organization_id for ticket in selected}
        if len(organization_ids) != 1:
            return None
        tickets = Ticket.objects.filter(organization_id=organization_ids.pop())
        return (
            tickets.filter(reference__iexact=into).first() or tickets.filter(public_id=into.upper()).first()
        )

    @admin.action(description="Link the selected tickets as related", permissions=["change"])
    def link_as_related(self, request, queryset):
        selected = list(queryset.order_by("pk"))
        if len(selected) < 2:
            self.message_user(request, "Select two tickets or more to link them.", messages.WARNING)
            return
        actor = Actor.agent(request.user)
        linked, refused = 0, []
        for ticket, other in combinations(selected, 2):
            try:
                linked += services.link_tickets(ticket=ticket, other=other, actor=actor)
            except HelpdeskError as error:
                refused.append(f"{ticket.reference} and {other.reference}: {error.message}")
        self.message_user(request, f"{linked} new link{'s' if linked != 1 else ''}.", messages.SUCCESS)
        if refused:
            self.message_user(request, "Refused — " + "; ".join(refused), messages.WARNING)


@admin.register(TicketLink)
class TicketLinkAdmin(ReadOnlyAdmin):
    """How tickets relate; written by the merge, split and link services only."""

    list_display = ("ticket", "kind", "other", "created_at")
    list_filter = ("kind", "created_at")
    list_select_related = ("ticket", "other")
    search_fields = ("ticket__reference", "other__reference")
    actions = ("unlink",)

    @admin.action(description="Remove the selected related links (both ways)")
    def unlink(self, request, queryset):
        actor = Actor.agent(request.user)
        removed, kept = 0, 0
        for link in queryset.select_related("ticket", "other"):
            if link.kind != TicketLink.Kind.RELATED:
                kept += 1
                continue
            removed += services.unlink_tickets(ticket=link.ticket, other=link.other, actor=actor)
        self.message_user(request, f"{removed} removed.")
        if kept:
            self.message_user(request, f"{kept} kept: merges and splits are history.", messages.WARNING)
