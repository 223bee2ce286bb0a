"""The one normalisation module: what users type in, what we match and search on."""

import pytest
from django.core.exceptions import ValidationError

from qianke.core import normalize as n

# ---------------------------------------------------------------------------------------------
# Full-width → half-width, whitespace
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("ＡＢＣ１２３", "ABC123"),
        ("１３８－１２３４", "138-1234"),
        ("（北京）", "(北京)"),
        ("ａ\u3000ｂ", "a b"),  # ideographic space
        ("name＠example．com", "name@example.com"),
        ("北京华为", "北京华为"),  # CJK characters untouched
    ],
)
def test_to_halfwidth_folds_fullwidth_letters_digits_punctuation(typed, expected):
    assert n.to_halfwidth(typed) == expected


def test_clean_text_trims_and_collapses_whitespace_but_keeps_characters():
    assert n.clean_text("  北京   华为\t技术\n ") == "北京 华为 技术"
    assert n.clean_text("ＡＢＣ") == "ＡＢＣ"  # what the user typed is kept
    assert n.clean_text(None) == ""
    assert n.clean_text("") == ""


# ---------------------------------------------------------------------------------------------
# Company and person names
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "variant",
    [
        "北京华为技术有限公司",
        "北京华为技术股份有限公司",
        "北京华为技术有限责任公司",
        "北京 华为技术 有限公司",
        "北京华为技术\u3000有限公司",
        "北京华为技术公司",
        " 北京华为技术有限公司 ",
    ],
)
def test_company_name_variants_share_one_canonical_form(variant):
    assert n.normalize_company_name(variant) == "北京华为技术"


def test_company_name_strips_the_longest_legal_form_not_a_fragment():
    # 股份有限公司 goes whole; stripping only 有限公司 would leave 股份 behind.
    assert n.normalize_company_name("华为股份有限公司") == "华为"
    assert n.normalize_company_name("华为股份有限公司") == n.normalize_company_name("华为有限公司")


@pytest.mark.parametrize("variant", ["杭州娃哈哈集团有限公司", "杭州娃哈哈集团公司", "杭州娃哈哈集团",
                                     "杭州娃哈哈集团股份有限公司", "杭州娃哈哈有限公司"])
def test_company_name_group_forms_share_one_canonical_form(variant):
    assert n.normalize_company_name(variant) == "杭州娃哈哈"


def test_company_name_branch_stays_different_from_head_office():
    assert n.normalize_company_name("华为技术有限公司北京分公司") != n.normalize_company_name("华为技术有限公司")


def test_company_name_brackets_fullwidth_or_halfwidth_are_equal():
    full = n.normalize_company_name("华为技术（北京）有限公司")
    half = n.normalize_company_name("华为技术(北京)有限公司")
    square = n.normalize_company_name("华为技术【北京】有限公司")
    assert full == half == square == "华为技术北京"


def test_company_name_fullwidth_latin_letters_fold_to_lower_case():
    assert n.normalize_company_name("ＡＢＣ科技有限公司") == n.normalize_company_name("abc科技有限公司") == "abc科技"
    assert n.normalize_company_name("IBM（中国）有限公司") == "ibm中国"


def test_company_name_different_companies_stay_different():
    assert n.normalize_company_name("北京华为技术有限公司") != n.normalize_company_name("上海华为技术有限公司")
    assert n.normalize_company_name("华为技术有限公司") != n.normalize_company_name("华为投资有限公司")


def test_company_name_that_is_only_a_legal_form_is_not_emptied():
    assert n.normalize_company_name("公司") == "公司"


def test_company_name_in_traditional_characters_has_the_simplified_canonical_form():
    assert n.normalize_company_name("深圳騰訊計算機系統有限公司") == n.normalize_company_name("深圳腾讯计算机系统有限公司")
    assert n.normalize_company_name("華為技術（北京）有限公司") == "华为技术北京"


def test_person_name_in_traditional_characters_has_the_simplified_canonical_form():
    assert n.normalize_person_name("陳 大文") == n.normalize_person_name("陈大文") == "陈大文"


def test_search_tokens_and_queries_of_traditional_names_are_simplified():
    traditional = n.search_document(names=["深圳騰訊計算機系統有限公司"], phones=[], others=[])
    simplified = n.search_document(names=["深圳腾讯计算机系统有限公司"], phones=[], others=[])
    assert traditional == simplified
    assert n.search_clauses("騰訊") == n.search_clauses("腾讯")


def test_person_name_ignores_spaces_case_and_width():
    assert n.normalize_person_name(" 张 伟 ") == "张伟"
    assert n.normalize_person_name("Ｌｉ Ｍｉｎｇ") == n.normalize_person_name("li ming") == "liming"


def test_searchable_keeps_only_digits_latin_and_cjk():
    assert n.searchable("北京·华为-Tech (2026)！") == "北京华为tech2026"
    assert n.searchable(None) == ""


# ---------------------------------------------------------------------------------------------
# Mobile numbers
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+8613812345678",
        "0086 138 1234 5678",
        "0086-13812345678",
        "8613812345678",
        "１３８１２３４５６７８",
        "(138) 1234.5678",
    ],
)
def test_mobile_formats_give_eleven_digits(typed):
    assert n.normalize_mobile(typed) == "13812345678"


@pytest.mark.parametrize(
    "typed",
    ["1381234567", "138123456789", "12812345678", "23812345678", "1381234567a", "010-62345678", "", "手机"],
)
def test_invalid_mobile_numbers_are_refused(typed):
    with pytest.raises(ValidationError) as info:
        n.normalize_mobile(typed)
    assert info.value.code == "invalid_mobile"


# ---------------------------------------------------------------------------------------------
# Landlines, extensions, service numbers
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("010-62345678", "01062345678"),  # 3-digit area code, 8-digit number
        ("010 6234 5678", "01062345678"),
        ("(010)62345678", "01062345678"),
        ("（０１０）６２３４５６７８", "01062345678"),
        ("0755-2345678", "07552345678"),  # 4-digit area code, 7-digit number
        ("0755-23456789", "075523456789"),  # 4-digit area code, 8-digit number
        ("+86 (21) 5555-1234", "02155551234"),  # country code drops the trunk 0
        ("0086 10 62345678", "01062345678"),
        ("62345678", "62345678"),  # local number without area code
        ("400-820-8820", "4008208820"),
        ("800 820 8820", "8008208820"),
        ("95588", "95588"),
        ("10086", "10086"),
        ("138 1234 5678", "13812345678"),  # a mobile is a valid phone too
    ],
)
def test_phone_formats_give_canonical_digits(typed, expected):
    assert n.normalize_phone(typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("010-6234 5678 转 801", "01062345678-801"),
        ("010-62345678转801", "01062345678-801"),
        ("021 5555 1234 分机 12", "02155551234-12"),
        ("0571-8888888 ext. 5", "05718888888-5"),
        ("0571-8888888 EXT 5", "05718888888-5"),
        ("010-62345678#801", "01062345678-801"),
        ("010-62345678-801", "01062345678-801"),  # a complete number, then a dash and the extension
        ("+86 10 6234 5678-801", "01062345678-801"),
        ("0755-2345678-12", "07552345678-12"),
        ("010-6234-5678", "01062345678"),  # the part before the last dash is no number: no extension
        ("0755-2345-6781", "075523456781"),
    ],
)
def test_phone_extension_follows_after_a_dash(typed, expected):
    assert n.normalize_phone(typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "123",
        "12345",
        "010-1234567",  # Beijing numbers have 8 digits
        "010-623456789",  # one digit too many: 0106 is no area code
        "021-12345678",  # local numbers never start with 1
        "0755-12345678",
        "0755-234567890",
        "abc",
        "010-6234567a",
        "",
    ],
)
def test_invalid_phone_numbers_are_refused(typed):
    with pytest.raises(ValidationError) as info:
        n.normalize_phone(typed)
    assert info.value.code == "invalid_phone"


@pytest.mark.parametrize(
    ("digits", "expected"),
    [("8613800138000", "13800138000"), ("008613800138000", "13800138000"), ("861062345678", "01062345678"),
     ("8601062345678", "01062345678"), ("00862155551234", "02155551234"), ("13800138000", ""),
     ("01062345678", ""), ("86032866", ""), ("8613", "")],
)
def test_national_number_drops_the_country_code_of_a_whole_number_only(digits, expected):
    assert n.national_number(digits) == expected


def test_search_document_indexes_a_number_typed_with_the_country_code_in_its_national_form_too():
    tokens = n.search_document(names=[], phones=["+86 10 6234 5678"], others=[]).digits.split()
    assert tokens == n.whole_grams("861062345678", 4) + n.whole_grams("01062345678", 4)


def test_phone_digits_never_raises_and_keeps_only_digits():
    assert n.phone_digits("010-6234 5678 转 801") == "01062345678801"
    assert n.phone_digits("１３８") == "138"
    assert n.phone_digits("没有") == ""
    assert n.phone_digits(None) == ""


# ---------------------------------------------------------------------------------------------
# E-mail, postcode, customer code
# ---------------------------------------------------------------------------------------------


def test_email_is_halfwidth_lower_case():
    assert n.normalize_email(" Zhang.Wei@Example.COM ") == "zhang.wei@example.com"
    assert n.normalize_email("ｚｗ＠ｅｘａｍｐｌｅ．ｃｎ") == "zw@example.cn"


@pytest.mark.parametrize("typed", ["zhang", "zhang@", "@example.com", "zhang@example", "zh ang@example.com"])
def test_invalid_email_is_refused(typed):
    with pytest.raises(ValidationError):
        n.normalize_email(typed)


def test_postcode_has_six_digits():
    assert n.normalize_postcode("100080") == "100080"
    assert n.normalize_postcode(" １０００８０ ") == "100080"
    for bad in ("10008", "1000800", "10008a", ""):
        with pytest.raises(ValidationError):
            n.normalize_postcode(bad)


def test_customer_code_is_kh_plus_twelve_digits():
    assert n.validate_customer_code("KH202611000123") == "KH202611000123"
    assert n.validate_customer_code(" kh202611000123 ") == "KH202611000123"
    assert n.validate_customer_code("ＫＨ２０２６１１０００１２３") == "KH202611000123"
    # A month past 999,999 customers goes on with seven and eight digits (core.codes).
    assert n.validate_customer_code("KH2026111000000") == "KH2026111000000"
    assert n.validate_customer_code("kh20261112345678") == "KH20261112345678"
    for bad in ("KH20261100012", "KH2026110001234", "KH202611000012345", "KH202611123456789", "KB202611000123",
                "202611000123", "KH2026-11-000123"):
        with pytest.raises(ValidationError):
            n.validate_customer_code(bad)


# ---------------------------------------------------------------------------------------------
# Pinyin
# ---------------------------------------------------------------------------------------------


def test_pinyin_full_and_initials():
    assert n.pinyin_full("北京华为") == "beijinghuawei"
    assert n.pinyin_initials("北京华为") == "bjhw"


def test_pinyin_of_polyphonic_city_names_uses_the_place_reading():
    # 重 is zhong in most words but chong in 重庆; 长 is chang in 长沙, 厦 xia in 厦门.
    assert n.pinyin_full("重庆") == "chongqing"
    assert n.pinyin_initials("重庆") == "cq"
    assert n.pinyin_full("长沙") == "changsha"
    assert n.pinyin_full("厦门") == "xiamen"


def test_pinyin_keeps_latin_and_digits_and_drops_punctuation():
    assert n.pinyin_full("华为 Tech-2026") == "huaweitech2026"
    assert n.pinyin_initials("华为 Tech-2026") == "hwtech2026"


# ---------------------------------------------------------------------------------------------
# Search documents and clauses
# ---------------------------------------------------------------------------------------------


def test_grams_cover_every_substring_as_phrase_or_prefix():
    assert n.grams("abcd", 2) == ["ab", "bc", "cd", "d"]
    assert n.grams("", 3) == []


def test_search_document_columns():
    doc = n.search_document(names=["北京华为有限公司", "张伟"], phones=["010-6234 5678", "138 1234 5678"],
                            others=["Zhang@Example.com", "KH202611000123"])
    names = doc.names.split()
    assert "华为" in names and "张伟" in names and "北京" in names
    pinyin = doc.pinyin.split()
    assert {"bjh", "jhw", "bei", "wei", "zw"} <= set(pinyin)
    digits = doc.digits.split()
    assert {"0106", "5678", "1381", "3812"} <= set(digits)
    # the code's digits are searchable as digits too, and e-mail/code grams go to `other`
    assert {"0001", "0123"} <= set(digits)
    other = doc.other.split()
    assert {"zha", "exa", "com", "kh2", "123"} <= set(other)


def test_whole_grams_have_no_tails():
    assert n.whole_grams("123456", 4) == ["1234", "2345", "3456"]
    assert n.whole_grams("123", 4) == []


def test_search_document_digits_are_whole_four_digit_grams_only():
    """No digit query is shorter than DIGIT_GRAM, so 1-3 digit tails would be index entries nobody reads."""
    doc = n.search_document(names=[], phones=["138 1234 5678", "123"], others=["KH202611000123"])
    digits = doc.digits.split()
    assert all(len(t) == n.DIGIT_GRAM for t in digits)
    assert digits[:8] == ["1381", "3812", "8123", "1234", "2345", "3456", "4567", "5678"]
    assert len(digits) == 8 + 9  # the mobile's 11 digits and the code's 12; "123" gives none


def test_search_document_skips_empty_values():
    doc = n.search_document(names=["", "  "], phones=["", None], others=["", None])
    assert doc == n.SearchDocument(names="", pinyin="", digits="", other="")


def test_search_document_adds_no_pinyin_for_latin_names():
    doc = n.search_document(names=["ACME"], phones=[], others=[])
    assert doc.names.split()[:3] == ["ac", "cm", "me"]
    assert doc.pinyin == ""


def test_search_clauses_for_chinese_look_only_at_names():
    assert n.search_clauses("华为") == [n.SearchClause("names", ("华为",))]
    assert n.search_clauses("华") == [n.SearchClause("names", ("华",), prefix=True)]
    assert n.search_clauses("北京华为") == [n.SearchClause("names", ("北京", "京华", "华为"))]


def test_search_clauses_for_latin_look_at_names_pinyin_and_other():
    clauses = n.search_clauses("BJHW")
    assert [c.column for c in clauses] == ["names", "pinyin", "other"]
    pinyin = next(c for c in clauses if c.column == "pinyin")
    assert pinyin.tokens == ("bjh", "jhw") and not pinyin.prefix
    short = n.search_clauses("bj")
    assert next(c for c in short if c.column == "pinyin") == n.SearchClause("pinyin", ("bj",), prefix=True)


def test_syllable_splits_give_every_reading_of_whole_syllables():
    assert n.pinyin_syllable_splits("zhouxing") == [("zhou", "xing")]
    assert sorted(n.pinyin_syllable_splits("xian")) == [("xi", "an"), ("xian",)]
    assert n.pinyin_syllable_splits("bjhw") == []
    assert n.pinyin_syllable_splits("beijinghuaw") == []  # the last syllable is still being typed
    assert n.pinyin_syllable_splits("xianxianxian") == []  # 8 readings: more than MAX_SYLLABLE_SPLITS


def test_syllable_pairs_stay_within_a_run_of_chinese_characters():
    assert n.syllable_pairs(["bei", "jing", "hua", "wei"]) == ["beijing", "jinghua", "huawei", "wei"]
    assert n.syllable_pairs(["3d", "da", "yin", "bei", "jing"]) == ["dayin", "yinbei", "beijing", "jing"]
    assert n.syllable_pairs(["hua", "abc", "wei"]) == []
    assert n.syllable_pairs(["hua"]) == []


def test_search_document_holds_syllable_pairs_that_do_not_run_into_the_next_name():
    doc = n.search_document(names=["北京", "京华印刷"], phones=[], others=[])
    pinyin = " " + doc.pinyin + " "
    assert " beijing jing " in pinyin and " jinghua huayin yinshua shua " in pinyin
    assert " beijing jinghua " not in pinyin  # two names, not one


def test_search_clauses_of_whole_syllables_are_phrases_of_syllable_pairs():
    # the last syllable may be half typed: its pair is a prefix, with every whole pair it can become
    assert [c for c in n.search_clauses("zhouxing") if c.column == "pinyin"] == [
        n.SearchClause("pinyin", ("zhouxing",), prefix=True, completions=("zhouxing",))]
    zhouxi = next(c for c in n.search_clauses("zhouxi") if c.column == "pinyin")
    assert zhouxi.tokens == ("zhouxi",) and zhouxi.prefix
    assert {"zhouxi", "zhouxian", "zhouxing", "zhouxiu"} <= set(zhouxi.completions)
    assert all(t.startswith("zhouxi") for t in zhouxi.completions) and len(zhouxi.completions) == 10
    # the readings with the fewest syllables (bei-jing-hua, not bei-jing-hu-a)
    assert [(c.tokens, c.completions) for c in n.search_clauses("beijinghua") if c.column == "pinyin"] == [
        (("beijing", "jinghua"), ("jinghua", "jinghuai", "jinghuan", "jinghuang"))]
    # chang-an and chan-gan: one clause, the completions of both
    changan = [c for c in n.search_clauses("changan") if c.column == "pinyin"]
    assert len(changan) == 1 and set(changan[0].completions) == {"changan", "changang"}
    # one reading is a single syllable: looked for anywhere by its grams, which find xi-an too
    assert [c for c in n.search_clauses("xian") if c.column == "pinyin"] == [n.SearchClause("pinyin", ("xia", "ian"))]
    # short queries are initials more often than syllables
    assert [c for c in n.search_clauses("hua") if c.column == "pinyin"] == [n.SearchClause("pinyin", ("hua",))]


def test_search_clauses_for_digits_use_the_digit_column_from_four_digits():
    assert [c.column for c in n.search_clauses("123")] == ["names"]
    clauses = n.search_clauses("1234 5678")
    digits = next(c for c in clauses if c.column == "digits")
    assert digits.tokens == ("1234", "2345", "3456", "4567", "5678")


def test_search_clauses_of_nothing_searchable_are_empty():
    assert n.search_clauses("") == []
    assert n.search_clauses("  —— ") == []


def test_a_query_matches_the_document_it_was_taken_from():
    """Every clause's tokens appear consecutively in the column they target (what phrase search needs)."""
    doc = n.search_document(names=["重庆长安汽车股份有限公司"], phones=["023-6759 4008"], others=["KH202611000042"])
    for query, column in (("长安汽车", "names"), ("cqca", "pinyin"), ("changan", "pinyin"),
                          ("changanqiche", "pinyin"),
                          ("67594008", "digits"), ("000042", "digits"), ("kh2026", "other")):
        joined = " " + " ".join(getattr(doc, column).split()) + " "
        clauses = [c for c in n.search_clauses(query) if c.column == column]
        # alternatives (ways to split into syllables): one of them is the document's
        assert any(" " + " ".join(c.tokens) + ("" if c.prefix else " ") in joined for c in clauses), (query, column)


# ---------------------------------------------------------------------------------------------
# Traditional characters, divisions, company-name parts
# ---------------------------------------------------------------------------------------------


def test_traditional_characters_become_simplified():
    assert n.to_simplified("華為技術有限公司") == "华为技术有限公司"
    assert n.to_simplified("廣東省東莞市") == "广东省东莞市"
    assert n.canonical_text("  ＡＢＣ 華為  ") == "abc 华为"


@pytest.mark.parametrize(
    ("address", "province", "city", "district", "rest"),
    [
        ("广东省深圳市南山区科技园", "广东省", "深圳市", "南山区", "科技园"),
        ("深圳南山区科技园", "广东省", "深圳市", "南山区", "科技园"),  # province inferred from the city
        ("北京市海淀区中关村大街1号", "北京市", "", "海淀区", "中关村大街1号"),  # municipality: no city level
        ("上海浦东新区张江路", "上海市", "", "浦东新区", "张江路"),
        ("湖北省恩施土家族苗族自治州恩施市", "湖北省", "恩施土家族苗族自治州", "恩施市", ""),
        ("吉林省吉林市船营区", "吉林省", "吉林市", "船营区", ""),  # city named like its province
        ("廣東省廣州市天河區", "广东省", "广州市", "天河区", ""),
        ("某某路 1 号", "", "", "", "某某路1号"),
    ],
)
def test_parse_address_reads_divisions_from_free_text(address, province, city, district, rest):
    parsed = n.parse_address(address)
    assert (parsed.province, parsed.city, parsed.district, parsed.rest) == (province, city, district, rest)


@pytest.mark.parametrize(
    ("address", "province", "district", "rest"),
    [
        ("北京市北京市海淀区中关村", "北京市", "海淀区", "中关村"),  # province + city, as customers store Beijing
        ("北京北京海淀区", "北京市", "海淀区", ""),
        ("上海市上海市浦东新区张江路", "上海市", "浦东新区", "张江路"),
        ("北京市市辖区海淀区", "北京市", "海淀区", ""),
        ("北京海淀上地", "北京市", "海淀区", "上地"),  # no 市/区: a municipality is its own city
        ("重庆渝中解放碑", "重庆市", "渝中区", "解放碑"),
        ("北京市北京路1号", "北京市", "", "北京路1号"),  # 北京 again but no division after it: a road
    ],
)
def test_parse_address_reads_municipalities_written_twice_or_without_suffixes(address, province, district, rest):
    parsed = n.parse_address(address)
    assert (parsed.province, parsed.city, parsed.district, parsed.rest) == (province, "", district, rest)


def test_parse_address_passes_over_the_divisions_written_again():
    """Customers' province, city and district put before an address that names them already."""
    parsed = n.parse_address("广东省深圳市南山区" + "广东省深圳市南山区西丽街道")
    assert (parsed.province, parsed.city, parsed.district, parsed.rest) == ("广东省", "深圳市", "南山区", "西丽街道")
    # Written short, the district is the start of a street name when no division follows.
    assert n.parse_address("深圳市南山区南山大道1001号").rest == "南山大道1001号"


def test_parse_address_takes_no_province_that_does_not_hold_the_district_found():
    parsed = n.parse_address("天河区北京市海淀区")
    assert (parsed.province, parsed.city, parsed.district) == ("广东省", "广州市", "天河区")


def test_a_district_of_a_municipality_needs_its_suffix_in_a_company_name():
    assert n.parse_company_name("上海宝山钢铁股份有限公司").core == "宝山钢铁"
    assert n.parse_company_name("北京华威测控技术有限公司").core == "华威测控技术"


@pytest.mark.parametrize(
    ("address", "divisions"),
    [
        ("北京市海淀区中关村大街1号", ("北京市", "北京市", "海淀区")),
        ("北京市北京市海淀区", ("北京市", "北京市", "海淀区")),
        ("北京海淀上地", ("北京市", "北京市", "海淀区")),
        ("广东省深圳市南山区西丽街道", ("广东省", "深圳市", "南山区")),
        ("广州市天河区天河路 100 号", ("广东省", "广州市", "天河区")),
        ("天河区天河路100号", ("广东省", "广州市", "天河区")),  # one 天河区 in the country
        ("长春市朝阳区", ("吉林省", "长春市", "朝阳区")),
        ("广东省", ("广东省", "", "")),
        ("和平区南京路1号", ("", "", "")),  # 天津 or 沈阳: not said
        ("朝阳路1号", ("", "", "")),
        ("某某路 1 号", ("", "", "")),
        ("", ("", "", "")),
    ],
)
def test_address_divisions_are_what_customers_store_and_only_what_is_certain(address, divisions):
    assert n.address_divisions(address) == divisions


def test_parse_address_gives_the_most_precise_official_code():
    assert n.parse_address("深圳市南山区").code == "440305"
    assert n.division("440305").name == "南山区"
    assert n.parse_address("北京").locality == "北京市"


@pytest.mark.parametrize(
    "variant",
    ["北京华为技术有限公司", "华为技术（北京）有限公司", "華為技術(北京)有限公司", "北京市华为技术股份有限公司",
     "华为技术【北京】有限公司"],
)
def test_company_name_parts_separate_region_core_and_legal_form(variant):
    parts = n.parse_company_name(variant)
    assert parts.core == "华为技术"
    assert parts.regions == ("北京市",)
    assert parts.branch == ""


def test_company_name_parts_find_the_branch_office():
    parts = n.parse_company_name("华为技术有限公司上海分公司")
    assert (parts.core, parts.branch, parts.regions) == ("华为技术", "上海", ("上海市",))
    assert n.parse_company_name("中国银行北京分行").branch == "北京"


def test_company_name_parts_keep_a_core_that_is_not_a_place():
    assert n.parse_company_name("长城汽车股份有限公司").core == "长城汽车"
    assert n.parse_company_name("北京").core == "北京"  # nothing left but the place: keep it


# ---------------------------------------------------------------------------------------------
# Credit codes and ID numbers
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["91440300708461136T", "91110000802100433B", " 9144 0300 7084 6113 6t "])
def test_credit_code_with_a_correct_check_character_is_accepted(code):
    assert n.normalize_credit_code(code) == n.normalize_credit_code(code).upper().replace(" ", "")
    assert len(n.normalize_credit_code(code)) == 18


@pytest.mark.parametrize("code", ["91440300708461136A", "9144030070846113", "9144030070846113IT", ""])
def test_credit_code_with_a_wrong_check_character_or_shape_is_refused(code):
    with pytest.raises(ValidationError):
        n.normalize_credit_code(code)


def test_id_number_check_digit_and_birth_date():
    assert n.normalize_id_number("11010519491231002x") == "11010519491231002X"
    assert n.normalize_id_number("110105491231002") == "11010519491231002X"  # 15 digits widened
    for bad in ("110105194912310021", "11010519491331002X", "1101051949123100"):
        with pytest.raises(ValidationError):
            n.normalize_id_number(bad)


def test_matching_keys_never_raise():
    assert n.phone_key("010-6234 5678 转 801") == "01062345678"
    assert n.phone_key("+86 138 1234 5678") == "13812345678"
    assert n.phone_key("12345") == "12345"
    assert n.phone_key(None) == ""
    assert n.email_key(" Info@Example.COM ") == "info@example.com"


def test_simplified_characters_that_the_table_also_lists_as_traditional_stay_as_they_are():
    from qianke.core.normalize import normalize_company_name, to_simplified

    assert to_simplified("乾元於甯") == "乾元於甯"
    assert normalize_company_name("北京乾元科技有限公司") != normalize_company_name("北京干元科技有限公司")
    assert to_simplified("騰訊乾") == "腾讯乾"


@pytest.mark.parametrize("address, expected", [
    ("南京西路1266号", ("", "", "")),  # a street in Shanghai, not Nanjing
    ("北京路123号", ("", "", "")),
    ("延安路100号", ("", "", "")),
    ("北京市朝阳门北大街8号", ("北京市", "北京市", "")),  # 东城区, not 朝阳区
    ("上海市宝山路100号", ("上海市", "上海市", "")),
    ("天津市河北路", ("天津市", "天津市", "")),
    ("重庆市江北机场", ("重庆市", "重庆市", "")),
    ("广东省深圳市南山区西丽街道", ("广东省", "深圳市", "南山区")),
    ("北京市海淀区中关村大街1号", ("北京市", "北京市", "海淀区")),
])
def test_a_place_name_that_begins_a_street_name_is_not_taken_for_a_division(address, expected):
    from qianke.core.normalize import address_divisions

    assert address_divisions(address) == expected
