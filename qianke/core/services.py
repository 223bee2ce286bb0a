"""Writes for custom-field definitions (administrators only)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from qianke.core.audit import audit_record, diff, snapshot
from qianke.core.errors import NotFound, PermissionDenied, ValidationFailed
from qianke.core.models import AuditLog, CustomFieldDefinition

FIELDS = ["model", "applies_to", "key", "label", "label_en", "group", "group_en", "field_type", "choices",
          "required", "min_value", "max_value", "max_length", "unit", "help_text", "filterable", "order", "active"]
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
MODELS = {"customer"}


def require_custom_field_admin(actor) -> None:
    if not getattr(actor, "is_admin", False):
        raise PermissionDenied(_("Only administrators define custom fields."))


def _clean(data: dict[str, Any], instance: CustomFieldDefinition | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    for name in sorted(set(data) - set(FIELDS)):
        errors[name] = [_("Unknown field.")]
    cleaned: dict[str, Any] = {k: v for k, v in data.items() if k in FIELDS}
    types = CustomFieldDefinition.FieldType
    if instance is None or "key" in data:
        key = str(data.get("key") or "").strip()
        if not _KEY.match(key):
            errors["key"] = [_("Use lower-case letters, digits and _ , starting with a letter (e.g. annual_output).")]
        elif CustomFieldDefinition.objects.filter(model=data.get("model", "customer"), key=key).exclude(
                pk=instance.pk if instance else None).exists():
            errors["key"] = [_("A custom field with this key already exists.")]
        cleaned["key"] = key
    if instance is None or "label" in data:
        label = str(data.get("label") or "").strip()
        if not label:
            errors["label"] = [_("Enter the label users see.")]
        cleaned["label"] = label[:100]
    if "model" in data and data["model"] not in MODELS:
        errors["model"] = [_("Custom fields can be defined for: %(models)s.") % {"models": ", ".join(MODELS)}]
    field_type = data.get("field_type", instance.field_type if instance else None)
    if field_type not in types.values:
        errors["field_type"] = [_("Choose one of: %(options)s.") % {"options": ", ".join(types.values)}]
    if "applies_to" in data and data["applies_to"] not in CustomFieldDefinition.AppliesTo.values:
        errors["applies_to"] = [_("Choose one of: %(options)s.")
                                % {"options": ", ".join(CustomFieldDefinition.AppliesTo.values)}]
    if "choices" in data:
        raw = data["choices"] or []
        if isinstance(raw, str):
            raw = re.split(r"[\n,，、]", raw)
        choices = []
        for item in raw:
            text = str(item).strip()
            if text and text not in choices:
                choices.append(text)
        cleaned["choices"] = choices
    choices = cleaned.get("choices", instance.choices if instance else [])
    if field_type in (types.CHOICE, types.MULTICHOICE) and not choices:
        errors["choices"] = [_("List the options, one per line.")]
    for name in ("min_value", "max_value"):
        if name in data:
            value = data[name]
            if value in (None, ""):
                cleaned[name] = None
                continue
            try:
                cleaned[name] = Decimal(str(value))
            except InvalidOperation:
                errors[name] = [_("Enter a number.")]
    if cleaned.get("min_value") is not None and cleaned.get("max_value") is not None \
            and cleaned["min_value"] > cleaned["max_value"]:
        errors["max_value"] = [_("The maximum must not be below the minimum.")]
    for name in ("max_length", "order"):
        if name in data:
            value = data[name]
            if value in (None, ""):
                cleaned[name] = None if name == "max_length" else 0
                continue
            try:
                number = int(value)
                if number < 0:
                    raise ValueError
                cleaned[name] = number
            except (TypeError, ValueError):
                errors[name] = [_("Enter a whole number of 0 or more.")]
    for name in ("required", "filterable", "active"):
        if name in data:
            cleaned[name] = bool(data[name])
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def custom_field_create(*, actor, data: dict[str, Any]) -> CustomFieldDefinition:
    require_custom_field_admin(actor)
    cleaned = _clean(data, None)
    with transaction.atomic():
        definition = CustomFieldDefinition.objects.create(**cleaned)
        audit_record(actor=actor, action=AuditLog.Action.CREATE, instance=definition,
                     changes=diff({}, snapshot(definition, FIELDS)))
    return definition


def custom_field_update(*, actor, field_id: int, data: dict[str, Any]) -> CustomFieldDefinition:
    """Change a definition. The key and type stay fixed once created: stored values depend on them."""
    require_custom_field_admin(actor)
    with transaction.atomic():
        definition = CustomFieldDefinition.objects.select_for_update().filter(pk=field_id).first()
        if definition is None:
            raise NotFound()
        frozen = {k: [_("Cannot be changed after the field is created.")] for k in ("key", "field_type", "model")
                  if k in data and data[k] != getattr(definition, k)}
        if frozen:
            raise ValidationFailed(frozen)
        data = {k: v for k, v in data.items() if k not in ("key", "field_type", "model")}
        cleaned = _clean(data, definition)
        before = snapshot(definition, FIELDS)
        for name, value in cleaned.items():
            setattr(definition, name, value)
        definition.save()
        changes = diff(before, snapshot(definition, FIELDS))
        if changes:
            audit_record(actor=actor, action=AuditLog.Action.UPDATE, instance=definition, changes=changes)
    return definition
