"""Base classes every API view shares: authentication and permissions from settings, the
allowlist filters, JSON only, and exemption from the desk's login redirect (the API answers
401 in its own error shape instead)."""

from django.contrib.auth.decorators import login_not_required
from rest_framework import generics, viewsets
from rest_framework.views import APIView

from .filters import AllowlistFilter, AllowlistOrdering


class DeskApiMixin:
    filter_backends = [AllowlistFilter, AllowlistOrdering]
    query_filters: dict = {}
    ordering_fields: tuple[str, ...] = ()
    ordering: tuple[str, ...] = ("-id",)
    read_permissions: tuple[str, ...] = ()
    write_permissions: tuple[str, ...] | None = None
    action_permissions: dict[str, tuple[str, ...]] = {}

    @classmethod
    def as_view(cls, *args, **kwargs):
        return login_not_required(super().as_view(*args, **kwargs))


class DeskApiView(DeskApiMixin, APIView):
    pass


class DeskGenericView(DeskApiMixin, generics.GenericAPIView):
    pass


class DeskViewSet(DeskApiMixin, viewsets.GenericViewSet):
    pass
