"""Fixed-window rate limits kept in the cache (shared by all web processes when the cache is
Redis). Every public endpoint has one: the chat widget and the preference centre count their
own, ``PublicRateLimitMiddleware`` counts the login form, the CSAT survey and the webhooks."""

from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from supportdesk.api.errors import error_body


@dataclass(frozen=True)
class Rate:
    limit: int
    window_seconds: int

    @classmethod
    def parse(cls, text: str) -> "Rate":
        """``"20/60"``: at most 20 in any 60-second window."""
        limit, _, window = text.partition("/")
        return cls(int(limit), int(window or 60))


def rate_limit_hit(*, scope: str, key: str, rate: Rate) -> int:
    """Count one hit; return 0 if it is allowed, else the seconds until the window resets."""
    now = int(timezone.now().timestamp())
    window_start = now - now % rate.window_seconds
    cache_key = f"rate:{scope}:{key}:{window_start}"
    cache.add(cache_key, 0, timeout=rate.window_seconds + 5)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=rate.window_seconds + 5)
        count = 1
    if count > rate.limit:
        return max(1, window_start + rate.window_seconds - now)
    return 0


# The public endpoints without a limit of their own (the chat widget and the preference centre
# have theirs): view name -> (setting holding the rate, methods counted, answer in JSON).
PUBLIC_ENDPOINTS: dict[str, tuple[str, frozenset[str], bool]] = {
    "login": ("DESK_LOGIN_RATE_LIMIT", frozenset({"POST"}), False),
    "csat_survey": ("DESK_SURVEY_RATE_LIMIT", frozenset({"GET", "POST"}), False),
    "webhooks:orders": ("DESK_WEBHOOK_RATE_LIMIT", frozenset({"POST"}), True),
    "webhooks:email": ("DESK_WEBHOOK_RATE_LIMIT", frozenset({"POST"}), True),
    "webhooks:chat": ("DESK_WEBHOOK_RATE_LIMIT", frozenset({"POST"}), True),
}


def client_address(request: HttpRequest) -> str:
    # REMOTE_ADDR, as the chat widget and the preference centre use: behind a proxy, the proxy
    # must pass the client's address through (docs/operations.md).
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def too_many_requests(request: HttpRequest, *, wait: int, json: bool) -> HttpResponse:
    message = f"Too many requests; try again in {wait} seconds."
    if json:
        response = JsonResponse(error_body(code="rate_limited", message=message), status=429)
    else:
        response = render(request, "429.html", {"wait": wait}, status=429)
    response["Retry-After"] = str(wait)
    return response


class PublicRateLimitMiddleware:
    """Counts requests to the public endpoints in ``PUBLIC_ENDPOINTS`` per client address and
    answers 429 with ``Retry-After`` over the limit, before the view runs (a flood of bad
    signatures or passwords costs no database work). A login lockout by django-axes (429) gets
    a ``Retry-After`` of its cool-off too."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 429 and not response.has_header("Retry-After"):
            response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME * 3600))
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        endpoint = PUBLIC_ENDPOINTS.get(match.view_name if match else "")
        if endpoint is None:
            return None
        setting, methods, json = endpoint
        if request.method not in methods:
            return None
        rate = Rate.parse(getattr(settings, setting))
        wait = rate_limit_hit(scope=match.view_name, key=client_address(request), rate=rate)
        return too_many_requests(request, wait=wait, json=json) if wait else None
