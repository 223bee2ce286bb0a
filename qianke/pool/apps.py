from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PoolConfig(AppConfig):
    name = "qianke.pool"
    label = "pool"
    verbose_name = _("Public pool")

    def ready(self) -> None:
        from qianke.core.extensions import (
            SETTINGS,
            NavItem,
            Section,
            register_customer_panel,
            register_home_section,
            register_nav_item,
        )
        from qianke.jobs.registry import Job, daily, register_job
        from qianke.pool import views
        from qianke.pool.jobs import run_returns, run_warnings

        register_job(Job(name="pool.returns", func=run_returns, schedule=daily(2, 30),
                         description=_("Return neglected customers to their public pool")))
        register_job(Job(name="pool.warnings", func=run_warnings, schedule=daily(2, 45),
                         description=_("Warn owners of customers about to return to the pool")))
        register_customer_panel(Section(key="owner_history", template="pool/_owner_panel.html",
                                        context=views.owner_panel_context, order=60))
        register_home_section(Section(key="pool_warnings", template="pool/_home_warnings.html",
                                      context=views.home_warnings_context, order=15))
        register_nav_item(NavItem(key="pool", label=_("Public pool"), url_name="pool:list",
                                  visible=lambda user: True, order=25))
        register_nav_item(NavItem(key="pool_settings", label=_("Pools"), url_name="pool:settings",
                                  visible=lambda user: user.is_admin, order=91, group=SETTINGS))
