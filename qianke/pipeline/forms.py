"""Deal forms: they parse and render; the services validate."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from qianke.pipeline.models import ProcurementStage, PurchaseWindow, Semantic

BLANK = [("", "—")]
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class DealForm(forms.Form):
    name = forms.CharField(label=_("Deal name"), max_length=200, required=False)
    process = forms.ChoiceField(label=_("Sales process"), required=False)
    products = forms.CharField(label=_("Products"), max_length=300, required=False)
    amount = forms.CharField(label=_("Amount (¥)"), required=False,
                             widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    expected_close_date = forms.DateField(label=_("Expected close date"), required=False, widget=DATE)
    probability = forms.CharField(label=_("Probability (%)"), required=False,
                                  help_text=_("Leave empty to follow the stage's default."),
                                  widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    purchase_window = forms.ChoiceField(label=_("Expected purchase within"), required=False,
                                        choices=BLANK + [(str(v), label) for v, label in PurchaseWindow.choices])
    budget = forms.CharField(label=_("Budget (¥)"), required=False,
                             widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    quote_number = forms.CharField(label=_("Quote number"), max_length=60, required=False)
    next_step = forms.CharField(label=_("Next step"), max_length=300, required=False)
    next_step_due = forms.DateField(label=_("Next step due"), required=False, widget=DATE)
    result = forms.CharField(label=_("Result"), max_length=300, required=False)
    procurement_stage = forms.ChoiceField(label=_("Customer's procurement stage"), required=False,
                                          choices=BLANK + list(ProcurementStage.choices))

    def __init__(self, *args, processes=(), deal=None, **kwargs):
        if deal is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": deal.name, "products": deal.products, "amount": deal.amount or "",
                "expected_close_date": deal.expected_close_date,
                "probability": deal.probability if deal.probability_overridden else "",
                "purchase_window": str(deal.purchase_window or ""), "budget": deal.budget or "",
                "quote_number": deal.quote_number, "next_step": deal.next_step,
                "next_step_due": deal.next_step_due, "result": deal.result,
                "procurement_stage": deal.procurement_stage,
            }
        super().__init__(*args, **kwargs)
        self.deal = deal
        if deal is not None:
            del self.fields["process"]
            self.fields["probability"].help_text = _("Leave empty to follow the stage's default (%(p)d%%).") % {
                "p": deal.stage.probability}
        else:
            self.fields["process"].choices = [(str(p.pk), p.name) for p in processes]

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        if self.deal is None:
            data["process"] = data.get("process") or None
        else:
            data.pop("process", None)
        data["purchase_window"] = data.get("purchase_window") or None
        return data


class MoveForm(forms.Form):
    stage = forms.IntegerField(widget=forms.HiddenInput)
    override_reason = forms.CharField(label=_("Override reason"), max_length=500, required=False,
                                      widget=forms.Textarea(attrs={"rows": 2}))
    reason = forms.ChoiceField(label=_("Reason"), required=False)
    reason_note = forms.CharField(label=_("Details"), max_length=500, required=False)

    def __init__(self, *args, reasons=(), semantic: str = Semantic.OPEN, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = BLANK + [(str(r.pk), r.name) for r in reasons]
        self.fields["reason"].required = False
        self.semantic = semantic


SCORES = [("", "—")] + [(str(i), str(i)) for i in range(1, 6)]


class ValueForm(forms.Form):
    """The six dimensions of seed 002, each scored 1–5 with a note."""

    share = forms.TypedChoiceField(label=_("Share after the deal"), choices=SCORES, coerce=int, required=False,
                                   help_text=_("5 = a large share of the customer's purchases"))
    share_note = forms.CharField(label=_("Note"), max_length=300, required=False)
    effort = forms.TypedChoiceField(label=_("Time, effort and cost"), choices=SCORES, coerce=int, required=False,
                                    help_text=_("5 = the most time, effort and cost"))
    effort_note = forms.CharField(label=_("Note"), max_length=300, required=False)
    deal_risk = forms.TypedChoiceField(label=_("Deal risk"), choices=SCORES, coerce=int, required=False,
                                       help_text=_("5 = the riskiest"))
    deal_risk_note = forms.CharField(label=_("Note"), max_length=300, required=False)
    value_to_us = forms.TypedChoiceField(label=_("Value to us"), choices=SCORES, coerce=int, required=False,
                                         help_text=_("5 = the most valuable to our business"))
    value_to_us_note = forms.CharField(label=_("Note"), max_length=300, required=False)
    customer_risk = forms.TypedChoiceField(label=_("Customer risk"), choices=SCORES, coerce=int, required=False,
                                           help_text=_("5 = the riskiest customer (finances, payment)"))
    customer_risk_note = forms.CharField(label=_("Note"), max_length=300, required=False)
    difficulty = forms.TypedChoiceField(label=_("Our capability and technical difficulty"), choices=SCORES,
                                        coerce=int, required=False, help_text=_("5 = the hardest for us"))
    difficulty_note = forms.CharField(label=_("Note"), max_length=300, required=False)
