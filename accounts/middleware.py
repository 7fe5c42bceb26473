from django.utils.functional import SimpleLazyObject

SESSION_KEY = "organization_id"


def get_current_membership(request):
    """The signed-in agent's membership in the organization they are working in.

    The organization switcher stores its choice in the session; without one, the first
    membership is used. None for anonymous users and users of no organization.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    memberships = user.memberships.select_related("organization").order_by("created_at", "pk")
    chosen = request.session.get(SESSION_KEY)
    if chosen is not None:
        membership = memberships.filter(organization_id=chosen).first()
        if membership is not None:
            return membership
    return memberships.first()


class CurrentOrganizationMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = SimpleLazyObject(lambda: get_current_membership(request))
        return self.get_response(request)
