"""Extension points of the shared pages.

A capability app adds a panel to the customer page, a section to the home page or a link to the
main menu by registering it in its AppConfig.ready(); the shared views and templates loop over the
registrations, so no shared template changes when a capability arrives.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest


@dataclass(frozen=True)
class Section:
    """A block of a shared page. `context(request, obj)` returns the template's `ctx`, or None to hide it."""

    key: str
    template: str
    context: Callable[..., dict[str, Any] | None]
    order: int = 100


@dataclass(frozen=True)
class NavItem:
    key: str
    label: Any  # a lazy translation
    url_name: str
    visible: Callable[[Any], bool] = lambda user: True
    order: int = 100
    # "" in the menu bar itself; REPORTS or SETTINGS fold into that menu.
    group: str = ""


REPORTS = "reports"
SETTINGS = "settings"
_customer_panels: dict[str, Section] = {}
_home_sections: dict[str, Section] = {}
_nav_items: dict[str, NavItem] = {}
# key → source(customer) → entries (unsaved AuditLog objects) the customer's history shows beside its
# audit rows: e.g. "created by import #N", kept in the import's ledger rather than a row per customer.
_history_sources: dict[str, Callable[[Any], list[Any]]] = {}


def register_customer_panel(section: Section) -> None:
    _customer_panels[section.key] = section


def register_home_section(section: Section) -> None:
    _home_sections[section.key] = section


def register_nav_item(item: NavItem) -> None:
    _nav_items[item.key] = item


def register_history_source(key: str, source: Callable[[Any], list[Any]]) -> None:
    _history_sources[key] = source


def history_extras(customer: Any) -> list[Any]:
    """The registered sources' entries for the customer's history, newest first."""
    entries = [entry for source in _history_sources.values() for entry in source(customer)]
    return sorted(entries, key=lambda e: (e.created_at, e.id), reverse=True)


def _render(sections: dict[str, Section], *args: Any) -> list[dict[str, Any]]:
    rendered = []
    for section in sorted(sections.values(), key=lambda s: (s.order, s.key)):
        ctx = section.context(*args)
        if ctx is not None:
            rendered.append({"key": section.key, "template": section.template, "ctx": ctx})
    return rendered


def customer_panels(request: HttpRequest, customer: Any) -> list[dict[str, Any]]:
    """Panels shown on the customer page above the tabs, in order."""
    return _render(_customer_panels, request, customer)


def home_sections(request: HttpRequest) -> list[dict[str, Any]]:
    return _render(_home_sections, request)


def nav_items(user: Any, group: str = "") -> list[NavItem]:
    return [i for i in sorted(_nav_items.values(), key=lambda i: (i.order, i.key))
            if i.group == group and i.visible(user)]
