"""PostgreSQL-only full-text indexes for ticket search.

Selectors must use the same expressions: ``to_tsvector('simple', subject)`` and
``to_tsvector('simple', body)`` (``SearchVector("subject", config="simple")``). SQLite falls
back to ``icontains``.
"""

from django.db import migrations

FORWARD = [
    "CREATE INDEX IF NOT EXISTS ticket_subject_fts ON tickets_ticket USING gin (to_tsvector('simple', subject))",
    "CREATE INDEX IF NOT EXISTS message_body_fts ON tickets_message USING gin (to_tsvector('simple', body))",
]
BACKWARD = ["DROP INDEX IF EXISTS message_body_fts", "DROP INDEX IF EXISTS ticket_subject_fts"]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("tickets", "0002_default_sla_policies")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
