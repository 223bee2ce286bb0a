"""Template helpers of the web UI: custom-field labels and values in the user's language."""

from __future__ import annotations

from django import template
from django.utils.translation import get_language
from django.utils.translation import gettext as _

register = template.Library()


def _english() -> bool:
    return (get_language() or "").startswith("en")


@register.filter
def cf_label(definition) -> str:
    return (definition.label_en if _english() and definition.label_en else definition.label) or definition.key


@register.filter
def cf_group(definition) -> str:
    return definition.group_en if _english() and definition.group_en else definition.group


@register.filter
def cf_value(value, definition=None) -> str:
    """A stored custom value as text: yes/no, options joined with 、, the unit after numbers."""
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    unit = getattr(definition, "unit", "") if definition is not None else ""
    return f"{value} {unit}".strip() if unit else str(value)


@register.filter
def field_errors_for(form, name: str):
    """Errors of a dynamically named field (custom_<key>)."""
    return form.errors.get(name, [])


@register.filter
def bound(form, name: str):
    return form[name]
