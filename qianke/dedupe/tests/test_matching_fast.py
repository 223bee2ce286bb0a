"""The engine's fast paths give exactly what the general code gives.

records.py reads canonical text through a per-character table filled from normalize; scoring.py weighs
company pairs without evidence before building it; engine.py prepares in forked workers. Each is held
here against the reference on varied input; awkward input prepares without error.
"""

import collections
import datetime as dt
import pickle
import sys
from pathlib import Path

import pytest

from qianke.core import normalize
from qianke.dedupe.matching import Record, engine, records, scoring

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))
from zh_companies import generate  # noqa: E402

ROLES = ("name", "phone", "mobile", "email", "address", "postcode", "contact", "credit_code")


@pytest.fixture(scope="module")
def rows():
    return generate(1500, seed=11)


def company_records(rows):
    return [Record(r["id"], "organization", {k: (r[k],) for k in ROLES}) for r in rows]


AWKWARD_TEXT = [
    "",
    " ",
    "北京",
    "北京市",
    "北京市海淀区中关村大街1号",
    "广东省深圳市南山区科技园",
    "深圳南山区",
    "吉林省吉林市船营区",
    "内蒙古自治区呼和浩特市",
    "新疆维吾尔自治区乌鲁木齐市天山区",
    "广西壮族自治区南宁市青秀区民族大道",
    "湖北省恩施土家族苗族自治州恩施市",
    "上海 浦东新区 张江路",
    "ＳＨＡＮＧＨＡＩ上海市徐汇区",
    "臺灣省台北市",
    "廣東省廣州市天河區",
    "天津市河西区",
    "津市河西区",
    "泽州教育",
    "重庆市渝中区解放碑",
    "河北省石家庄市长安区",
    "（北京）",
    "[上海]",
    "北京市北京市",
    "海淀区",
    "朝阳区建国路",
    "café 北京",
    "北京\u0301市",
    "北京😀海淀区",
    "ﾍﾟｷﾝ北京",
    "北京市\n海淀区",
    "\u3000北京市\u3000朝阳区",
    "Beijing Haidian",
    "100080",
    "浙江省杭州市西湖区文三路",
]

AWKWARD_NAMES = [
    "北京华为技术有限公司",
    "华为技术（北京）有限公司",
    "华为技术(北京)有限公司",
    "華為技術有限公司",
    "华为技术",
    "华为技术有限公司上海分公司",
    "北京华为技术有限公司上海分公司",
    "华为上海分公司",
    "华为技术有限公司北京办事处",
    "中国工商银行北京分行",
    "招商银行深圳南山支行",
    "杭州娃哈哈集团有限公司",
    "上海联影医疗科技股份有限公司",
    "广东省深圳市华为电器有限公司",
    "深圳市 华伟电器 有限公司",
    "ＡＢＣ科技有限公司",
    "abc Technology Co., Ltd.",
    "【北京】星辰科技",
    "星辰科技（集团）有限公司",
    "公司",
    "有限公司",
    "北京",
    "北京市公司",
    "éclair咖啡有限公司",
    "星辰😀科技",
    "星辰科技有限公司\t",
    "集团有限公司",
    "北京北京科技",
    "内蒙古伊利实业集团股份有限公司",
]

AWKWARD_PHONES = [
    "010-6234 5678",
    "+86 10 62345678",
    "0086-10-62345678",
    "(010)62345678",
    "（010）6234-5678",
    "01062345678",
    "010-62345678转801",
    "010-62345678 ext 12",
    "010-62345678#3",
    "13812345678",
    "138-1234-5678",
    "138 1234 5678",
    "+86 13812345678",
    "+86-13812345678",
    "+8613812345678",
    "008613812345678",
    "８６１３８１２３４５６７８",
    "１３８１２３４５６７８",
    "４００-８００-８８８８",
    "4008008888",
    "95588",
    "12345",
    "0755-2878 0808",
    "+852 2345 6789",
    "+86 755 28780808",
    "+86 1062345678",
    "+86 12",
    "0086",
    "+",
    "--",
    "1234567",
    "86 10 62345678",
    "0571－87654321",
    "021.5555.1234",
    "021/5555/1234",
    "tel 021-55551234",
    "13812345678\n",
    "１３８‐１２３４‐５６７８",
    "+861",
    "020-57343481转858",
    "020-57343481 转 858",
    "13812345678转1",
    "转801",
    "010-1转801",
    "010-62345678转1234567",
    "０１０-62345678转801",
    "010-62345678转八",
]


def test_awkward_values_prepare_without_error():
    for name, address, phone in zip(AWKWARD_NAMES + AWKWARD_TEXT, AWKWARD_TEXT + AWKWARD_NAMES,
                                    AWKWARD_PHONES * 3, strict=False):
        prepared = records.prepare(Record("x", "organization", {"name": (name,), "address": (address,),
                                                                 "phone": (phone,), "mobile": (phone,)}))
        assert prepared.kind == "organization"
    assert records.prepare(Record("m", "organization", {"mobile": ("+86 138-1234-5678",)})).mobiles == {"13812345678"}


def test_compact_text_matches_canonical_text():
    for value in ["张 伟", "張偉", "ＺＨＡＮＧ Wei", "O'Brien", "李-娜", "é", "王😀", "  ", "ｱｲｳ", 12345]:
        expected = records._NOT_WORD.sub("", normalize.canonical_text(value))
        assert records._compact(value) == expected, value


def test_pinyin_reads_each_character_alone():
    from pypinyin import lazy_pinyin

    text = "华为技术abc重庆1"
    assert records.pinyin_of(text) == "".join(
        lazy_pinyin(c)[0] if "\u3400" <= c <= "\u9fff" else c for c in text
    )


def test_prepared_record_survives_pickling_and_flat_form(rows):
    for record in company_records(rows[:300]):
        prepared = records.prepare(record)
        assert pickle.loads(pickle.dumps(prepared)) == prepared
        assert records._rebuild(*records.flat(prepared)) == prepared


def test_quick_company_score_agrees_with_score_pair_on_every_candidate_pair(rows):
    prepared = [records.prepare(r) for r in company_records(rows)]
    freq = scoring.Frequencies(prepared)
    n = len(prepared)
    pairs = engine.candidate_pairs(prepared).tolist()
    assert len(pairs) > 1000
    ruled_out = 0
    for code in pairs:
        a, b = prepared[code // n], prepared[code % n]
        full = scoring.score_pair(a, b, freq)
        quick = scoring.organization_score(a, b, freq)
        assert round(quick, 4) == full.score, (a, b)
        assert scoring._decide(quick) == full.decision
        if scoring.plainly_different(a, b, freq):
            assert full.decision == "different", (a, b)
            ruled_out += 1
    assert ruled_out > len(pairs) // 4


def test_bulk_frequencies_count_like_one_by_one(rows):
    people = [
        Record(
            f"p{i}",
            "individual",
            {
                "given_name": (g,),
                "family_name": (f,),
                "birth_date": ("19800101",),
                "street": ("12", "main st", ""),
                "locality": ("canberra",),
                "region": ("act",),
                "postcode": ("2600",),
                "email": (f"{g}@x.com",),
            },
        )
        for i, (g, f) in enumerate([("ann", "lee"), ("bob", "lee"), ("ann", "wu"), ("", "lee"), ("cy", "")])
    ]
    prepared = [records.prepare(r) for r in company_records(rows) + people]
    bulk = scoring.Frequencies(prepared)
    single = scoring.Frequencies()
    for p in prepared:
        single.add(p)
    assert bulk.total == single.total
    assert {k: v for k, v in bulk.counts.items() if v} == {k: v for k, v in single.counts.items() if v}


def test_preparing_in_workers_gives_the_same_records_and_pairs(rows):
    recs = company_records(rows)
    serial = engine.prepare_all(recs, workers=1)
    parallel = engine.prepare_all(recs, workers=2)
    assert list(parallel) == serial
    assert parallel.key_hashes is not None
    assert engine.candidate_pairs(parallel).tolist() == engine.candidate_pairs(serial).tolist()


def test_preparing_records_as_they_come_gives_what_a_list_gives(rows, monkeypatch):
    monkeypatch.setattr(engine, "PARALLEL_FROM", 300)
    monkeypatch.setattr(engine, "PREPARE_CHUNK", 200)
    recs = company_records(rows)
    shared = engine.prepare_all(recs, workers=2)
    streamed = engine.prepare_all(iter(recs))  # the first 300 shared, the rest sent over in parts of 200
    assert list(streamed) == list(shared) == engine.prepare_all(recs, workers=1)
    assert streamed.key_hashes[0].tolist() == shared.key_hashes[0].tolist()
    assert streamed.key_hashes[1].tolist() == shared.key_hashes[1].tolist()
    assert streamed.column_hashes.tolist() == shared.column_hashes.tolist()
    assert streamed.frequencies.counts == shared.frequencies.counts


def test_a_short_iterator_is_prepared_in_one_process(rows):
    recs = company_records(rows[:50])
    prepared = engine.prepare_all(r for r in recs)
    assert prepared == engine.prepare_all(recs, workers=1)
    assert getattr(prepared, "key_hashes", None) is None


def test_scan_in_workers_finds_the_same_matches_as_one_process(rows, monkeypatch):
    monkeypatch.setattr(engine, "PARALLEL_PAIRS", 100)
    monkeypatch.setattr(engine, "SCORE_CHUNK", 1000)
    recs = company_records(rows)
    one = engine.find_matches(recs, workers=1)
    two = engine.find_matches(recs, workers=2)
    assert [(m.left, m.right, m.score, m.decision, m.evidence) for m in one] == [
        (m.left, m.right, m.score, m.decision, m.evidence) for m in two
    ]


def sifted_like_score_pair(prepared) -> collections.Counter:
    """Holds the column filter to score_pair on every candidate pair: a pair of records the columns hold
    is ruled out exactly when score_pair decides "different" (so at least where plainly_different rules
    it out), a person and an organisation always. Returns (kinds, decision, ruled out) counts."""
    from qianke.dedupe.matching import columns

    freq = scoring.Frequencies(prepared)
    n = len(prepared)
    pairs = engine.candidate_pairs(prepared)
    sift = columns.Columns.build(columns.record_hashes(prepared), freq, prepared)
    assert sift is not None
    ruled_out = sift.plainly_different(pairs // n, pairs % n).tolist()
    seen = collections.Counter()
    for code, ruled in zip(pairs.tolist(), ruled_out, strict=True):
        a, b = prepared[code // n], prepared[code % n]
        decision = scoring.score_pair(a, b, freq).decision
        kinds = "mixed" if a.kind != b.kind else a.kind
        if kinds == "mixed":
            assert ruled and decision == "different"
        elif not (sift.fallback[code // n] or sift.fallback[code % n]):
            assert ruled == (decision == "different"), (a, b, decision)
            if kinds == "organization" and scoring.plainly_different(a, b, freq):
                assert ruled
        else:
            assert not ruled
        seen[(kinds, decision, ruled)] += 1
    return seen


def test_column_filter_rules_out_exactly_the_pairs_score_pair_calls_different(rows):
    seen = sifted_like_score_pair([records.prepare(r) for r in company_records(rows)])
    assert seen[("organization", "different", True)] > 1000
    assert seen[("organization", "same", False)] + seen[("organization", "review", False)] > 100


def with_contacts(recs):
    """Every other company with one or two more contacts (names, mobiles, a second e-mail), as the scan
    reads a customer with several contacts; some contacts are shared between companies."""
    out = []
    for i, record in enumerate(recs):
        values = dict(record.values)
        if i % 2:
            extra = 1 + (i % 4 == 1)
            values["contact"] = (*values["contact"], *[f"联系人{(i * 7 + k) % 300}" for k in range(extra)])
            values["mobile"] = (*values["mobile"], *[f"139{(i * 13 + k) % 400:08d}" for k in range(extra)])
            if i % 3 == 0:
                values["email"] = (*values["email"], f"sales{i % 50}@example{i % 40}.com")
        out.append(Record(record.id, record.kind, values))
    return out


def test_column_filter_holds_companies_with_several_contacts_and_phones(rows):
    from qianke.dedupe.matching import columns

    prepared = [records.prepare(r) for r in with_contacts(company_records(rows))]
    several = [len(p.contacts) > 1 and len(p.phones) > 2 for p in prepared]
    assert sum(several) > len(prepared) // 5
    freq = scoring.Frequencies(prepared)
    assert not columns.Columns.build(columns.record_hashes(prepared), freq, prepared).fallback[several].any()
    seen = sifted_like_score_pair(prepared)
    assert seen[("organization", "different", True)] > 1000
    assert seen[("organization", "same", False)] + seen[("organization", "review", False)] > 100


def people_records(count: int, seed: int = 5) -> list[Record]:
    """People as the scan reads them (full name, birthday, address, mobile, postcode), with duplicates
    typed with a slip (a character of the name, a digit or day and month of the birthday, a digit of the
    postcode, another mobile) and many sharing a birthday or a name, so pairs fall on both sides of the
    review band."""
    import random

    from qianke.dedupe.matching.adapters import record_from_values

    rng = random.Random(seed)
    families, givens = "王李张刘陈杨黄赵", ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "艳", "杰"]
    cities = [("北京市", "北京市", "海淀区", "100080"), ("上海市", "上海市", "浦东新区", "200120"),
              ("广东省", "深圳市", "南山区", "518052"), ("浙江省", "杭州市", "西湖区", "310012")]
    out = []
    for i in range(count):
        if out and rng.random() < 0.3:
            base = rng.choice(out)
            kind, name, province, city, district, address, postcode, mobile, birthday = base[1:10]
            slip = rng.randrange(5)
            if slip == 0:
                name = name[:-1] + rng.choice(givens)
            elif slip == 1 and birthday.day <= 12:
                birthday = birthday.replace(month=birthday.day, day=birthday.month)
            elif slip == 2:
                birthday = birthday.replace(day=birthday.day % 28 + 1)
            elif slip == 3:
                postcode = postcode[:-1] + str((int(postcode[-1]) + 1) % 10)
            else:
                mobile = f"138{rng.randrange(10**8):08d}"
        else:
            province, city, district, postcode = rng.choice(cities)
            name = rng.choice(families) + "".join(rng.sample(givens, rng.choice((1, 2))))
            address = f"建设路{rng.randrange(1, 400)}号"
            mobile = f"13{rng.randrange(10**9):09d}"
            birthday = dt.date(rng.randrange(1970, 1975), rng.randrange(1, 13), rng.randrange(1, 29))
            postcode = postcode[:-2] + f"{rng.randrange(100):02d}"
        out.append((f"p{i}", "individual", name, province, city, district, address, postcode, mobile, birthday))
    return [record_from_values(pk, kind, name, "", province, city, district, address, postcode, "", mobile, "",
                               birthday, None) for pk, kind, name, province, city, district, address, postcode,
            mobile, birthday in out]


def test_column_filter_rules_out_exactly_the_people_pairs_score_pair_calls_different(rows):
    seen = sifted_like_score_pair([records.prepare(r) for r in people_records(3000) + company_records(rows[:500])])
    assert seen[("individual", "different", True)] > 1000
    assert seen[("individual", "same", False)] + seen[("individual", "review", False)] > 100
    assert seen[("mixed", "different", True)] > 0


def test_records_the_columns_cannot_hold_are_left_to_python(rows):
    from qianke.dedupe.matching import columns

    recs = company_records(rows)
    # More contacts, e-mails and phones than the columns keep; two name cores of one length.
    for i in range(0, len(recs), 7):
        values = dict(recs[i].values)
        values["contact"] = (*values["contact"], "王小明", "李小红", "赵小刚", "刘小军")
        values["email"] = (*values["email"], f"extra{i}@example.com", f"more{i}@example.com", f"x{i}@example.com")
        recs[i] = Record(recs[i].id, recs[i].kind, values)
    values = dict(recs[1].values)
    values["mobile"] = tuple(f"1380000000{k}" for k in range(6))
    recs[1] = Record(recs[1].id, recs[1].kind, values)
    values = dict(recs[2].values)
    values["short_name"] = ("星辰科技",)
    values["name"] = ("北京月亮科技有限公司",)
    recs[2] = Record(recs[2].id, recs[2].kind, values)
    # People with what only Python weighs: given and family names, an ID number, a street.
    recs.append(Record("p1", "individual", {"name": ("王小明",), "mobile": ("13800000000",),
                                            "id_number": ("110101198005170011",)}))
    recs.append(Record("p2", "individual", {"given_name": ("小明",), "family_name": ("王",)}))
    recs.append(Record("p3", "individual", {"name": ("王小明",), "street": ("12", "main st")}))
    recs.append(Record("p4", "individual", {"name": ("王小明",), "mobile": ("13800000001",)}))
    prepared = [records.prepare(r) for r in recs]
    freq = scoring.Frequencies(prepared)
    sift = columns.Columns.build(columns.record_hashes(prepared), freq, prepared)
    assert sift is not None
    assert len(prepared[1].phones) > 5 and len(prepared[2].cores) == 2
    crowded = [i % 7 == 0 or i in (1, 2) or p.id in ("p1", "p2", "p3") for i, p in enumerate(prepared)]
    assert sift.fallback.tolist() == crowded
    n = len(prepared)
    pairs = engine.candidate_pairs(prepared)
    left, right = pairs // n, pairs % n
    ruled_out = sift.plainly_different(left, right)
    same_kind = sift.person[left] == sift.person[right]
    assert not ruled_out[(sift.fallback[left] | sift.fallback[right]) & same_kind].any()
    for code in pairs[ruled_out].tolist():
        assert scoring.score_pair(prepared[code // n], prepared[code % n], freq).decision == "different"


def test_scan_finds_the_same_matches_with_and_without_the_column_filter(rows, monkeypatch):
    recs = with_contacts(company_records(rows)) + people_records(1500)
    sifted = engine.find_matches(recs, workers=1)
    monkeypatch.setattr(engine.Columns, "build", classmethod(lambda cls, hashes, freq, prepared=None: None))
    unsifted = engine.find_matches(recs, workers=1)
    assert [(m.left, m.right, m.score, m.decision, m.evidence) for m in sifted] == [
        (m.left, m.right, m.score, m.decision, m.evidence) for m in unsifted
    ]


def test_clustering_without_evidence_gives_the_groups_the_reported_matches_give(rows):
    recs = company_records(rows)
    matches = engine.find_matches(recs, workers=1)
    assert any(m.evidence for m in matches)
    with_evidence = engine.cluster(recs, matches=matches, workers=1)
    without = engine.cluster(recs, workers=1)
    assert [(list(g), g.score) for g in without] == [(list(g), g.score) for g in with_evidence]
    assert sum(len(g) > 1 for g in without) > 100


def test_clustering_without_singletons_gives_the_same_groups(rows):
    recs = company_records(rows)
    matches = engine.find_matches(recs, workers=1)
    every = engine.cluster(recs, matches=matches, workers=1)
    groups = engine.cluster(recs, matches=matches, workers=1, singletons=False)
    assert [(list(g), g.score) for g in groups] == [(list(g), g.score) for g in every if len(g) > 1]
    assert len(groups) > 100 and len(every) > len(groups) + 500
