"""Walk every URL pattern as each role and check who gets in.

Every named URL must appear in ACCESS with the least role that may use it. A new page that is
not listed fails ``test_every_url_is_in_the_access_table``; a listed page that forgets its
permission check fails the walk, because a signed-in user without the role gets in.
"""

from collections.abc import Iterator

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import ContactPointFactory, MessageFactory, TicketFactory

PUBLIC, SIGNED_IN, AGENT, LEAD, ADMIN, STAFF = "public", "signed_in", "agent", "lead", "admin", "staff"
RANK = {PUBLIC: 0, SIGNED_IN: 1, AGENT: 2, LEAD: 3, ADMIN: 4}

# The least role that may use each page. Django admin pages are checked separately: staff only.
ACCESS: dict[str, str] = {
    "login": PUBLIC,
    "health": PUBLIC,
    "logout": SIGNED_IN,
    "password_change": SIGNED_IN,
    "password_change_done": SIGNED_IN,
    "tickets:inbox": AGENT,
    "tickets:detail": AGENT,
    "tickets:reply": AGENT,
    "tickets:update": AGENT,
    "tickets:message_retry": AGENT,
    "customers:detail": AGENT,
}

# The admin's own login and logout pages are open to all.
ADMIN_PUBLIC = {"admin:login", "admin:logout"}

# Users, from least to most privileged, with the rank their role gives them.
ROLES = [("anonymous", PUBLIC), ("nobody", SIGNED_IN), ("agent", AGENT), ("lead", LEAD), ("admin_user", ADMIN)]


def _walk(patterns, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}:{entry.namespace}" if namespace and entry.namespace else entry.namespace or namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner or "")
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name or ''}" if namespace else entry.name or ""
            yield name, entry


def _all_urls() -> list[tuple[str, URLPattern]]:
    return list(_walk(get_resolver().url_patterns))


def test_every_url_is_in_the_access_table():
    missing = sorted(
        {name or str(pattern.pattern) for name, pattern in _all_urls() if not name.startswith("admin:")} - set(ACCESS)
    )
    assert not missing, f"Add these URLs to ACCESS with the least role that may use them: {missing}"


@pytest.fixture
def sample_kwargs(db):
    ticket = TicketFactory()
    ContactPointFactory(customer=ticket.customer)
    message = MessageFactory(ticket=ticket)
    return {"ticket_id": ticket.pk, "customer_id": ticket.customer_id, "message_id": message.pk}


def _request(client, url: str):
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url, {})
    return response


def _denied(response) -> bool:
    if response.status_code in (401, 403):
        return True
    # A refusal sends the visitor to log in and come back (?next=); logging out just lands there.
    return response.status_code == 302 and "login" in response["Location"] and "next=" in response["Location"]


@pytest.mark.parametrize(("role_fixture", "rank"), ROLES)
def test_walk_every_page_as_each_role(request, client, sample_kwargs, role_fixture, rank):
    if role_fixture != "anonymous":
        client.force_login(request.getfixturevalue(role_fixture))
    wrong = []
    for name, pattern in _all_urls():
        if name.startswith("admin:") or name not in ACCESS:
            continue
        kwargs = {key: sample_kwargs[key] for key in pattern.pattern.converters}
        url = reverse(name, kwargs=kwargs)
        response = _request(client, url)
        allowed = RANK[rank] >= RANK[ACCESS[name]]
        if allowed == _denied(response):
            wrong.append(f"{url} ({name}) answered {response.status_code} to {role_fixture}")
        if name == "logout" and role_fixture != "anonymous":
            client.force_login(request.getfixturevalue(role_fixture))
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(("role_fixture", "is_staff"), [("anonymous", False), ("agent", False), ("lead", False)])
def test_django_admin_is_for_staff_only(request, client, db, role_fixture, is_staff):
    if role_fixture != "anonymous":
        client.force_login(request.getfixturevalue(role_fixture))
    checked = 0
    for name, pattern in _all_urls():
        if not name.startswith("admin:") or pattern.pattern.regex.groups or name in ADMIN_PUBLIC:
            continue
        response = _request(client, reverse(name))
        assert response.status_code == 302 and "login/?next=" in response["Location"], name
        checked += 1
    assert checked > 20


def test_admins_reach_the_django_admin(client, admin_user):
    client.force_login(admin_user)
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("admin:customers_customer_changelist")).status_code == 200
