from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict:
    """Which sections the signed-in user may open, for the role-aware navigation."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": {}}
    return {
        "nav": {
            "inbox": user.has_perm("tickets.view_ticket"),
            "search": user.has_perm("customers.view_customer"),
            "dashboards": user.has_perm("tickets.view_dashboards"),
            "privacy": user.has_perm("customers.manage_privacy"),
            "admin": user.is_staff,
        }
    }
