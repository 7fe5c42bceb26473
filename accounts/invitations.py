"""The email a person gets when they are added to an organization.

A new person gets a link to set their password, made with Django's password-reset
token (``default_token_generator``): it is single-use — it stops working once the
password is set — and expires after ``PASSWORD_RESET_TIMEOUT``.
"""

import logging

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .models import Invitation, Membership

logger = logging.getLogger(__name__)


def set_password_url(user) -> str:
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return f"{settings.SITE_URL}{path}"


@task
def send_invitation_email(membership_id: int, inviter: str, new_user: bool) -> None:
    membership = Membership.objects.select_related("user", "organization").filter(pk=membership_id).first()
    if membership is None:  # removed again before the task ran
        return
    user = membership.user
    context = {
        "user": user,
        "organization": membership.organization,
        "role": membership.get_role_display(),
        "inviter": inviter,
        "new_user": new_user,
        "set_password_url": set_password_url(user) if new_user else "",
        "desk_url": f"{settings.SITE_URL}{reverse('dashboard:queue')}",
        "login_url": f"{settings.SITE_URL}{reverse('login')}",
    }
    subject = render_to_string("emails/invitation-subject.txt", context).strip()
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("emails/invitation-body.txt", context),
        to=[user.email],
    )
    message.attach_alternative(render_to_string("emails/invitation-body.html", context), "text/html")
    message.send()


def send_invitation(*, membership_id: int, inviter: str, new_user: bool) -> None:
    """Called after commit: queue the email; a failing queue never fails the invitation."""
    try:
        send_invitation_email.enqueue(membership_id, inviter, new_user)
    except Exception:
        logger.exception("Could not send the invitation for membership %s", membership_id)


@task
def send_offer_email(invitation_id: int) -> None:
    """The invitation to someone who has an account: accept it, signed in, from the link."""
    invitation = Invitation.objects.select_related("organization").filter(pk=invitation_id).first()
    if invitation is None or invitation.accepted_at is not None:
        return
    context = {
        "user": None,
        "organization": invitation.organization,
        "role": invitation.get_role_display(),
        "inviter": invitation.inviter_label,
        "new_user": False,
        "accept_url": f"{settings.SITE_URL}{reverse('invitation', args=[invitation.public_id])}",
    }
    message = EmailMultiAlternatives(
        subject=render_to_string("emails/invitation-subject.txt", context).strip(),
        body=render_to_string("emails/invitation-body.txt", context),
        to=[invitation.email],
    )
    message.attach_alternative(render_to_string("emails/invitation-body.html", context), "text/html")
    message.send()


def send_offer(*, invitation_id: int) -> None:
    """Called after commit: queue the email; a failing queue never fails the invitation."""
    try:
        send_offer_email.enqueue(invitation_id)
    except Exception:
        logger.exception("Could not send invitation %s", invitation_id)
