"""Validation of custom-field values against their definitions."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from qianke.core.models import CustomFieldDefinition
from qianke.core.normalize import parse_date

TRUE_WORDS = {"true", "1", "yes", "y", "是", "有", "对", "√"}
FALSE_WORDS = {"false", "0", "no", "n", "否", "无", "不", "×"}
# A typed multiple choice: 品牌,价格 / 品牌，价格 / 品牌、价格 (option lists are split the same way).
_LIST_SEPARATORS = re.compile(r"[,，、]")


def definitions_for(*, model: str = "customer", kind: str | None = None) -> list[CustomFieldDefinition]:
    qs = CustomFieldDefinition.objects.filter(model=model, active=True)
    if kind:
        qs = qs.filter(applies_to__in=[kind, CustomFieldDefinition.AppliesTo.ALL])
    return list(qs.order_by("order", "id"))


def _plain(number: Decimal) -> str:
    """100.0000 → 100, 0.5000 → 0.5 (never 1E+2)."""
    return f"{number.normalize():f}"


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def clean_value(definition: CustomFieldDefinition, value: Any) -> Any:
    """The value as stored in JSON; raises ValueError with a message in the user's language."""
    kind = definition.field_type
    types = CustomFieldDefinition.FieldType
    if kind in (types.TEXT, types.LONGTEXT):
        text = str(value).strip()
        limit = definition.max_length or (2000 if kind == types.LONGTEXT else 300)
        if len(text) > limit:
            raise ValueError(_("At most %(n)d characters.") % {"n": limit})
        return text
    if kind == types.NUMBER:
        if isinstance(value, bool):
            raise ValueError(_("Enter a number."))
        try:
            number = Decimal(str(value).replace(",", "").replace("，", "").strip())
        except InvalidOperation:
            raise ValueError(_("Enter a number.")) from None
        if not number.is_finite():
            raise ValueError(_("Enter a number."))
        if definition.min_value is not None and number < definition.min_value:
            raise ValueError(_("Must be at least %(v)s.") % {"v": _plain(definition.min_value)})
        if definition.max_value is not None and number > definition.max_value:
            raise ValueError(_("Must be at most %(v)s.") % {"v": _plain(definition.max_value)})
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == types.DATE:
        try:
            return parse_date(value).isoformat()
        except ValueError:
            raise ValueError(_("Enter a date such as 2026-11-22.")) from None
    if kind == types.CHOICE:
        text = str(value).strip()
        if text not in definition.choices:
            raise ValueError(_("Choose one of: %(options)s.") % {"options": "、".join(definition.choices)})
        return text
    if kind == types.MULTICHOICE:
        items = value if isinstance(value, list | tuple) else _LIST_SEPARATORS.split(str(value))
        items = [str(v).strip() for v in items if str(v).strip()]
        unknown = [v for v in items if v not in definition.choices]
        if unknown:
            raise ValueError(
                _("Not an option: %(bad)s. Choose from: %(options)s.")
                % {"bad": "、".join(unknown), "options": "、".join(definition.choices)}
            )
        return [c for c in definition.choices if c in items]  # options' order, no repeats
    if kind == types.BOOLEAN:
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValueError(_("Answer yes or no."))
    raise ValueError(_("Unknown field type."))


def clean_custom_values(
    *, definitions: list[CustomFieldDefinition], values: dict[str, Any], existing: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Merge `values` into `existing`; return (stored dict, errors keyed custom.<key>).

    Keys without a definition are refused rather than dropped, so nothing typed is lost silently.
    """
    by_key = {d.key: d for d in definitions}
    result = dict(existing or {})
    errors: dict[str, list[str]] = {}
    for key, value in (values or {}).items():
        definition = by_key.get(key)
        if definition is None:
            errors[f"custom.{key}"] = [_("There is no custom field %(key)s for this kind of customer.")
                                       % {"key": key}]
            continue
        if _is_empty(value):
            result.pop(key, None)
            continue
        try:
            result[key] = clean_value(definition, value)
        except ValueError as exc:
            errors[f"custom.{key}"] = [str(exc)]
    for definition in definitions:
        if definition.required and _is_empty(result.get(definition.key)) and f"custom.{definition.key}" not in errors:
            errors[f"custom.{definition.key}"] = [_("%(label)s is required.") % {"label": definition.label}]
    # Values of fields that no longer apply (e.g. after a kind change) stay stored but are not shown.
    return result, errors


def definition_list(*, model: str = "customer") -> list[CustomFieldDefinition]:
    """Every definition of a model, inactive ones included (the administrators' settings page)."""
    return list(CustomFieldDefinition.objects.filter(model=model).order_by("-active", "order", "id")[:500])


def definition_get(*, field_id: int) -> CustomFieldDefinition:
    from qianke.core.errors import NotFound

    definition = CustomFieldDefinition.objects.filter(pk=field_id).first()
    if definition is None:
        raise NotFound()
    return definition
