from qianke.core.extensions import nav_items


def navigation(request):
    """Main-menu links registered by capability apps (see core.extensions)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"extra_nav": []}
    return {"extra_nav": nav_items(user)}
