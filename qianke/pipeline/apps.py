from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PipelineConfig(AppConfig):
    name = "qianke.pipeline"
    label = "pipeline"
    verbose_name = _("Deals and sales processes")

    def ready(self) -> None:
        from qianke.core.extensions import (
            REPORTS,
            SETTINGS,
            NavItem,
            Section,
            register_customer_panel,
            register_home_section,
            register_nav_item,
        )
        from qianke.jobs.registry import Job, daily, register_job
        from qianke.pipeline import views
        from qianke.pipeline.jobs import forecast_snapshot

        register_customer_panel(Section(key="deals", template="pipeline/_customer_panel.html",
                                        context=views.customer_panel_context, order=30))
        register_nav_item(NavItem(key="deals", label=_("Deals"), url_name="pipeline:deal_list", order=20))
        register_nav_item(NavItem(key="reports_deals", label=_("Deal reports"), url_name="pipeline:reports",
                                  order=40, group=REPORTS))
        register_nav_item(NavItem(key="sales_processes", label=_("Sales processes"),
                                  url_name="pipeline:process_settings", visible=views._is_admin, order=90,
                                  group=SETTINGS))
        register_home_section(Section(key="stalled_deals", template="pipeline/_home_stalled.html",
                                      context=views.home_stalled_context, order=40))
        register_job(Job(name="pipeline.forecast_snapshot", func=forecast_snapshot, schedule=daily(3, 30),
                         description=_("Weekly snapshot of the deal forecast (for forecast versus actual)")))
