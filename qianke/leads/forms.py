"""Origin and source-tree forms: they parse and render; the services validate."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from qianke.leads import selectors

BLANK = [("", "—")]


def source_form_field(*, include: int | None = None, required: bool = False) -> forms.ChoiceField:
    """A source chooser grouped by structural source (<optgroup> per 结构来源)."""
    return forms.ChoiceField(label=_("Source"), required=required,
                             choices=BLANK + [(group, [(str(i), label) for i, label in items])
                                              for group, items in selectors.source_choices(include=include)])


class OriginForm(forms.Form):
    source = forms.ChoiceField(label=_("Source"), required=False)
    information_source = forms.ChoiceField(label=_("Information source"), required=False)
    collection_method = forms.ChoiceField(label=_("Collection method"), required=False)
    introducer_customer = forms.CharField(required=False, widget=forms.HiddenInput)
    introducer_contact = forms.ChoiceField(label=_("Introduced by (contact)"), required=False)

    def __init__(self, *args, origin=None, introducer_contacts=(), **kwargs):
        if origin is not None and not kwargs.get("initial"):
            kwargs["initial"] = {
                "source": str(origin.source_id), "information_source": str(origin.information_source_id or ""),
                "collection_method": str(origin.collection_method_id or ""),
                "introducer_customer": str(origin.introducer_customer_id or "")
                if getattr(origin, "introducer_visible", True) else "",
                "introducer_contact": str(origin.introducer_contact_id or ""),
            }
        super().__init__(*args, **kwargs)
        keep = origin.source_id if origin is not None else None
        self.fields["source"] = source_form_field(include=keep)
        keep_info = origin.information_source_id if origin is not None else None
        self.fields["information_source"].choices = BLANK + [
            (str(i.pk), i.name) for i in selectors.information_source_list(include_inactive=True)
            if i.active or i.pk == keep_info]
        keep_method = origin.collection_method_id if origin is not None else None
        self.fields["collection_method"].choices = BLANK + [
            (str(m.pk), m.name) for m in selectors.collection_method_list(include_inactive=True)
            if m.active or m.pk == keep_method]
        self.fields["introducer_contact"].choices = BLANK + [(str(c.pk), c.name) for c in introducer_contacts]

    def service_data(self) -> dict:
        return {name: self.cleaned_data.get(name) or None for name in
                ("source", "information_source", "collection_method", "introducer_customer", "introducer_contact")}


class SourceForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    parent = forms.ChoiceField(label=_("Parent source"), required=False)
    order = forms.IntegerField(label=_("Order"), required=False)

    def __init__(self, *args, exclude_path: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = [("", _("(top level: structural source)"))] + [
            (str(n.id), n.label) for n in selectors.source_flat(include_inactive=True)
            if not (exclude_path and n.source.path.startswith(exclude_path))]
