"""Who may call what.

An API key may read everything the API offers; writing needs a ``write`` key (a read key gets
403). A signed-in desk user needs the model permissions the view names for the action, the
same ones the desk's pages check, so an agent's session reaches what an agent may see.
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from .authentication import ApiKeyUser


class DeskApiPermission(BasePermission):
    message = "You do not have permission to do this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if user is None or not user.is_authenticated:
            return False
        if isinstance(user, ApiKeyUser):
            if request.method in SAFE_METHODS or user.api_key.scope == user.api_key.Scope.WRITE:
                return True
            self.message = "This API key is read-only; writing needs a key with the write scope."
            return False
        if not user.is_active:
            return False
        return user.has_perms(required_permissions(request, view))


def required_permissions(request, view) -> tuple[str, ...]:
    """The desk permissions a session user needs: per action, else per read or write."""
    action = getattr(view, "action", None)
    by_action = getattr(view, "action_permissions", {})
    if action and action in by_action:
        return tuple(by_action[action])
    if request.method in SAFE_METHODS:
        return tuple(getattr(view, "read_permissions", ()))
    write = getattr(view, "write_permissions", None)
    if write is None:
        return ("__no_session_writes__",)
    return tuple(write)
