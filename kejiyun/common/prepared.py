"""Queries asked on every request, compiled once per process (issue 16, "fast pages").

A signed-in request reads its session, its user (with the centre and its region) and, for
staff, the verified authenticator. Each is a one-row query by key, and for each the ORM
spends far longer turning the queryset into SQL than the database spends answering it
(about 0.2-0.5 ms of CPU against 0.01 ms on SQLite). `PreparedQuery` compiles such a
queryset once, with stand-in values for its parameters, and afterwards only runs the SQL
with the real values and builds the model instances the way the ORM does (its converters,
`Model.from_db`, the `select_related` populators), so what it returns is what the queryset
would have returned.

Only for a queryset whose parameters are plain keys (integers or strings) that reach the
database unchanged: a stand-in must appear exactly once among the compiled parameters, or
the query is refused when it is first prepared. The compiled form is kept per thread and per
database alias (a compiler belongs to its connection).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, TypeVar

from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators  # type: ignore[attr-defined]

M = TypeVar("M", bound=Model)


class _Compiled:
    __slots__ = (
        "compiler",
        "converters",
        "end",
        "init_list",
        "params",
        "populators",
        "slots",
        "sql",
        "start",
    )

    def __init__(self, queryset: QuerySet[Any], alias: str, sentinels: Sequence[object]) -> None:
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        slots: list[int] = []
        for sentinel in sentinels:
            found = [i for i, p in enumerate(params) if p == sentinel and type(p) is type(sentinel)]
            if len(found) != 1:
                raise ValueError(
                    f"stand-in {sentinel!r} appears {len(found)} times among the parameters "
                    f"of {sql!r}; a prepared query needs each exactly once"
                )
            slots.append(found[0])
        fields = [s[0] for s in compiler.select[0 : compiler.col_count]]
        if (
            compiler.has_extra_select
            or compiler.annotation_col_map
            or compiler.has_composite_fields(fields)
        ):
            raise ValueError("a prepared query selects plain model fields only")
        klass_info = compiler.klass_info
        assert klass_info is not None
        select_fields = klass_info["select_fields"]
        self.compiler = compiler
        self.converters = compiler.get_converters(fields)
        self.sql = sql
        self.params = list(params)
        self.slots = slots
        self.start, self.end = select_fields[0], select_fields[-1] + 1
        self.init_list = [f[0].target.attname for f in compiler.select[self.start : self.end]]
        self.populators = get_related_populators(klass_info, compiler.select, alias)


class PreparedQuery(Generic[M]):
    """`build(*sentinels)` compiled once; `.first(*values)` runs it with the values.

    >>> by_pk = PreparedQuery(lambda pk: User.objects.filter(pk=pk), -7_000_001)
    >>> by_pk.first(user_id)
    """

    def __init__(self, build: Callable[..., QuerySet[M]], *sentinels: object) -> None:
        self.build = build
        self.sentinels = sentinels
        self._local = threading.local()
        self._model: type[M] | None = None

    def _compiled(self, alias: str) -> _Compiled:
        kept: dict[str, _Compiled] | None = getattr(self._local, "kept", None)
        if kept is None:
            kept = self._local.kept = {}
        compiled = kept.get(alias)
        if compiled is None:
            queryset = self.build(*self.sentinels)
            compiled = kept[alias] = _Compiled(queryset, alias, self.sentinels)
        return compiled

    def all(self, *values: object, using: str | None = None) -> list[M]:
        if len(values) != len(self.sentinels):
            raise TypeError(f"expected {len(self.sentinels)} values, got {len(values)}")
        if self._model is None:
            self._model = self.build(*self.sentinels).model
        alias = using or router.db_for_read(self._model)
        compiled = self._compiled(alias)
        params = list(compiled.params)
        for slot, value in zip(compiled.slots, values, strict=True):
            params[slot] = value
        with connections[alias].cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if not rows:
            return []
        model = self._model
        found: list[M] = []
        converted: Iterable[Sequence[Any]] = rows
        if compiled.converters:
            converted = compiled.compiler.apply_converters(rows, compiled.converters)
        for row in converted:
            obj = model.from_db(alias, compiled.init_list, row[compiled.start : compiled.end])
            for populator in compiled.populators:
                populator.populate(row, obj)
            found.append(obj)
        return found

    def first(self, *values: object, using: str | None = None) -> M | None:
        found = self.all(*values, using=using)
        return found[0] if found else None
