"""The desk's three roles as auth groups, and the permissions each one holds.

Views check permissions (``tickets.view_ticket``, ``tickets.view_dashboards``,
``customers.manage_privacy``...), never group names, so a site may reshape its roles in the
admin. This module is the shipped default: a migration creates the groups and every later
``migrate`` adds permissions that new code introduced (it never removes what an admin added).
"""

from collections.abc import Iterable
from importlib import import_module

from django.apps import apps as global_apps

AGENT = "Agent"
TEAM_LEAD = "Team lead"
ADMIN = "Admin"

AGENT_PERMISSIONS = [
    "customers.view_customer",
    "customers.change_customer",
    "customers.view_contactpoint",
    "customers.add_contactpoint",
    "customers.view_product",
    "customers.view_order",
    "customers.view_orderline",
    "customers.view_refund",
    "customers.view_event",
    "customers.view_consentpurpose",
    "customers.view_consentrecord",
    "customers.add_consentrecord",
    "customers.merge_customer",
    "customers.add_suggestionfeedback",  # accept, dismiss or snooze a suggested next action
    "tickets.view_ticket",
    "tickets.add_ticket",
    "tickets.change_ticket",
    "tickets.view_message",
    "tickets.add_message",
    "tickets.view_macro",
    "tickets.view_team",
    "tickets.view_tag",
    "tickets.view_slapolicy",
]
TEAM_LEAD_PERMISSIONS = [
    *AGENT_PERMISSIONS,
    "tickets.view_dashboards",
    "tickets.view_csatsurvey",
    "tickets.add_macro",
    "tickets.change_macro",
]
# Admins hold every permission of these apps, plus user and group management.
ADMIN_APPS = ("customers", "tickets")
ADMIN_EXTRA_PERMISSIONS = [
    "auth.view_user",
    "auth.add_user",
    "auth.change_user",
    "auth.view_group",
    "auth.change_group",
]

ROLES: dict[str, list[str]] = {
    AGENT: AGENT_PERMISSIONS,
    TEAM_LEAD: TEAM_LEAD_PERMISSIONS,
}


def _permissions(apps, labels: Iterable[str]):
    Permission = apps.get_model("auth", "Permission")
    wanted = [label.split(".", 1) for label in labels]
    found = Permission.objects.filter(
        content_type__app_label__in={app for app, _ in wanted},
        codename__in={codename for _, codename in wanted},
    ).select_related("content_type")
    wanted_set = {tuple(pair) for pair in wanted}
    return [p for p in found if (p.content_type.app_label, p.codename) in wanted_set]


def roles_sync(apps=global_apps) -> None:
    """Create the three groups and add the shipped permissions they lack. Idempotent."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, labels in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*_permissions(apps, labels))
    admin, _ = Group.objects.get_or_create(name=ADMIN)
    admin.permissions.add(
        *Permission.objects.filter(content_type__app_label__in=ADMIN_APPS),
        *_permissions(apps, ADMIN_EXTRA_PERMISSIONS),
    )


# Data migrations whose rows must exist whenever the schema does. Their functions are idempotent,
# so running them again after a test flush (or any migrate) restores what a flush removed.
SHIPPED_DEFAULTS = [
    ("customers.migrations.0002_shipped_purposes", "create_purposes"),
    ("tickets.migrations.0002_default_sla_policies", "create_policies"),
]


def roles_sync_after_migrate(sender, **kwargs) -> None:
    apps = kwargs.get("apps") or global_apps
    for module, function in SHIPPED_DEFAULTS:
        getattr(import_module(module), function)(apps, None)
    roles_sync(apps)
