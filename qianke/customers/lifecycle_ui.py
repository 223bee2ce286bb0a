"""The lifecycle's places in the shared pages: the customer-page panel and the menu link to the funnel."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from qianke.core.extensions import REPORTS, NavItem, Section, register_customer_panel, register_nav_item
from qianke.customers.choices import Status
from qianke.customers.lifecycle import legal_moves, recent_status_changes
from qianke.customers.reports import may_see_reports

PANEL_HISTORY = 10


def lifecycle_panel_context(request, customer) -> dict[str, Any] | None:
    moves = [] if customer.is_archived else legal_moves(customer.status)
    return {
        "customer": customer,
        "purchase": next((m for m in moves if m.purchase), None),
        # A repeat customer that buys again stays repeat: only its purchase date moves.
        "repeat_purchase": not customer.is_archived and customer.status == Status.REPEAT,
        "moves": [m for m in moves if not m.purchase],
        "needs_competitor": any(m.to_status == Status.LOST for m in moves),
        # The page fetched `customer` through the visibility rules already.
        "history": recent_status_changes(customer, PANEL_HISTORY),
    }


def register() -> None:
    register_customer_panel(Section(key="lifecycle", template="customers/_lifecycle_panel.html",
                                    context=lifecycle_panel_context, order=20))
    register_nav_item(NavItem(key="reports_funnel", label=_("Funnel"), url_name="reports_funnel",
                              visible=may_see_reports, order=50, group=REPORTS))
