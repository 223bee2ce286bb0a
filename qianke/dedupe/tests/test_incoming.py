"""The duplicate check of incoming rows: set-wise lookups, earlier rows, and only candidate pairs scored."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from qianke.customers.services import customer_create
from qianke.dedupe.incoming import IncomingCheck, IncomingRow


def _row(key, name, phone="", mobile="", city=""):
    from qianke.core.normalize import normalize_company_name

    return IncomingRow(
        key=key,
        values={"kind": "organization", "name": name, "phone": phone, "mobile": mobile, "city": city},
        name_norm=normalize_company_name(name),
    )


@pytest.mark.django_db
def test_a_batch_looks_up_the_existing_customers_with_a_few_queries_whatever_its_size(org):
    existing = customer_create(actor=org.info, data={"name": "北京华为技术有限公司", "phone": "010-62345678"})
    rows = [_row(n, f"无锡第{n}号精密机械有限公司", mobile=f"139{n:08d}") for n in range(2, 402)]
    rows.append(_row(402, "华为技术（北京）有限公司", phone="(010) 6234-5678"))
    check = IncomingCheck()
    with CaptureQueriesContext(connection) as queries:
        hits = check.check(rows)
    assert len(queries) <= 10  # IN (...) lists of at most 900 keys: 1,600 name variants take two
    assert list(hits) == [402]
    assert hits[402][0].customer_id == existing.pk and hits[402][0].decision == "same"
    assert check.pairs_scored == 1  # only the candidate pair was compared


@pytest.mark.django_db
def test_rows_meet_earlier_rows_of_the_batch_and_with_remember_of_earlier_batches(org):
    first = [_row(2, "杭州云帆科技有限公司", mobile="13812345678")]
    second = [_row(3, "杭州云帆科技", mobile="+86 138 1234 5678"), _row(4, "宁波海通贸易有限公司")]
    assert IncomingCheck().check(first + second)[3][0].other_row == 2
    forgetful = IncomingCheck()
    forgetful.check(first)
    assert forgetful.check(second) == {}  # an import: the earlier batch is in the database by then
    remembering = IncomingCheck(remember=True)
    remembering.check(first)
    assert remembering.check(second)[3][0].other_row == 2
    remembering.forget([2, 3])  # skipped rows are not met again
    assert remembering.check([_row(5, "杭州云帆科技", mobile="13812345678")]) == {}


@pytest.mark.django_db
def test_a_branch_in_another_city_is_not_a_match(org):
    customer_create(
        actor=org.info, data={"name": "华为技术（北京）有限公司", "phone": "010-62345678", "city": "北京市"}
    )
    # The name without its place is the one above to review (the create warns): saved anyway.
    customer_create(actor=org.info, data={"name": "华为技术有限公司", "address": "北京市海淀区"},
                    confirm_duplicate=True)
    check = IncomingCheck()
    assert check.check([_row(2, "华为技术（上海）有限公司", phone="021-62345678", city="上海市")]) == {}
    assert check.pairs_scored == 1  # the name core 华为技术 made one candidate; the engine said "different"
