from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    name = "qianke.jobs"
    label = "jobs"
    verbose_name = _("Background jobs")

    def ready(self) -> None:
        from qianke.core.extensions import SETTINGS, NavItem, register_nav_item
        from qianke.jobs.registry import Job, every, register_job
        from qianke.jobs.services import job_runs_prune

        register_job(Job(name="jobs.prune_runs", func=job_runs_prune, schedule=every(360),
                         description=_("Delete job run records older than 90 days")))
        register_nav_item(NavItem(key="jobs", label=_("Background jobs"), url_name="jobs",
                                  visible=lambda user: user.is_admin, order=900, group=SETTINGS))
