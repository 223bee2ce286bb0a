"""The capabilities' demo rows written by the core load (LoadRows) are the rows their own passes write
after a load: lifecycle histories and dates, origins with their referral chains, qualifications."""

from __future__ import annotations

import pytest
from django.db import connection

from qianke.core.demo import demo_capabilities, demo_generate
from qianke.core.tests.conftest import DEMO_NOW
from qianke.customers.models import Contact, Customer, StatusChange
from qianke.leads.models import CustomerOrigin
from qianke.qualification.models import Qualification

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

MODULES = ("qianke.customers.demo", "qianke.leads.demo", "qianke.qualification.demo")
NOW = DEMO_NOW


@pytest.fixture
def home(demo_home):
    return demo_home


def _snapshot() -> dict[str, list]:
    """Every row of the capabilities' tables and the customers' lifecycle dates, with ids replaced by
    their rank among the load's customers and contacts (the two loads get different ids)."""
    customer = {pk: n for n, pk in enumerate(Customer.objects.order_by("pk").values_list("pk", flat=True))}
    contact = {pk: n for n, pk in enumerate(Contact.objects.order_by("pk").values_list("pk", flat=True))}
    customer[None] = contact[None] = None
    return {
        "customers": [(customer[pk], *rest) for pk, *rest in Customer.objects.order_by("pk").values_list(
            "pk", "status", "status_changed_at", "last_purchase_at")],
        "histories": [(customer[c], *rest) for c, *rest in StatusChange.objects.order_by("pk").values_list(
            "customer_id", "from_status", "to_status", "at", "actor_id", "trigger", "reason", "competitor")],
        "origins": [(customer[c], customer[i], *rest) for c, i, *rest in CustomerOrigin.objects.order_by("pk")
                    .values_list("customer_id", "introducer_customer_id", "source_id", "information_source_id",
                                 "collection_method_id", "introducer_contact_id", "recorded_at", "recorded_by_id",
                                 "updated_at")],
        "qualifications": [(customer[c], contact[a], *rest) for c, a, *rest in Qualification.objects.order_by("pk")
                           .values_list("customer_id", "authority_contact_id", "money", "authority", "need",
                                        "budget", "is_qualified", "ordered", "expected_purchase_date", "grade",
                                        "grade_computed_on", "last_follow_up_at", "cadence_base_on",
                                        "next_follow_up_due", "stop_contacting", "stop_reason", "stopped_at",
                                        "created_at", "updated_at")],
    }


def _load_twice(**options) -> tuple[dict, dict, dict]:
    counts = demo_generate(customers=700, seed=4, now=NOW, batch_size=150, capabilities=True, **options)
    with_load = _snapshot()
    reported = demo_capabilities(seed=4, modules=MODULES, loaded=counts["capabilities"])
    assert _snapshot() == with_load  # the passes after the load find nothing left to write
    Customer.objects.all().delete()
    demo_generate(customers=700, seed=4, now=NOW, batch_size=150, **options)
    assert not StatusChange.objects.exists() and not Qualification.objects.exists()
    demo_capabilities(seed=4, modules=MODULES)
    return with_load, _snapshot(), reported


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("suspend_index", [False, True])
def test_the_load_writes_the_rows_the_capabilities_passes_would(home, suspend_index):
    with_load, after_load, reported = _load_twice(workers=0, suspend_index=suspend_index)
    assert with_load == after_load
    assert len(with_load["histories"]) > len(with_load["customers"]) == 700
    assert len(with_load["origins"]) == len(with_load["qualifications"]) == 700
    assert any(row[1] is not None for row in with_load["origins"])  # referral chains
    assert any(row[1] is not None for row in with_load["qualifications"])  # decision makers
    assert reported == {"qianke.customers.demo": {"status changes": len(with_load["histories"])},
                        "qianke.leads.demo": {"origins": 700}, "qianke.qualification.demo": {"qualifications": 700}}


@pytest.mark.django_db(transaction=True)
def test_the_load_writes_the_same_rows_with_a_builder_process(home):
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"] in ("", ":memory:"):
        pytest.skip("a forked builder needs a database file")
    with_load, after_load, _reported = _load_twice(workers=1)
    assert with_load == after_load


@pytest.mark.django_db(transaction=True)
def test_customers_from_before_the_load_still_get_their_rows_after_it(home):
    demo_generate(customers=120, seed=4, now=NOW, workers=0)  # e.g. an earlier load, without them
    counts = demo_generate(customers=80, seed=5, now=NOW, workers=0, capabilities=True)
    assert counts["capabilities"]["qianke.leads.demo"] == {"origins": 80}
    reported = demo_capabilities(seed=4, modules=MODULES, loaded=counts["capabilities"])
    assert reported["qianke.leads.demo"] == {"origins": 200}
    assert Customer.objects.filter(origin__isnull=True).count() == 0
    assert Customer.objects.filter(qualification__isnull=True).count() == 0
    assert Customer.objects.filter(status_changes__isnull=True).count() == 0
    assert reported["qianke.qualification.demo"] == {"qualifications": 200}
