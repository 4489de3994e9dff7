"""Writing generated rows fast: COPY on PostgreSQL, ``bulk_create`` in batches elsewhere.

Rows are tuples in the order of a table's declared fields. Columns a table does not declare get
the model field's default once per table (so a field added later does not break the demo), and
``auto_now`` columns get the build's clock. Ids are either given by the caller (tables whose rows
others point at) or left to the database.
"""

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, models

BULK_BATCH = 500


@dataclass
class Table:
    model: type[models.Model]
    fields: Sequence[str]
    now: datetime
    rows: list[tuple] = field(default_factory=list)
    written: int = 0

    def __post_init__(self) -> None:
        concrete = {f.attname: f for f in self.model._meta.concrete_fields}
        unknown = [name for name in self.fields if name not in concrete]
        if unknown:
            raise ValueError(f"{self.model.__name__} has no fields {unknown}")
        self._json = [i for i, name in enumerate(self.fields) if isinstance(concrete[name], models.JSONField)]
        # Columns the generator leaves out: the field's default, the same for every row.
        self._extra_columns: list[str] = []
        self._extra_values: list[Any] = []
        for name, model_field in concrete.items():
            if name in self.fields or model_field.primary_key:
                continue
            value = self.now if getattr(model_field, "auto_now", False) else model_field.get_default()
            if value is None and not model_field.null:
                raise ValueError(f"{self.model.__name__}.{name} needs a value")
            if model_field.unique and value is not None:
                raise ValueError(f"{self.model.__name__}.{name} is unique; generate it per row")
            self._extra_columns.append(model_field.column)
            self._extra_values.append(json.dumps(value) if isinstance(model_field, models.JSONField) else value)

    def add(self, *row: Any) -> None:
        self.rows.append(row)

    def flush(self) -> int:
        if not self.rows:
            return 0
        if connection.vendor == "postgresql":
            self._copy()
        else:
            self._bulk_create()
        count = len(self.rows)
        self.written += count
        self.rows.clear()
        return count

    def _copy(self) -> None:
        columns = [self.model._meta.get_field(name).column for name in self.fields] + self._extra_columns
        quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
        statement = f"COPY {connection.ops.quote_name(self.model._meta.db_table)} ({quoted}) FROM STDIN"
        extra, json_slots = self._extra_values, self._json
        with connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in self.rows:
                if json_slots:
                    row = list(row)
                    for slot in json_slots:
                        row[slot] = json.dumps(row[slot])
                copy.write_row((*row, *extra))

    def _bulk_create(self) -> None:
        names = self.fields
        objects = [self.model(**dict(zip(names, row, strict=True))) for row in self.rows]
        self.model.objects.bulk_create(objects, batch_size=BULK_BATCH)


def next_id(model: type[models.Model]) -> int:
    """The first id free for rows whose ids the generator hands out itself."""
    return (model.objects.aggregate(top=models.Max("pk"))["top"] or 0) + 1


def sequences_reset(*models_: type[models.Model]) -> None:
    """After rows were written with explicit ids, move PostgreSQL's id sequences past them.

    SQLite needs nothing: an explicit rowid moves its AUTOINCREMENT counter by itself.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models_:
            table, pk = model._meta.db_table, model._meta.pk.column
            quoted_pk, quoted_table = connection.ops.quote_name(pk), connection.ops.quote_name(table)
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, %s), coalesce(max(" + quoted_pk + "), 0) + 1, false) "
                "FROM " + quoted_table,
                [table, pk],
            )


def table_wipe(model: type[models.Model]) -> int:
    """Delete every row of a table in one statement, without loading the rows.

    Only for the demo reset, which empties whole tables leaf first; the ORM's cascade would
    load millions of messages and events into memory first.
    """
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608 - model table
        return cursor.rowcount


@contextmanager
def checks_deferred(*models_: type[models.Model]) -> Iterator[None]:
    """On PostgreSQL, load these tables without their foreign keys and secondary indexes, then
    put both back: one validation query per key and one build per index are many times faster
    than checking and indexing row by row (PostgreSQL's advice on populating a database). The
    definitions are read from the catalogue, so they come back exactly; primary keys, unique
    constraints and partial indexes (small, and their predicates would not deparse identically)
    stay in place throughout.

    Call inside a transaction: if the load fails, the rollback restores everything; until it
    commits, the tables are locked.
    """
    if connection.vendor != "postgresql":
        yield
        return
    tables = [model._meta.db_table for model in models_]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        _checks_run(cursor)
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])",
            [tables],
        )
        keys = cursor.fetchall()
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = ANY(%s::regclass[]) AND i.indpred IS NULL "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
            [tables],
        )
        indexes = cursor.fetchall()
        for table, name, _ in keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {name}")
    yield
    with connection.cursor() as cursor:
        _checks_run(cursor)
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _, definition in indexes:
            cursor.execute(definition)
        for table, name, definition in keys:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}")


def _checks_run(cursor: Any) -> None:
    """Run the foreign-key checks deferred so far in this transaction: ALTER TABLE and CREATE
    INDEX refuse to run on a table while checks on it are pending."""
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
