"""Human-readable codes such as KH202611000123: prefix, year and month, six-digit sequence.

A month past 999,999 codes goes on with seven and then eight digits (KH2026111000000): a large import
must not stop because the month's six digits ran out.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from qianke.core.models import CodeSequence

SEQUENCE_DIGITS = 6  # at least: zero-padded to six, wider once a month passes 999,999
MAX_SEQUENCE_DIGITS = 8


def allocate_codes(*, prefix: str, count: int = 1, when: dt.datetime | None = None) -> list[str]:
    """Reserve `count` consecutive codes for the month of `when` (now by default).

    The increment is a single UPDATE, so concurrent callers never receive the same number.
    """
    when = timezone.localtime(when or timezone.now())
    period = f"{when:%Y%m}"
    with transaction.atomic():
        CodeSequence.objects.get_or_create(prefix=prefix, period=period)
        CodeSequence.objects.filter(prefix=prefix, period=period).update(last=F("last") + count)
        last = CodeSequence.objects.get(prefix=prefix, period=period).last
    first = last - count + 1
    if last >= 10**MAX_SEQUENCE_DIGITS:
        raise OverflowError(f"code sequence {prefix}{period} is full")
    return [f"{prefix}{period}{n:0{SEQUENCE_DIGITS}d}" for n in range(first, last + 1)]
