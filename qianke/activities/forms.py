"""Follow-up form: parses and renders; activities.services validates and writes."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qianke.activities.models import ActivityKind


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=ActivityKind.choices, initial=ActivityKind.CALL)
    occurred_at = forms.CharField(
        label=_("When"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    contact = forms.ChoiceField(label=_("Contact"), required=False)
    content = forms.CharField(
        label=_("What happened"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    outcome = forms.CharField(label=_("Outcome"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    next_step = forms.CharField(label=_("Next step"), required=False, max_length=300)
    next_due = forms.CharField(
        label=_("Next follow-up due"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, contacts, instance=None, **kwargs):
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "kind": instance.kind,
                "occurred_at": timezone.localtime(instance.occurred_at).strftime("%Y-%m-%dT%H:%M"),
                "contact": str(instance.contact_id or ""),
                "content": instance.content,
                "outcome": instance.outcome,
                "next_step": instance.next_step,
                "next_due": instance.next_due.isoformat() if instance.next_due else "",
            }
        kwargs.setdefault("initial", {}).setdefault(
            "occurred_at", timezone.localtime().strftime("%Y-%m-%dT%H:%M")
        )
        super().__init__(*args, **kwargs)
        self.fields["contact"].choices = [("", "—")] + [(str(c.pk), str(c)) for c in contacts]

    def service_data(self) -> dict:
        return dict(self.cleaned_data)
