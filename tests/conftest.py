"""Shared fixtures: users in each role, and the rule that in CI a skipped service test fails."""

import os

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from supportdesk import roles

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def service_unavailable(reason: str) -> None:
    """Skip a test whose service is missing on a laptop; fail it in CI, where it must run."""
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def pytest_sessionfinish(session, exitstatus):
    # Belt and braces: a browser or integration test that skipped in CI fails the run.
    if not IN_CI:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    serviced = [r for r in skipped if "browser" in r.keywords or "integration" in r.keywords]
    if serviced:
        session.exitstatus = 1


def _user(username: str, role: str | None, **extra):
    # A transactional test (browser, integration) flushes the database afterwards; the groups'
    # permissions come back with the next post_migrate, so make sure they are linked.
    roles.roles_sync()
    user = get_user_model().objects.create_user(
        username=username, password="pw-" + username, first_name=username.title(), **extra
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def agent(db):
    return _user("agent", roles.AGENT)


@pytest.fixture
def lead(db):
    return _user("lead", roles.TEAM_LEAD)


@pytest.fixture
def admin_user(db):
    return _user("admin", roles.ADMIN, is_staff=True)


@pytest.fixture
def nobody(db):
    """Signed in, but in no role."""
    return _user("nobody", None)


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client
