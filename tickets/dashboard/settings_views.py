"""Organization settings for owners and admins: inboxes, members, API keys, customer JWTs
and the audit log (macros, which replaced saved replies, are the automation app's).

Every object is looked up inside the signed-in member's current organization, so
another organization's object is a 404. Writes go through ``accounts/services.py`` or
``tickets/services.py``; a domain refusal comes back as a form error or a message.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import services as account_services
from accounts.models import ApiKey, AuditEvent, Invitation, Membership
from tickets import exceptions, services
from tickets.actors import Actor
from tickets.models import Inbox, Mailbox, Ticket
from tickets.querysets import OPEN_STATUSES
from tickets.selectors import memberships_with_open_tickets

from . import settings_forms as forms

SHOWN_ONCE_SESSION_KEY = "settings_shown_once"


def manager_required(view):
    """Signed in, and an owner or admin of the current organization; else 403."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        membership = request.membership
        if not membership or not membership.can_manage:
            raise PermissionDenied("Only owners and admins can change settings.")
        return view(request, *args, **kwargs)

    return wrapper


def _actor(request) -> Actor:
    return Actor.agent(request.user)


def _add_domain_error(form, error: exceptions.HelpdeskError) -> None:
    field = getattr(error, "field", None)
    form.add_error(field if field in form.fields else None, error.message)


def remember_shown_once(request, kind: str, identifier, plaintext: str) -> None:
    """Keep a new secret in the session just long enough to show it on the next page."""
    shown = request.session.get(SHOWN_ONCE_SESSION_KEY, {})
    shown[f"{kind}:{identifier}"] = plaintext
    request.session[SHOWN_ONCE_SESSION_KEY] = shown


def pop_shown_once(request, kind: str, identifier) -> str | None:
    shown = request.session.get(SHOWN_ONCE_SESSION_KEY, {})
    plaintext = shown.pop(f"{kind}:{identifier}", None)
    request.session[SHOWN_ONCE_SESSION_KEY] = shown
    return plaintext


def _render(request, template: str, section: str, context: dict | None = None):
    return render(request, template, {"settings_section": section, **(context or {})})


# Overview


@require_GET
@manager_required
def index(request):
    return redirect("dashboard:settings-inboxes")


# Inboxes


@require_GET
@manager_required
def inbox_list(request):
    organization = request.membership.organization
    inboxes = Inbox.objects.filter(organization=organization).annotate(
        open_tickets=Count("tickets", filter=Q(tickets__status__in=OPEN_STATUSES))
    )
    return _render(request, "dashboard/settings/inboxes.html", "inboxes", {"inboxes": inboxes})


def _verification_note(inbox: Inbox) -> str:
    if inbox.support_email and not inbox.support_email_verified:
        return (
            f" A verification link was mailed to {inbox.support_email}; the address is used once confirmed."
        )
    return ""


@require_http_methods(["GET", "POST"])
@manager_required
def inbox_create(request):
    organization = request.membership.organization
    form = forms.InboxForm(request.POST if request.method == "POST" else None, organization=organization)
    if request.method == "POST" and form.is_valid():
        try:
            inbox = services.create_inbox(
                organization=organization, actor=_actor(request), **form.cleaned_data
            )
        except exceptions.InvalidInput as error:
            _add_domain_error(form, error)
        else:
            messages.success(request, f"Inbox “{inbox.name}” created.{_verification_note(inbox)}")
            return redirect("dashboard:settings-inboxes")
    return _render(request, "dashboard/settings/inbox_form.html", "inboxes", {"form": form, "inbox": None})


@require_http_methods(["GET", "POST"])
@manager_required
def inbox_edit(request, public_id):
    organization = request.membership.organization
    inbox = get_object_or_404(Inbox, organization=organization, public_id=public_id)
    form = forms.InboxForm(
        request.POST if request.method == "POST" else None, instance=inbox, organization=organization
    )
    if request.method == "POST" and form.is_valid():
        try:
            inbox = services.update_inbox(inbox=inbox, actor=_actor(request), **form.cleaned_data)
        except exceptions.InvalidInput as error:
            _add_domain_error(form, error)
        else:
            messages.success(request, f"Inbox “{inbox.name}” saved.{_verification_note(inbox)}")
            return redirect("dashboard:settings-inboxes")
    return _render(request, "dashboard/settings/inbox_form.html", "inboxes", {"form": form, "inbox": inbox})


@require_POST
@manager_required
def inbox_send_verification(request, public_id):
    inbox = get_object_or_404(Inbox, organization=request.membership.organization, public_id=public_id)
    try:
        services.request_address_verification(inbox=inbox, actor=_actor(request))
    except exceptions.InvalidInput as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"A new verification link is on its way to {inbox.support_email}.")
    return redirect("dashboard:settings-inbox-edit", public_id=inbox.public_id)


@require_http_methods(["GET", "POST"])
@manager_required
def inbox_mailbox(request, public_id):
    inbox = get_object_or_404(Inbox, organization=request.membership.organization, public_id=public_id)
    mailbox = Mailbox.objects.filter(inbox=inbox).first()
    fields = [name for name in forms.MailboxForm.base_fields if name != "password"]
    initial = {name: getattr(mailbox, name) for name in fields} if mailbox else None
    form = forms.MailboxForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_mailbox(inbox=inbox, actor=_actor(request), **form.cleaned_data)
        except exceptions.InvalidInput as error:
            _add_domain_error(form, error)
        else:
            messages.success(request, f"The mailbox of “{inbox.name}” was saved.")
            return redirect("dashboard:settings-inbox-mailbox", public_id=inbox.public_id)
    context = {"form": form, "inbox": inbox, "mailbox": mailbox}
    return _render(request, "dashboard/settings/inbox_mailbox.html", "inboxes", context)


# Members


def _member_rows(organization):
    return memberships_with_open_tickets(organization).select_related("user").order_by("user__email")


@require_http_methods(["GET", "POST"])
@manager_required
def member_list(request):
    membership = request.membership
    organization = membership.organization
    is_owner = membership.role == Membership.Role.OWNER
    form = forms.InviteForm(request.POST if request.method == "POST" else None, can_grant_owner=is_owner)
    if request.method == "POST" and form.is_valid():
        try:
            account_services.invite_member(
                organization=organization, actor=_actor(request), **form.cleaned_data
            )
        except (exceptions.InvalidInput, exceptions.PermissionDenied) as error:
            _add_domain_error(form, error)
        else:
            # The same answer whether or not the address has an account (no membership
            # exists for an existing account until its owner accepts).
            messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
            return redirect("dashboard:settings-members")
    rows = list(_member_rows(organization))
    # Someone invited who has not answered yet is listed the same way whether they were new
    # (no password chosen) or had an account (an open Invitation): the page must not tell.
    members = [member for member in rows if member.user.has_usable_password()]
    waiting = [
        {
            "email": member.user.email,
            "role": member.get_role_display(),
            "sent": member.created_at,
            "resend_url": reverse("dashboard:settings-member-resend-invitation", args=[member.pk]),
            "withdraw_url": reverse("dashboard:settings-member-remove", args=[member.pk]),
        }
        for member in rows
        if not member.user.has_usable_password()
    ] + [
        {
            "email": invitation.email,
            "role": invitation.get_role_display(),
            "sent": invitation.created_at,
            "resend_url": reverse("dashboard:settings-invitation-resend", args=[invitation.public_id]),
            "withdraw_url": reverse("dashboard:settings-invitation-withdraw", args=[invitation.public_id]),
        }
        for invitation in organization.invitations.filter(accepted_at__isnull=True)
    ]
    waiting.sort(key=lambda row: row["sent"], reverse=True)
    for member in members:
        member.change_form = forms.MembershipForm(
            initial={"role": member.role, "tier": member.tier}, prefix=f"member-{member.pk}"
        )
        member.can_be_changed = is_owner or member.role != Membership.Role.OWNER
    return _render(
        request,
        "dashboard/settings/members.html",
        "members",
        {
            "members": members,
            "waiting": waiting,
            "form": form,
            "is_owner": is_owner,
            "roles": Membership.Role,
            "tiers": Membership.Tier,
        },
    )


@require_POST
@manager_required
def invitation_resend(request, public_id):
    invitation = get_object_or_404(
        Invitation.objects.select_related("organization"),
        organization=request.membership.organization,
        public_id=public_id,
        accepted_at__isnull=True,
    )
    account_services.resend_offer(invitation=invitation, actor=_actor(request))
    messages.success(request, f"Invitation sent again to {invitation.email}.")
    return redirect("dashboard:settings-members")


@require_POST
@manager_required
def invitation_withdraw(request, public_id):
    invitation = get_object_or_404(
        Invitation.objects.select_related("organization"),
        organization=request.membership.organization,
        public_id=public_id,
        accepted_at__isnull=True,
    )
    account_services.withdraw_invitation(invitation=invitation, actor=_actor(request))
    messages.success(request, f"Invitation to {invitation.email} withdrawn.")
    return redirect("dashboard:settings-members")


@require_POST
@manager_required
def member_policy(request):
    """What members may and must do: create new tags, sign in with two-factor."""
    account_services.update_organization(
        organization=request.membership.organization,
        actor=_actor(request),
        agents_may_create_tags=request.POST.get("agents_may_create_tags") == "on",
        members_must_use_two_factor=request.POST.get("members_must_use_two_factor") == "on",
    )
    messages.success(request, "Member settings saved.")
    return redirect("dashboard:settings-members")


@require_POST
@manager_required
def member_update(request, pk):
    organization = request.membership.organization
    member = get_object_or_404(
        Membership.objects.select_related("user", "organization"), organization=organization, pk=pk
    )
    form = forms.MembershipForm(request.POST, prefix=f"member-{member.pk}")
    if not form.is_valid():
        messages.error(request, "Choose a valid role and tier.")
        return redirect("dashboard:settings-members")
    try:
        account_services.update_membership(membership=member, actor=_actor(request), **form.cleaned_data)
    except (exceptions.InvalidInput, exceptions.PermissionDenied) as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{member.user.email} saved.")
    return redirect("dashboard:settings-members")


@require_POST
@manager_required
def member_resend_invitation(request, pk):
    organization = request.membership.organization
    member = get_object_or_404(
        Membership.objects.select_related("user", "organization"), organization=organization, pk=pk
    )
    try:
        account_services.resend_invitation(membership=member, actor=_actor(request))
    except exceptions.InvalidInput as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Invitation sent again to {member.user.email}.")
    return redirect("dashboard:settings-members")


@require_http_methods(["GET", "POST"])
@manager_required
def member_remove(request, pk):
    organization = request.membership.organization
    member = get_object_or_404(
        Membership.objects.select_related("user", "organization"), organization=organization, pk=pk
    )
    if request.method == "POST":
        try:
            account_services.remove_member(membership=member, actor=_actor(request))
        except (exceptions.InvalidInput, exceptions.PermissionDenied) as error:
            messages.error(request, error.message)
        else:
            if member.user.has_usable_password():
                messages.success(request, f"{member.user.email} was removed from {organization.name}.")
            else:  # an invitation nobody answered: worded as for any other invitation
                messages.success(request, f"Invitation to {member.user.email} withdrawn.")
            if member.user_id == request.user.pk:
                return redirect("dashboard:queue")
        return redirect("dashboard:settings-members")
    open_tickets = Ticket.objects.filter(organization=organization, assignee_id=member.user_id).open().count()
    return _render(
        request,
        "dashboard/settings/member_remove.html",
        "members",
        {"member": member, "open_tickets": open_tickets},
    )


# API keys


@require_http_methods(["GET", "POST"])
@manager_required
def api_key_list(request):
    organization = request.membership.organization
    form = forms.ApiKeyForm(request.POST if request.method == "POST" else None, organization=organization)
    if request.method == "POST" and form.is_valid():
        try:
            api_key, plaintext = account_services.create_api_key(
                organization=organization, actor=_actor(request), **form.cleaned_data
            )
        except exceptions.InvalidInput as error:
            _add_domain_error(form, error)
        else:
            remember_shown_once(request, "api_key", api_key.prefix, plaintext)
            return redirect("dashboard:settings-api-key-created", prefix=api_key.prefix)
    api_keys = (
        ApiKey.objects.filter(organization=organization)
        .select_related("inbox")
        .order_by("revoked", "-created")
    )
    return _render(
        request, "dashboard/settings/api_keys.html", "api_keys", {"api_keys": api_keys, "form": form}
    )


@require_GET
@manager_required
def api_key_created(request, prefix):
    api_key = get_object_or_404(ApiKey, organization=request.membership.organization, prefix=prefix)
    plaintext = pop_shown_once(request, "api_key", api_key.prefix)
    if plaintext is None:
        messages.info(request, "A key is shown only once. Revoke it and create a new one if it was lost.")
        return redirect("dashboard:settings-api-keys")
    response = _render(
        request,
        "dashboard/settings/api_key_created.html",
        "api_keys",
        {"api_key": api_key, "plaintext": plaintext},
    )
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@manager_required
def api_key_revoke(request, prefix):
    api_key = get_object_or_404(
        ApiKey.objects.select_related("organization"),
        organization=request.membership.organization,
        prefix=prefix,
    )
    account_services.revoke_api_key(api_key=api_key, actor=_actor(request))
    messages.success(request, f"API key “{api_key.name}” revoked. It stops working at once.")
    return redirect("dashboard:settings-api-keys")


# Customer JWTs


@require_GET
@manager_required
def security(request):
    organization = request.membership.organization
    response = _render(
        request,
        "dashboard/settings/security.html",
        "security",
        {
            "organization": organization,
            "rotate_form": forms.ConfirmForm(),
            "public_key_form": forms.JwtPublicKeyForm(
                initial={"jwt_public_key": organization.jwt_public_key}
            ),
        },
    )
    # The page holds the secret: keep it out of caches and the back-forward history.
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@manager_required
def jwt_secret_rotate(request):
    organization = request.membership.organization
    form = forms.ConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Tick the confirmation box to rotate the secret.")
        return redirect("dashboard:settings-security")
    account_services.rotate_jwt_secret(organization=organization, actor=_actor(request))
    messages.success(request, "The JWT secret was rotated. Update your app with the new secret.")
    return redirect("dashboard:settings-security")


@require_POST
@manager_required
def jwt_public_key(request):
    organization = request.membership.organization
    form = forms.JwtPublicKeyForm(request.POST)
    if form.is_valid():
        account_services.set_jwt_public_key(
            organization=organization, actor=_actor(request), pem=form.cleaned_data["jwt_public_key"]
        )
        messages.success(request, "The RS256 public key was saved.")
        return redirect("dashboard:settings-security")
    return _render(
        request,
        "dashboard/settings/security.html",
        "security",
        {"organization": organization, "rotate_form": forms.ConfirmForm(), "public_key_form": form},
    )


# Audit log


@require_GET
@manager_required
def activity(request):
    events = AuditEvent.objects.filter(organization=request.membership.organization).select_related(
        "actor_user"
    )
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return _render(request, "dashboard/settings/activity.html", "activity", {"page": page})
