"""Grades follow the expected purchase date; the cadence of the grade sets the next follow-up due date."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from qianke.activities.services import activity_create
from qianke.qualification import grading
from qianke.qualification.models import GradingSettings, Qualification
from qianke.qualification.services import grading_settings_update, qualification_update

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

TODAY = dt.date(2026, 11, 22)


def _grade(expected, ordered=False, config=None):
    return grading.grade_for(ordered=ordered, expected=expected, today=TODAY, config=config or GradingSettings())


@pytest.mark.parametrize(("days", "grade"), [
    (-5, "A"), (0, "A"), (30, "A"), (31, "B"), (90, "B"), (91, "C"), (180, "C"), (181, "D"), (365, "D"), (800, "D"),
])
def test_default_thresholds(days, grade):
    assert _grade(TODAY + dt.timedelta(days=days)) == grade


def test_ordered_is_O_and_unknown_date_is_D():
    assert _grade(None) == "D"
    assert _grade(TODAY + dt.timedelta(days=3), ordered=True) == "O"
    assert _grade(None, ordered=True) == "O"


def test_configurable_thresholds_and_cadence():
    config = GradingSettings(a_within_days=7, b_within_days=14, c_within_days=60, cadence_a_days=1,
                             cadence_o_days=90)
    assert _grade(TODAY + dt.timedelta(days=8), config=config) == "B"
    assert _grade(TODAY + dt.timedelta(days=61), config=config) == "D"
    assert grading.due_for(grade="A", base=TODAY, config=config) == TODAY + dt.timedelta(days=1)
    assert grading.due_for(grade="O", base=TODAY, config=config) == TODAY + dt.timedelta(days=90)
    assert grading.due_for(grade="O", base=TODAY, config=GradingSettings()) is None


@pytest.mark.parametrize(("grade", "days"), [("A", 3), ("B", 7), ("C", 14), ("D", 30)])
def test_default_cadence(grade, days):
    assert grading.due_for(grade=grade, base=TODAY, config=GradingSettings()) == TODAY + dt.timedelta(days=days)


@pytest.mark.django_db
def test_edit_regrades_and_sets_due_from_registration(org, make_customer):
    customer = make_customer(org.rep)
    today = timezone.localdate()
    registered = timezone.localdate(customer.created_at)
    q = qualification_update(actor=org.rep, customer_id=customer.pk,
                             data={"expected_purchase_date": today + dt.timedelta(days=20)})
    assert q.grade == "A" and q.next_follow_up_due == registered + dt.timedelta(days=3)
    assert q.grade_computed_on == today
    q = qualification_update(actor=org.rep, customer_id=customer.pk,
                             data={"expected_purchase_date": (today + dt.timedelta(days=100)).isoformat()})
    assert q.grade == "C" and q.next_follow_up_due == registered + dt.timedelta(days=14)
    q = qualification_update(actor=org.rep, customer_id=customer.pk, data={"expected_purchase_date": None})
    assert q.grade == "D" and q.next_follow_up_due == registered + dt.timedelta(days=30)
    q = qualification_update(actor=org.rep, customer_id=customer.pk, data={"ordered": True})
    assert q.grade == "O" and q.next_follow_up_due is None


@pytest.mark.django_db
def test_follow_up_recorded_moves_next_due(org, make_customer):
    customer = make_customer(org.rep)
    today = timezone.localdate()
    qualification_update(actor=org.rep, customer_id=customer.pk,
                         data={"expected_purchase_date": today + dt.timedelta(days=60)})  # B: every 7 days
    when = timezone.now() - dt.timedelta(days=2)
    activity_create(actor=org.rep, customer_id=customer.pk, data={"content": "电话沟通车型", "occurred_at": when})
    q = Qualification.objects.get(customer=customer)
    assert q.last_follow_up_at == when
    assert q.cadence_base_on == timezone.localdate(when)
    assert q.next_follow_up_due == timezone.localdate(when) + dt.timedelta(days=7)
    # A follow-up entered after the fact for an older day does not move the cadence back.
    activity_create(actor=org.rep, customer_id=customer.pk,
                    data={"content": "补录上周拜访", "occurred_at": when - dt.timedelta(days=5)})
    q.refresh_from_db()
    assert q.last_follow_up_at == when


@pytest.mark.django_db
def test_follow_up_creates_the_row_for_a_customer_without_one(org, make_customer):
    customer = make_customer(org.rep)
    activity_create(actor=org.rep, customer_id=customer.pk, data={"content": "来店看车"})
    q = Qualification.objects.get(customer=customer)
    assert q.grade == "D" and q.next_follow_up_due == timezone.localdate() + dt.timedelta(days=30)


@pytest.mark.django_db
def test_grading_settings_admin_only_and_validated(org):
    from qianke.core.errors import PermissionDenied, ValidationFailed

    with pytest.raises(PermissionDenied):
        grading_settings_update(actor=org.manager, data={"cadence_a_days": 2})
    with pytest.raises(ValidationFailed) as exc:
        grading_settings_update(actor=org.admin, data={"a_within_days": 100})
    assert "b_within_days" in exc.value.fields
    with pytest.raises(ValidationFailed):
        grading_settings_update(actor=org.admin, data={"cadence_a_days": 0})
    config = grading_settings_update(actor=org.admin, data={"cadence_a_days": 2, "cadence_o_days": 60})
    assert GradingSettings.load().cadence_a_days == 2 and config.cadence_o_days == 60
