from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

WEEK_MINUTES = 7 * 24 * 60


class DedupeConfig(AppConfig):
    name = "qianke.dedupe"
    label = "dedupe"
    verbose_name = _("Duplicates and merge")

    def ready(self) -> None:
        from qianke.core.extensions import NavItem, Section, register_customer_panel, register_nav_item
        from qianke.dedupe import views
        from qianke.dedupe.jobs import duplicate_scan
        from qianke.jobs.registry import Job, every, register_job

        register_job(Job(name="dedupe.scan", func=duplicate_scan, schedule=every(WEEK_MINUTES),
                         description=_("Find duplicate customers in the whole database (weekly)")))
        register_nav_item(NavItem(key="duplicates", label=_("Duplicates"), url_name="dedupe:list", order=60))
        register_customer_panel(Section(key="merged_into", template="dedupe/_merged_panel.html",
                                        context=views.merged_panel_context, order=5))
        register_customer_panel(Section(key="duplicates", template="dedupe/_candidates_panel.html",
                                        context=views.candidates_panel_context, order=90))
