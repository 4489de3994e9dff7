"""The database keeps ``Message.customer`` and ``CSATSurvey.customer`` equal to their ticket's.

A customer's timeline and figures read their messages and CSAT answers by customer, one index
range whatever the number of conversations; that needs the ticket's customer on each row. The
copy is kept where no code path can forget it: triggers fill it on insert (ORM, bulk or COPY),
follow a message moved to another ticket, and follow a ticket moved to another customer (a merge,
its undo, a chat visitor identified, an edit in the admin). PostgreSQL and SQLite alike.
"""

from django.db import migrations

POSTGRESQL = [
    """
    CREATE OR REPLACE FUNCTION desk_row_customer_from_ticket() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'INSERT' AND NEW.customer_id IS NOT NULL THEN
            RETURN NEW;  -- a bulk load that knows it already
        END IF;
        SELECT customer_id INTO NEW.customer_id FROM tickets_ticket WHERE id = NEW.ticket_id;
        RETURN NEW;
    END $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER message_customer_from_ticket
    BEFORE INSERT OR UPDATE OF ticket_id ON tickets_message
    FOR EACH ROW EXECUTE FUNCTION desk_row_customer_from_ticket()
    """,
    """
    CREATE TRIGGER csat_customer_from_ticket
    BEFORE INSERT OR UPDATE OF ticket_id ON tickets_csatsurvey
    FOR EACH ROW EXECUTE FUNCTION desk_row_customer_from_ticket()
    """,
    """
    CREATE OR REPLACE FUNCTION desk_ticket_customer_follow() RETURNS trigger AS $$
    BEGIN
        UPDATE tickets_message SET customer_id = NEW.customer_id WHERE ticket_id = NEW.id;
        UPDATE tickets_csatsurvey SET customer_id = NEW.customer_id WHERE ticket_id = NEW.id;
        RETURN NULL;
    END $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER ticket_customer_follow
    AFTER UPDATE OF customer_id ON tickets_ticket
    FOR EACH ROW WHEN (OLD.customer_id IS DISTINCT FROM NEW.customer_id)
    EXECUTE FUNCTION desk_ticket_customer_follow()
    """,
]
POSTGRESQL_BACKFILL = [
    """
    UPDATE tickets_message m SET customer_id = t.customer_id
    FROM tickets_ticket t WHERE t.id = m.ticket_id AND m.customer_id IS DISTINCT FROM t.customer_id
    """,
    """
    UPDATE tickets_csatsurvey s SET customer_id = t.customer_id
    FROM tickets_ticket t WHERE t.id = s.ticket_id AND s.customer_id IS DISTINCT FROM t.customer_id
    """,
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS ticket_customer_follow ON tickets_ticket",
    "DROP TRIGGER IF EXISTS csat_customer_from_ticket ON tickets_csatsurvey",
    "DROP TRIGGER IF EXISTS message_customer_from_ticket ON tickets_message",
    "DROP FUNCTION IF EXISTS desk_ticket_customer_follow()",
    "DROP FUNCTION IF EXISTS desk_row_customer_from_ticket()",
]

# SQLite cannot change NEW in a BEFORE trigger: it sets the column right after the write.
SQLITE = [
    """
    CREATE TRIGGER tickets_message_customer_on_insert AFTER INSERT ON tickets_message
    FOR EACH ROW WHEN NEW.customer_id IS NULL BEGIN
        UPDATE tickets_message SET customer_id = (SELECT customer_id FROM tickets_ticket WHERE id = NEW.ticket_id)
        WHERE id = NEW.id;
    END
    """,
    """
    CREATE TRIGGER tickets_csatsurvey_customer_on_insert AFTER INSERT ON tickets_csatsurvey
    FOR EACH ROW WHEN NEW.customer_id IS NULL BEGIN
        UPDATE tickets_csatsurvey SET customer_id = (SELECT customer_id FROM tickets_ticket WHERE id = NEW.ticket_id)
        WHERE id = NEW.id;
    END
    """,
    """
    CREATE TRIGGER tickets_message_customer_on_move AFTER UPDATE OF ticket_id ON tickets_message
    FOR EACH ROW BEGIN
        UPDATE tickets_message SET customer_id = (SELECT customer_id FROM tickets_ticket WHERE id = NEW.ticket_id)
        WHERE id = NEW.id;
    END
    """,
    """
    CREATE TRIGGER tickets_csatsurvey_customer_on_move AFTER UPDATE OF ticket_id ON tickets_csatsurvey
    FOR EACH ROW BEGIN
        UPDATE tickets_csatsurvey SET customer_id = (SELECT customer_id FROM tickets_ticket WHERE id = NEW.ticket_id)
        WHERE id = NEW.id;
    END
    """,
    """
    CREATE TRIGGER ticket_customer_follow AFTER UPDATE OF customer_id ON tickets_ticket
    FOR EACH ROW WHEN OLD.customer_id IS NOT NEW.customer_id BEGIN
        UPDATE tickets_message SET customer_id = NEW.customer_id WHERE ticket_id = NEW.id;
        UPDATE tickets_csatsurvey SET customer_id = NEW.customer_id WHERE ticket_id = NEW.id;
    END
    """,
]
SQLITE_BACKFILL = [
    "UPDATE tickets_message SET customer_id = (SELECT customer_id FROM tickets_ticket WHERE id = tickets_message.ticket_id)",
    "UPDATE tickets_csatsurvey SET customer_id = (SELECT customer_id FROM tickets_ticket WHERE id = tickets_csatsurvey.ticket_id)",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS ticket_customer_follow",
    "DROP TRIGGER IF EXISTS tickets_message_customer_on_insert",
    "DROP TRIGGER IF EXISTS tickets_message_customer_on_move",
    "DROP TRIGGER IF EXISTS tickets_csatsurvey_customer_on_insert",
    "DROP TRIGGER IF EXISTS tickets_csatsurvey_customer_on_move",
]


def _run(schema_editor, statements: list[str]) -> None:
    for statement in statements:
        schema_editor.execute(statement)


def install(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, POSTGRESQL_BACKFILL + POSTGRESQL)
    elif vendor == "sqlite":
        _run(schema_editor, SQLITE_BACKFILL + SQLITE)
    else:
        raise RuntimeError(f"No customer-copy triggers for {vendor}; add them here.")


def uninstall(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    _run(schema_editor, POSTGRESQL_DROP if vendor == "postgresql" else SQLITE_DROP)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0013_customer_on_messages_and_surveys")]

    operations = [migrations.RunPython(install, uninstall)]
