"""Django admin for who can act: users, organizations, memberships and every credential.

Secrets are shown once: an API key, an agent token or a customer token is minted when
staff save the add form, its plaintext appears in one warning message, and only its hash
is stored. Existing credentials can be revoked (an action), never revealed again.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils import timezone
from django.utils.translation import ngettext
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey as UnusedLibraryAPIKey

from helpdesk.admin_common import ReadOnlyAdmin, count_of
from tickets.exceptions import InvalidInput
from tickets.models import Inbox

from .models import (
    AgentToken,
    ApiKey,
    AuditEvent,
    CustomerToken,
    Membership,
    Organization,
    User,
    new_jwt_secret,
)
from .services import customer_token_expiry, mint_customer_token, revoke_customer_token

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
class UserAdmin(DjangoUserAdmin):
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


# Organizations ---------------------------------------------------------------------------


class OrganizationMembershipInline(MembershipInline):
    fk_name = "organization"
    fields = ("user", "role", "tier", "is_available", "created_at")
    autocomplete_fields = ("user",)


class InboxInline(admin.TabularInline):
    model = Inbox
    extra = 0
    fields = ("name", "prefix", "public_id", "is_default", "daily_limit_per_customer", "auto_assignment")
    readonly_fields = ("public_id",)
    show_change_link = True


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
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

    @admin.action(
        description="Rotate the JWT secret (customer JWTs signed with the old one stop working)",
        permissions=["change"],
    )
    def rotate_jwt_secret(self, request, queryset):
        count = 0
        for organization in queryset:
            Organization.objects.filter(pk=organization.pk).update(jwt_secret=new_jwt_secret())
            count += 1
        self.message_user(
            request, ngettext("Rotated %d JWT secret.", "Rotated %d JWT secrets.", count) % count
        )


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "organization", "role", "tier", "is_available", "created_at")
    list_filter = ("role", "tier", "is_available", "organization")
    list_editable = ("is_available",)
    list_select_related = ("user", "organization")
    search_fields = ("user__email", "user__name", "organization__name", "organization__slug")
    autocomplete_fields = ("user", "organization")
    readonly_fields = ("created_at",)
    actions = ("mark_available", "mark_unavailable")

    @admin.action(description="Mark available for auto-assignment", permissions=["change"])
    def mark_available(self, request, queryset):
        count = queryset.update(is_available=True)
        self.message_user(request, f"{count} marked available.")

    @admin.action(description="Mark unavailable for auto-assignment", permissions=["change"])
    def mark_unavailable(self, request, queryset):
        count = queryset.update(is_available=False)
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
class ApiKeyAdmin(APIKeyModelAdmin):
    """The library's admin (it shows a new key once, in a message) with our columns."""

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
        fields = (*super().get_readonly_fields(request, obj), "created", "last_used_at")
        if obj is not None:
            # Moving a key to another organization would hand its holder another tenant.
            fields = (*fields, "organization")
        return fields

    def get_fields(self, request, obj=None):
        fields = ["organization", "inbox", "name", "expiry_date"]
        if obj is not None:
            fields = ["prefix", *fields, "revoked", "created", "last_used_at"]
        return fields

    @admin.display(description="Key", ordering="prefix")
    def key_prefix(self, api_key):
        return f"{api_key.display_prefix}…"

    @admin.action(description="Revoke the selected API keys (cannot be undone)", permissions=["change"])
    def revoke_keys(self, request, queryset):
        count = queryset.filter(revoked=False).update(revoked=True)
        self.message_user(request, ngettext("Revoked %d API key.", "Revoked %d API keys.", count) % count)


class TokenAdmin(admin.ModelAdmin):
    """Shared by the hashed token kinds: mint on add, show the plaintext once, revoke."""

    kind_label = "token"
    date_hierarchy = "created_at"
    actions = ("revoke_tokens",)
    common_readonly = ("display_prefix", "created_at", "last_used_at", "revoked_at")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return (*self.common_readonly, *self.readonly_on_change)

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
            return
        plaintext = obj.assign_secret()
        obj.save()
        self.show_once(request, plaintext)

    def show_once(self, request, plaintext: str) -> None:
        messages.warning(
            request,
            f"The new {self.kind_label} is: {plaintext} — store it somewhere safe now: "
            "it is stored hashed and will not be shown again.",
        )

    @admin.display(description="Usable", boolean=True)
    def usable(self, token):
        return token.is_usable

    @admin.action(description="Revoke the selected tokens (cannot be undone)", permissions=["change"])
    def revoke_tokens(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, ngettext("Revoked %d token.", "Revoked %d tokens.", count) % count)


@admin.register(AgentToken)
class AgentTokenAdmin(TokenAdmin):
    kind_label = "agent token"
    list_display = ("display_prefix", "name", "user", "created_at", "last_used_at", "expires_at", "usable")
    list_filter = ("created_at", ("revoked_at", admin.EmptyFieldListFilter))
    list_select_related = ("user",)
    search_fields = ("name", "lookup", "user__email", "user__name")
    autocomplete_fields = ("user",)
    fields = ("user", "name", "expires_at")
    readonly_on_change = ("user",)

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.fields
        return ("display_prefix", *self.fields, "created_at", "last_used_at", "revoked_at")


class CustomerTokenForm(forms.ModelForm):
    class Meta:
        model = CustomerToken
        fields = ("customer", "expires_at")
        help_texts = {"expires_at": "Empty for 30 days from now; at most 365 days."}

    def clean_expires_at(self):
        value = self.cleaned_data.get("expires_at")
        try:
            return customer_token_expiry(expires_at=value) if value else customer_token_expiry()
        except InvalidInput as error:
            raise forms.ValidationError(error.message) from error


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
    readonly_on_change = ("customer", "organization", "expires_at")

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

    def save_model(self, request, obj, form, change):
        if change:
            return  # nothing is editable on an existing token; revoke it with the action
        token, plaintext = mint_customer_token(
            customer=obj.customer, expires_at=form.cleaned_data["expires_at"]
        )
        obj.pk = token.pk
        obj.refresh_from_db()
        self.show_once(request, plaintext)

    @admin.action(description="Revoke the selected tokens (cannot be undone)", permissions=["change"])
    def revoke_tokens(self, request, queryset):
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            revoke_customer_token(token=token)
            count += 1
        self.message_user(request, ngettext("Revoked %d token.", "Revoked %d tokens.", count) % count)


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
