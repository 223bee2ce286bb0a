"""Shortcuts of the demo builders give what the services' own functions give: canonical phone numbers,
search documents of names put together from their words, and the pools filled before a large
PostgreSQL load builds its indexes."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest
from django.db import connection

from qianke.core import demo, normalize
from qianke.core.demo import demo_capabilities, demo_generate
from qianke.core.models import SuspendedIndex
from qianke.core.tests.conftest import DEMO_NOW
from qianke.customers.models import Customer
from qianke.customers.services import customer_search_document
from qianke.pool.models import PoolEntry

NOW = DEMO_NOW


def test_the_demo_phone_numbers_are_canonical_as_drawn():
    rng = random.Random(3)
    for prefix in demo.MOBILE_PREFIXES:
        mobile = prefix + demo._mobile(rng)[3:]
        assert normalize.normalize_mobile(mobile) == mobile
    for _province, _city, area, *_rest in demo.CITIES:
        for _ in range(20):
            phone = demo._landline(rng, area)
            assert normalize.normalize_phone(phone) == phone.replace("-", "")
            assert normalize.normalize_phone(f"{phone}转812") == f"{phone.replace('-', '')}-812"


def test_a_name_put_together_from_its_words_has_the_tokens_search_document_gives():
    with demo._word_pinyin() as pinyin:
        documents = normalize.search_document
        for words in (("杭州", "华信", "软件", "有限公司"), ("重庆", "长安", "汽车"), ("北京市", "疾病预防控制中心"),
                      ("银行", "长乐"), ("中国", "3M")):
            name = "".join(words)
            pinyin.register(name, words)
            real = documents.real(names=[name], phones=[], others=[])  # through the per-word pinyin
            joined = documents._joined(name, words)
            if words[-1] == "3M":  # not searchable as it is: left to search_document
                assert joined is None
            else:
                assert joined == (real.names, real.pinyin)
            doc = documents(names=[name, "王伟"], phones=[], others=[])
            alone = documents.real(names=["王伟"], phones=[], others=[])
            assert doc.names == " ".join(filter(None, (real.names, alone.names)))
            assert doc.pinyin == " ".join(filter(None, (real.pinyin, alone.pinyin)))


def test_initials_taken_from_the_plain_pinyin_are_pypinyins_for_every_demo_name_and_word():
    from pypinyin import Style, lazy_pinyin

    names = [family + given for family in demo.FAMILY_NAMES for given in demo.GIVEN_MALE + demo.GIVEN_FEMALE]
    words = [w for group in demo.INDUSTRY_WORDS.values() for w in group] + list(demo.COMPANY_SUFFIXES)
    words += [city for _p, city, *_rest in demo.CITIES] + [a + b for a in demo.BRAND_CHARS for b in demo.BRAND_CHARS[:9]]
    fast = demo._WordPinyin(lazy_pinyin)
    for text in [*names, *words, "中国3M", "ABC", "中ma", "华为ai"]:
        assert fast(text, style=Style.FIRST_LETTER, errors="default") == lazy_pinyin(
            text, style=Style.FIRST_LETTER, errors="default"), text


def test_a_person_name_put_together_from_its_parts_has_the_tokens_search_document_gives():
    names = {family + given: (family, given) for family in demo.FAMILY_NAMES
             for given in demo.GIVEN_MALE + demo.GIVEN_FEMALE}
    # Computed before the demo's stand-ins replace pypinyin's calls.
    reals = {name: normalize.search_document(names=[name], phones=[], others=[]) for name in names}
    joined = 0
    with demo._word_pinyin() as pinyin:
        documents = normalize.search_document
        for name, (family, given) in names.items():
            real = reals[name]
            if demo._read_apart(family, given):
                pinyin.register(name, (family, given))
                joined += 1
            doc = documents(names=[name], phones=[], others=[])
            assert (doc.names, doc.pinyin) == (real.names, real.pinyin), name
            pinyin.forget()
    assert not demo._read_apart("于", "思琪")  # pypinyin reads it yu sai qi
    assert joined > 6_900


def test_the_search_document_of_rows_is_the_services_one():
    c = {"name": "杭州华信软件有限公司", "short_name": "华信软件", "phone": "0571-23456789", "mobile": "13812345678",
         "code": "KH202603000001", "email": "a@b.cn"}
    contacts = [{"name": "王伟", "mobile": "13912345678"}, {"name": "李娜", "phone": "0571-23456789转801",
                                                          "email": "li@b.cn"}]
    service = customer_search_document(
        SimpleNamespace(**{k: c.get(k, "") for k in ("name", "short_name", "phone", "mobile", "fax", "email", "code")}),
        [SimpleNamespace(**{k: x.get(k, "") for k in ("name", "phone", "mobile", "email")}) for x in contacts])
    assert demo._search_document(c, contacts) == service


@pytest.fixture
def home(demo_home):
    return demo_home


def _pool_entries() -> list[tuple]:
    rank = {pk: n for n, pk in enumerate(Customer.objects.order_by("pk").values_list("pk", flat=True))}
    return [(rank[c], *rest) for c, *rest in PoolEntry.objects.order_by("customer_id").values_list(
        "customer_id", "pool__name", "in_pool", "entered_at", "last_owner_id", "left_at")]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fast_password_hashing")
def test_a_large_postgresql_load_fills_the_pools_before_its_indexes_as_the_step_after_it_would(home):
    if connection.vendor != "postgresql":
        pytest.skip("only a PostgreSQL load into empty tables builds its indexes after the rows")
    counts = demo_generate(customers=600, seed=3, now=NOW, workers=0, suspend_index=True, capabilities=True)
    early = _pool_entries()
    assert counts["capabilities"]["qianke.pool.demo"] == {"pools": 5, "pool_customers": len(early)} and early
    assert not SuspendedIndex.objects.exists()
    reported = demo_capabilities(seed=3, modules=("qianke.pool.demo",), loaded=counts["capabilities"])
    assert reported == {"qianke.pool.demo": {"pools": 5, "pool_customers": len(early)}}
    assert _pool_entries() == early  # the step after the load found the pools filled
    Customer.objects.all().delete()
    demo_generate(customers=600, seed=3, now=NOW, workers=0, suspend_index=False, capabilities=True)
    assert not PoolEntry.objects.exists()
    demo_capabilities(seed=3, modules=("qianke.pool.demo",))
    assert _pool_entries() == early
