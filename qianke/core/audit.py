"""Audit trail: services call `audit_record` inside their transaction."""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from django.db import models

from qianke.core.models import AuditLog

# Where the current change comes from: web, api or cli. Set at the edge, read when auditing.
_source: contextvars.ContextVar[str] = contextvars.ContextVar("audit_source", default="web")


@contextmanager
def audit_source(source: str) -> Iterator[None]:
    token = _source.set(source)
    try:
        yield
    finally:
        _source.reset(token)


def set_audit_source(source: str) -> None:
    _source.set(source)


def current_audit_source() -> str:
    """Where the change in progress comes from (web/api/cli/job), for services that write audit rows in bulk."""
    return _source.get()


def _jsonable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return {"id": value.pk, "repr": str(value)}
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """JSON-able values of `fields`; foreign keys as {id, repr}, `custom` flattened to custom.<key>."""
    values: dict[str, Any] = {}
    for name in fields:
        value = getattr(instance, name)
        if name == "custom":
            for key, item in (value or {}).items():
                values[f"custom.{key}"] = _jsonable(item)
            continue
        values[name] = _jsonable(value)
    return values


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for every field whose value changed."""
    changes = {}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old in ("", None, [], {}) and new in ("", None, [], {}):
            continue
        if old != new:
            changes[key] = [old, new]
    return changes


def audit_record(
    *,
    actor: Any,
    action: str,
    instance: models.Model,
    changes: dict[str, list[Any]] | None = None,
    customer_id: int | None = None,
) -> AuditLog:
    return AuditLog.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        object_type=instance._meta.model_name,
        object_id=instance.pk,
        object_repr=str(instance)[:200],
        customer_id=customer_id,
        changes=changes or {},
        source=_source.get(),
    )
