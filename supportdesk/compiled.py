"""Querysets whose SQL is compiled once per process, for the hottest pages.

Building and compiling a queryset with a dozen subqueries (the ticket page's customer figures,
the SLA state) costs Django several milliseconds of Python on every request, more than the
database takes to answer it. The shape of such a query never changes; only its values do.

``compiled_query`` wraps a function that builds the queryset from keyword values. The first call
per database and shape builds it twice, with two sets of stand-in values, and compiles both: the
SQL must be the same and every parameter must either be equal in both (a constant) or be exactly
one of the stand-ins (a value). Later calls clone the first queryset and execute the stored SQL
with the new values, skipping both the building and the compiling. A shape whose parameters are
derived from the values (``now + 15 minutes`` computed inside the builder, a value adapted to a
string by the database backend) fails that check and is simply built and compiled each time, so
the result is always what the plain queryset would return. Pass derived values in as values.

The wrapped function returns a list, never a queryset: a queryset carrying stored SQL must not
be narrowed further. ``prefetch_related`` lookups on the built queryset still run as usual.
Anything that changes the SQL besides the values (a filter present or not, a page's slice) goes
into ``shape``, a hashable the caller passes; each shape is compiled once.
"""

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.models import Model, QuerySet

MAX_SHAPES = 512  # per wrapped function: enough for every inbox view and page, bounded anyway
_EPOCH = datetime(1901, 1, 1, tzinfo=UTC)
_INT64 = range(-(2**63), 2**63)


@dataclass(frozen=True)
class _Compiled:
    template: QuerySet
    sql: str
    slots: tuple[tuple[bool, Any], ...]  # (is_value, value name or constant)
    state: dict[str, Any]

    def params(self, values: dict[str, Any]) -> tuple:
        return tuple(values[ref] if is_value else ref for is_value, ref in self.slots)


_UNCACHEABLE = object()


def _stand_in(value: Any, position: int, which: int) -> Any:
    """A value of the same type that no real call passes, distinct per position and set.

    Made so that common derivations change it: one set's numbers are below zero and the
    other's above (a clamp, or a positive field dropping a condition it cannot fail), the
    datetimes fall on different days and have seconds (``.date()``, truncating), the strings
    have mixed case, outer spaces and LIKE's special characters (``lower()``, ``strip()``,
    SQLite's escaping for ``iexact``)."""
    n = 2 * position + which + 1
    if isinstance(value, bool) or (isinstance(value, int) and value not in _INT64):
        return _UNCACHEABLE
    if isinstance(value, int):
        return (7_000_000 + n) * (1 if which else -1)
    if isinstance(value, datetime):
        return _EPOCH + timedelta(days=n, hours=n, seconds=n, microseconds=n)
    if isinstance(value, str):
        return f" \x00stand-IN %_\\ {position}/{which}\x00 "
    return _UNCACHEABLE


def _kind(value: Any) -> Any:
    """What of a value besides itself the stored SQL depends on: its type (None is ``IS NULL``,
    not ``= %s``), and for an integer whether the database can take it at all."""
    if type(value) is int and value not in _INT64:
        return "out of range"
    return type(value)


def _compile(queryset: QuerySet) -> tuple[str, tuple, dict[str, Any]]:
    compiler = queryset.query.get_compiler(using=queryset.db)
    sql, params = compiler.as_sql()
    state = {
        "select": compiler.select,
        "klass_info": compiler.klass_info,
        "annotation_col_map": compiler.annotation_col_map,
        "col_count": compiler.col_count,
        "has_extra_select": compiler.has_extra_select,
    }
    return sql, tuple(params), state


def _prepare(build: Callable[..., QuerySet], values: dict[str, Any]) -> _Compiled | None:
    names = sorted(values)
    sets = [{name: _stand_in(values[name], i, which) for i, name in enumerate(names)} for which in (0, 1)]
    if any(v is _UNCACHEABLE for v in sets[0].values()):
        return None
    first, second = build(**sets[0]), build(**sets[1])
    try:
        sql, params, state = _compile(first)
        other_sql, other_params, _ = _compile(second)
    except EmptyResultSet:  # a query that can match nothing (an empty slice): nothing to store
        return None
    if sql != other_sql or len(params) != len(other_params):
        return None
    by_stand_in = {(type(sets[0][n]), sets[0][n], sets[1][n]): n for n in names}
    slots = []
    for a, b in zip(params, other_params, strict=True):
        if type(a) is type(b) and a == b:
            slots.append((False, a))
            continue
        try:
            name = by_stand_in.get((type(a), a, b))
        except TypeError:  # an unhashable parameter (a list for an array): not a stand-in
            name = None
        if name is None:
            return None  # a parameter derived from a value: not safe to store
        slots.append((True, name))
    return _Compiled(template=first, sql=sql, slots=tuple(slots), state=state)


def _execute(compiled: _Compiled, values: dict[str, Any]) -> list:
    queryset = compiled.template._chain()
    query = queryset.query
    sql, params, state = compiled.sql, compiled.params(values), compiled.state

    def get_compiler(using=None, connection=None, elide_empty=True):
        connection = connection or connections[using]
        compiler = connection.ops.compiler(query.compiler)(query, connection, using, elide_empty)
        compiler.__dict__.update(state)
        compiler.as_sql = lambda *args, **kwargs: (sql, params)
        return compiler

    query.get_compiler = get_compiler
    return list(queryset)


def compiled_query(
    model: type[Model], *, shaped: bool = False
) -> Callable[[Callable[..., QuerySet]], Callable[..., list]]:
    """Wrap ``build(**values) -> QuerySet`` into ``fetch(*, shape=(), **values) -> list``.

    ``model`` names the database to read from (the router's choice for it). With ``shaped``,
    the builder is called as ``build(shape, **values)``: the shape is its structure."""

    def decorate(build: Callable[..., QuerySet]) -> Callable[..., list]:
        shapes: OrderedDict[Hashable, Any] = OrderedDict()
        lock = threading.Lock()

        @functools.wraps(build)
        def fetch(*, shape: Hashable = (), **values: Any) -> list:
            alias = router.db_for_read(model)
            # The names and kinds of the values are part of the key: a value left out (the
            # builder's default is then a constant) or None where a number was compiled
            # (``IS NULL``) needs SQL of its own.
            kinds = tuple((name, _kind(value)) for name, value in sorted(values.items()))
            key = (alias, connections[alias].vendor, shape, kinds)
            with lock:
                compiled = shapes.get(key, _UNCACHEABLE)
                if compiled is not _UNCACHEABLE:
                    shapes.move_to_end(key)
            if compiled is _UNCACHEABLE:
                compiled = _prepare(functools.partial(build, shape) if shaped else build, values)
                with lock:
                    shapes[key] = compiled
                    while len(shapes) > MAX_SHAPES:
                        shapes.popitem(last=False)
            if compiled is None:
                return list(build(shape, **values) if shaped else build(**values))
            return _execute(compiled, values)

        fetch.shapes = shapes  # for tests: the stored shapes, None where a shape could not be stored
        return fetch

    return decorate
