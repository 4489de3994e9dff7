"""Walk every URL pattern as each role and check who gets in.

Every named URL must appear in ACCESS with the least role that may use it. A new page that is
not listed fails ``test_every_url_is_in_the_access_table``; a listed page that forgets its
permission check fails the walk, because a signed-in user without the role gets in.
"""

from collections.abc import Iterator

import pytest
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from customers.models import ConsentPurpose, Job
from tests.factories import (
    ContactPointFactory,
    CSATSurveyFactory,
    MessageFactory,
    OrderFactory,
    ProductFactory,
    TicketFactory,
)
from tickets.models import Attachment

PUBLIC, SIGNED_IN, AGENT, LEAD, ADMIN, STAFF = "public", "signed_in", "agent", "lead", "admin", "staff"
# Inbound webhooks: no role gets in; only a caller holding the source's HMAC secret (401 otherwise).
SIGNED = "signed"
RANK = {PUBLIC: 0, SIGNED_IN: 1, AGENT: 2, LEAD: 3, ADMIN: 4, SIGNED: 99}

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
    # The agent workspace (issue 3).
    "tickets:search": AGENT,
    "tickets:thread": AGENT,
    "tickets:history": AGENT,
    "tickets:macro_preview": AGENT,
    "tickets:edit": AGENT,
    "tickets:presence": AGENT,
    "customers:duplicates": AGENT,
    "customers:merge": AGENT,
    "customers:merge_undo": AGENT,
    # The REST API with a desk session: the same permissions as the pages (API keys: tests/api/).
    "api:customer-list": AGENT,
    "api:customer-detail": AGENT,
    "api:customer-consents": AGENT,
    "api:customer-timeline": AGENT,
    "api:customer-export": ADMIN,
    "api:customer-erase": ADMIN,
    "api:customer-merge": AGENT,
    "api:contact-point-list": AGENT,
    "api:product-list": AGENT,
    "api:product-detail": AGENT,
    "api:order-list": AGENT,
    "api:order-detail": AGENT,
    "api:events": ADMIN,
    "api:job-detail": ADMIN,
    "api:ticket-list": AGENT,
    "api:ticket-detail": AGENT,
    "api:ticket-messages": AGENT,
    "api:csat-list": LEAD,
    "api:csat-detail": LEAD,
    "api:schema": PUBLIC,
    "api:docs": PUBLIC,
    "api:not_found": PUBLIC,
    "attachment_download": AGENT,
    "chat:frame": PUBLIC,
    "chat:session": PUBLIC,
    "chat:messages": PUBLIC,
    "chat:identify": PUBLIC,
    "webhooks:orders": SIGNED,
    "webhooks:email": SIGNED,
    "webhooks:chat": SIGNED,
    "csat_survey": PUBLIC,
    # Agents see their own figures; leads and admins see the whole desk.
    "dashboards:index": AGENT,
    "dashboards:tickets": AGENT,
    "dashboards:export": AGENT,
    "dashboards:refresh": AGENT,
    "dashboards:suggestions": LEAD,
    "dashboards:suggestions_refresh": LEAD,
    # SLA breaches and low ratings for the people who must act on them.
    "notifications": AGENT,
    "notifications_badge": AGENT,
    "notifications_read": AGENT,
    # Consent and privacy: admins only, except the customer's own preference centre and what an
    # agent needs in a conversation (record a choice the customer stated, get their link).
    "preference_centre": PUBLIC,
    "privacy:agent_decision": AGENT,
    "privacy:preference_link": AGENT,
    "privacy:index": ADMIN,
    "privacy:purposes": ADMIN,
    "privacy:purpose_create": ADMIN,
    "privacy:purpose_edit": ADMIN,
    "privacy:customers": ADMIN,
    "privacy:customer": ADMIN,
    "privacy:decision_record": ADMIN,
    "privacy:export_start": ADMIN,
    "privacy:erase_start": ADMIN,
    "privacy:legal_hold": ADMIN,
    "privacy:job": ADMIN,
    "privacy:job_download": ADMIN,
    "privacy:imports": ADMIN,
    "privacy:retention": ADMIN,
    "privacy:retention_preview": ADMIN,
    "privacy:retention_run": ADMIN,
    "privacy:audit": ADMIN,
    "privacy:audit_export": ADMIN,
    # Suggested next actions (issue 5): agents see them and give feedback.
    "suggestions:panel": AGENT,
    "suggestions:feedback": AGENT,
    "api:customer-suggestions": AGENT,
    "api:suggestion-feedback": AGENT,
    "api:reports-csat": AGENT,
    "api:reports-service": AGENT,
    "api:reports-suggestions": AGENT,
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
    attachment = Attachment(message=message, filename="a.txt", size=1)
    attachment.file.save("a.txt", ContentFile(b"a"), save=True)
    survey = CSATSurveyFactory(ticket=ticket, rating=5, answered_at=ticket.created_at)
    return {
        "ticket_id": ticket.pk,
        "customer_id": ticket.customer_id,
        "message_id": message.pk,
        "public_id": ticket.customer.public_id,
        "product_id": ProductFactory().pk,
        "order_id": OrderFactory(customer=ticket.customer).pk,
        "job_id": Job.objects.create(kind=Job.Kind.CUSTOMER_EXPORT, customer=ticket.customer).pk,
        "survey_id": survey.pk,
        "attachment_id": attachment.pk,
        "token": "not-a-signed-token",
        "suggestion_id": "not-a-signed-token",
        "purpose_id": ConsentPurpose.objects.get(code="marketing").pk,
    }


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
