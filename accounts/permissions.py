"""DRF permissions by kind of caller. A missing credential is a 401, a wrong kind a 403."""

from rest_framework import permissions

from .principals import Principal


def _principal(request) -> Principal | None:
    return request.auth if isinstance(request.auth, Principal) else None


class _PrincipalKindPermission(permissions.BasePermission):
    allowed_kinds: frozenset[str] = frozenset()
    message = "This credential cannot use this endpoint."

    def has_permission(self, request, view):
        principal = _principal(request)
        return principal is not None and principal.kind in self.allowed_kinds


class IsIntegratorOrAgent(_PrincipalKindPermission):
    allowed_kinds = frozenset({"integrator", "agent"})


class IsIntegrator(_PrincipalKindPermission):
    allowed_kinds = frozenset({"integrator"})


class IsAgent(_PrincipalKindPermission):
    allowed_kinds = frozenset({"agent"})


class IsCustomer(_PrincipalKindPermission):
    allowed_kinds = frozenset({"customer"})
