from django.apps import AppConfig


class SupportdeskConfig(AppConfig):
    """The project package as an app: roles, shared template tags, the benchmark command."""

    name = "supportdesk"
    verbose_name = "Support desk"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from .roles import roles_sync_after_migrate

        post_migrate.connect(roles_sync_after_migrate, sender=self)
