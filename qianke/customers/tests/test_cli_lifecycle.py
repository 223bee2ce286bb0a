"""`qianke customer transition CODE STATUS --reason TEXT`, called in-process."""

from __future__ import annotations

import pytest

from qianke import cli
from qianke.core.models import AuditLog
from qianke.customers.models import StatusChange

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def admin(make_user):
    return make_user("admin", username="admin")


def test_a_transition_from_the_command_line_is_recorded_with_source_cli(capsys, admin, make_customer):
    customer = make_customer(admin, status="new")
    code, out, _err = run(capsys, "customer", "transition", customer.code.lower(), "lost", "--reason", "倒闭",
                          "--competitor", "东方机械")
    assert code == 0 and f"{customer.code}" in out and "now Lost" in out
    change = StatusChange.objects.get(customer=customer, to_status="lost")
    assert (change.reason, change.competitor, change.actor) == ("倒闭", "东方机械", admin)
    audit = AuditLog.objects.filter(object_type="customer", object_id=customer.pk).order_by("-id").first()
    assert audit.source == "cli"


def test_an_illegal_move_or_missing_reason_fails_cleanly(capsys, admin, make_customer):
    customer = make_customer(admin)
    code, _out, err = run(capsys, "customer", "transition", customer.code, "repeat")
    assert code == 2 and "qianke customer transition: error:" in err
    code, _out, err = run(capsys, "customer", "transition", customer.code, "lost")
    assert code == 2 and "--reason" in err
    customer.refresh_from_db()
    assert customer.status == "potential"


def test_unknown_customers_users_and_statuses(capsys, make_customer, org):  # org has the user "admin"
    hidden = make_customer(org.rep_north)
    code, _out, err = run(capsys, "customer", "transition", hidden.code, "lost", "--reason", "x", "--by",
                          "rep_east")
    assert code == 2 and "CODE" in err
    code, _out, err = run(capsys, "customer", "transition", hidden.code, "lost", "--by", "nobody")
    assert code == 2 and "--by" in err
    code, _out, err = run(capsys, "customer", "transition", hidden.code, "happy")
    assert code == 2 and "invalid choice" in err
