"""Django admin for who can act: users, organizations, memberships and every credential.

Every write goes through ``accounts/services.py`` (or the inbox services) as the signed-in
staff member, ``Actor.agent(request.user)``, so the same rules hold as in the dashboard's
settings (the last owner, the unassignment of a removed agent's open tickets) and each
change leaves an ``AuditEvent``. A refusal is shown as an error message and saves nothing
(``ServiceErrorsMixin``).

Secrets are shown once: an API key, an agent token or a customer token is minted when
staff save the add form, its plaintext appears in one warning message, and only its hash
is stored. Existing credentials can be revoked (an action, on the list or the credential's
page), never revealed, edited or deleted.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils.translation import ngettext
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey as UnusedLibraryAPIKey

from helpdesk.admin_common import (
    BOTH_LOCATIONS,
    InboxForm,
    ReadOnlyAdmin,
    ServiceErrorsMixin,
    clean_with,
    count_of,
    save_inbox_formset,
    saved_inline_objects,
)
from tickets.actors import Actor
from tickets.exceptions import InvalidInput
from tickets.models import Inbox

from . import services
from .models import AgentToken, ApiKey, AuditEvent, CustomerToken, Membership, Organization, User

# The library registers its own concrete APIKey model, which Helpdesk never uses (our keys
# are accounts.ApiKey, tied to an organization): two "API keys" pages would mislead staff.
if admin.site.is_registered(UnusedLibraryAPIKey):
    admin.site.unregister(UnusedLibraryAPIKey)


# Users -----------------------------------------------------------------------------------


class UserCreationForm(AdminUserCreationForm):
    """Django's admin creation form, for a user whose login is the email address."""

    class Meta:
        model = User
        fields = ("email", "name")
        field_classes = {}

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("A user with this email address already exists.")
        return email


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"
        field_classes = {}

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        clash = User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("A user with this email address already exists.")
        return email


def change_membership(membership: Membership, data: dict, names, actor: Actor) -> Membership:
    """One membership's changed fields through the services: availability alone is
    ``set_availability``; a role or tier (with availability) is ``update_membership``."""
    if {"user", "organization"} & set(names):
        raise InvalidInput(
            "membership",
            "A membership does not move to another person or organization: remove it and add one.",
        )
    wanted = {name: data[name] for name in ("role", "tier", "is_available") if name in names}
    if set(wanted) == {"is_available"}:
        return services.set_availability(
            membership=membership, is_available=wanted["is_available"], actor=actor
        )
    if wanted:
        return services.update_membership(membership=membership, actor=actor, **wanted)
    return membership


def add_membership(user: User, organization: Organization, data: dict, actor: Actor) -> Membership:
    """Staff put someone with an account into an organization: ``add_member`` tells them so."""
    return services.add_member(
        organization=organization,
        actor=actor,
        user=user,
        role=data.get("role", Membership.Role.AGENT),
        tier=data.get("tier", Membership.Tier.N1),
        is_available=data.get("is_available", True),
    )


def save_membership_formset(formset, actor: Actor) -> None:
    """A membership inline, in the order that keeps an owner at every step: additions,
    then changes (promotions to owner first), then removals."""
    new_forms, changed, deleted = saved_inline_objects(formset)
    created = [
        add_membership(form.instance.user, form.instance.organization, form.cleaned_data, actor)
        for form in new_forms
    ]
    changed.sort(key=lambda pair: pair[0].cleaned_data.get("role") != Membership.Role.OWNER)
    for form, names in changed:
        change_membership(form.instance, form.cleaned_data, names, actor)
    for membership in deleted:
        services.remove_member(membership=membership, actor=actor)
    formset.new_objects = created
    formset.changed_objects = [(form.instance, names) for form, names in changed]
    formset.deleted_objects = deleted


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    fields = ("organization", "role", "tier", "is_available", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("organization",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("organization", "user")


class AgentTokenInline(admin.TabularInline):
    """A user's tokens, to see and revoke from their page; new ones are made on AgentToken."""

    model = AgentToken
    extra = 0
    can_delete = False
    fields = ("name", "display_prefix", "created_at", "expires_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(ServiceErrorsMixin, DjangoUserAdmin):
    """Django's own user pages (email login, password), with memberships through the services
    and deletion through ``delete_user`` (out of each organization first)."""

    form = UserEditForm
    add_form = UserCreationForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("name", "first_name", "last_name")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "name", "usable_password", "password1", "password2"),
            },
        ),
    )
    list_display = ("email", "name", "organizations", "is_staff", "is_active", "last_login", "date_joined")
    list_filter = ("is_staff", "is_superuser", "is_active", "memberships__role", "groups")
    search_fields = ("email", "name", "first_name", "last_name")
    ordering = ("email",)
    readonly_fields = ("last_login", "date_joined")
    date_hierarchy = "date_joined"
    inlines = (MembershipInline, AgentTokenInline)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("memberships__organization")

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    @admin.display(description="Organizations")
    def organizations(self, user):
        return ", ".join(
            f"{membership.organization.name} ({membership.get_role_display()})"
            for membership in user.memberships.all()
        )

    def save_formset(self, request, form, formset, change):
        if formset.model is Membership:
            save_membership_formset(formset, Actor.agent(request.user))
        else:
            # The agent token inline is read-only: tokens are made and revoked on their page.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def delete_model(self, request, obj):
        services.delete_user(user=obj, actor=Actor.agent(request.user))

    def delete_queryset(self, request, queryset):
        for user in queryset.order_by("pk"):
            services.delete_user(user=user, actor=Actor.agent(request.user))


# Organizations ---------------------------------------------------------------------------


class OrganizationMembershipInline(MembershipInline):
    fk_name = "organization"
    fields = ("user", "role", "tier", "is_available", "created_at")
    autocomplete_fields = ("user",)


class InboxInline(admin.TabularInline):
    model = Inbox
    form = InboxForm
    extra = 0
    fields = ("name", "prefix", "public_id", "is_default", "daily_limit_per_customer", "auto_assignment")
    readonly_fields = ("public_id",)
    show_change_link = True


class OrganizationForm(forms.ModelForm):
    class Meta:
        model = Organization
        fields = ("name", "slug", "plan", "monthly_ticket_quota", "jwt_public_key")

    def clean_jwt_public_key(self):
        return clean_with(services.validate_jwt_public_key, self.cleaned_data.get("jwt_public_key", ""))


@admin.register(Organization)
class OrganizationAdmin(ServiceErrorsMixin, admin.ModelAdmin):
    """Organizations are created and changed through the services; never deleted here (a
    tenant's tickets, customers and history would go with it)."""

    form = OrganizationForm
    list_display = (
        "name",
        "slug",
        "plan",
        "monthly_ticket_quota",
        "member_count",
        "inbox_count",
        "public_id",
        "created_at",
    )
    list_filter = ("plan", "created_at")
    search_fields = ("name", "slug", "public_id")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("public_id", "created_at", "jwt_secret")
    fieldsets = (
        (None, {"fields": ("name", "slug", "public_id", "created_at")}),
        ("Plan", {"fields": ("plan", "monthly_ticket_quota")}),
        ("Members", {"fields": ("agents_may_create_tags", "members_must_use_two_factor")}),
        (
            "Data retention",
            {
                "description": "The worker anonymizes or deletes closed tickets older than this "
                "(docs/security.md, Customers' data rights).",
                "fields": ("retention_days", "retention_action"),
            },
        ),
        (
            "Customer sign-in (JWT)",
            {
                "description": "The organization's app signs customer JWTs with this secret (HS256) "
                "or with the private key matching the public key below (RS256).",
                "fields": ("jwt_secret", "jwt_public_key"),
            },
        ),
    )
    inlines = (InboxInline, OrganizationMembershipInline)
    actions = ("rotate_jwt_secret",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                member_total=count_of(Membership, "organization"),
                inbox_total=count_of(Inbox, "organization"),
            )
        )

    @admin.display(description="Members", ordering="member_total")
    def member_count(self, organization):
        return organization.member_total

    @admin.display(description="Inboxes", ordering="inbox_total")
    def inbox_count(self, organization):
        return organization.inbox_total

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        actor = Actor.agent(request.user)
        data = form.cleaned_data
        if not change:
            organization = services.create_organization(
                actor=actor,
                name=data["name"],
                slug=data["slug"],
                plan=data["plan"],
                monthly_ticket_quota=data.get("monthly_ticket_quota"),
            )
            obj.pk = organization.pk
            obj.refresh_from_db()
        else:
            editable = services.ORGANIZATION_EDITABLE_FIELDS
            changed = {name: data[name] for name in editable if name in form.changed_data}
            if changed:
                services.update_organization(organization=obj, actor=actor, **changed)
        if "jwt_public_key" in form.changed_data:
            services.set_jwt_public_key(organization=obj, actor=actor, pem=data["jwt_public_key"])
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        # No many-to-many fields: only the inlines, each row through its service.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request, form, formset, change):
        actor = Actor.agent(request.user)
        if formset.model is Inbox:
            save_inbox_formset(formset, actor)
        elif formset.model is Membership:
            save_membership_formset(formset, actor)

    @admin.action(
        description="Rotate the JWT secret (customer JWTs signed with the old one stop working)",
        permissions=["change"],
        location=BOTH_LOCATIONS,
    )
    def rotate_jwt_secret(self, request, queryset):
        count = 0
        for organization in queryset.order_by("pk"):
            services.rotate_jwt_secret(organization=organization, actor=Actor.agent(request.user))
            count += 1
        self.message_user(
            request, ngettext("Rotated %d JWT secret.", "Rotated %d JWT secrets.", count) % count
        )


@admin.register(Membership)
class MembershipAdmin(ServiceErrorsMixin, admin.ModelAdmin):
    """Added with ``invite_member``, changed with ``update_membership`` or
    ``set_availability`` (the list's checkbox, the actions), removed with ``remove_member``:
    the last owner stays, and a removed agent's open tickets become unassigned."""

    list_display = ("user", "organization", "role", "tier", "is_available", "created_at")
    list_filter = ("role", "tier", "is_available", "organization")
    list_editable = ("is_available",)
    list_select_related = ("user", "organization")
    search_fields = ("user__email", "user__name", "organization__name", "organization__slug")
    autocomplete_fields = ("user", "organization")
    readonly_fields = ("created_at",)
    actions = ("mark_available", "mark_unavailable")

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return (*self.readonly_fields, "user", "organization")
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        actor = Actor.agent(request.user)
        if change:
            change_membership(obj, form.cleaned_data, form.changed_data, actor)
        else:
            obj.pk = add_membership(obj.user, obj.organization, form.cleaned_data, actor).pk
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        services.remove_member(membership=obj, actor=Actor.agent(request.user))

    def delete_queryset(self, request, queryset):
        for membership in queryset.select_related("organization").order_by("pk"):
            services.remove_member(membership=membership, actor=Actor.agent(request.user))

    def _set_availability(self, request, queryset, is_available: bool) -> int:
        count = 0
        for membership in queryset.select_related("organization", "user").order_by("pk"):
            services.set_availability(
                membership=membership, is_available=is_available, actor=Actor.agent(request.user)
            )
            count += 1
        return count

    @admin.action(description="Mark available for auto-assignment", permissions=["change"])
    def mark_available(self, request, queryset):
        count = self._set_availability(request, queryset, True)
        self.message_user(request, f"{count} marked available.")

    @admin.action(description="Mark unavailable for auto-assignment", permissions=["change"])
    def mark_unavailable(self, request, queryset):
        count = self._set_availability(request, queryset, False)
        self.message_user(request, f"{count} marked unavailable.")


# Credentials -----------------------------------------------------------------------------


class ApiKeyForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ("organization", "inbox", "name", "expiry_date", "revoked")

    def clean(self):
        cleaned = super().clean()
        organization = cleaned.get("organization")
        if organization is None and self.instance.organization_id is not None:
            organization = self.instance.organization
        inbox = cleaned.get("inbox")
        if organization and inbox and inbox.organization_id != organization.pk:
            self.add_error("inbox", "This inbox belongs to another organization.")
        return cleaned


@admin.register(ApiKey)
class ApiKeyAdmin(ServiceErrorsMixin, APIKeyModelAdmin):
    """The library's admin (it shows a new key once, in a message) with our columns; keys
    are made by ``create_api_key`` and revoked by ``revoke_api_key``, never edited."""

    form = ApiKeyForm
    list_display = (
        "key_prefix",
        "name",
        "organization",
        "inbox",
        "created",
        "last_used_at",
        "expiry_date",
        "_has_expired",
        "revoked",
    )
    list_filter = ("revoked", "created", "organization")
    list_select_related = ("organization", "inbox")
    search_fields = ("name", "prefix", "organization__name", "organization__slug")
    autocomplete_fields = ("organization", "inbox")
    date_hierarchy = "created"
    actions = ("revoke_keys",)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            # A key is what its holder was given: revoke it and make another to change it.
            return tuple(self.get_fields(request, obj))
        return ("created", "last_used_at")

    def get_fields(self, request, obj=None):
        fields = ["organization", "inbox", "name", "expiry_date"]
        if obj is not None:
            fields = ["prefix", *fields, "revoked", "created", "last_used_at"]
        return fields

    def has_delete_permission(self, request, obj=None):
        return False  # revoking keeps the record of the key; deleting would erase it

    @admin.display(description="Key", ordering="prefix")
    def key_prefix(self, api_key):
        return f"{api_key.display_prefix}…"

    def save_model(self, request, obj, form, change):
        if change:
            return  # nothing is editable on an existing key; revoke it with the action
        data = form.cleaned_data
        api_key, plaintext = services.create_api_key(
            organization=data["organization"],
            actor=Actor.agent(request.user),
            name=data["name"],
            inbox=data.get("inbox"),
            expiry_date=data.get("expiry_date"),
        )
        obj.pk = api_key.pk
        obj.refresh_from_db()
        messages.warning(
            request,
            f"The API key for {api_key.name} is: {plaintext} — store it somewhere safe now: "
            "it is stored hashed and will not be shown again.",
        )

    @admin.action(
        description="Revoke the selected API keys (cannot be undone)",
        permissions=["change"],
        location=BOTH_LOCATIONS,
    )
    def revoke_keys(self, request, queryset):
        count = 0
        for api_key in queryset.filter(revoked=False).select_related("organization").order_by("pk"):
            services.revoke_api_key(api_key=api_key, actor=Actor.agent(request.user))
            count += 1
        self.message_user(request, ngettext("Revoked %d API key.", "Revoked %d API keys.", count) % count)


class TokenAdmin(ServiceErrorsMixin, admin.ModelAdmin):
    """Shared by the hashed token kinds: minted on add by a service that shows the plaintext
    once, revoked by a service (an action), never edited or deleted."""

    kind_label = "token"
    date_hierarchy = "created_at"
    actions = ("revoke_tokens",)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return tuple(self.get_fields(request, obj))

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return  # nothing is editable on an existing token; revoke it with the action
        token, plaintext = self.mint(request, form.cleaned_data)
        obj.pk = token.pk
        obj.refresh_from_db()
        messages.warning(
            request,
            f"The new {self.kind_label} is: {plaintext} — store it somewhere safe now: "
            "it is stored hashed and will not be shown again.",
        )

    @admin.display(description="Usable", boolean=True)
    def usable(self, token):
        return token.is_usable

    @admin.action(
        description="Revoke the selected tokens (cannot be undone)",
        permissions=["change"],
        location=BOTH_LOCATIONS,
    )
    def revoke_tokens(self, request, queryset):
        count = 0
        for token in queryset.filter(revoked_at__isnull=True).order_by("pk"):
            self.revoke(request, token)
            count += 1
        self.message_user(request, ngettext("Revoked %d token.", "Revoked %d tokens.", count) % count)


@admin.register(AgentToken)
class AgentTokenAdmin(TokenAdmin):
    """Made for an agent by ``create_agent_token`` and revoked by ``revoke_agent_token``."""

    kind_label = "agent token"
    list_display = ("display_prefix", "name", "user", "created_at", "last_used_at", "expires_at", "usable")
    list_filter = ("created_at", ("revoked_at", admin.EmptyFieldListFilter))
    list_select_related = ("user",)
    search_fields = ("name", "lookup", "user__email", "user__name")
    autocomplete_fields = ("user",)
    fields = ("user", "name", "expires_at")

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.fields
        return ("display_prefix", *self.fields, "created_at", "last_used_at", "revoked_at")

    def mint(self, request, data):
        return services.create_agent_token(
            user=data["user"],
            name=data["name"],
            expires_at=data.get("expires_at"),
            actor=Actor.agent(request.user),
        )

    def revoke(self, request, token):
        services.revoke_agent_token(token=token, actor=Actor.agent(request.user))


class CustomerTokenForm(forms.ModelForm):
    class Meta:
        model = CustomerToken
        fields = ("customer", "expires_at")
        help_texts = {"expires_at": "Empty for 30 days from now; at most 365 days."}

    def clean_expires_at(self):
        value = self.cleaned_data.get("expires_at")
        if not value:
            return services.customer_token_expiry()
        return clean_with(services.customer_token_expiry, expires_at=value)


@admin.register(CustomerToken)
class CustomerTokenAdmin(TokenAdmin):
    """Minted and revoked through accounts/services.py, as the customer-token API does."""

    kind_label = "customer token"
    form = CustomerTokenForm
    list_display = (
        "display_prefix",
        "customer",
        "organization",
        "created_at",
        "last_used_at",
        "expires_at",
        "usable",
    )
    list_filter = ("created_at", ("revoked_at", admin.EmptyFieldListFilter), "organization")
    list_select_related = ("customer", "organization")
    search_fields = ("lookup", "customer__email", "customer__external_id", "organization__name")
    autocomplete_fields = ("customer",)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("customer", "expires_at")
        return (
            "display_prefix",
            "customer",
            "organization",
            "expires_at",
            "created_at",
            "last_used_at",
            "revoked_at",
        )

    def mint(self, request, data):
        return services.mint_customer_token(
            customer=data["customer"], expires_at=data["expires_at"], actor=Actor.agent(request.user)
        )

    def revoke(self, request, token):
        services.revoke_customer_token(token=token, actor=Actor.agent(request.user))


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The settings audit log, read-only: accounts/services.py writes it, nobody edits it."""

    list_display = ["created_at", "organization", "actor_label", "action", "target"]
    list_filter = ["action"]
    search_fields = ["target", "actor_label", "organization__name"]
    list_select_related = ["organization"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "organization",
        "actor_user",
        "actor_label",
        "action",
        "target",
        "changes",
        "created_at",
    ]
