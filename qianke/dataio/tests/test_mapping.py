import pytest

from qianke.core.errors import ValidationFailed
from qianke.dataio.mapping import detect_mapping, header_key, parse_map_options, resolve_mapping


def test_header_key_ignores_spaces_brackets_units_and_required_marks():
    assert header_key(" * 客户名称（必填）") == "客户名称"
    assert header_key("Mobile Phone") == "mobilephone"
    assert header_key("预算（万元）") == "预算"


@pytest.mark.django_db
def test_chinese_and_english_headers_are_recognised():
    headers = ["公司名称", "手机号码", "电话", "联系人", "职务", "地址", "邮编", "邮箱", "行业", "省份", "城市", "区县",
               "备注", "跟进日期", "跟进内容", "无关列"]
    mapping = detect_mapping(headers)
    assert mapping["name"] == "公司名称"
    assert mapping["mobile"] == "手机号码"
    assert mapping["phone"] == "电话"
    assert mapping["contact.name"] == "联系人"
    assert mapping["contact.title"] == "职务"
    assert mapping["postcode"] == "邮编"
    assert mapping["province"] == "省份" and mapping["city"] == "城市" and mapping["district"] == "区县"
    assert mapping["activity.occurred_at"] == "跟进日期"
    assert mapping["activity.content"] == "跟进内容"
    assert "无关列" not in mapping.values()
    english = detect_mapping(["Company Name", "Mobile", "E-mail", "Industry", "Notes"])
    assert english == {"name": "Company Name", "mobile": "Mobile", "email": "E-mail", "industry": "Industry",
                       "notes": "Notes"}


@pytest.mark.django_db
def test_custom_fields_are_recognised_by_label_and_key(budget_field):
    mapping = detect_mapping(["客户名称", "测试预算（万元）", "budget_test"])
    assert mapping["custom.budget_test"] == "测试预算（万元）"


@pytest.mark.django_db
def test_overrides_replace_unmap_and_are_checked_against_the_file():
    headers = ["单位", "手机", "号码"]
    mapping = resolve_mapping(headers, {"name": "单位", "mobile": "", "phone": "号码"})
    assert mapping == {"name": "单位", "phone": "号码"}
    with pytest.raises(ValidationFailed) as exc:
        resolve_mapping(headers, {"name": "公司"})
    assert "name" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        resolve_mapping(headers, {"nonsense": "单位"})
    assert "nonsense" in exc.value.fields


@pytest.mark.django_db
def test_a_file_without_a_name_column_is_refused():
    with pytest.raises(ValidationFailed) as exc:
        resolve_mapping(["手机", "地址"])
    assert "name" in exc.value.fields


def test_map_options_parse_field_equals_column():
    assert parse_map_options(["name=单位名称", "mobile = 手机 "]) == {"name": "单位名称", "mobile": "手机"}
    with pytest.raises(ValidationFailed):
        parse_map_options(["name"])


def test_a_choice_is_found_by_any_part_of_its_chinese_label():
    from qianke.customers.choices import Industry
    from qianke.dataio.mapping import choice_lookup

    lookup = choice_lookup(Industry)
    assert lookup["医药"] == lookup["制药"] == lookup["制药医药"] == Industry.PHARMACEUTICAL
    assert lookup["石化"] == lookup["石油"] == lookup["石油石化"]
    assert lookup["软件"] == Industry.IT_SOFTWARE
    # Words of an English label are not guessed: "technology" is no education, "water" no farming.
    for word in ("technology", "water", "security", "culture", "energy", "software"):
        assert word not in lookup
