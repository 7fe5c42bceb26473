def current_organization(request):
    membership = getattr(request, "membership", None)
    if membership is None or not membership:
        return {"current_membership": None, "current_organization": None}
    return {"current_membership": membership, "current_organization": membership.organization}
