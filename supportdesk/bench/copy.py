"""Bulk loading with PostgreSQL COPY for any model, whatever fields it gained later.

Rows name only the fields the dataset cares about; every other concrete column gets the
field's default, computed once per model. Values are passed to COPY in text form.
"""

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connection, models
from django.db.models.fields import NOT_PROVIDED
from django.utils import timezone


@dataclass
class Loader:
    model: type[models.Model]
    fields: list[str]

    def __post_init__(self) -> None:
        concrete = list(self.model._meta.concrete_fields)
        self.columns = [f.column for f in concrete]
        self.attnames = [f.attname for f in concrete]
        self._position = {name: i for i, name in enumerate(self.attnames)}
        self._template: list[Any] = []
        for field in concrete:
            self._template.append(_default_text(field))
        self._json = {i for i, f in enumerate(concrete) if isinstance(f, models.JSONField)}
        # A unique column with a generated default (a UUID) needs a fresh value on every row.
        self._per_row = [
            (i, f)
            for i, f in enumerate(concrete)
            if f.unique and not f.primary_key and callable(f.default) and f.attname not in self.fields
        ]
        missing = [name for name in self.fields if name not in self._position]
        if missing:
            raise ValueError(f"{self.model.__name__} has no fields {missing}")
        self._slots = [self._position[name] for name in self.fields]

    def rows(self, values: Iterable[tuple]) -> Iterator[list[Any]]:
        template, slots, json_slots = self._template, self._slots, self._json
        for value in values:
            row = template.copy()
            for slot, field in self._per_row:
                row[slot] = field.get_default()
            for slot, item in zip(slots, value, strict=True):
                row[slot] = json.dumps(item) if slot in json_slots and not isinstance(item, str) else item
            yield row

    def copy(self, values: Iterable[tuple]) -> int:
        table = self.model._meta.db_table
        columns = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        count = 0
        with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in self.rows(values):
                copy.write_row(row)
                count += 1
        return count


def _default_text(field: models.Field) -> Any:
    if field.primary_key:
        return None
    if field.default is NOT_PROVIDED:
        if field.null:
            return None
        if isinstance(field, models.DateTimeField):  # auto_now and auto_now_add
            return timezone.now()
        if isinstance(field, models.BooleanField):
            return False
        if isinstance(field, models.IntegerField | models.FloatField | models.DecimalField):
            return 0
        return "" if isinstance(field, models.CharField | models.TextField) else None
    value = field.get_default()
    if isinstance(field, models.JSONField):
        return json.dumps(value)
    return value


def sequence_reset(*models_: type[models.Model]) -> None:
    """After COPY with explicit ids, move each table's id sequence past the largest id."""
    with connection.cursor() as cursor:
        for model in models_:
            table = model._meta.db_table
            pk = model._meta.pk.column
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, %s), coalesce(max({pk}), 1)) FROM {table}",  # noqa: S608
                [table, pk],
            )


@contextmanager
def constraints_deferred(*models_: type[models.Model]) -> Iterator[None]:
    """Load with the tables' secondary indexes and foreign keys dropped, then build them again.

    One sort per index and one join per foreign key instead of a B-tree insert and a key lookup
    for every row: how PostgreSQL's own docs advise populating a database. Primary keys and the
    indexes behind unique constraints stay. Use inside a transaction: a failed load rolls the
    DDL back with the rows.
    """
    tables = [model._meta.db_table for model in models_]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
            FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY(%s)
            """,
            [tables],
        )
        keys = cursor.fetchall()
        cursor.execute(
            """
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
            FROM pg_index i
            WHERE i.indrelid::regclass::text = ANY(%s) AND NOT i.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
            """,
            [tables],
        )
        indexes = cursor.fetchall()
        quote = connection.ops.quote_name
        for table, name, _ in keys:
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
    yield
    with connection.cursor() as cursor:
        # Each index is one sort: in memory, not in batches on disk, for this transaction only.
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        for _, definition in indexes:
            cursor.execute(definition)
        for table, name, definition in keys:
            cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
