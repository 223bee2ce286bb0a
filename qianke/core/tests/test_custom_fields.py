"""Custom fields: validation of values against definitions, and the administrators' definition services."""

from decimal import Decimal

import pytest

from qianke.core.custom_fields import clean_custom_values, clean_value, definitions_for
from qianke.core.errors import NotFound, PermissionDenied, ValidationFailed
from qianke.core.models import AuditLog, CustomFieldDefinition
from qianke.core.services import custom_field_create, custom_field_update


def definition(field_type, **kw):
    return CustomFieldDefinition(key=kw.pop("key", "f"), label=kw.pop("label", "字段"), field_type=field_type, **kw)


def refused(d, value) -> str:
    with pytest.raises(ValueError) as info:
        clean_value(d, value)
    return str(info.value)


# ---------------------------------------------------------------------------------------------
# Values, per field type
# ---------------------------------------------------------------------------------------------


def test_text_is_trimmed_and_limited_to_its_length():
    d = definition("text", max_length=5)
    assert clean_value(d, "  abcde  ") == "abcde"
    assert clean_value(d, 12345) == "12345"
    assert "5" in refused(d, "abcdef")


def test_text_and_longtext_have_default_limits():
    assert clean_value(definition("text"), "字" * 300) == "字" * 300
    assert "300" in refused(definition("text"), "字" * 301)
    assert len(clean_value(definition("longtext"), "字" * 2000)) == 2000
    assert "2000" in refused(definition("longtext"), "字" * 2001)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("12", 12), ("12.5", 12.5), (" 7 ", 7), ("1,200", 1200), ("1，200", 1200), ("１２", 12), (3, 3),
     (2.5, 2.5), ("100.0", 100), ("0", 0)],
)
def test_number_accepts_common_spellings(typed, stored):
    d = definition("number", min_value=Decimal(0), max_value=Decimal(5000))
    value = clean_value(d, typed)
    assert value == stored
    assert type(value) is type(stored)


@pytest.mark.parametrize("typed", ["abc", "", "NaN", "inf", "-Infinity", True, "1.2.3", "十二"])
def test_number_refuses_what_is_not_a_number(typed):
    refused(definition("number"), typed)


def test_number_min_and_max_are_inclusive_and_the_message_is_readable():
    d = definition("number", min_value=Decimal("0.0000"), max_value=Decimal("100.0000"))
    assert clean_value(d, "0") == 0
    assert clean_value(d, "100") == 100
    low = refused(d, "-0.5")
    high = refused(d, "100.01")
    assert "0" in low
    # the limit is shown as the user would write it, not as 1E+2
    assert "100" in high and "E+" not in high
    assert "E+" not in refused(definition("number", max_value=Decimal("5000.0000")), "6000")


@pytest.mark.parametrize(
    "typed",
    ["2026-11-22", "2026/11/22", "2026.11.22", "2026年11月22日", "2026-11-22 ", "20261122",
     "２０２６年１１月２２日", "２０２６-１１-２２"],
)
def test_date_accepts_iso_slashes_dots_and_chinese(typed):
    assert clean_value(definition("date"), typed) == "2026-11-22"


def test_date_pads_single_digit_month_and_day():
    assert clean_value(definition("date"), "2026年1月2日") == "2026-01-02"
    assert clean_value(definition("date"), "2026-1-2") == "2026-01-02"


def test_date_objects_are_stored_as_iso_strings():
    import datetime as dt

    assert clean_value(definition("date"), dt.date(2026, 11, 22)) == "2026-11-22"


@pytest.mark.parametrize("typed", ["2026-02-30", "2026年13月1日", "2026年11月", "明天", "22/11/2026x"])
def test_date_refuses_impossible_or_partial_dates(typed):
    assert "2026-11-22" in refused(definition("date"), typed)


def test_choice_must_be_one_of_the_options():
    d = definition("choice", choices=["O级", "A级", "B级"])
    assert clean_value(d, " A级 ") == "A级"
    message = refused(d, "E级")
    assert "O级" in message and "B级" in message
    refused(d, "a级")  # options are exact, not case-folded


def test_multichoice_keeps_the_options_order_and_drops_repeats():
    d = definition("multichoice", choices=["品牌", "价格", "外观"])
    assert clean_value(d, ["外观", "品牌", "外观"]) == ["品牌", "外观"]
    assert clean_value(d, ("价格",)) == ["价格"]


@pytest.mark.parametrize("typed", ["外观,品牌", "外观，品牌", "外观、品牌", " 外观 , 品牌 "])
def test_multichoice_accepts_a_typed_list_with_chinese_or_latin_commas(typed):
    d = definition("multichoice", choices=["品牌", "价格", "外观"])
    assert clean_value(d, typed) == ["品牌", "外观"]


def test_multichoice_names_the_unknown_options():
    d = definition("multichoice", choices=["品牌", "价格"])
    message = refused(d, ["品牌", "颜色", "尺寸"])
    assert "颜色" in message and "尺寸" in message


@pytest.mark.parametrize("typed", ["是", "有", "yes", "Y", "true", "1", 1, True, "√"])
def test_boolean_true_words(typed):
    assert clean_value(definition("boolean"), typed) is True


@pytest.mark.parametrize("typed", ["否", "无", "no", "N", "False", "0", 0, False, "×"])
def test_boolean_false_words(typed):
    assert clean_value(definition("boolean"), typed) is False


def test_boolean_refuses_other_words():
    refused(definition("boolean"), "也许")
    refused(definition("boolean"), "2")


# ---------------------------------------------------------------------------------------------
# A set of values: merge, required, unknown keys
# ---------------------------------------------------------------------------------------------


def test_clean_custom_values_merges_into_existing_and_empties_remove():
    defs = [definition("text", key="a"), definition("number", key="b"), definition("multichoice", key="c",
                                                                                     choices=["x", "y"])]
    stored, errors = clean_custom_values(definitions=defs, values={"b": "5", "c": []},
                                         existing={"a": "keep", "c": ["x"]})
    assert errors == {}
    assert stored == {"a": "keep", "b": 5}


def test_unknown_keys_are_refused_not_dropped():
    stored, errors = clean_custom_values(definitions=[definition("text", key="a")], values={"a": "x", "zz": "1"})
    assert list(errors) == ["custom.zz"]
    assert "zz" not in stored


def test_required_field_must_have_a_value_even_if_not_sent():
    defs = [definition("text", key="a", required=True, label="甲"), definition("text", key="b")]
    _, errors = clean_custom_values(definitions=defs, values={"b": "x"})
    assert "custom.a" in errors and "甲" in errors["custom.a"][0]
    _, errors = clean_custom_values(definitions=defs, values={"a": "  "})
    assert "custom.a" in errors
    _, errors = clean_custom_values(definitions=defs, values={}, existing={"a": "already"})
    assert errors == {}


def test_each_invalid_value_gets_its_own_error():
    defs = [definition("number", key="n"), definition("date", key="d"), definition("text", key="t")]
    _, errors = clean_custom_values(definitions=defs, values={"n": "x", "d": "y", "t": "ok"})
    assert set(errors) == {"custom.n", "custom.d"}


# ---------------------------------------------------------------------------------------------
# Definition services (administrators only)
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def admin(make_user):
    return make_user("admin")


def test_admin_creates_a_definition_and_it_is_audited(admin):
    d = custom_field_create(actor=admin, data={
        "key": "annual_output_t", "label": "年产量", "field_type": "number", "applies_to": "organization",
        "min_value": "0", "unit": "吨", "order": 5})
    assert d.pk and d.min_value == Decimal("0") and d.unit == "吨"
    assert d in definitions_for(kind="organization")
    assert d not in definitions_for(kind="individual")
    entry = AuditLog.objects.get(object_type="customfielddefinition", object_id=d.pk)
    assert entry.action == "create" and entry.actor == admin and entry.changes["key"] == [None, "annual_output_t"]


@pytest.mark.parametrize("role", ["sales", "manager", "gm", "info", "service"])
def test_only_administrators_define_custom_fields(make_user, role):
    with pytest.raises(PermissionDenied):
        custom_field_create(actor=make_user(role), data={"key": "x_field", "label": "X", "field_type": "text"})
    assert not CustomFieldDefinition.objects.filter(key="x_field").exists()


def test_choice_types_need_options(admin):
    for field_type in ("choice", "multichoice"):
        with pytest.raises(ValidationFailed) as info:
            custom_field_create(actor=admin, data={"key": f"k_{field_type}", "label": "K", "field_type": field_type})
        assert "choices" in info.value.fields


def test_options_typed_as_text_are_split_and_deduplicated(admin):
    d = custom_field_create(actor=admin, data={"key": "colour", "label": "颜色", "field_type": "choice",
                                               "choices": "红\n绿，蓝、红"})
    assert d.choices == ["红", "绿", "蓝"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"key": "Bad Key", "label": "L", "field_type": "text"}, "key"),
        ({"key": "1abc", "label": "L", "field_type": "text"}, "key"),
        ({"key": "ok_key", "label": "", "field_type": "text"}, "label"),
        ({"key": "ok_key", "label": "L", "field_type": "colour"}, "field_type"),
        ({"key": "ok_key", "label": "L", "field_type": "text", "applies_to": "robots"}, "applies_to"),
        ({"key": "ok_key", "label": "L", "field_type": "number", "min_value": "10", "max_value": "1"}, "max_value"),
        ({"key": "ok_key", "label": "L", "field_type": "number", "min_value": "abc"}, "min_value"),
        ({"key": "ok_key", "label": "L", "field_type": "text", "max_length": "-3"}, "max_length"),
        ({"key": "ok_key", "label": "L", "field_type": "text", "model": "deal"}, "model"),
        ({"key": "ok_key", "label": "L", "field_type": "text", "colour": "red"}, "colour"),
    ],
)
def test_invalid_definitions_are_refused(admin, data, field):
    with pytest.raises(ValidationFailed) as info:
        custom_field_create(actor=admin, data=data)
    assert field in info.value.fields
    assert not CustomFieldDefinition.objects.filter(key=data["key"]).exists()


def test_keys_are_unique(admin):
    custom_field_create(actor=admin, data={"key": "twice", "label": "一", "field_type": "text"})
    with pytest.raises(ValidationFailed) as info:
        custom_field_create(actor=admin, data={"key": "twice", "label": "二", "field_type": "text"})
    assert "key" in info.value.fields


def test_update_changes_label_and_options_and_is_audited(admin):
    d = custom_field_create(actor=admin, data={"key": "size", "label": "规模", "field_type": "choice",
                                               "choices": ["大", "小"]})
    d = custom_field_update(actor=admin, field_id=d.pk, data={"label": "企业规模", "choices": ["大", "中", "小"]})
    d.refresh_from_db()
    assert d.label == "企业规模" and d.choices == ["大", "中", "小"]
    entry = AuditLog.objects.filter(object_type="customfielddefinition", object_id=d.pk, action="update").get()
    assert entry.changes["label"] == ["规模", "企业规模"]


def test_key_type_and_model_are_frozen_after_creation(admin):
    d = custom_field_create(actor=admin, data={"key": "frozen", "label": "F", "field_type": "text"})
    for change in ({"key": "thawed"}, {"field_type": "number"}, {"model": "deal"}):
        with pytest.raises(ValidationFailed) as info:
            custom_field_update(actor=admin, field_id=d.pk, data=change)
        assert set(info.value.fields) == set(change)
    d.refresh_from_db()
    assert (d.key, d.field_type, d.model) == ("frozen", "text", "customer")
    # sending the unchanged values is fine
    custom_field_update(actor=admin, field_id=d.pk, data={"key": "frozen", "field_type": "text", "label": "G"})


def test_update_cannot_remove_every_option_of_a_choice_field(admin):
    d = custom_field_create(actor=admin, data={"key": "pick", "label": "P", "field_type": "multichoice",
                                               "choices": ["a"]})
    with pytest.raises(ValidationFailed) as info:
        custom_field_update(actor=admin, field_id=d.pk, data={"choices": []})
    assert "choices" in info.value.fields


def test_update_by_non_admin_or_of_missing_definition(admin, make_user):
    d = custom_field_create(actor=admin, data={"key": "guarded", "label": "G", "field_type": "text"})
    with pytest.raises(PermissionDenied):
        custom_field_update(actor=make_user("gm"), field_id=d.pk, data={"label": "H"})
    with pytest.raises(NotFound):
        custom_field_update(actor=admin, field_id=10**9, data={"label": "H"})
    d.refresh_from_db()
    assert d.label == "G"


def test_inactive_definitions_no_longer_apply(admin):
    d = custom_field_create(actor=admin, data={"key": "retired", "label": "R", "field_type": "text"})
    assert d in definitions_for()
    custom_field_update(actor=admin, field_id=d.pk, data={"active": False})
    assert d not in definitions_for()
