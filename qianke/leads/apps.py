from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "qianke.leads"
    label = "leads"
    verbose_name = _("Sources and referrals")

    def ready(self) -> None:
        from qianke.core.extensions import (
            REPORTS,
            NavItem,
            Section,
            register_customer_panel,
            register_nav_item,
        )
        from qianke.leads import views

        register_customer_panel(Section(key="origin", template="leads/_origin_panel.html",
                                        context=views.origin_panel_context, order=20))
        register_nav_item(NavItem(key="reports_sources", label=_("Sources"), url_name="leads:source_report",
                                  visible=views.may_see_source_report, order=60,
                                  group=REPORTS))
