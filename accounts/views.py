"""Sign-in with a guard against password guessing.

Failed sign-ins are counted in the cache per client address and per email; past the
limit the form is refused with 429 until the window passes, even with the right
password, so guessing gains nothing. A successful sign-in clears the email's count.
The counter fails open: if the cache (Redis) is down the sign-in proceeds unthrottled
and the error is logged, because locking every agent out is worse than a slower guard.
"""

import hashlib
import logging

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.cache import cache

from helpdesk.client_address import client_ip

logger = logging.getLogger(__name__)


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _keys(request) -> list[tuple[str, int]]:
    """Cache keys this attempt counts against, with each key's limit."""
    address = client_ip(request)
    email = (request.POST.get("username") or "").strip().lower()
    keys = [(f"login-failures:address:{address}", _setting("LOGIN_FAILURES_PER_ADDRESS", 20))]
    if email:
        digest = hashlib.sha256(email.encode("utf-8", "replace")).hexdigest()
        keys.append((f"login-failures:email:{digest}", _setting("LOGIN_FAILURES_PER_EMAIL", 5)))
    return keys


def _is_locked(request) -> bool:
    try:
        counts = cache.get_many([key for key, _ in _keys(request)])
    except Exception:
        logger.exception("Sign-in throttle unavailable (cache error); allowing the attempt")
        return False
    return any(counts.get(key, 0) >= limit for key, limit in _keys(request))


def _count_failure(request) -> None:
    window = _setting("LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60)
    try:
        for key, _ in _keys(request):
            if cache.add(key, 1, timeout=window):
                continue
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, timeout=window)
    except Exception:
        logger.exception("Sign-in throttle unavailable (cache error); failure not counted")


def _clear_email(request) -> None:
    try:
        cache.delete_many([key for key, _ in _keys(request) if ":email:" in key])
    except Exception:
        logger.exception("Sign-in throttle unavailable (cache error)")


class LoginView(auth_views.LoginView):
    redirect_authenticated_user = True
    locked_message = "Too many failed sign-in attempts. Wait a few minutes and try again."

    def post(self, request, *args, **kwargs):
        if _is_locked(request):
            # An unbound form: binding it would check the password, which must not happen.
            form = self.get_form_class()(
                request=request, initial={"username": request.POST.get("username", "")}
            )
            form.cleaned_data = {}
            form.add_error(None, self.locked_message)
            response = self.render_to_response(self.get_context_data(form=form))
            response.status_code = 429
            response["Retry-After"] = str(_setting("LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60))
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        _count_failure(self.request)
        return super().form_invalid(form)

    def form_valid(self, form):
        _clear_email(self.request)
        return super().form_valid(form)
