from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

WEEK_MINUTES = 7 * 24 * 60


class DedupeConfig(AppConfig):
    name = "qianke.dedupe"
    label = "dedupe"
    verbose_name = _("Duplicates and merge")

    def ready(self) -> None:
        from qianke.dedupe.jobs import duplicate_scan
        from qianke.jobs.registry import Job, every, register_job

        register_job(Job(name="dedupe.scan", func=duplicate_scan, schedule=every(WEEK_MINUTES),
                         description=_("Find duplicate customers in the whole database (weekly)")))
