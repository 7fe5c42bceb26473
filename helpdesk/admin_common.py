"""What both apps' admin pages share: counts for changelists, read-only pages, service errors."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models, router, transaction
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect
from django.urls import reverse

from helpdesk.forms import JSONField
from tickets.exceptions import HelpdeskError, InvalidInput
from tickets.services import INBOX_EDITABLE_FIELDS, create_inbox, delete_inbox, update_inbox

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
    """A domain refusal (the last owner, an inbox with tickets, a race, a limit) is shown
    as an error message instead of a server error, and changes nothing: the add and change
    forms, the delete page, and the changelist's POSTs (actions, "delete selected",
    list_editable) each run in one transaction that the refusal rolls back.

    The admins that use it route every write through a service: ``save_model`` and
    ``save_formset`` for the forms, ``delete_model`` and ``delete_queryset`` (which
    Django's "delete selected" action calls) for deletions. Their JSON fields read with
    ``helpdesk.forms.JSONField``: text nested too deep is the field's error, not a 500."""

    formfield_overrides = {models.JSONField: {"form_class": JSONField}}

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except HelpdeskError as error:
            self.message_user(request, f"Nothing was saved: {error.message}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except HelpdeskError as error:
            self.message_user(request, f"Nothing was deleted: {error.message}", messages.ERROR)
            opts = self.model._meta
            return HttpResponseRedirect(
                reverse(
                    f"admin:{opts.app_label}_{opts.model_name}_change",
                    args=[object_id],
                    current_app=self.admin_site.name,
                )
            )

    def changelist_view(self, request, extra_context=None):
        if request.method != "POST":
            return super().changelist_view(request, extra_context)
        try:
            with transaction.atomic(using=router.db_for_write(self.model)):
                return super().changelist_view(request, extra_context)
        except HelpdeskError as error:
            self.message_user(request, f"Nothing was changed: {error.message}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


def saved_inline_objects(formset) -> tuple[list, list, list]:
    """What a browser asked of an inline: ``(new forms, (form, changed fields) pairs, deleted
    objects)``, without saving any of it (the caller hands each to a service)."""
    formset.save(commit=False)
    new_forms = [form for form in formset.extra_forms if form.has_changed() and not _deleting(formset, form)]
    changed = [
        (form, form.changed_data)
        for form in formset.initial_forms
        if form.instance.pk is not None and form.has_changed() and not _deleting(formset, form)
    ]
    return new_forms, changed, list(formset.deleted_objects)


def _deleting(formset, form) -> bool:
    return formset.can_delete and formset._should_delete_form(form)


# Inboxes: their own page (tickets) and the organization's inline (accounts) ----------------


class InboxForm(forms.ModelForm):
    def validate_constraints(self):
        # Marking another inbox the default is allowed: create_inbox/update_inbox take the
        # role from the previous default in the same transaction. The one-default
        # constraint is theirs to keep, not the form's to refuse.
        try:
            self.instance.validate_constraints(exclude={*self._get_validation_exclusions(), "is_default"})
        except ValidationError as error:
            self._update_errors(error)


def inbox_fields(form, names) -> dict:
    return {name: form.cleaned_data[name] for name in names if name in INBOX_EDITABLE_FIELDS}


def save_inbox_formset(formset, actor) -> None:
    """An organization's inbox inline: each added, changed or deleted row through its service."""
    new_forms, changed, deleted = saved_inline_objects(formset)
    created = [
        create_inbox(
            organization=formset.instance, actor=actor, **inbox_fields(form, form.cleaned_data.keys())
        )
        for form in new_forms
    ]
    for form, names in changed:
        update_inbox(inbox=form.instance, actor=actor, **inbox_fields(form, names))
    for inbox in deleted:
        delete_inbox(inbox=inbox, actor=actor)
    formset.new_objects = created
    formset.changed_objects = [(form.instance, names) for form, names in changed]
    formset.deleted_objects = deleted


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
