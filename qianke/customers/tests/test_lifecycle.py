"""The customer lifecycle: the legal moves and only those, reasons, purchases, history and audit rows,
visibility, and the dormancy job."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone, translation

from qianke.core.errors import Conflict, NotFound, ValidationFailed
from qianke.core.models import AuditLog
from qianke.customers.lifecycle import (
    TRANSITIONS,
    customer_record_purchase,
    customer_transition,
    dormancy_run,
    status_history,
)
from qianke.customers.models import Customer, StatusChange
from qianke.jobs.registry import get_job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

ALL = ["potential", "new", "repeat", "dormant", "lost"]
LEGAL = {
    ("potential", "new"), ("potential", "lost"),
    ("new", "repeat"), ("new", "dormant"), ("new", "lost"),
    ("repeat", "dormant"), ("repeat", "lost"),
    ("dormant", "repeat"), ("dormant", "lost"),
    ("lost", "potential"),
}


def customer_in(make_customer, actor, status: str) -> Customer:
    return make_customer(actor, status=status)


def test_the_table_holds_exactly_the_documented_moves():
    assert {(a, b) for a, moves in TRANSITIONS.items() for b in moves} == LEGAL


@pytest.mark.parametrize(("from_status", "to_status"), sorted(LEGAL))
def test_every_legal_move_changes_the_status_and_records_it(org, make_customer, from_status, to_status):
    customer = customer_in(make_customer, org.rep, from_status)
    moved = customer_transition(actor=org.rep, customer_id=customer.pk, to_status=to_status, reason="客户说明")
    moved.refresh_from_db()
    assert moved.status == to_status
    change = StatusChange.objects.filter(customer=customer).order_by("-id").first()
    assert (change.from_status, change.to_status, change.actor, change.reason, change.trigger) == (
        from_status, to_status, org.rep, "客户说明", "manual")
    assert moved.status_changed_at == change.at
    audit = AuditLog.objects.filter(object_type="customer", object_id=customer.pk).order_by("-id").first()
    assert audit.action == "update" and audit.changes["status"] == [from_status, to_status]


@pytest.mark.parametrize(("from_status", "to_status"),
                         sorted((a, b) for a in ALL for b in ALL if (a, b) not in LEGAL))
def test_every_illegal_move_is_refused_naming_the_statuses_and_the_legal_targets(
        org, make_customer, from_status, to_status):
    customer = customer_in(make_customer, org.rep, from_status)
    before = StatusChange.objects.count(), AuditLog.objects.count()
    with pytest.raises(Conflict) as exc, translation.override("en"):
        customer_transition(actor=org.rep, customer_id=customer.pk, to_status=to_status, reason="试一下")
    with translation.override("en"):
        body = exc.value.as_dict()
    assert body["code"] == "illegal_transition"
    assert body["allowed"] == list(TRANSITIONS[from_status])
    assert (body["from_status"], body["to_status"]) == (from_status, to_status)
    assert "cannot move from" in body["message"]
    customer.refresh_from_db()
    assert customer.status == from_status
    assert (StatusChange.objects.count(), AuditLog.objects.count()) == before


def test_an_unknown_status_is_a_field_error(org, make_customer):
    customer = make_customer(org.rep)
    with pytest.raises(ValidationFailed) as exc:
        customer_transition(actor=org.rep, customer_id=customer.pk, to_status="happy")
    assert list(exc.value.fields) == ["to_status"]


@pytest.mark.parametrize(("from_status", "to_status"),
                         [("potential", "lost"), ("new", "dormant"), ("repeat", "lost"), ("lost", "potential")])
def test_declared_moves_need_a_reason(org, make_customer, from_status, to_status):
    customer = customer_in(make_customer, org.rep, from_status)
    with pytest.raises(ValidationFailed) as exc:
        customer_transition(actor=org.rep, customer_id=customer.pk, to_status=to_status, reason="   ")
    assert list(exc.value.fields) == ["reason"]
    customer.refresh_from_db()
    assert customer.status == from_status


def test_a_purchase_needs_no_reason(org, make_customer):
    customer = make_customer(org.rep)
    customer_transition(actor=org.rep, customer_id=customer.pk, to_status="new")
    customer.refresh_from_db()
    assert customer.status == "new" and customer.last_purchase_at is not None


def test_purchases_move_potential_to_new_to_repeat_and_repeat_stays_repeat(org, make_customer):
    customer = make_customer(org.rep, potential_kind="competitor")
    now = timezone.now()
    registered = now - dt.timedelta(days=40)
    Customer.objects.filter(pk=customer.pk).update(status_changed_at=registered, created_at=registered)
    StatusChange.objects.filter(customer=customer).update(at=registered)
    steps = []
    for days_ago in (30, 20, 10):
        at = now - dt.timedelta(days=days_ago)
        moved = customer_record_purchase(actor=org.rep, customer_id=customer.pk, at=at)
        moved.refresh_from_db()
        steps.append((moved.status, moved.last_purchase_at))
    assert [s for s, _ in steps] == ["new", "repeat", "repeat"]
    assert steps[-1][1] == now - dt.timedelta(days=10)
    customer.refresh_from_db()
    assert customer.potential_kind == ""
    history = [(c.from_status, c.to_status, c.trigger) for c in status_history(user=org.rep, customer_id=customer.pk)]
    # The third purchase moves no status, so it adds no history row; the audit keeps its date.
    assert history == [("new", "repeat", "purchase"), ("potential", "new", "purchase"), ("", "potential", "create")]
    last = AuditLog.objects.filter(object_type="customer", object_id=customer.pk).order_by("-id").first()
    assert list(last.changes) == ["last_purchase_at"]


def test_a_dormant_customer_that_buys_again_is_repeat(org, make_customer):
    customer = make_customer(org.rep, status="dormant")
    customer_record_purchase(actor=org.rep, customer_id=customer.pk)
    customer.refresh_from_db()
    assert customer.status == "repeat"


def test_a_lost_customer_buys_only_after_a_win_back(org, make_customer):
    customer = make_customer(org.rep, status="lost")
    with pytest.raises(Conflict) as exc:
        customer_record_purchase(actor=org.rep, customer_id=customer.pk)
    assert exc.value.as_dict()["allowed"] == ["potential"]


def test_lost_to_a_competitor_comes_back_as_a_competitors_customer(org, make_customer):
    customer = make_customer(org.rep, status="new")
    customer_transition(actor=org.rep, customer_id=customer.pk, to_status="lost", reason="价格更低",
                        competitor="东方机械")
    customer_transition(actor=org.rep, customer_id=customer.pk, to_status="potential", reason="对方服务差，回访")
    customer.refresh_from_db()
    assert (customer.status, customer.potential_kind) == ("potential", "competitor")
    lost = StatusChange.objects.get(customer=customer, to_status="lost")
    assert (lost.reason, lost.competitor) == ("价格更低", "东方机械")


def test_won_back_without_a_competitor_is_a_general_potential_customer(org, make_customer):
    customer = make_customer(org.rep, status="lost")
    customer_transition(actor=org.rep, customer_id=customer.pk, to_status="potential", reason="重新联系")
    customer.refresh_from_db()
    assert customer.potential_kind == "general"


def test_a_competitor_is_named_only_when_lost_or_won_back(org, make_customer):
    customer = make_customer(org.rep)
    with pytest.raises(ValidationFailed) as exc:
        customer_transition(actor=org.rep, customer_id=customer.pk, to_status="new", competitor="东方机械")
    assert list(exc.value.fields) == ["competitor"]


def test_a_move_cannot_be_dated_in_the_future_or_before_the_current_status(org, make_customer):
    customer = make_customer(org.rep)
    with pytest.raises(ValidationFailed) as exc:
        customer_transition(actor=org.rep, customer_id=customer.pk, to_status="new",
                            at=timezone.now() + dt.timedelta(days=2))
    assert list(exc.value.fields) == ["at"]
    with pytest.raises(ValidationFailed):
        customer_transition(actor=org.rep, customer_id=customer.pk, to_status="new",
                            at=customer.created_at - dt.timedelta(days=1))


def test_registration_records_the_initial_status(org, make_customer):
    customer = make_customer(org.rep, status="new")
    change = StatusChange.objects.get(customer=customer)
    assert (change.from_status, change.to_status, change.trigger, change.actor) == ("", "new", "create", org.rep)
    assert customer.status_changed_at == change.at == customer.created_at


def test_a_rep_cannot_move_or_read_the_history_of_another_reps_customer(org, make_customer):
    customer = make_customer(org.rep_north)
    with pytest.raises(NotFound):
        customer_transition(actor=org.rep, customer_id=customer.pk, to_status="lost", reason="x")
    with pytest.raises(NotFound):
        customer_record_purchase(actor=org.rep, customer_id=customer.pk)
    with pytest.raises(NotFound):
        status_history(user=org.rep, customer_id=customer.pk)
    customer.refresh_from_db()
    assert customer.status == "potential"
    # The rep's manager's manager sees the team below and may move it.
    customer_transition(actor=org.director, customer_id=customer.pk, to_status="lost", reason="撤场")


def test_archived_customers_do_not_move(org, make_customer):
    from qianke.customers.services import customer_archive

    customer = make_customer(org.rep)
    customer_archive(actor=org.admin, customer_id=customer.pk)
    with pytest.raises(NotFound):
        customer_transition(actor=org.admin, customer_id=customer.pk, to_status="new")


# ---------------------------------------------------------------------------------------------
# Dormancy
# ---------------------------------------------------------------------------------------------


def test_the_dormancy_job_is_registered_daily():
    job = get_job("lifecycle.dormancy")
    assert job is not None and job.func is dormancy_run and job.schedule.at == dt.time(1, 30)


def test_dormancy_moves_only_customers_without_a_recent_purchase_and_a_second_run_changes_nothing(
        org, make_customer, settings):
    settings.QIANKE_DORMANT_AFTER_DAYS = 90
    now = timezone.now()
    old_buyer = make_customer(org.rep, status="new")
    recent_buyer = make_customer(org.rep, status="repeat")
    never_bought = make_customer(org.rep, status="new")  # became new long ago, no purchase recorded
    potential = make_customer(org.rep)
    lost = make_customer(org.rep, status="lost")
    Customer.objects.filter(pk=old_buyer.pk).update(last_purchase_at=now - dt.timedelta(days=120))
    Customer.objects.filter(pk=recent_buyer.pk).update(last_purchase_at=now - dt.timedelta(days=10))
    Customer.objects.filter(pk__in=[never_bought.pk, potential.pk, lost.pk]).update(
        status_changed_at=now - dt.timedelta(days=200), created_at=now - dt.timedelta(days=200))

    assert dormancy_run(today=timezone.localdate()) == {"dormant": 2}
    statuses = dict(Customer.objects.values_list("pk", "status"))
    assert statuses[old_buyer.pk] == statuses[never_bought.pk] == "dormant"
    assert (statuses[recent_buyer.pk], statuses[potential.pk], statuses[lost.pk]) == ("repeat", "potential", "lost")
    change = StatusChange.objects.get(customer=old_buyer, to_status="dormant")
    assert (change.from_status, change.trigger, change.actor) == ("new", "job", None)
    assert "90" in change.reason
    audit = AuditLog.objects.get(object_type="customer", object_id=old_buyer.pk, source="job")
    assert audit.changes == {"status": ["new", "dormant"]}

    counts = StatusChange.objects.count(), AuditLog.objects.count()
    assert dormancy_run(today=timezone.localdate()) == {"dormant": 0}
    assert (StatusChange.objects.count(), AuditLog.objects.count()) == counts


def test_dormancy_works_in_batches(org, make_customer, settings, monkeypatch):
    from qianke.customers import lifecycle

    monkeypatch.setattr(lifecycle, "DORMANCY_BATCH", 2)
    settings.QIANKE_DORMANT_AFTER_DAYS = 30
    customers = [make_customer(org.rep, status="repeat") for _ in range(5)]
    Customer.objects.filter(pk__in=[c.pk for c in customers]).update(
        last_purchase_at=timezone.now() - dt.timedelta(days=60))
    assert dormancy_run(today=timezone.localdate()) == {"dormant": 5}
    assert StatusChange.objects.filter(to_status="dormant", trigger="job").count() == 5


def test_the_worker_runs_the_dormancy_job_through_the_job_registry(org, make_customer, settings):
    from qianke.jobs.services import job_run

    settings.QIANKE_DORMANT_AFTER_DAYS = 30
    customer = make_customer(org.rep, status="new")
    Customer.objects.filter(pk=customer.pk).update(last_purchase_at=timezone.now() - dt.timedelta(days=45))
    run = job_run(name="lifecycle.dormancy", force=True)
    assert (run.status, run.counts) == ("succeeded", {"dormant": 1})
    assert job_run(name="lifecycle.dormancy", force=True).counts == {"dormant": 0}
