from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "qianke.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from qianke.customers import lifecycle_ui
        from qianke.customers.lifecycle import dormancy_run
        from qianke.jobs.registry import Job, daily, register_job

        register_job(Job(name="lifecycle.dormancy", func=dormancy_run, schedule=daily(1, 30),
                         description=_("Move new and repeat customers without a purchase for the configured "
                                       "number of days to dormant")))
        lifecycle_ui.register()
