"""Two-factor sign-in with django-otp: an authenticator app (TOTP) and recovery codes.

The flow: the password as before (``/accounts/login/``, guarded by axes), then, for a
person with a confirmed device, a second step (``/accounts/two-factor/``) that asks for a
code from the app or one recovery code. Until then the session is signed in but not
verified, and the dashboard and admin send it to that step. Where an organization says
"members must use two-factor" (``Organization.members_must_use_two_factor``), its members
without a device are sent to set one up (``/accounts/two-factor/setup/``) before they see
anything. Admin requires it for staff when the operator sets ``ADMIN_REQUIRES_TWO_FACTOR``
(django-otp's ``OTPAdminSite``). API keys and personal API tokens are not sessions and are
unaffected.

The session remembers the state decided at sign-in (``STATE_KEY``), so a dashboard page
reads it without a query.
"""

from base64 import b32encode

from django.db import InterfaceError, OperationalError, transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django_otp import DEVICE_ID_SESSION_KEY, user_has_device
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

STATE_KEY = "two_factor"
PENDING, VERIFIED, NONE = "pending", "verified", "none"

RECOVERY_CODE_COUNT = 10
APP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"

# Paths the second step guards: the dashboard and admin (whose own sign-in page stays open).
GUARDED_PREFIXES = ("/desk/", "/admin/")
OPEN_ADMIN_PATHS = ("/admin/login/", "/admin/logout/")


def state_at_sign_in(sender, request, user, **kwargs):
    """Django's ``user_logged_in``: decide once per sign-in whether a second step is due.

    django-otp's admin form verifies in the same step (``user.otp_device`` is set then).
    """
    if request is None or not hasattr(request, "session"):
        return
    if getattr(user, "otp_device", None) is not None:
        request.session[STATE_KEY] = VERIFIED
    else:
        request.session[STATE_KEY] = PENDING if user_has_device(user) else NONE


def is_pending(request) -> bool:
    return request.session.get(STATE_KEY) == PENDING and DEVICE_ID_SESSION_KEY not in request.session


def is_verified(request) -> bool:
    return DEVICE_ID_SESSION_KEY in request.session or request.session.get(STATE_KEY) == VERIFIED


def required_by_an_organization(request) -> bool:
    return any(membership.organization.members_must_use_two_factor for membership in request.memberships)


def _redirect_with_next(name: str, request):
    return redirect(f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}")


class TwoFactorMiddleware:
    """Sends a signed-in but unverified session to the second step, and a member of an
    organization that requires two-factor without a device to set one up."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            detour = self._detour(request)
        except (OperationalError, InterfaceError):
            # The database is down: let the view meet the outage, where it becomes the 503
            # page (DatabaseOutageMiddleware handles a view's exceptions, not a middleware's).
            detour = None
        return detour or self.get_response(request)

    @staticmethod
    def _detour(request):
        path = request.path
        if not path.startswith(GUARDED_PREFIXES) or path.startswith(OPEN_ADMIN_PATHS):
            return None
        if not request.user.is_authenticated:
            return None
        if is_pending(request):
            return _redirect_with_next("two_factor_verify", request)
        if path.startswith("/desk/") and not is_verified(request) and required_by_an_organization(request):
            # A device may exist from another session: verify with it, else set one up.
            if user_has_device(request.user):
                request.session[STATE_KEY] = PENDING
                return _redirect_with_next("two_factor_verify", request)
            return _redirect_with_next("two_factor_setup", request)
        return None


# Devices -------------------------------------------------------------------------------------


def pending_app_device(user) -> TOTPDevice:
    """The authenticator-app device being set up (unconfirmed), made on first ask."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)


def confirm_app_device(request, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirms the app device with a code it shows; returns fresh recovery codes (shown
    once), or None when the code is wrong. The session counts as verified afterwards."""
    if not device.verify_token(code.strip()):
        return None
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=device.user, confirmed=True).exclude(pk=device.pk).delete()
        codes = replace_recovery_codes(device.user)
    otp_login(request, device)
    request.session[STATE_KEY] = VERIFIED
    return codes


def replace_recovery_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def verify(request, code: str) -> bool:
    """The second step: a code from the app, or one recovery code (used up)."""
    code = code.strip().replace(" ", "").lower()
    user = request.user
    app = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    recovery = StaticDevice.objects.filter(user=user, confirmed=True).first()
    device = app if code.isdigit() else recovery
    if device is None:
        return False
    with transaction.atomic():
        # Locked for the check: the device's throttle and last-used step must not race.
        device = type(device).objects.select_for_update().get(pk=device.pk)
        if not device.verify_token(code):
            return False
    otp_login(request, device)
    request.session[STATE_KEY] = VERIFIED
    return True


def readable_secret(device: TOTPDevice) -> str:
    """The key as an app's "enter a key" field wants it: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[index : index + 4] for index in range(0, len(secret), 4))
