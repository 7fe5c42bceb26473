from django.utils.functional import SimpleLazyObject

SESSION_KEY = "organization_id"


def get_memberships(request) -> list:
    """The signed-in agent's memberships, oldest first (empty for anonymous users)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    return list(user.memberships.select_related("organization").order_by("created_at", "pk"))


def get_current_membership(request):
    """The signed-in agent's membership in the organization they are working in.

    The organization switcher stores its choice in the session; without one, the first
    membership is used. None for anonymous users and users of no organization.
    """
    memberships = request.memberships
    chosen = request.session.get(SESSION_KEY) if memberships else None
    for membership in memberships:
        if membership.organization_id == chosen:
            return membership
    return memberships[0] if memberships else None


class CurrentOrganizationMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Read once per request: the header's organization switcher lists them all too.
        request.memberships = SimpleLazyObject(lambda: get_memberships(request))
        request.membership = SimpleLazyObject(lambda: get_current_membership(request))
        return self.get_response(request)
