"""Helpers that put service errors onto Django forms (the UI side of core.errors)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from qianke.core.errors import QiankeError
from qianke.core.models import CustomFieldDefinition


def form_field_name(service_field: str) -> str:
    """The form field for a service error key: custom.<key> → custom_<key>."""
    if service_field.startswith("custom."):
        return "custom_" + service_field.removeprefix("custom.")
    return service_field


def add_service_errors(form: forms.Form, exc: QiankeError, *, aliases: dict[str, str] | None = None) -> None:
    """Copy `exc.fields` onto the form as field errors; unknown keys and the message become form errors."""
    aliases = aliases or {}
    for name, messages in exc.fields.items():
        target = aliases.get(name, form_field_name(name))
        for message in messages:
            if target in form.fields:
                form.add_error(target, str(message))
            else:
                form.add_error(None, f"{name}: {message}")
    if not exc.fields:
        form.add_error(None, str(exc.message))


class CustomFieldForm(forms.Form):
    """An administrator's custom-field definition; the service validates, this only parses."""

    key = forms.CharField(
        label=_("Key"),
        max_length=60,
        required=False,
        help_text=_("Lower-case letters, digits and _, e.g. annual_output. Fixed once created."),
    )
    label = forms.CharField(label=_("Label (Chinese)"), max_length=100, required=False)
    label_en = forms.CharField(label=_("Label (English)"), max_length=100, required=False)
    field_type = forms.ChoiceField(
        label=_("Type"), choices=CustomFieldDefinition.FieldType.choices, help_text=_("Fixed once created.")
    )
    applies_to = forms.ChoiceField(label=_("Applies to"), choices=CustomFieldDefinition.AppliesTo.choices)
    group = forms.CharField(label=_("Section (Chinese)"), max_length=100, required=False)
    group_en = forms.CharField(label=_("Section (English)"), max_length=100, required=False)
    choices = forms.CharField(
        label=_("Options"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For choice fields: one option per line."),
    )
    min_value = forms.CharField(label=_("Minimum"), required=False)
    max_value = forms.CharField(label=_("Maximum"), required=False)
    max_length = forms.CharField(label=_("Maximum length"), required=False)
    unit = forms.CharField(label=_("Unit"), max_length=20, required=False)
    help_text = forms.CharField(label=_("Help text"), max_length=300, required=False)
    order = forms.CharField(label=_("Order"), required=False, initial="0")
    required = forms.BooleanField(label=_("Required"), required=False)
    filterable = forms.BooleanField(label=_("Filterable in the customer list"), required=False)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    FROZEN = ("key", "field_type")

    def __init__(self, *args, instance: CustomFieldDefinition | None = None, **kwargs):
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                name: getattr(instance, name) for name in self.base_fields if name != "choices"
            } | {"choices": "\n".join(instance.choices or [])}
            for name in ("min_value", "max_value"):
                value = kwargs["initial"][name]
                kwargs["initial"][name] = "" if value is None else value.normalize()
        super().__init__(*args, **kwargs)
        self.instance = instance
        if instance is not None:
            for name in self.FROZEN:
                self.fields[name].disabled = True

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        if self.instance is not None:
            for name in self.FROZEN:
                data.pop(name, None)
        return data
