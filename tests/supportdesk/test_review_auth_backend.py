"""The desk's model backend with a user that is not saved: as Django's ModelBackend answers."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from supportdesk.auth_backends import DeskModelBackend, _permissions_of
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("compiled_first", [True, False])
def test_an_unsaved_user_is_refused_as_django_refuses_it_never_given_unassigned_permissions(compiled_first):
    # Permission.objects.filter(user__id=None) would be every permission no user holds directly.
    _permissions_of.shapes.clear()
    if compiled_first:
        DeskModelBackend().get_all_permissions(UserFactory())
    with pytest.raises(ValueError, match="before this many-to-many relationship can be used"):
        ModelBackend().get_all_permissions(get_user_model()(username="ghost", is_active=True))
    with pytest.raises(ValueError, match="before this many-to-many relationship can be used"):
        DeskModelBackend().get_all_permissions(get_user_model()(username="ghost", is_active=True))
    boss = get_user_model()(username="boss", is_active=True, is_superuser=True)
    assert DeskModelBackend().get_all_permissions(boss) == ModelBackend().get_all_permissions(boss)
