from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QualificationConfig(AppConfig):
    name = "qianke.qualification"
    label = "qualification"
    verbose_name = _("Qualification and grades")

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
        from qianke.qualification import views
        from qianke.qualification.jobs import recompute_grades

        register_job(Job(name="qualification.grades", func=recompute_grades, schedule=daily(2, 0),
                         description=_("Recompute grades from expected purchase dates and follow-up due dates")))
        register_customer_panel(Section(key="qualification", template="qualification/_panel.html",
                                        context=views.panel_context, order=30))
        register_customer_panel(Section(key="value", template="qualification/_value_panel.html",
                                        context=views.value_panel_context, order=35))
        register_home_section(Section(key="cadence", template="qualification/_home_cadence.html",
                                      context=views.home_context, order=10))
        register_nav_item(NavItem(key="follow_ups_due", label=_("Follow-ups due"),
                                  url_name="qualification:due", order=20))
        register_nav_item(NavItem(key="grading_settings", label=_("Grading"), url_name="qualification:settings",
                                  visible=lambda user: user.is_admin, order=90, group=SETTINGS))
