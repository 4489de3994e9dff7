"""The desk's model backend answers as Django's ModelBackend does, in fewer queries."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission

from supportdesk.auth_backends import DeskModelBackend
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _perm(codename):
    return Permission.objects.get(codename=codename)


@pytest.fixture
def person():
    user = UserFactory()
    group = Group.objects.create(name="Testers")
    group.permissions.add(_perm("view_ticket"))
    user.groups.add(group)
    user.user_permissions.add(_perm("view_customer"))
    return user


def test_own_and_group_permissions_as_django_gives_them(person, django_assert_num_queries):
    expected = ModelBackend().get_all_permissions(type(person).objects.get(pk=person.pk))
    fresh = type(person).objects.get(pk=person.pk)
    with django_assert_num_queries(1):
        got = DeskModelBackend().get_all_permissions(fresh)
        assert fresh.has_perm("tickets.view_ticket") and fresh.has_perm("customers.view_customer")
    assert got == expected == {"tickets.view_ticket", "customers.view_customer"}
    assert not fresh.has_perm("tickets.view_dashboards")


def test_a_revoked_permission_is_gone_on_the_next_request(person):
    person.user_permissions.remove(_perm("view_customer"))
    fresh = type(person).objects.get(pk=person.pk)
    assert DeskModelBackend().get_all_permissions(fresh) == {"tickets.view_ticket"}


def test_inactive_users_hold_nothing_and_are_not_signed_in(person):
    person.is_active = False
    person.save()
    backend = DeskModelBackend()
    assert backend.get_all_permissions(person) == set()
    assert backend.get_user(person.pk) is None
    assert backend.get_user(str(person.pk + 1000)) is None
    assert backend.get_user("not-a-number") is None


def test_a_superuser_holds_every_permission():
    boss = UserFactory(is_superuser=True)
    assert DeskModelBackend().get_all_permissions(boss) == ModelBackend().get_all_permissions(boss)
    assert DeskModelBackend().get_user(str(boss.pk)) == boss
