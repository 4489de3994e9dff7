"""Access checks for HTML views.

``LoginRequiredMiddleware`` sends anonymous visitors to the login page for every view not
marked ``@login_not_required``; on top of that each view names the permissions it needs.
The authorisation walk in tests/supportdesk/test_authorisation.py fails for a view that
forgets.
"""

from collections.abc import Callable
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

View = Callable[..., HttpResponse]


def permission_required(*perms: str) -> Callable[[View], View]:
    """Answer 403 unless the signed-in user holds every one of ``perms``."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.has_perms(perms):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.required_permissions = perms  # type: ignore[attr-defined]
        return wrapped

    return decorator
