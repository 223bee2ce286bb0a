"""The search box: names, pinyin, phones, e-mail, codes and contacts, on SQLite FTS5 and PostgreSQL."""

import pytest

from qianke.customers.selectors import CustomerFilters, customer_list
from qianke.customers.services import (
    contact_archive,
    contact_update,
    customer_archive,
    customer_restore,
    customer_update,
)

pytestmark = pytest.mark.usefixtures("fast_password_hashing")


@pytest.fixture
def book(org, make_customer, make_contact):
    """A few customers of the east rep, one of the north rep."""
    org.huawei = make_customer(org.rep, "北京华为技术有限公司", phone="010-6234 5678", email="sales@huawei.com")
    org.chongqing = make_customer(org.rep, "重庆长安汽车股份有限公司", mobile="139 8765 4321")
    org.person = make_customer(org.rep, "王建国", kind="individual", mobile="+86 137 5555 9898")
    org.acme = make_customer(org.rep2, "ACME Trading Co.", short_name="艾克米")
    org.north_huawei = make_customer(org.rep_north, "天津华为科技有限公司")
    make_contact(org.rep, org.huawei, "李娜", mobile="186 3377 4455", phone="010-8899 6677",
                 email="li.na@huawei.com")
    return org


def found(user, query, **filters) -> set[str]:
    page = customer_list(user=user, filters=CustomerFilters(q=query, **filters), limit=100)
    return {c.name for c in page.items}


def everywhere(book, query) -> set[str]:
    """Search as the east manager (filtered path) and as admin (index-only path); both must agree."""
    as_manager = found(book.manager, query)
    as_admin = found(book.admin, query) - {"天津华为科技有限公司"}
    assert as_manager == as_admin, (query, as_manager, as_admin)
    return as_manager


HUAWEI, CHONGQING, PERSON, ACME = "北京华为技术有限公司", "重庆长安汽车股份有限公司", "王建国", "ACME Trading Co."


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("华为", {HUAWEI}),
        ("为技术", {HUAWEI}),
        ("北京华为技术有限公司", {HUAWEI}),
        ("长安汽车", {CHONGQING}),
        ("建国", {PERSON}),
        ("艾克米", {ACME}),  # the short name
        ("acme", {ACME}),
        ("Trading", {ACME}),
        ("华为长安", set()),  # characters of two names are not one name
    ],
)
def test_search_by_name_fragment(book, query, expected):
    assert everywhere(book, query) == expected


def test_a_single_character_finds_names_containing_it(book):
    assert everywhere(book, "华") == {HUAWEI}
    assert everywhere(book, "王") == {PERSON}
    assert everywhere(book, "司") == {HUAWEI, CHONGQING}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("bjhw", {HUAWEI}),
        ("BJHW", {HUAWEI}),
        ("beijinghuawei", {HUAWEI}),
        ("huawei", {HUAWEI}),  # also the e-mail domain; same customer
        ("cqca", {CHONGQING}),
        ("chongqing", {CHONGQING}),  # 重 read as chong in 重庆
        ("wjg", {PERSON}),
        ("wangjianguo", {PERSON}),
    ],
)
def test_search_by_pinyin_initials_and_full_pinyin(book, query, expected):
    assert everywhere(book, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("62345678", {HUAWEI}),
        ("6234 5678", {HUAWEI}),
        ("010-6234", {HUAWEI}),
        ("3456", {HUAWEI}),
        ("13987654321", {CHONGQING}),
        ("8765", {CHONGQING}),
        ("5555 9898", {PERSON}),
        ("3377", {HUAWEI}),  # the contact's mobile
        ("88996677", {HUAWEI}),  # the contact's landline
        ("4321", {CHONGQING}),
        ("9999", set()),
    ],
)
def test_search_by_phone_fragment_of_four_or_more_digits(book, query, expected):
    assert everywhere(book, query) == expected


def test_phone_queries_with_the_country_code_find_what_the_national_number_finds(book, make_customer):
    make_customer(book.rep, "甲方贸易有限公司", mobile="13800138000")
    make_customer(book.rep, "乙方贸易有限公司", mobile="+86 138 0013 8000")
    make_customer(book.rep, "丙方贸易有限公司", phone="+86 10 6234 5678")
    mobile = everywhere(book, "13800138000")
    assert mobile == {"甲方贸易有限公司", "乙方贸易有限公司"}
    for query in ("008613800138000", "+86 138 0013 8000", "+8613800138000", "86 13800138000"):
        assert everywhere(book, query) == mobile, query
    landline = everywhere(book, "010-62345678")
    assert landline == {HUAWEI, "丙方贸易有限公司"}
    for query in ("+86 10 6234 5678", "0086 10 62345678", "+86 010 6234 5678", "+86-10-62345678"):
        assert everywhere(book, query) == landline, query


@pytest.mark.parametrize(
    ("query", "expected"),
    [("sales@huawei.com", {HUAWEI}), ("li.na@huawei.com", {HUAWEI}), ("lina", {HUAWEI}),
     ("nobody@example.com", set())],
)
def test_search_by_email(book, query, expected):
    assert everywhere(book, query) == expected


def test_search_by_code_and_its_digit_tail(book):
    code = book.chongqing.code
    assert everywhere(book, code) == {CHONGQING}
    assert everywhere(book, code.lower()) == {CHONGQING}
    assert everywhere(book, code[-6:]) == {CHONGQING}
    assert everywhere(book, code[2:]) == {CHONGQING}


def test_search_by_contact_name(book):
    assert everywhere(book, "李娜") == {HUAWEI}
    assert everywhere(book, "ln") == {HUAWEI}


def test_whole_syllables_find_names_with_those_syllables_in_a_row(book, make_customer, make_contact):
    zhou = make_customer(book.rep, "周兴贸易有限公司")
    xian = make_customer(book.rep, "西安先导电子有限公司")
    assert everywhere(book, "zhouxing") == {zhou.name}
    assert everywhere(book, "zhouxingmaoyi") == {zhou.name}
    assert everywhere(book, "ZhouXing") == {zhou.name}
    # 西安 (xi-an) and 先导 (xian-dao) are both "xian", which as one syllable is also in 有限 (you-xian)
    assert everywhere(book, "xian") == {xian.name, zhou.name, HUAWEI, CHONGQING}
    assert everywhere(book, "xianxiandao") == {xian.name}
    assert everywhere(book, "xiandao") == {xian.name}
    # typed letter by letter, the name is found all the way (zhou-xi and zhou-xin: the last syllable
    # half typed; zhoux does not split into syllables and is looked for anywhere)
    for typed in ("zhou", "zhoux", "zhouxi", "zhouxin", "zhouxing"):
        assert zhou.name in everywhere(book, typed), typed
    # syllables are matched whole: ou-xi is not a pair of syllables of 周兴
    assert everywhere(book, "ouxi") == set()
    assert everywhere(book, "ouxing") == set()
    # pairs do not run from one name into the next (customer name, then a contact's)
    make_contact(book.rep, zhou, "易达")
    assert everywhere(book, "maoyiyida") == set()
    assert everywhere(book, "yida") == {zhou.name}


def test_newest_matches_of_syllable_pairs_and_other_columns_interleave(book, make_customer):
    """Matches of the syllable pairs (names) and of the grams (e-mails) come newest first together."""
    from qianke.customers import search

    oldest = make_customer(book.rep, "周兴一厂", email="a@example.com")
    older_mail = make_customer(book.rep, "甲公司", email="zhouxing.a@example.com")
    middle = make_customer(book.rep, "周兴二厂", email="b@example.com")
    newest_mail = make_customer(book.rep, "乙公司", email="zhouxing.b@example.com")
    newest = make_customer(book.rep, "周兴三厂", email="c@example.com")
    assert search.match_ids("zhouxing", limit=3) == [newest.pk, newest_mail.pk, middle.pk]
    assert search.match_ids("zhouxing", limit=10) == [newest.pk, newest_mail.pk, middle.pk, older_mail.pk,
                                                       oldest.pk]
    assert search.match_ids("zhouxing", before=middle.pk, limit=1) == [older_mail.pk]


def test_migration_adds_syllable_pairs_to_existing_entries(book):
    """Entries written before syllable pairs existed are recomputed by migration 0009."""
    import importlib
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    from qianke.customers.models import CustomerSearch

    entry = CustomerSearch.objects.get(customer=book.huawei)
    current = entry.pinyin
    old = " ".join(t for t in current.split() if t not in {"beijing", "jinghua", "huawei", "weiji", "jishu"})
    CustomerSearch.objects.filter(pk=entry.pk).update(pinyin=old)
    assert everywhere(book, "beijinghuawei") == set()
    migration = importlib.import_module("qianke.customers.migrations.0009_search_syllable_pairs")
    migration.forwards(apps, SimpleNamespace(connection=connection))  # all it reads of the schema editor
    assert CustomerSearch.objects.get(customer=book.huawei).pinyin == current
    assert everywhere(book, "beijinghuawei") == {HUAWEI}


def test_traditional_and_simplified_names_find_each_other(book, make_customer):
    make_customer(book.rep, "深圳騰訊計算機系統有限公司")
    make_customer(book.rep, "广州腾讯科技有限公司")
    both = {"深圳騰訊計算機系統有限公司", "广州腾讯科技有限公司"}
    assert everywhere(book, "腾讯") == both
    assert everywhere(book, "騰訊") == both
    assert everywhere(book, "腾讯计算机") == {"深圳騰訊計算機系統有限公司"}


def test_migration_simplifies_stored_names_and_search_entries(book, make_customer, make_contact):
    """Customers saved before names were simplified get their canonical name and search entry again
    (migration 0011); the others are left as they are."""
    import importlib
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    from qianke.core import normalize
    from qianke.customers.models import Customer, CustomerSearch

    old = make_customer(book.rep, "深圳騰訊計算機系統有限公司")
    person = make_customer(book.rep, "陳大文", kind="individual")
    with_contact = make_customer(book.rep, "长沙湘江贸易有限公司")
    make_contact(book.rep, with_contact, "張偉")
    before = {e.customer_id: (e.names, e.pinyin, e.digits, e.other) for e in CustomerSearch.objects.all()}
    # As saved before: the canonical name and the name tokens kept the traditional characters.
    Customer.objects.filter(pk=old.pk).update(name_norm="深圳騰訊計算機系統")
    Customer.objects.filter(pk=person.pk).update(name_norm="陳大文")
    CustomerSearch.objects.filter(customer_id=old.pk).update(
        names=" ".join(normalize.grams("深圳騰訊計算機系統有限公司", normalize.NAME_GRAM)))
    CustomerSearch.objects.filter(customer_id=with_contact.pk).update(names="stale")
    assert everywhere(book, "腾讯") == set()
    migration = importlib.import_module("qianke.customers.migrations.0011_names_simplified")
    migration.forwards(apps, SimpleNamespace(connection=connection))
    assert Customer.objects.get(pk=old.pk).name_norm == "深圳腾讯计算机系统"
    assert Customer.objects.get(pk=person.pk).name_norm == "陈大文"
    after = {e.customer_id: (e.names, e.pinyin, e.digits, e.other) for e in CustomerSearch.objects.all()}
    assert after == before
    assert everywhere(book, "腾讯") == {"深圳騰訊計算機系統有限公司"}
    assert everywhere(book, "张伟") == {"长沙湘江贸易有限公司"}


def test_migration_indexes_numbers_typed_with_the_country_code_in_their_national_form(book, make_customer,
                                                                                        make_contact):
    """Entries written before national forms were indexed are rebuilt by migration 0012; the others
    are left as they are."""
    import importlib
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    from qianke.core import normalize
    from qianke.customers.models import CustomerSearch

    coded = make_customer(book.rep, "丙方贸易有限公司", phone="+86 10 6234 5678")
    contact_coded = make_customer(book.rep, "丁方贸易有限公司")
    make_contact(book.rep, contact_coded, "赵六", mobile="0086 139 1111 2222")
    before = {e.customer_id: (e.names, e.pinyin, e.digits, e.other) for e in CustomerSearch.objects.all()}
    for customer, number in ((coded, "+86 10 6234 5678"), (contact_coded, "0086 139 1111 2222")):
        entry = CustomerSearch.objects.get(customer=customer)
        national = " ".join(normalize.whole_grams(normalize.national_number(normalize.phone_digits(number)), 4))
        CustomerSearch.objects.filter(pk=entry.pk).update(digits=entry.digits.replace(" " + national, ""))
    assert everywhere(book, "010-62345678") == {HUAWEI}
    migration = importlib.import_module("qianke.customers.migrations.0012_search_phones_national")
    migration.forwards(apps, SimpleNamespace(connection=connection))
    after = {e.customer_id: (e.names, e.pinyin, e.digits, e.other) for e in CustomerSearch.objects.all()}
    assert after == before
    assert everywhere(book, "010-62345678") == {HUAWEI, "丙方贸易有限公司"}
    assert everywhere(book, "13911112222") == {"丁方贸易有限公司"}


def test_queries_with_nothing_searchable_find_nothing(book):
    assert found(book.admin, "——") == set()
    assert found(book.rep, "!!") == set()


def test_search_results_respect_visibility(book):
    assert found(book.rep, "华为") == {HUAWEI}
    assert found(book.rep_north, "华为") == {"天津华为科技有限公司"}
    assert found(book.rep2, "华为") == set()
    assert found(book.director, "华为") == {HUAWEI, "天津华为科技有限公司"}
    assert found(book.gm, "华为") == {HUAWEI, "天津华为科技有限公司"}
    assert found(book.rep_north, "62345678") == set()


def test_search_combines_with_filters(book):
    assert found(book.admin, "华为", kind="organization") == {HUAWEI, "天津华为科技有限公司"}
    assert found(book.admin, "华为", owner=book.rep_north.pk) == {"天津华为科技有限公司"}
    assert found(book.admin, "建国", kind="organization") == set()


def test_search_counts_the_matches(book):
    page = customer_list(user=book.admin, filters=CustomerFilters(q="有限公司"), limit=1)
    assert page.count == 3 and len(page.items) == 1 and page.has_next


def test_archived_customers_disappear_from_search_and_reappear_after_restore(book):
    customer_archive(actor=book.info, customer_id=book.huawei.pk)
    for user in (book.rep, book.admin, book.info):
        assert found(user, "华为") & {HUAWEI} == set()
        assert found(user, "62345678") == set()
        assert found(user, "李娜") == set()
    assert found(book.info, "华为", archived=True) == set()  # the archive list is not searched by the index
    customer_restore(actor=book.info, customer_id=book.huawei.pk)
    assert found(book.rep, "华为") == {HUAWEI}
    assert found(book.admin, "李娜") == {HUAWEI}


def test_editing_a_name_updates_the_index(book):
    customer_update(actor=book.rep, customer_id=book.person.pk, data={"name": "赵卫东"})
    assert everywhere(book, "建国") == set()
    assert everywhere(book, "wjg") == set()
    assert everywhere(book, "卫东") == {"赵卫东"}
    assert everywhere(book, "zwd") == {"赵卫东"}
    assert everywhere(book, "5555 9898") == {"赵卫东"}


def test_editing_a_phone_updates_the_index(book):
    customer_update(actor=book.rep, customer_id=book.chongqing.pk, data={"mobile": "150 4444 3333"})
    assert everywhere(book, "8765") == set()
    assert everywhere(book, "44443333") == {CHONGQING}


def test_contact_changes_update_the_index(book):
    contact = book.huawei.contacts.get()
    contact_update(actor=book.rep, contact_id=contact.pk, data={"name": "周杰", "mobile": "131 2121 3434"})
    assert everywhere(book, "李娜") == set()
    assert everywhere(book, "周杰") == {HUAWEI}
    assert everywhere(book, "21213434") == {HUAWEI}
    contact_archive(actor=book.rep, contact_id=contact.pk)
    assert everywhere(book, "周杰") == set()
    assert everywhere(book, "华为") == {HUAWEI}


def test_a_new_contact_is_searchable_at_once(book, make_contact):
    make_contact(book.rep, book.person, "孙丽", mobile="158 0000 7777")
    assert everywhere(book, "孙丽") == {PERSON}
    assert everywhere(book, "00007777") == {PERSON}


def test_restricted_search_walks_the_matches_in_blocks(book, make_customer, monkeypatch):
    from qianke.customers import selectors

    extra = [make_customer(book.rep, f"上海华为{n}号有限公司") for n in range(6)]
    make_customer(book.rep_north, "广州华为有限公司")  # newest match, not visible to the rep
    monkeypatch.setattr(selectors, "SEARCH_BLOCKS", (2,))

    def page(**kwargs):
        return customer_list(user=book.rep, filters=CustomerFilters(q="华为"), **kwargs)

    monkeypatch.setattr(selectors, "SEARCH_COUNT_SCAN", 2)
    first = page(limit=3)
    assert [c.pk for c in first.items] == [c.pk for c in reversed(extra)][:3]
    assert first.count_capped and 4 <= first.count <= 7 and first.has_next  # "at least" count
    later = page(offset=5, limit=3)
    assert [c.pk for c in later.items] == [extra[0].pk, book.huawei.pk]
    monkeypatch.setattr(selectors, "SEARCH_COUNT_SCAN", 1_000)
    exact = page(limit=3)
    assert (exact.count, exact.count_capped) == (7, False)
    monkeypatch.setattr(selectors, "SEARCH_PAGE_SCAN", 2)  # gives up: the whole match list, exact count
    fallback = page(limit=3)
    assert (fallback.count, fallback.count_capped) == (7, False)
    assert [c.pk for c in fallback.items] == [c.pk for c in first.items]


def test_bulk_index_suspension_rebuilds_the_index(book, make_customer):
    from qianke.customers import search

    with pytest.raises(RuntimeError), search.bulk_index_suspended():
        make_customer(book.rep, "苏州华为有限公司")
        raise RuntimeError("the load failed")
    with search.bulk_index_suspended():
        make_customer(book.rep, "无锡华为有限公司")
    assert found(book.rep, "华为") == {HUAWEI, "苏州华为有限公司", "无锡华为有限公司"}
    make_customer(book.rep, "常州华为有限公司")  # the triggers are back
    assert "常州华为有限公司" in found(book.rep, "华为")


@pytest.mark.django_db(transaction=True)
def test_bulk_index_suspension_outside_a_transaction_rebuilds_every_index(book, make_customer):
    """PostgreSQL builds the GIN indexes in two sessions at once when no transaction is open."""
    from django.db import connection

    from qianke.customers import search

    with search.bulk_index_suspended():
        make_customer(book.rep, "无锡华为有限公司")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'customers_customersearch'")
            assert set(search.PG_INDEX_NAMES) <= {row[0] for row in cursor.fetchall()}
    assert found(book.rep, "华为") == {HUAWEI, "无锡华为有限公司"}


def test_postgresql_index_holds_the_same_lexemes_as_the_text_search_parser(book, make_customer):
    from django.db import connection

    from qianke.customers import search

    if connection.vendor != "postgresql":
        pytest.skip("the tsvector columns exist on PostgreSQL only")
    # Digits, Latin, CJK (also Extension A and compatibility ideographs) and mixed tokens.
    make_customer(book.rep, "㐀豈A1号 第2分公司", email="x9@abc.cn", phone="0571-8888 1234")
    with connection.cursor() as cursor:
        same = " AND ".join(f"{search.pg_tsvector(c)} = strip(to_tsvector('simple', {c}))" for c in search.PG_COLUMNS)
        cursor.execute(f"SELECT count(*), count(*) FILTER (WHERE {same}) FROM customers_customersearch")
        total, same = cursor.fetchone()
    assert total == 6 and same == total
    assert everywhere(book, "1号第2") == {"㐀豈A1号 第2分公司"}


@pytest.mark.parametrize(("bitmap_row_cost", "rare", "range_margin"),
                         [(0, False, 1.5), (0, False, 1e-4), (10**9, False, 1.5), (1, True, 1.5)],
                         ids=["gin-candidates", "gin-in-narrow-ranges", "sequential", "gin-at-once"])
def test_postgresql_search_beyond_the_newest_rows_finds_the_same(book, make_customer, monkeypatch, bitmap_row_cost,
                                                                 rare, range_margin):
    # Only two rows in the first step: the rest of the matches come from GIN candidates (cost 0; read
    # in id ranges, which a tiny margin makes narrower than one id, so that many are walked down) or
    # from scanning further down (cost huge); or, when statistics call every gram rare, from GIN
    # without the first step. SQLite ignores these settings.
    from qianke.customers import search

    monkeypatch.setattr(search, "PG_PROBE_ROWS", 2)
    monkeypatch.setattr(search, "PG_BITMAP_ROW_COST", bitmap_row_cost)
    monkeypatch.setattr(search, "PG_RANGE_MARGIN", range_margin)
    if bitmap_row_cost == 0:
        monkeypatch.setattr(search, "PG_GIN_ENTRY_COST", 0)
        monkeypatch.setattr(search, "PG_GIN_PREFIX_ENTRY_COST", 0)
    if rare:
        monkeypatch.setattr(search, "_pg_candidates_bound", lambda clauses: 0.0)
    for n in range(3):
        make_customer(book.rep2, f"广州新星{n}贸易商行")  # the newest rows, matched by none of the queries
    assert everywhere(book, "华为") == {HUAWEI}
    assert found(book.admin, "华为") == {HUAWEI, "天津华为科技有限公司"}
    assert everywhere(book, "华") == {HUAWEI}  # a prefix
    assert everywhere(book, "华为长安") == set()
    assert everywhere(book, "beijinghuawei") == {HUAWEI}
    assert everywhere(book, "3377") == {HUAWEI}
    assert everywhere(book, "司") == {HUAWEI, CHONGQING}
    assert found(book.admin, "公司") == {HUAWEI, CHONGQING, "天津华为科技有限公司"}


@pytest.mark.parametrize("rare", [False, True], ids=["text-test", "gin-first"])
def test_search_in_another_sort_order_finds_the_same(book, monkeypatch, rare):
    # PostgreSQL reads rare fragments' candidates from GIN first, common ones by the text test alone.
    from qianke.customers import search

    if rare:
        monkeypatch.setattr(search, "_pg_candidates_bound", lambda clauses: 0.0)
        monkeypatch.setattr(search, "_pg_rows", 1.0)
    for query, expected in (("华为", {HUAWEI, "天津华为科技有限公司"}), ("bjhw", {HUAWEI}), ("3377", {HUAWEI}),
                            ("华为长安", set())):
        page = customer_list(user=book.admin, filters=CustomerFilters(q=query, sort="name"), limit=100)
        assert {c.name for c in page.items} == expected and page.count == len(expected), query
    assert found(book.rep, "华为", sort="-name") == {HUAWEI}


@pytest.mark.django_db
def test_a_common_fragment_counts_up_to_a_thousand_then_says_at_least(settings, tmp_path, client):
    """SEARCH_COUNT_SCAN: a search stops counting after 1,000 matches; the list says "1,000+"."""
    from qianke.accounts.models import User
    from qianke.core.demo import demo_generate

    settings.QIANKE_HOME = tmp_path
    demo_generate(customers=1_050, seed=2, workers=0)
    gm = User.objects.get(username="demo.gm")
    page = customer_list(user=gm, filters=CustomerFilters(q="kh"))  # every customer code starts with KH
    assert (page.count, page.count_capped) == (1_000, True) and len(page.items) == settings.QIANKE_PAGE_SIZE
    client.force_login(gm)
    assert "1,000+" in client.get("/customers/", {"q": "kh"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()


@pytest.mark.parametrize("probe_rows", [2, 4_000], ids=["beyond-the-newest-rows", "within-the-newest-rows"])
def test_top_matches_give_the_newest_page_and_a_count_up_to_the_limit(book, make_customer, monkeypatch, probe_rows):
    from qianke.customers import search

    monkeypatch.setattr(search, "PG_PROBE_ROWS", probe_rows)  # PostgreSQL: where the first step stops
    for n in range(12):
        make_customer(book.rep, f"杭州华为第{n}分公司")
    newest = search.match_ids("华为", limit=100)
    assert len(newest) == 14  # these and the book's two
    ids, count = search.top_matches("华为", page_end=3, count_limit=10)
    assert (ids, count) == (newest[:3], 10)  # stopped counting at the limit
    ids, count = search.top_matches("华为", page_end=3, count_limit=100)
    assert (ids, count) == (newest[:3], 14)  # exact below the limit
    assert search.top_matches("华为", page_end=20, count_limit=100) == (newest, 14)
    assert search.top_matches("——", page_end=3, count_limit=10) is None
