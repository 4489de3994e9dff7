"""Pages read their query string from an allowlist (the API does the same in
``supportdesk/api/filters.py``): an unknown parameter answers 400 naming it and what the page
accepts, so a typo or a probe such as ``?ordering=assignee__password`` is never read, and
never silently turned into "everything"."""

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def query_params_allowed(*names: str) -> Callable:
    """Decorate a page view that accepts only the query parameters ``names``."""
    allowed = frozenset(names)

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            unknown = sorted(set(request.GET) - allowed)
            if unknown:
                context = {"unknown": unknown, "allowed": sorted(allowed)}
                return render(request, "400.html", context, status=400)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
