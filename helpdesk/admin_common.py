"""What both apps' admin pages share: counts for changelists, read-only pages, service errors."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect

from tickets.exceptions import HelpdeskError, InvalidInput

BOTH_LOCATIONS = [admin.ActionLocation.CHANGE_LIST, admin.ActionLocation.CHANGE_FORM]


def count_of(model, field: str):
    """A correlated COUNT for a changelist column: evaluated for the page's rows only."""
    return Coalesce(
        Subquery(
            model.objects.filter(**{field: OuterRef("pk")})
            .order_by()
            .values(field)
            .annotate(total=Count("pk"))
            .values("total")[:1],
            output_field=IntegerField(),
        ),
        0,
    )


def clean_with(validator, *args, **kwargs):
    """Run a service's own validator on a form value; its refusal becomes the field's error."""
    try:
        return validator(*args, **kwargs)
    except InvalidInput as error:
        raise forms.ValidationError(error.message) from error


class ServiceErrorsMixin:
    """A domain refusal that the form could not foresee (a race, a limit) is shown as an
    error message instead of a server error; the atomic change view has rolled back."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except HelpdeskError as error:
            self.message_user(request, f"Nothing was saved: {error.message}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that record what happened; written by the services only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def parse_tag_names(text: str) -> list[str]:
    names = []
    for part in (text or "").split(","):
        name = part.strip()
        if name and name not in names:
            names.append(name)
    return names
