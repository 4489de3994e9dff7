"""PostgreSQL-only: trigram search indexes and the database guard on the consent ledger.

Search selectors must use the same expressions to hit these indexes:
- ``lower(first_name || ' ' || last_name)`` with trigram similarity / ``icontains``;
- ``contactpoint.value`` with trigram ``icontains``.

The ledger trigger refuses UPDATE and DELETE on consent records, unless the transaction set
``desk.ledger_unlocked = 'on'`` (``customers.consent.ledger_unlocked()``), which only erasure
uses. On SQLite these operations do nothing; the application layer alone keeps the ledger.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

FORWARD = [
    "CREATE INDEX IF NOT EXISTS customer_name_trgm ON customers_customer "
    "USING gin ((lower(first_name || ' ' || last_name)) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS contactpoint_value_trgm ON customers_contactpoint USING gin (value gin_trgm_ops)",
    """
    CREATE OR REPLACE FUNCTION customers_consent_ledger_guard() RETURNS trigger AS $$
    BEGIN
        IF coalesce(current_setting('desk.ledger_unlocked', true), '') = 'on' THEN
            IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'the consent ledger is append-only: % refused', TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
    END;
    $$ LANGUAGE plpgsql
    """,
    "DROP TRIGGER IF EXISTS consent_ledger_append_only ON customers_consentrecord",
    "CREATE TRIGGER consent_ledger_append_only BEFORE UPDATE OR DELETE ON customers_consentrecord "
    "FOR EACH ROW EXECUTE FUNCTION customers_consent_ledger_guard()",
]
BACKWARD = [
    "DROP TRIGGER IF EXISTS consent_ledger_append_only ON customers_consentrecord",
    "DROP FUNCTION IF EXISTS customers_consent_ledger_guard()",
    "DROP INDEX IF EXISTS contactpoint_value_trgm",
    "DROP INDEX IF EXISTS customer_name_trgm",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_shipped_purposes")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(_run(FORWARD), _run(BACKWARD)),
    ]
