"""The MAN rule: every combination has a next action; contact stops only for m+a+n or a manager's override."""

from __future__ import annotations

import pytest

from qianke.core.errors import Conflict, PermissionDenied, ValidationFailed
from qianke.core.models import AuditLog
from qianke.qualification import man
from qianke.qualification.models import Qualification
from qianke.qualification.services import (
    qualification_resume,
    qualification_stop_contacting,
    qualification_update,
)

pytestmark = pytest.mark.usefixtures("fast_password_hashing")


def test_every_combination_has_a_next_action_and_only_all_no_stops():
    combos = man.all_combinations()
    assert len(combos) == 36
    for money, authority, need in combos:
        action = man.next_action(money, authority, need)
        assert str(action.text), (money, authority, need)
        stops = (money, authority, need) == ("no", "no", "none")
        assert (action.kind == man.Kind.STOP) is stops
        assert man.may_stop(money, authority, need) is stops


@pytest.mark.parametrize(("combo", "kind", "text"), [
    (("yes", "yes", "urgent"), "close", "Send a quote and ask for the order"),
    (("yes", "unknown", "explicit"), "qualify", "Find who decides and get an introduction"),
    (("unknown", "yes", "urgent"), "qualify", "Qualify the budget"),
    (("unknown", "unknown", "none"), "qualify", "Qualify the budget and find who decides"),
    (("yes", "no", "urgent"), "develop", "Reach the decision maker through your contact"),
    (("no", "no", "explicit"), "nurture", "Keep in long-term touch and nurture until a condition changes"),
    (("no", "no", "latent"), "nurture", "Keep in long-term touch and nurture until a condition changes"),
])
def test_rules_pick_the_gap_to_close(combo, kind, text):
    action = man.next_action(*combo)
    assert (action.kind, str(action.text)) == (kind, text)


def test_combination_notation():
    assert man.combination("yes", "no", "urgent") == "M+a+N (urgent)"
    assert man.combination("unknown", "yes", "latent") == "M?+A+n (latent)"


@pytest.mark.django_db
def test_rep_cannot_stop_unless_all_no(org, make_customer):
    customer = make_customer(org.rep)
    qualification_update(actor=org.rep, customer_id=customer.pk, data={"money": "no", "authority": "no",
                                                                       "need": "latent"})
    with pytest.raises(Conflict) as exc:
        qualification_stop_contacting(actor=org.rep, customer_id=customer.pk, reason="不想买")
    assert exc.value.code == "man_not_all_no"
    with pytest.raises(PermissionDenied):
        qualification_stop_contacting(actor=org.rep, customer_id=customer.pk, reason="不想买", override=True)
    assert not Qualification.objects.get(customer=customer).stop_contacting

    qualification_update(actor=org.rep, customer_id=customer.pk, data={"need": "none"})
    q = qualification_stop_contacting(actor=org.rep, customer_id=customer.pk, reason="无需求无预算")
    assert q.stop_contacting and q.stopped_by == org.rep and q.stop_overridden_by is None
    entry = AuditLog.objects.filter(customer_id=customer.pk, object_type="qualification").first()
    assert entry.changes["stop_contacting"] == [False, True]


@pytest.mark.django_db
def test_stop_refused_for_a_customer_without_a_row(org, make_customer):
    customer = make_customer(org.rep)  # treated as unknown / unknown / none
    with pytest.raises(Conflict):
        qualification_stop_contacting(actor=org.rep, customer_id=customer.pk)
    assert not Qualification.objects.filter(customer=customer).exists()


@pytest.mark.django_db
def test_manager_override_is_recorded_and_needs_a_reason(org, make_customer):
    customer = make_customer(org.rep)
    qualification_update(actor=org.rep, customer_id=customer.pk, data={"money": "yes", "need": "explicit"})
    with pytest.raises(ValidationFailed) as exc:
        qualification_stop_contacting(actor=org.manager, customer_id=customer.pk, override=True)
    assert "reason" in exc.value.fields
    q = qualification_stop_contacting(actor=org.manager, customer_id=customer.pk, reason="已选竞品，三年内不换",
                                      override=True)
    assert q.stop_contacting and q.stop_overridden_by == org.manager
    assert q.stop_override_reason == "已选竞品，三年内不换"
    entry = AuditLog.objects.filter(customer_id=customer.pk, object_type="qualification").first()
    assert entry.actor == org.manager
    assert entry.changes["stop_overridden_by"][1]["id"] == org.manager.pk
    assert entry.changes["stop_override_reason"] == [None, "已选竞品，三年内不换"] or \
        entry.changes["stop_override_reason"][1] == "已选竞品，三年内不换"

    with pytest.raises(Conflict):
        qualification_stop_contacting(actor=org.manager, customer_id=customer.pk, reason="x", override=True)
    q = qualification_resume(actor=org.rep, customer_id=customer.pk)
    assert not q.stop_contacting and q.stop_overridden_by is None and q.stop_override_reason == ""


@pytest.mark.django_db
def test_manager_of_another_team_cannot_see_the_customer(org, make_customer, make_user):
    from qianke.accounts.models import Role
    from qianke.core.errors import NotFound

    other = make_user(Role.MANAGER, org.north, "mgr_north")
    customer = make_customer(org.rep)
    with pytest.raises(NotFound):
        qualification_stop_contacting(actor=other, customer_id=customer.pk, reason="x", override=True)
    with pytest.raises(NotFound):
        qualification_update(actor=org.rep2, customer_id=customer.pk, data={"money": "no"})


@pytest.mark.django_db
def test_update_validates_and_keeps_is_qualified(org, make_customer, make_contact):
    customer = make_customer(org.rep)
    other = make_customer(org.rep)
    boss = make_contact(org.rep, customer, "王总")
    stranger = make_contact(org.rep, other, "李四")
    with pytest.raises(ValidationFailed) as exc:
        qualification_update(actor=org.rep, customer_id=customer.pk, data={
            "money": "maybe", "budget": "abc", "authority_contact": stranger.pk, "expected_purchase_date": "2026-13-01",
            "colour": "red"})
    assert set(exc.value.fields) == {"money", "budget", "authority_contact", "expected_purchase_date", "colour"}
    q = qualification_update(actor=org.rep, customer_id=customer.pk, data={
        "money": "yes", "budget": "150,000", "authority": "yes", "authority_contact": boss.pk, "need": "urgent"})
    assert q.is_qualified and str(q.budget) == "150000.00" and q.authority_contact == boss
    q = qualification_update(actor=org.rep, customer_id=customer.pk, data={"need": "latent"})
    assert not q.is_qualified
    created, updated = AuditLog.objects.filter(customer_id=customer.pk, object_type="qualification").order_by("id")[:2]
    assert created.action == "create" and updated.changes["need"] == ["urgent", "latent"]
