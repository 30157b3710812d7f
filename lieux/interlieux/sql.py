"""The few raw statements of the door check run through core.prepared.cursor (prepared once per connection
on PostgreSQL: planning them costs more than running them, about 1 ms of planning for 0.1 ms of execution
for a person's facts), and model instances made from their rows."""

from collections.abc import Sequence
from typing import Any, TypeVar, cast

from django.db import connection
from django.db.models import Model

from lieux.core.prepared import cursor

M = TypeVar("M", bound=Model)

__all__ = ["columns", "cursor", "instance"]


def columns(model: type[Model], alias: str) -> str:
    """The select list of every concrete column of `model`, in the order `instance` expects."""
    return ", ".join(f"{alias}.{field.column}" for field in model._meta.concrete_fields)


# (model, backend) → the attnames of its concrete fields, and each one's column and converters, in order.
_Plan = tuple[list[str], list[tuple[Any, list[Any]]]]
_plans: dict[tuple[type[Model], str], _Plan] = {}


def _plan(model: type[Model]) -> _Plan:
    key = (model, connection.vendor)
    plan = _plans.get(key)
    if plan is None:
        names, steps = [], []
        for field in model._meta.concrete_fields:
            column = field.get_col(model._meta.db_table)
            converters = connection.ops.get_db_converters(column) + cast(Any, field).get_db_converters(
                connection
            )
            names.append(field.attname)
            steps.append((column, converters))
        plan = _plans[key] = (names, steps)
    return plan


def instance(model: type[M], values: Sequence[Any]) -> M:
    """The instance of `model` whose concrete columns are `values` (as `columns` lists them), converted as
    the ORM converts the rows of a query (SQLite gives dates and times back as text)."""
    names, steps = _plan(model)
    converted = []
    for (column, converters), value in zip(steps, values, strict=True):
        if value is not None:
            for converter in converters:
                value = converter(value, column, connection)
        converted.append(value)
    return model.from_db(connection.alias, names, converted)
