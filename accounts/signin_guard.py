"""Sign-in protection in one place: django-axes, configured for Helpdesk.

What it covers:

- ``/accounts/login/`` and ``/admin/login/``: both sign in through ``authenticate``, which
  asks axes' backend first; a locked account or address is refused before any password
  is checked, and each wrong password is counted;
- password reset requests and portal sign-in link requests (each sends an email): each
  request is counted as an attempt on the address asked for (``count_email_request``), so
  one mailbox cannot be flooded and one client cannot spray addresses.

Keys: the account (the email typed, lower-cased; portal customers are namespaced by their
organization so they never share a count with an agent) and the client address behind our
proxy (``helpdesk.client_address``). Each key has its own limit: ``LOGIN_FAILURES_PER_EMAIL``
per account, ``LOGIN_FAILURES_PER_ADDRESS`` per client address, within
``LOGIN_FAILURE_WINDOW_SECONDS``. Attempts are rows in the database (axes' database
handler, with row locks), so the counts are exact across workers and machines and a cache
outage does not touch them.
"""

import ipaddress
import logging
from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Sum
from django.shortcuts import render
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from helpdesk.client_address import client_ip

from .models import User
from .ratelimit import RateLimit

logger = logging.getLogger(__name__)


def normalized_username(request, credentials) -> str | None:
    """The account an attempt is about: the email as typed, trimmed and lower-cased."""
    value = (credentials or {}).get("username")
    if value is None and request is not None:
        value = request.POST.get("username")
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().lower()[:255]


def client_address(request) -> str | None:
    """The client address behind our proxy (``helpdesk.client_address``), or None when it is
    not an IP address at all (a request built in code has no REMOTE_ADDR): axes stores it
    in an IP address column, which PostgreSQL checks."""
    address = client_ip(request)
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def failure_limit(request, credentials) -> int:
    return settings.LOGIN_FAILURES_PER_EMAIL


def cool_off(request=None) -> timedelta:
    return timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)


class SignInAttemptHandler(AxesDatabaseHandler):
    """Axes' database handler with a limit per key.

    Axes compares one number with one limit. The account's failures are that number; an
    address over its own (higher) limit raises it to the account limit, so either key
    locks. A successful sign-in clears the account's count only: signing in to one's own
    account must not clear the count of an address that has been guessing others'.
    """

    def _failures(self, **filters) -> int:
        attempts = AccessAttempt.objects.filter(**filters)
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cool_off())
        return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0

    def account_failures(self, username: str | None) -> int:
        return self._failures(username=username) if username else 0

    def get_failures(self, request, credentials=None) -> int:
        account = self.account_failures(get_client_username(request, credentials))
        # Without an address there is no address count (None would match every such row).
        address = self._failures(ip_address=request.axes_ip_address) if request.axes_ip_address else 0
        if address >= settings.LOGIN_FAILURES_PER_ADDRESS:
            return max(account, failure_limit(request, credentials))
        return account

    def reset_user_attempts(self, request, credentials=None) -> int:
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count


def lockout_response(request, original_response=None, credentials=None):
    """The page a locked-out person sees (429): what happened and when to try again."""
    seconds = settings.LOGIN_FAILURE_WINDOW_SECONDS
    template = "portal/locked_out.html" if request.path.startswith("/t/") else "registration/locked_out.html"
    response = render(request, template, {"minutes": max(1, seconds // 60)}, status=429)
    response["Retry-After"] = str(seconds)
    return response


def count_email_request(request, account: str):
    """Counts a request that sends an email to ``account`` (a reset, a portal link) as a
    sign-in attempt; returns the lockout page when the account or the client address is
    already over its limit, else None and the request goes on.

    The request that reaches a limit is still served; the lock applies from the next one.
    """
    credentials = {"username": account}
    if not AxesProxyHandler.is_allowed(request, credentials):
        return lockout_response(request, credentials=credentials)
    AxesProxyHandler.user_login_failed(sender=__name__, credentials=credentials, request=request)
    request.axes_locked_out = False
    return None


def portal_account(organization_id: int, email: str) -> str:
    """A portal customer's key: never the same string as an agent's email."""
    return f"portal:{organization_id}:{email.strip().lower()}"


# The lockout email -------------------------------------------------------------------------


def tell_the_account_owner(sender, request, username, ip_address, **kwargs):
    """axes' ``user_locked_out``: email the person whose account was locked, once a window.

    Not for a lock of the address alone (the account was not guessed at), nor for portal
    customers (their "attempts" are requests for emails; another email would feed the
    flood).
    """
    if not username or username.startswith("portal:"):
        return
    handler = AxesProxyHandler.get_implementation()
    if not isinstance(handler, SignInAttemptHandler):
        return
    if handler.account_failures(username) < settings.LOGIN_FAILURES_PER_EMAIL:
        return
    user = User.objects.filter(email__iexact=username, is_active=True).first()
    if user is None:
        return
    once = RateLimit("lockout-email", limit=1, window_seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    if once.hit(user.email) > once.limit:
        return
    try:
        send_lockout_email.enqueue(user.pk, ip_address or "unknown")
    except Exception:
        # The lock holds whatever happens to the email; a failing queue is only logged.
        logger.exception("Could not queue the lockout email for user %s", user.pk)


@task
def send_lockout_email(user_id: int, ip_address: str) -> None:
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return
    context = {
        "user": user,
        "ip_address": ip_address,
        "minutes": max(1, settings.LOGIN_FAILURE_WINDOW_SECONDS // 60),
        "reset_url": f"{settings.SITE_URL}{reverse('password_reset')}",
    }
    message = EmailMultiAlternatives(
        subject=render_to_string("emails/account_locked-subject.txt", context).strip(),
        body=render_to_string("emails/account_locked-body.txt", context),
        to=[user.email],
    )
    message.attach_alternative(render_to_string("emails/account_locked-body.html", context), "text/html")
    message.send()
