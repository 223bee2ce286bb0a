"""Demo qualifications: plausible, consistent with the rules, and idempotent."""

from __future__ import annotations

import random

import pytest
from django.utils import timezone

from qianke.core.demo import demo_generate
from qianke.customers.models import Customer
from qianke.qualification import grading, man
from qianke.qualification.demo import demo_qualifications
from qianke.qualification.jobs import recompute_grades
from qianke.qualification.models import GradingSettings, Qualification

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


def test_demo_qualifications_follow_the_rules():
    demo_generate(customers=60, seed=3, workers=0)
    ids = list(Customer.objects.values_list("pk", flat=True))
    assert demo_qualifications(customer_ids=ids, rng=random.Random(1)) == 60
    assert demo_qualifications(customer_ids=ids, rng=random.Random(1)) == 0
    config, today = GradingSettings.load(), timezone.localdate()
    rows = list(Qualification.objects.all())
    assert len({q.grade for q in rows}) >= 3
    for q in rows:
        assert q.grade == grading.grade_for(ordered=q.ordered, expected=q.expected_purchase_date, today=today,
                                            config=config)
        assert not q.stop_contacting or man.may_stop(q.money, q.authority, q.need)
        assert q.authority_contact is None or q.authority_contact.customer_id == q.customer_id
    assert recompute_grades(today=today) == {"created": 0, "changed": 0}
