"""The MAN rule (seed 001): what to do next for each combination of Money, Authority and Need.

The 3 × 3 × 4 = 36 combinations are decided by a few rules, first match wins, following the
classic MAN table (M = has purchasing power, A = has decision power, N = has a need; lower case
= lacks it): only m+a+n stops contact; every other combination gets a next action. "Unknown"
is a gap to close before anything else, and a latent need counts as "not yet a need".
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from qianke.qualification.models import Answer, Need

YES, UNKNOWN, NO = Answer.YES.value, Answer.UNKNOWN.value, Answer.NO.value
HAS_NEED = (Need.EXPLICIT.value, Need.URGENT.value)


class Kind:
    """What sort of next action: drives the badge colour in the UI and lets reports group combinations."""

    CLOSE = "close"          # M+A+N: ask for the order
    DEVELOP = "develop"      # one condition missing that selling can supply
    QUALIFY = "qualify"      # something is unknown: find out first
    NURTURE = "nurture"      # two conditions missing: long-term touch
    STOP = "stop"            # m+a+n


@dataclass(frozen=True)
class NextAction:
    kind: str
    text: Promise  # lazy msgid, translated when shown


STOP = NextAction(Kind.STOP, _("Stop contacting (no money, no authority, no need)"))

# (money, authority, need) → action; None in a pattern matches anything. First match wins.
RULES: list[tuple[tuple[object, object, object], NextAction]] = [
    ((NO, NO, (Need.NONE.value,)), STOP),
    ((UNKNOWN, UNKNOWN, None), NextAction(Kind.QUALIFY, _("Qualify the budget and find who decides"))),
    ((UNKNOWN, None, None), NextAction(Kind.QUALIFY, _("Qualify the budget"))),
    ((None, UNKNOWN, None), NextAction(Kind.QUALIFY, _("Find who decides and get an introduction"))),
    ((YES, YES, (Need.URGENT.value,)), NextAction(Kind.CLOSE, _("Send a quote and ask for the order"))),
    ((YES, YES, (Need.EXPLICIT.value,)),
     NextAction(Kind.CLOSE, _("Present a proposal that meets the need and agree the purchase date"))),
    ((YES, YES, (Need.LATENT.value,)),
     NextAction(Kind.DEVELOP, _("Turn the latent need into an explicit one: show what the product solves"))),
    ((YES, YES, (Need.NONE.value,)),
     NextAction(Kind.DEVELOP, _("Create a need: present uses and cases that fit their business"))),
    ((YES, NO, HAS_NEED), NextAction(Kind.DEVELOP, _("Reach the decision maker through your contact"))),
    ((NO, YES, HAS_NEED),
     NextAction(Kind.DEVELOP, _("Check their finances; offer financing, instalments or a cheaper configuration"))),
    ((None, None, None), NextAction(Kind.NURTURE, _("Keep in long-term touch and nurture until a condition changes"))),
]


def _matches(pattern: object, value: str) -> bool:
    if pattern is None:
        return True
    if isinstance(pattern, tuple):
        return value in pattern
    return pattern == value


def next_action(money: str, authority: str, need: str) -> NextAction:
    for (m, a, n), action in RULES:
        if _matches(m, money) and _matches(a, authority) and _matches(n, need):
            return action
    raise AssertionError("the last rule matches everything")  # pragma: no cover


def may_stop(money: str, authority: str, need: str) -> bool:
    """Contact stops only for no purchasing power, no decision power and no need (PRODUCT §4)."""
    return money == NO and authority == NO and need == Need.NONE


def combination(money: str, authority: str, need: str) -> str:
    """The textbook notation: M/A/N when present, m/a/n when lacking, ? when unknown; need in words.

    e.g. "M+a+N (urgent)", "M?+A+n (latent)".
    """
    m = {YES: "M", NO: "m", UNKNOWN: "M?"}[money]
    a = {YES: "A", NO: "a", UNKNOWN: "A?"}[authority]
    n = "N" if need in HAS_NEED else "n"
    return f"{m}+{a}+{n} ({need})"


def all_combinations() -> list[tuple[str, str, str]]:
    return list(product(Answer.values, Answer.values, Need.values))
