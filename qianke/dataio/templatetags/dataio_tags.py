"""Template helpers of the dataio app: pages of other apps ask here whether to show the import link."""

from django import template

from qianke.dataio import services

register = template.Library()


@register.filter
def may_import(user) -> bool:
    """The one rule of services.may_import, so the link shows exactly when the import pages open."""
    return services.may_import(user)
