"""Django's model backend, with the two lookups every signed-in request makes compiled once.

Every page reads the signed-in user and, at the first permission check, the user's
permissions: three queries that Django builds and compiles anew each time (the permissions
are two, one for the user's own and one through groups). Here the user is one compiled query
and the permissions one compiled UNION of both, with the same answers and the same per-request
cache on the user object (``_perm_cache``) as ``ModelBackend``.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission

from supportdesk.compiled import compiled_query

UserModel = get_user_model()


@compiled_query(UserModel)
def _user(*, user_id: int):
    return UserModel._default_manager.filter(pk=user_id)


@compiled_query(Permission)
def _permissions_of(*, user_id: int):
    columns = ("content_type__app_label", "codename")
    direct = Permission.objects.filter(user__id=user_id).values_list(*columns).order_by()
    via_groups = Permission.objects.filter(group__user__id=user_id).values_list(*columns).order_by()
    return direct.union(via_groups)


class DeskModelBackend(ModelBackend):
    def get_user(self, user_id):
        try:
            rows = _user(user_id=int(user_id))
        except (TypeError, ValueError):
            return None
        user = rows[0] if rows else None
        return user if user is not None and self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if user_obj.is_superuser or user_obj.pk is None:
            # An unsaved user: Django's answer (its related managers refuse it), never the
            # permissions that belong to no user (``user__id=None`` is ``IS NULL``).
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            user_obj._perm_cache = {f"{app}.{codename}" for app, codename in _permissions_of(user_id=user_obj.pk)}
        return user_obj._perm_cache
