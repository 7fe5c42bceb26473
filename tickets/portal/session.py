"""Who is signed in to the portal, kept in the session.

A portal sign-in is scoped to one customer of one organization. It lives beside (not
instead of) an agent's login in the same session, so signing out of the portal never
signs an agent out of the dashboard.
"""

from django.core import signing

SESSION_CUSTOMER = "portal_customer_id"
SESSION_ORGANIZATION = "portal_organization_id"
# A portal session ends after this long, whatever the browser does.
SESSION_SECONDS = 12 * 60 * 60

SIGNIN_SALT = "tickets.portal.signin"
SIGNIN_MAX_AGE_SECONDS = 60 * 60


def sign_in(request, customer) -> None:
    # A new session key on sign-in, so a key planted before cannot ride along.
    request.session.cycle_key()
    request.session[SESSION_CUSTOMER] = customer.pk
    request.session[SESSION_ORGANIZATION] = customer.organization_id
    if not request.user.is_authenticated:
        request.session.set_expiry(SESSION_SECONDS)


def sign_out(request) -> None:
    request.session.pop(SESSION_CUSTOMER, None)
    request.session.pop(SESSION_ORGANIZATION, None)


def portal_customer_id(request, organization_id: int) -> int | None:
    """The signed-in customer's id when they are signed in to this organization's portal."""
    session = getattr(request, "session", None)
    if session is None or session.get(SESSION_ORGANIZATION) != organization_id:
        return None
    return session.get(SESSION_CUSTOMER)


def make_signin_token(customer, nonce: str) -> str:
    return signing.TimestampSigner(salt=SIGNIN_SALT).sign_object(
        {"customer": customer.public_id, "organization": customer.organization_id, "nonce": nonce}
    )


def read_signin_token(token: str) -> dict | None:
    """The token's payload, or None when it is forged, altered or older than an hour."""
    try:
        payload = signing.TimestampSigner(salt=SIGNIN_SALT).unsign_object(
            token, max_age=SIGNIN_MAX_AGE_SECONDS
        )
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or not {"customer", "organization", "nonce"} <= payload.keys():
        return None
    return payload
