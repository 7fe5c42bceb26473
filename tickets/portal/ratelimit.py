"""The portal's limits: private-link guessing, the support form, sign-in links.

Counted in the database (``accounts.ratelimit``): exact across workers, and untouched by
a cache outage.
"""

from accounts.ratelimit import RateLimit

from .session import SIGNIN_MAX_AGE_SECONDS

# A private link with a wrong key (or an unknown ticket): 20 misses in 15 minutes from one
# address and that address gets 429 on every private link until the window ends.
KEY_GUESSES = RateLimit("portal-key-guesses", limit=20, window_seconds=15 * 60)

# The support form: new tickets per sender address and per client address.
SUPPORT_FORM_PER_EMAIL = RateLimit("support-email", limit=5, window_seconds=60 * 60)
SUPPORT_FORM_PER_IP = RateLimit("support-ip", limit=20, window_seconds=60 * 60)

# Requests for portal sign-in links are limited with the sign-in forms, by django-axes
# (accounts/signin_guard.py), per email asked for and per client address.

# A sign-in link is used once: the first POST with its nonce counts 1, any later one more.
SIGNIN_LINK_USES = RateLimit("signin-link-used", limit=1, window_seconds=SIGNIN_MAX_AGE_SECONDS + 60)
