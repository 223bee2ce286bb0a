"""One row of an import file → the values that will be stored, or the messages per column.

Each row goes through the same validation as the forms and the API: customers.services'
clean_customer_data and clean_contact_data, activities.services' cleaning, the custom-field
definitions. Cell texts of choice fields may be the stored value or the label in either language.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from qianke.accounts.models import User
from qianke.activities import services as activity_services
from qianke.core import normalize
from qianke.core.custom_fields import clean_custom_values, definitions_for
from qianke.core.errors import ValidationFailed
from qianke.customers import services as customer_services
from qianke.customers.choices import Kind, PotentialKind, Status
from qianke.customers.models import Customer
from qianke.dataio.mapping import ACTIVITY_TARGETS, FIXED_TARGETS, choice_lookup, header_key

_CHOICES = {t.key: t.choices for t in FIXED_TARGETS if t.choices is not None}
# Handled here rather than by clean_customer_data (which would query per row for some of them).
_SPECIAL = {"kind", "code", "owner"}
# A date-only follow-up happened during the working day, not at midnight.
FOLLOW_UP_TIME = dt.time(9, 0)


@dataclass
class PreparedRow:
    number: int
    cells: list[str]
    customer: dict[str, Any] | None = None  # model attnames, ready to insert; None: an existing customer
    code: str = ""  # the existing customer's code (客户编号)
    customer_id: int | None = None  # set when written, or when the code is resolved
    tags: list[str] = field(default_factory=list)
    contact: dict[str, Any] | None = None
    activity: dict[str, Any] | None = None
    # Computed beside the validation (in a worker process for large files): the search entry's
    # columns without the customer id, and the name variants the duplicate check looks up.
    search: dict[str, Any] | None = None
    variants: frozenset[str] | None = None


class RowError(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__(str(errors))


class RowPreparer:
    """Turns rows into PreparedRow for one import: owner, mapping and lookups are resolved once."""

    def __init__(self, *, actor: User, headers: list[str], mapping: dict[str, str], owner: User | None,
                 unowned: bool = False) -> None:
        self.actor = actor
        self.mapping = mapping
        position = {h: i for i, h in reversed(list(enumerate(headers)))}
        self.columns = {target: position[header] for target, header in mapping.items() if header in position}
        self.lookups = {key: choice_lookup(cls) for key, cls in _CHOICES.items() if key in self.columns}
        self.definitions = {kind: definitions_for(model="customer", kind=kind) for kind in Kind.values}
        self.labels: dict[str, Any] = {t.key: t.label for t in FIXED_TARGETS} | {
            f"custom.{d.key}": d.label for definitions in self.definitions.values() for d in definitions}
        self.templates = {kind: Customer(kind=kind, status=Status.POTENTIAL, potential_kind=PotentialKind.GENERAL,
                                         custom={}) for kind in Kind.values}
        # `unowned` (an import into a public pool): created under the importer, who must see them for
        # pool_add_customers to take them; it then clears owner and team.
        self.default_owner = actor if unowned else (owner or actor)
        self.unowned = unowned
        self._owners: dict[str, User | None] = {}
        self.customer_fields = [t for t in self.columns if "." not in t and t not in _SPECIAL]
        self.custom_fields = [t.removeprefix("custom.") for t in self.columns if t.startswith("custom.")]
        self.contact_fields = [t.removeprefix("contact.") for t in self.columns if t.startswith("contact.")]
        self.activity_fields = [t.removeprefix("activity.") for t in self.columns if t.startswith("activity.")]
        self.now = timezone.now()

    # -- helpers ---------------------------------------------------------------------------------

    def header(self, target: str) -> str:
        """Where a row's error goes: the file's column of `target`, or the field's label when the file
        has none (a follow-up's next step missing beside its date), never the internal key."""
        if target in self.mapping:
            return self.mapping[target]
        return str(self.labels.get(target, target))

    def _choice(self, errors: dict, target: str, text: str) -> str:
        if not text:
            return ""
        key = header_key(text)
        lookup = self.lookups[target]
        value = lookup.get(key)
        if value is None and len(key) >= 2:
            # 制造业 for 制造企业, 物流 for 物流运输: one option starting with the same two characters.
            near = {v for k, v in lookup.items() if k[:2] == key[:2]}
            value = near.pop() if len(near) == 1 else None
        if value is None:
            cls = _CHOICES[target]
            _add(errors, self.header(target), _("Choose one of: %(options)s.")
                 % {"options": "、".join(str(label) for label in cls.labels)})
            return ""
        return value

    def _owner(self, errors: dict, text: str) -> User | None:
        if text not in self._owners:
            users = customer_services.assignable_owners(self.actor)
            self._owners[text] = (users.filter(username=text).first()
                                  or users.filter(full_name=text).order_by("id").first())
        owner = self._owners[text]
        if owner is None:
            _add(errors, self.header("owner"), _("There is no user “%(name)s” you may make the owner.")
                 % {"name": text})
        return owner

    # -- the row ---------------------------------------------------------------------------------

    def prepare(self, number: int, cells: list[str]) -> PreparedRow:
        """Raises RowError with {column header: [messages]}."""
        errors: dict[str, list[str]] = {}
        cell = {target: cells[index] for target, index in self.columns.items()}
        row = PreparedRow(number=number, cells=cells)
        row.code = normalize.to_halfwidth(cell.get("code", "")).strip().upper()
        # With a code the row adds its contact and follow-up to that existing customer (resolved per batch).
        if not row.code:
            row.customer = self._customer(errors, cell, row)
        if any(cell.get(f"contact.{f}") for f in self.contact_fields):
            row.contact = self._contact(errors, cell)
        if any(cell.get(f"activity.{f}") for f in self.activity_fields):
            row.activity = self._activity(errors, cell)
        if errors:
            raise RowError(errors)
        return row

    def _customer(self, errors: dict, cell: dict[str, str], row: PreparedRow) -> dict[str, Any] | None:
        kind = self._choice(errors, "kind", cell.get("kind", "")) if "kind" in cell else ""
        kind = kind or Kind.ORGANIZATION
        data: dict[str, Any] = {}
        chosen: dict[str, str] = {}
        for target in self.customer_fields:
            text = cell[target]
            if target in self.lookups:
                # _choice returns only valid values, so the services need not check them again (their
                # check builds the choice list per call, a fifth of a row's cost at a million rows).
                value = self._choice(errors, target, text)
                if value or target not in customer_services.REQUIRED_CHOICES:
                    chosen[target] = value
            else:
                data[target] = text
        cleaned: dict[str, Any] = {}
        try:
            cleaned, tags = customer_services.clean_customer_data(actor=self.actor, data=data,
                                                                  instance=self.templates[kind])
            row.tags = tags or []
        except ValidationFailed as exc:
            for name, messages in exc.fields.items():
                for message in messages:
                    _add(errors, self.header(name), message)
        if "name" not in cell:
            _add(errors, self.header("name"), _("Enter the customer's name."))
        custom_values = {key: cell[f"custom.{key}"] for key in self.custom_fields}
        custom, custom_errors = clean_custom_values(definitions=self.definitions[kind], values=custom_values)
        for name, messages in custom_errors.items():
            for message in messages:
                _add(errors, self.header(name), message)
        owner = self.default_owner
        if cell.get("owner") and not self.unowned:
            owner = self._owner(errors, cell["owner"]) or owner
        if errors:
            return None
        cleaned.pop("tags", None)
        cleaned.update(chosen)
        status = cleaned.get("status") or Status.POTENTIAL
        values = {
            "kind": kind, "status": status, "relation_class": cleaned.pop("relation_class", "") or "business",
            "potential_kind": (cleaned.pop("potential_kind", "") or PotentialKind.GENERAL)
            if status == Status.POTENTIAL else "",
            "custom": custom, "owner_id": owner.pk if owner else None,
            "team_id": owner.team_id if owner else None, "created_by_id": self.actor.pk,
            "created_at": self.now, "updated_at": self.now, "status_changed_at": self.now,
        }
        cleaned.pop("owner", None)
        cleaned.pop("team", None)
        values.update(cleaned)
        return values

    def _contact(self, errors: dict, cell: dict[str, str]) -> dict[str, Any] | None:
        data: dict[str, Any] = {}
        for f in self.contact_fields:
            target = f"contact.{f}"
            data[f] = self._choice(errors, target, cell[target]) if target in self.lookups else cell[target]
        try:
            cleaned = customer_services.clean_contact_data(data=data)
        except ValidationFailed as exc:
            for name, messages in exc.fields.items():
                for message in messages:
                    _add(errors, self.header(f"contact.{name}"), message)
            return None
        return {**cleaned, "is_primary": True, "created_by_id": self.actor.pk, "created_at": self.now,
                "updated_at": self.now}

    def _activity(self, errors: dict, cell: dict[str, str]) -> dict[str, Any] | None:
        data: dict[str, Any] = {}
        for f in self.activity_fields:
            target = f"activity.{f}"
            text = cell[target]
            if target in self.lookups:
                data[f] = self._choice(errors, target, text)
            elif f == "occurred_at" and text:
                data[f] = _follow_up_time(text)
            else:
                data[f] = text
        try:
            cleaned = activity_services._clean(data=data, customer=None, instance=None)
        except ValidationFailed as exc:
            for name, messages in exc.fields.items():
                for message in messages:
                    _add(errors, self.header(f"activity.{name}"), message)
            return None
        return {**cleaned, "actor_id": self.actor.pk, "created_at": self.now, "updated_at": self.now}


ACTIVITY_KEYS = [t.key for t in ACTIVITY_TARGETS]


def _follow_up_time(text: str) -> str:
    """2026-11-01 → 2026-11-01 09:00 local time; a text with a time of day is left as it is."""
    try:
        day = normalize.parse_date(text)
    except ValueError:
        return text
    moment = timezone.make_aware(dt.datetime.combine(day, FOLLOW_UP_TIME))
    return moment.isoformat()


def _add(errors: dict[str, list[str]], column: str, message: Any) -> None:
    errors.setdefault(column, []).append(str(message))
