"""Forms parse; the services validate (their errors are copied onto the fields)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from qianke.customers.choices import EnterpriseNature, Industry, Scale
from qianke.qualification.models import CRITERIA, Answer, Grade, GrowthPotential, IndustryPosition, Need


class QualificationForm(forms.Form):
    money = forms.ChoiceField(label=_("Purchasing power (Money)"), choices=Answer.choices)
    budget = forms.DecimalField(label=_("Budget (¥)"), required=False, min_value=0, max_digits=14,
                                decimal_places=2)
    authority = forms.ChoiceField(label=_("Decision power reached (Authority)"), choices=Answer.choices)
    authority_contact = forms.TypedChoiceField(label=_("Decision maker"), required=False, coerce=int,
                                               empty_value=None)
    need = forms.ChoiceField(label=_("Need"), choices=Need.choices)
    expected_purchase_date = forms.DateField(label=_("Expected purchase date"), required=False,
                                             widget=forms.DateInput(attrs={"type": "date"}),
                                             help_text=_("The grade follows this date."))
    ordered = forms.BooleanField(label=_("Ordered (grade O)"), required=False)

    def __init__(self, *args, contacts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["authority_contact"].choices = [("", "—")] + [(c.pk, str(c)) for c in contacts]


class StopForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))
    override = forms.BooleanField(label=_("Override the MAN rule (managers)"), required=False)


class DueFilterForm(forms.Form):
    when = forms.ChoiceField(label=_("When"), required=False,
                             choices=[("today", _("Due today")), ("overdue", _("Overdue"))])
    grade = forms.ChoiceField(label=_("Grade"), required=False, choices=[("", _("All grades")), *Grade.choices])


class GradingSettingsForm(forms.Form):
    a_within_days = forms.IntegerField(label=_("A: expected purchase within (days)"), min_value=1, max_value=3650)
    b_within_days = forms.IntegerField(label=_("B: within (days)"), min_value=1, max_value=3650)
    c_within_days = forms.IntegerField(label=_("C: within (days)"), min_value=1, max_value=3650,
                                       help_text=_("Later or unknown dates are grade D."))
    cadence_a_days = forms.IntegerField(label=_("Follow up grade A every (days)"), min_value=1, max_value=3650)
    cadence_b_days = forms.IntegerField(label=_("Follow up grade B every (days)"), min_value=1, max_value=3650)
    cadence_c_days = forms.IntegerField(label=_("Follow up grade C every (days)"), min_value=1, max_value=3650)
    cadence_d_days = forms.IntegerField(label=_("Follow up grade D every (days)"), min_value=1, max_value=3650)
    cadence_o_days = forms.IntegerField(label=_("Follow up grade O every (days)"), min_value=1, max_value=3650,
                                        required=False, help_text=_("Empty: ordered customers have no cadence."))


class ValueForm(forms.Form):
    competition_present = forms.BooleanField(label=_("Competition present"), required=False)
    competitor = forms.CharField(label=_("Competitor"), required=False, max_length=200)
    growth_potential = forms.ChoiceField(label=_("Growth potential"), required=False,
                                         choices=[("", "—"), *GrowthPotential.choices])
    industry_position = forms.ChoiceField(label=_("Position in its industry"), required=False,
                                          choices=[("", "—"), *IndustryPosition.choices])
    bottleneck = forms.CharField(label=_("Bottleneck to conversion"), required=False, max_length=2000,
                                 widget=forms.Textarea(attrs={"rows": 2}))
    estimated_annual_value = forms.DecimalField(label=_("Estimated annual value (¥)"), required=False, min_value=0,
                                                max_digits=14, decimal_places=2)
    years_to_realise = forms.IntegerField(label=_("Years to realise"), required=False, min_value=0, max_value=20)


WEIGHT_LABELS = {"industry": _("Weight: industry"), "scale": _("Weight: scale"),
                 "nature": _("Weight: enterprise nature"), "region": _("Weight: region (tier 1; tier 2 earns half)")}


class IdealProfileForm(forms.Form):
    industries = forms.MultipleChoiceField(label=_("Target industries"), required=False, choices=Industry.choices,
                                           widget=forms.CheckboxSelectMultiple)
    scales = forms.MultipleChoiceField(label=_("Target scales"), required=False, choices=Scale.choices,
                                       widget=forms.CheckboxSelectMultiple)
    natures = forms.MultipleChoiceField(label=_("Target enterprise natures"), required=False,
                                        choices=EnterpriseNature.choices, widget=forms.CheckboxSelectMultiple)
    tier1_provinces = forms.CharField(label=_("Tier-1 provinces"), required=False,
                                      widget=forms.Textarea(attrs={"rows": 2}),
                                      help_text=_("Separated by commas, e.g. 浙江省, 江苏省, 上海市."))
    tier2_provinces = forms.CharField(label=_("Tier-2 provinces"), required=False,
                                      widget=forms.Textarea(attrs={"rows": 2}))
    weight_industry = forms.IntegerField(label=WEIGHT_LABELS["industry"], min_value=0, max_value=100)
    weight_scale = forms.IntegerField(label=WEIGHT_LABELS["scale"], min_value=0, max_value=100)
    weight_nature = forms.IntegerField(label=WEIGHT_LABELS["nature"], min_value=0, max_value=100)
    weight_region = forms.IntegerField(label=WEIGHT_LABELS["region"], min_value=0, max_value=100)
    competition_penalty = forms.IntegerField(label=_("Competition penalty (points)"), min_value=0, max_value=100)
    discount_rate = forms.DecimalField(label=_("Discount rate (% per year)"), min_value=0, max_value=100,
                                       max_digits=5, decimal_places=2)

    ALIASES = {f"weights.{key}": f"weight_{key}" for key in CRITERIA}

    @classmethod
    def initial_for(cls, profile) -> dict:
        weights = profile.weights or {}
        return {"industries": profile.industries, "scales": profile.scales, "natures": profile.natures,
                "tier1_provinces": ", ".join(profile.tier1_provinces),
                "tier2_provinces": ", ".join(profile.tier2_provinces),
                **{f"weight_{key}": weights.get(key, 0) for key in CRITERIA},
                "competition_penalty": profile.competition_penalty, "discount_rate": profile.discount_rate}

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data["weights"] = {key: data.pop(f"weight_{key}") for key in CRITERIA}
        return data
