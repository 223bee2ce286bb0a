"""Chinese formats as Django ships them, but money grouped by thousands with a comma (¥1,250,000.00), as
Chinese invoices, quotes and bank statements write it; Django's default for zh_Hans prints no separator."""

from django.conf.locale.zh_Hans.formats import *  # noqa: F403

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
