from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PipelineConfig(AppConfig):
    name = "qianke.pipeline"
    label = "pipeline"
    verbose_name = _("Deals and sales processes")

    def ready(self) -> None:
        from qianke.core.extensions import NavItem, Section, register_customer_panel, register_nav_item
        from qianke.pipeline import views

        register_customer_panel(Section(key="deals", template="pipeline/_customer_panel.html",
                                        context=views.customer_panel_context, order=30))
        register_nav_item(NavItem(key="deals", label=_("Deals"), url_name="pipeline:deal_list", order=20))
