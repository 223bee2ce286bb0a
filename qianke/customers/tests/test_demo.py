"""Demo lifecycle histories: a chain of moves from registration to each customer's status."""

from __future__ import annotations

import itertools
import random

import pytest
from django.utils import timezone

from qianke.core.demo import demo_generate
from qianke.customers.demo import demo_status_histories
from qianke.customers.models import Customer, StatusChange

pytestmark = pytest.mark.django_db


def test_each_customer_gets_one_chain_from_potential_to_its_status(settings, tmp_path):
    settings.QIANKE_HOME = tmp_path
    demo_generate(customers=200, seed=5)
    ids = list(Customer.objects.values_list("pk", flat=True))
    written = demo_status_histories(customer_ids=ids, rng=random.Random(5))
    assert written == StatusChange.objects.count() > len(ids)
    assert demo_status_histories(customer_ids=ids, rng=random.Random(5)) == 0  # customers with a history
    now = timezone.now()
    for customer in Customer.objects.all():
        moves = list(customer.status_changes.order_by("at", "id"))
        assert (moves[0].from_status, moves[0].to_status, moves[0].at) == ("", "potential", customer.created_at)
        assert moves[-1].to_status == customer.status and customer.status_changed_at == moves[-1].at
        assert all(a.to_status == b.from_status and a.at <= b.at <= now for a, b in itertools.pairwise(moves))
        purchases = [m.at for m in moves if m.trigger == StatusChange.Trigger.PURCHASE]
        assert customer.last_purchase_at == (purchases[-1] if purchases else None)
