from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DataioConfig(AppConfig):
    name = "qianke.dataio"
    label = "dataio"
    verbose_name = _("Import and export")

    def ready(self) -> None:
        from qianke.core.extensions import NavItem, register_history_source, register_nav_item
        from qianke.dataio.selectors import import_history_entries
        from qianke.dataio.services import IMPORTS_JOB, imports_run_queued, may_import
        from qianke.jobs.registry import Job, every, register_job

        # Uploaded imports wake the worker (services._wake_worker: it runs them within seconds); the
        # minute slot is the fallback and takes over stalled ones.
        register_job(Job(name=IMPORTS_JOB, func=imports_run_queued, schedule=every(1),
                         description=_("Run the imports uploaded in the web UI or the API")))
        register_history_source("dataio.import", import_history_entries)
        register_nav_item(NavItem(key="imports", label=_("Import"), url_name="dataio:imports",
                                  visible=may_import, order=60))
