from django.utils.translation import gettext_lazy as _

from qianke.core.extensions import REPORTS, SETTINGS, nav_items


def navigation(request):
    """Main-menu links registered by capability apps (see core.extensions); reports and settings fold into
    a menu each so the bar stays one line."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"extra_nav": [], "nav_menus": []}
    menus = [{"key": key, "label": label, "items": nav_items(user, key)}
             for key, label in ((REPORTS, _("Reports")), (SETTINGS, _("Settings")))]
    return {"extra_nav": nav_items(user), "nav_menus": [m for m in menus if m["items"]]}
