"""Pool forms: they parse; the services validate."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from qianke.accounts.models import Team
from qianke.customers.choices import Industry
from qianke.qualification.models import Grade

GRADE_CHOICES = [("", _("All grades")), *Grade.choices]


class PoolFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"placeholder": _("name, code or city"), "type": "search"}))
    province = forms.CharField(label=_("Province"), required=False, max_length=30)
    industry = forms.ChoiceField(label=_("Industry"), required=False,
                                 choices=[("", _("All industries")), *Industry.choices])
    grade = forms.ChoiceField(label=_("Grade"), required=False, choices=GRADE_CHOICES)


class ReleaseForm(forms.Form):
    reason = forms.CharField(label=_("Reason for releasing"), max_length=500,
                             widget=forms.TextInput(attrs={"placeholder": _("e.g. no need this year")}))


class OwnerChoiceForm(forms.Form):
    to = forms.ModelChoiceField(label=_("Rep"), queryset=None)
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)

    def __init__(self, *args, users=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = users


def _days_field(label, *, required: bool = False, min_value: int = 1, max_value: int = 3650):
    return forms.IntegerField(label=label, required=required, min_value=min_value, max_value=max_value)


class PoolForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    teams = forms.ModelMultipleChoiceField(label=_("Member teams"), queryset=Team.objects.order_by("path"),
                                           required=False, widget=forms.CheckboxSelectMultiple)
    cap_per_rep = _days_field(_("Cap per rep"), min_value=0, max_value=1_000_000)
    cap_per_team = _days_field(_("Cap per team"), min_value=0, max_value=10_000_000)
    cooldown_days = _days_field(_("Cool-down days"), required=True, min_value=0)
    warn_days = _days_field(_("Warn days before return"), required=True, min_value=0, max_value=365)
    exempt_open_deals = forms.BooleanField(label=_("Customers with open deals are exempt"), required=False)
    no_follow_up_days = _days_field(_("Default: return after days without follow-up"))
    not_converted_days = _days_field(_("Default: return after days not converted"))
    active = forms.BooleanField(label=_("Active"), required=False)

    RULE_PREFIXES = ("no_follow_up_days", "not_converted_days")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for grade in Grade.values:
            self.fields[f"rule_{grade}_no_follow_up_days"] = _days_field(
                _("Grade %(g)s: days without follow-up") % {"g": grade})
            self.fields[f"rule_{grade}_not_converted_days"] = _days_field(
                _("Grade %(g)s: days not converted") % {"g": grade})

    def general_fields(self):
        return [f for f in self if not f.name.startswith("rule_")]

    def rule_fields(self):
        return [(grade, self[f"rule_{grade}_no_follow_up_days"], self[f"rule_{grade}_not_converted_days"])
                for grade in Grade.values]

    def service_data(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if not k.startswith("rule_")}
        data["teams"] = [t.pk for t in data["teams"]]
        rules = {}
        for grade in Grade.values:
            values = {name: self.cleaned_data.get(f"rule_{grade}_{name}") for name in self.RULE_PREFIXES}
            if any(v is not None for v in values.values()):
                rules[grade] = values
        data["rules"] = rules
        return data

    @classmethod
    def initial_for(cls, pool) -> dict:
        from qianke.pool.services import POOL_FIELDS

        initial = {name: getattr(pool, name) for name in POOL_FIELDS}
        if pool.pk:
            initial["teams"] = list(pool.teams.all())
            for rule in pool.rules.all():
                initial[f"rule_{rule.grade}_no_follow_up_days"] = rule.no_follow_up_days
                initial[f"rule_{rule.grade}_not_converted_days"] = rule.not_converted_days
        return initial
