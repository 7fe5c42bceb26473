"""Customers, created and changed through the customer services."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html_join

from helpdesk.admin_common import ServiceErrorsMixin, clean_with, count_of

from .. import services
from ..actors import Actor
from ..models import Customer, Ticket


class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = ("organization", "email", "external_id", "name", "metadata")

    def clean_email(self):
        return clean_with(services.normalize_email, self.cleaned_data.get("email", ""))

    def clean_metadata(self):
        return clean_with(services.validate_metadata, self.cleaned_data.get("metadata"))

    def clean(self):
        cleaned = super().clean()
        external_id = cleaned.get("external_id", self.instance.external_id)
        if "email" in cleaned and not cleaned["email"] and not external_id:
            self.add_error("email", "A customer needs an email or an external id.")
        return cleaned


@admin.register(Customer)
class CustomerAdmin(ServiceErrorsMixin, admin.ModelAdmin):
    form = CustomerForm
    list_display = (
        "display_name",
        "email",
        "external_id",
        "organization",
        "plan",
        "ticket_count",
        "created_at",
    )
    list_filter = ("organization", ("erased_at", admin.EmptyFieldListFilter), "created_at")
    list_select_related = ("organization",)
    search_fields = ("email", "name", "external_id", "public_id")
    date_hierarchy = "created_at"
    readonly_fields = ("public_id", "erased_at", "created_at", "updated_at", "recent_tickets")

    def has_delete_permission(self, request, obj=None):
        # No service deletes customers (their history, references and events go with them):
        # staff close them instead. Django's delete page and "delete selected" are not offered.
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(ticket_total=count_of(Ticket, "customer"))

    # Data rights: buttons on the change page (templates/admin/tickets/customer/change_form.html)

    def get_urls(self):
        return [
            path(
                "<int:customer_id>/export/",
                self.admin_site.admin_view(self.export_view),
                name="tickets_customer_export",
            ),
            path(
                "<int:customer_id>/erase/",
                self.admin_site.admin_view(self.erase_view),
                name="tickets_customer_erase",
            ),
            *super().get_urls(),
        ]

    def _data_rights_customer(self, request, customer_id: int) -> Customer:
        customer = Customer.objects.select_related("organization").filter(pk=customer_id).first()
        if customer is None:
            raise Http404("No such customer.")
        if not self.has_change_permission(request, customer):
            raise PermissionDenied
        return customer

    def export_view(self, request, customer_id: int):
        customer = self._data_rights_customer(request, customer_id)
        archive = services.export_customer(customer=customer, actor=Actor.agent(request.user))
        return FileResponse(
            archive,
            as_attachment=True,
            filename=services.export_filename(customer),
            content_type="application/zip",
        )

    def erase_view(self, request, customer_id: int):
        customer = self._data_rights_customer(request, customer_id)
        if request.method == "POST":
            services.erase_customer(customer=customer, actor=Actor.agent(request.user))
            self.message_user(request, "The customer's personal data was erased.", messages.SUCCESS)
            return redirect("admin:tickets_customer_change", customer.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "customer": customer,
            "ticket_total": Ticket.objects.filter(customer=customer).count(),
            "title": "Erase personal data",
        }
        return TemplateResponse(request, "admin/tickets/customer/erase_confirmation.html", context)

    def get_fields(self, request, obj=None):
        fields = ["organization", "email", "external_id", "name", "metadata"]
        if obj is not None:
            fields = ["public_id", *fields, "erased_at", "created_at", "updated_at", "recent_tickets"]
        return fields

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            # The integrator's id is how their backend finds this person; it is not edited here.
            return (*self.readonly_fields, "organization", "external_id")
        return self.readonly_fields

    @admin.display(description="Name")
    def display_name(self, customer):
        return customer.display_name

    @admin.display(description="Plan")
    def plan(self, customer):
        return customer.metadata.get("plan", "") if isinstance(customer.metadata, dict) else ""

    @admin.display(description="Tickets", ordering="ticket_total")
    def ticket_count(self, customer):
        return customer.ticket_total

    @admin.display(description="Latest tickets")
    def recent_tickets(self, customer):

        tickets = customer.tickets.only("pk", "reference", "subject", "status")[:20]
        return (
            format_html_join(
                "",
                '<div><a href="{}">{}</a> {} ({})</div>',
                (
                    (
                        reverse("admin:tickets_ticket_change", args=[t.pk]),
                        t.reference,
                        t.subject,
                        t.get_status_display(),
                    )
                    for t in tickets
                ),
            )
            or "—"
        )

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            customer, _ = services.upsert_customer(
                organization=data["organization"],
                data=services.CustomerData(
                    email=data["email"],
                    external_id=data["external_id"],
                    name=data["name"],
                    metadata=data["metadata"] or {},
                ),
                actor=Actor.agent(request.user),
            )
            obj.pk = customer.pk
        else:
            changed = {
                name: data[name] for name in ("name", "email", "metadata") if name in form.changed_data
            }
            if changed:
                services.update_customer(customer=obj, actor=Actor.agent(request.user), **changed)
        obj.refresh_from_db()
