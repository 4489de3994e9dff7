"""PostgreSQL-only: a GiST trigram index on the customer's name, for "closest names first".

The GIN index of 0003 finds every name matching a search; this one also hands them back in
order of trigram distance (``ORDER BY name <-> 'query' LIMIT n``), so a search for a common
surname reads the few best candidates instead of ranking thousands.
"""

from django.db import migrations

FORWARD = (
    "CREATE INDEX IF NOT EXISTS customer_name_trgm_knn ON customers_customer "
    "USING gist ((lower(first_name || ' ' || last_name)) gist_trgm_ops)"
)
BACKWARD = "DROP INDEX IF EXISTS customer_name_trgm_knn"


def forward(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("customers", "0006_event_customer_carts_index")]

    operations = [migrations.RunPython(forward, backward)]
