"""Customer and contact forms: they parse and render; the services validate and write.

Every field is optional at form level so that the service's rules (and messages) are the only ones;
service errors come back onto the form with core.forms.add_service_errors.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from qianke.core.custom_fields import definitions_for
from qianke.core.models import CustomFieldDefinition
from qianke.core.templatetags.qianke_ui import cf_group, cf_label
from qianke.customers.choices import (
    Education,
    EnterpriseNature,
    Gender,
    Industry,
    Kind,
    PotentialKind,
    ProductionMode,
    RelationClass,
    Scale,
    Status,
)

BLANK = [("", "—")]
DATE = forms.DateInput(attrs={"type": "date"})


def _choice(label, choices, *, blank: bool = True) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, choices=(BLANK if blank else []) + list(choices), required=False)


def _text(label, *, max_length: int | None = None, **attrs) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=max_length,
        widget=forms.TextInput(attrs=attrs) if attrs else None,
    )


# Which model fields each kind of customer shows; the rest keep their stored values untouched.
COMMON_FIELDS = ["name", "status", "potential_kind", "relation_class", "industry", "owner", "team", "tags",
                 "source"]  # source: at registration only (qianke.leads)
ORGANIZATION_FIELDS = ["short_name", "credit_code", "enterprise_nature", "production_mode", "scale"]
INDIVIDUAL_FIELDS = ["gender", "birthday", "occupation", "annual_income", "education"]
CONTACT_FIELDS = [
    "phone",
    "mobile",
    "fax",
    "email",
    "website",
    "province",
    "city",
    "district",
    "address",
    "postcode",
]
SECTIONS = {
    Kind.ORGANIZATION: [
        (_("Basic information"), COMMON_FIELDS[:5] + ORGANIZATION_FIELDS),
        (_("Contact details"), CONTACT_FIELDS),
        (_("Responsibility"), COMMON_FIELDS[5:]),
        (_("Notes"), ["notes"]),
    ],
    Kind.INDIVIDUAL: [
        (_("Basic information"), COMMON_FIELDS[:5] + INDIVIDUAL_FIELDS),
        (_("Contact details"), [f for f in CONTACT_FIELDS if f not in ("fax", "website")]),
        (_("Responsibility"), COMMON_FIELDS[5:]),
        (_("Notes"), ["notes"]),
    ],
}


def custom_form_field(definition: CustomFieldDefinition) -> forms.Field:
    """A form field for one custom-field definition, by its type."""
    types = CustomFieldDefinition.FieldType
    label = cf_label(definition)
    if definition.unit:
        label = f"{label}（{definition.unit}）"
    common = {"label": label, "required": False, "help_text": definition.help_text}
    kind = definition.field_type
    if kind == types.LONGTEXT:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
    if kind == types.NUMBER:
        return forms.CharField(widget=forms.TextInput(attrs={"inputmode": "decimal"}), **common)
    if kind == types.DATE:
        return forms.CharField(widget=DATE, **common)
    if kind == types.CHOICE:
        return forms.ChoiceField(choices=BLANK + [(c, c) for c in definition.choices], **common)
    if kind == types.MULTICHOICE:
        return forms.MultipleChoiceField(
            choices=[(c, c) for c in definition.choices], widget=forms.CheckboxSelectMultiple, **common
        )
    if kind == types.BOOLEAN:
        return forms.ChoiceField(choices=BLANK + [("true", _("Yes")), ("false", _("No"))], **common)
    return forms.CharField(**common)


def custom_initial(definition: CustomFieldDefinition, value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


class CustomerForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices, widget=forms.HiddenInput)
    name = _text(_("Name"), max_length=200, autocomplete="off")
    short_name = _text(_("Short name"), max_length=100)
    credit_code = _text(_("Unified social credit code"), max_length=30, autocomplete="off")
    status = _choice(_("Status"), Status.choices, blank=False)
    potential_kind = _choice(_("Potential-customer kind"), PotentialKind.choices)
    relation_class = _choice(_("Relation class"), RelationClass.choices, blank=False)
    industry = _choice(_("Industry"), Industry.choices)
    enterprise_nature = _choice(_("Enterprise nature"), EnterpriseNature.choices)
    production_mode = _choice(_("Production mode"), ProductionMode.choices)
    scale = _choice(_("Scale"), Scale.choices)
    gender = _choice(_("Gender"), Gender.choices)
    birthday = forms.CharField(label=_("Birthday"), required=False, widget=DATE)
    occupation = _text(_("Occupation"), max_length=100)
    annual_income = _text(_("Annual income (¥)"), inputmode="decimal")
    education = _choice(_("Education"), Education.choices)
    phone = _text(_("Phone"), inputmode="tel")
    mobile = _text(_("Mobile"), inputmode="tel")
    fax = _text(_("Fax"), inputmode="tel")
    email = _text(_("E-mail"), inputmode="email")
    website = _text(_("Website"))
    province = _text(_("Province"), max_length=30)
    city = _text(_("City"), max_length=30)
    district = _text(_("District / county"), max_length=30)
    address = _text(_("Address"), max_length=300)
    postcode = _text(_("Postcode"), inputmode="numeric")
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    team = forms.ChoiceField(label=_("Team"), required=False)
    tags = _text(_("Tags"), placeholder=_("comma-separated"))
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, kind: str, owners, teams, instance=None, **kwargs):
        self.kind = kind if kind in Kind.values else Kind.ORGANIZATION
        self.instance = instance
        self.definitions = definitions_for(model="customer", kind=self.kind)
        if instance is not None and not kwargs.get("initial"):
            kwargs["initial"] = self._initial_from(instance)
        kwargs["initial"] = dict(kwargs.get("initial") or {}, kind=self.kind)
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = BLANK + [(str(u.pk), str(u)) for u in owners]
        self.fields["team"].choices = BLANK + [(str(t.pk), str(t)) for t in teams]
        for definition in self.definitions:
            self.fields[f"custom_{definition.key}"] = custom_form_field(definition)
        shown = {"kind"} | {f for _title, names in SECTIONS[self.kind] for f in names}
        for name in list(self.fields):
            if name not in shown and not name.startswith("custom_"):
                del self.fields[name]
        if instance is not None:
            # After registration the status moves only by lifecycle transitions (customer page).
            del self.fields["status"]
        if instance is None:  # where the customer came from; later changed on the customer page
            from qianke.leads.forms import source_form_field

            self.fields["source"] = source_form_field()

    def _initial_from(self, customer) -> dict:
        initial = {
            name: getattr(customer, name)
            for name in self.base_fields
            if name not in ("owner", "team", "tags", "kind") and hasattr(customer, name)
        }
        initial["birthday"] = customer.birthday.isoformat() if customer.birthday else ""
        initial["annual_income"] = (
            "" if customer.annual_income is None else customer.annual_income.normalize()
        )
        initial["owner"] = str(customer.owner_id or "")
        initial["team"] = str(customer.team_id or "")
        initial["tags"] = ", ".join(t.name for t in customer.tags.all())
        for key, value in (customer.custom or {}).items():
            initial[f"custom_{key}"] = custom_initial(None, value)
        return initial

    def sections(self) -> list[dict]:
        """Sections for the template: the kind's standard sections, then the custom fields by group.

        A custom group named like a standard section joins it; other groups fold away unless they
        hold a value, an error or a required field.
        """
        sections = [
            {"title": str(title), "fields": [self[n] for n in names if n in self.fields], "fold": False}
            for title, names in SECTIONS[self.kind]
        ]
        by_title = {s["title"]: s for s in sections[:-1]}
        extra: dict[str, dict] = {}
        for definition in self.definitions:
            title = cf_group(definition) or str(_("More information"))
            section = by_title.get(title) or extra.setdefault(
                title, {"title": title, "fields": [], "fold": True}
            )
            section["fields"].append(self[f"custom_{definition.key}"])
            if definition.required:
                section["open"] = True
        for section in extra.values():
            for field in section["fields"]:
                if field.errors or field.value() not in (None, "", []):
                    section["open"] = True
        return sections[:-1] + list(extra.values()) + sections[-1:]

    def service_data(self) -> dict:
        """The dict customer_create/customer_update take, from the shown fields only."""
        data = {}
        for name, value in self.cleaned_data.items():
            if name.startswith("custom_"):
                continue
            data[name] = value
        if self.instance is None and not data.get("owner"):
            data.pop("owner", None)  # the service makes the creator the owner
        data.pop("source", None)  # not a customer field: the view records it as the origin
        data["custom"] = {d.key: self.cleaned_data.get(f"custom_{d.key}") for d in self.definitions}
        return data


class ContactForm(forms.Form):
    name = _text(_("Name"), max_length=100, autocomplete="off")
    title = _text(_("Title"), max_length=100)
    department = _text(_("Department"), max_length=100)
    gender = _choice(_("Gender"), Gender.choices)
    mobile = _text(_("Mobile"), inputmode="tel")
    phone = _text(_("Phone"), inputmode="tel")
    email = _text(_("E-mail"), inputmode="email")
    wechat = _text(_("WeChat"))
    is_primary = forms.BooleanField(label=_("Primary contact"), required=False)
    birthday = forms.CharField(label=_("Birthday"), required=False, widget=DATE)
    birthplace = _text(_("Birthplace"))
    years_in_company = _text(_("Years in the company"), inputmode="numeric")
    authority = _text(_("Scope of authority"))
    interests = _text(_("Interests and hobbies"))
    personality = _text(_("Personality"))
    working_style = _text(_("Working style"))
    family_notes = forms.CharField(
        label=_("Family"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    MAIN = ["name", "title", "department", "gender", "mobile", "phone", "email", "wechat", "is_primary"]

    def __init__(self, *args, instance=None, **kwargs):
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {n: getattr(instance, n) for n in self.base_fields}
            kwargs["initial"]["birthday"] = instance.birthday.isoformat() if instance.birthday else ""
        super().__init__(*args, **kwargs)

    def main_fields(self):
        return [self[n] for n in self.MAIN]

    def profile_fields(self):
        return [self[n] for n in self.fields if n not in self.MAIN]

    def service_data(self) -> dict:
        return dict(self.cleaned_data)


class CustomerSearchForm(forms.Form):
    """The list page's search box and filters (GET)."""

    q = forms.CharField(label=_("Search"), required=False)
    status = _choice(_("Status"), Status.choices)
    kind = _choice(_("Kind"), Kind.choices)
    industry = _choice(_("Industry"), Industry.choices)
    province = _text(_("Province"))
    city = _text(_("City"))
    district = _text(_("District / county"))
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    team = forms.ChoiceField(label=_("Team"), required=False)
    tag = _text(_("Tag"))
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            ("newest", _("Newest first")),
            ("oldest", _("Oldest first")),
            ("name", _("Name A–Z")),
            ("-name", _("Name Z–A")),
            ("updated", _("Recently updated")),
            ("code", _("Customer code")),
        ],
    )
    archived = forms.BooleanField(label=_("Archived customers"), required=False)

    FILTERS = ["status", "kind", "industry", "province", "city", "district", "owner", "team", "tag"]

    def __init__(self, *args, owners, teams, may_archive: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = BLANK + [(str(u.pk), str(u)) for u in owners]
        self.fields["team"].choices = BLANK + [(str(t.pk), "　" * t.depth + str(t)) for t in teams]
        self.custom_definitions = [d for d in definitions_for(model="customer") if d.filterable]
        for definition in self.custom_definitions:
            field = custom_form_field(definition)
            if isinstance(field, forms.MultipleChoiceField):  # filter by one option
                field = forms.ChoiceField(
                    label=field.label, required=False, choices=BLANK + list(field.choices)
                )
            if isinstance(field.widget, forms.Textarea):
                field.widget = forms.TextInput()
            field.help_text = ""
            self.fields[f"cf_{definition.key}"] = field
        if not may_archive:
            del self.fields["archived"]

    def filter_fields(self):
        return [self[n] for n in self.FILTERS]

    def custom_filter_fields(self):
        return [self[f"cf_{d.key}"] for d in self.custom_definitions]

    def custom_filters_active(self) -> bool:
        return any(self.data.get(f"cf_{d.key}") for d in self.custom_definitions)

    def active_filter_count(self) -> int:
        if not self.is_bound or not self.is_valid():
            return 0
        names = self.FILTERS + [f"cf_{d.key}" for d in self.custom_definitions] + ["archived"]
        return sum(1 for n in names if self.cleaned_data.get(n))
