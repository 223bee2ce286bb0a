"""The translation helper of the `qianke` command and its capability subcommands.

Those modules load before Django is set up (the parser is built first), so gettext is imported at
the call; import this as `_` (`from qianke.core.cli_text import gettext as _`): makemessages finds
the messages under that name. Nothing here imports Django at module level.
"""

from __future__ import annotations


def gettext(message: str) -> str:
    """Django's gettext, imported late: the message in the active language (the command's, set by
    qianke.cli once Django is set up)."""
    from django.utils.translation import gettext as django_gettext

    return django_gettext(message)
