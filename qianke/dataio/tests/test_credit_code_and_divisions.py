"""Importing and exporting the credit code, and province / city / district read from the address."""

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from qianke.core.errors import ValidationFailed
from qianke.customers.models import Contact, Customer, CustomerSearch
from qianke.customers.services import customer_search_document
from qianke.dataio.mapping import detect_mapping, resolve_mapping
from qianke.dataio.models import ImportJob, ImportRejection
from qianke.dataio.services import import_create, import_preview, import_run

pytestmark = pytest.mark.django_db

TENCENT = "91440300708461136T"
WRONG_CHECK = "91440300708461136A"


def _import(actor, path, **kwargs):
    return import_run(job_id=import_create(actor=actor, path=path, file_name=path.name, **kwargs).pk)


@pytest.mark.parametrize("header", ["统一社会信用代码", "信用代码", "社会信用代码", "Credit code", "credit_code", "USCC",
                                    "统一社会信用代码（18位）"])
def test_credit_code_headers_are_recognised(header):
    assert detect_mapping(["客户名称", header]) == {"name": "客户名称", "credit_code": header}


def test_credit_code_can_be_mapped_by_its_field_name():
    mapping = resolve_mapping(["客户名称", "代码"], {"credit_code": "代码"})
    assert mapping["credit_code"] == "代码"


def test_an_unknown_field_in_a_mapping_is_still_refused():
    with pytest.raises(ValidationFailed):
        resolve_mapping(["客户名称"], {"credit_kode": "客户名称"})


def test_an_import_keeps_good_codes_and_rejects_a_wrong_check_character_naming_the_column(org, write_csv):
    path = write_csv([["客户名称", "客户类别", "统一社会信用代码"],
                      ["腾讯科技（深圳）有限公司", "单位", TENCENT.lower()],
                      ["乙有限公司", "单位", WRONG_CHECK],
                      ["王强", "个人", TENCENT]])
    with translation.override("zh-hans"):
        job = _import(org.info, path, mode="partial")
    assert (job.created_customers, job.rejected_rows) == (1, 2)
    customer = Customer.objects.get()
    assert (customer.credit_code, customer.credit_code_norm) == (TENCENT.lower(), TENCENT)
    rejections = {r.row_number: r.errors for r in ImportRejection.objects.filter(job=job)}
    assert list(rejections[3]) == ["统一社会信用代码"] and "校验位" in rejections[3]["统一社会信用代码"][0]
    assert list(rejections[4]) == ["统一社会信用代码"]  # a person has none


def test_an_imported_customer_is_found_by_its_credit_code_and_its_search_row_is_the_services(org, write_csv):
    from qianke.customers.selectors import CustomerFilters, customer_list

    path = write_csv([["客户名称", "信用代码", "邮箱", "联系人", "联系人手机"],
                      ["腾讯科技（深圳）有限公司", TENCENT, "a@b.cn", "张伟", "13800138000"]])
    _import(org.info, path)
    customer = Customer.objects.get()
    entry = CustomerSearch.objects.get(customer=customer)
    expected = customer_search_document(customer, Contact.objects.filter(customer=customer))
    assert (entry.names, entry.pinyin, entry.digits, entry.other) == (
        expected.names, expected.pinyin, expected.digits, expected.other)
    found = customer_list(user=org.info, filters=CustomerFilters(q=TENCENT)).items
    assert [c.pk for c in found] == [customer.pk]


def test_an_import_row_with_an_existing_customers_credit_code_is_flagged(org, make_customer, write_csv):
    existing = make_customer(org.info, "腾讯科技（深圳）有限公司", credit_code=TENCENT)
    path = write_csv([["客户名称", "统一社会信用代码"], ["深圳市腾讯计算机系统有限公司", TENCENT]])
    preview = import_preview(actor=org.info, path=path)
    assert preview["rows"][0]["duplicates"] and existing.code in preview["rows"][0]["duplicates"][0]
    job = _import(org.info, path, duplicates="skip")
    assert job.created_customers == 0 and Customer.objects.count() == 1


def test_an_import_reads_empty_divisions_from_the_address_and_keeps_those_given(org, write_csv):
    path = write_csv([["客户名称", "省份", "地址"],
                      ["甲有限公司", "", "广东省深圳市南山区西丽街道"],
                      ["乙有限公司", "", "北京海淀上地十街 10 号"],
                      ["丙有限公司", "广东", "广东省深圳市南山区科技园"],
                      ["丁有限公司", "", "和平区南京路 1 号"]])
    assert _import(org.info, path).created_customers == 4
    stored = {c.name: (c.province, c.city, c.district) for c in Customer.objects.all()}
    assert stored == {"甲有限公司": ("广东省", "深圳市", "南山区"), "乙有限公司": ("北京市", "北京市", "海淀区"),
                      "丙有限公司": ("广东", "深圳市", "南山区"), "丁有限公司": ("", "", "")}


def test_the_preview_shows_the_divisions_as_they_will_be_stored(org, write_csv):
    path = write_csv([["客户名称", "地址", "信用代码"], ["甲有限公司", "广东省深圳市南山区西丽街道", "9144 0300 7084 6113 6t"]])
    values = import_preview(actor=org.info, path=path)["rows"][0]["values"]
    assert (values["province"], values["city"], values["district"]) == ("广东省", "深圳市", "南山区")
    assert values["credit_code"] == "9144 0300 7084 6113 6t" and values["credit_code_norm"] == TENCENT
    client = Client()
    client.force_login(org.info)
    with open(path, "rb") as f:
        mapping_url = client.post(reverse("dataio:import_upload"), {"file": f})["Location"]
    page = client.post(mapping_url, {"col_0": "name", "col_1": "address", "col_2": "credit_code",
                                     "mode": "partial", "action": "preview"}).content.decode()
    preview = page[page.index('id="preview"'):]
    for text in ("广东省", "深圳市", "南山区", TENCENT):
        assert f"<dd>{text}</dd>" in preview, text


def test_the_lead_card_template_imports_with_province_and_city(org, tmp_path):
    content = Client()
    content.force_login(org.info)
    path = tmp_path / "card.xlsx"
    path.write_bytes(content.get(reverse("dataio:import_template", args=["lead_card"])).content)
    job = _import(org.info, path)
    assert job.status == ImportJob.Status.DONE and job.created_customers == 1
    customer = Customer.objects.get()
    assert (customer.province, customer.city, customer.district) == ("广东省", "广州市", "天河区")


def test_the_export_has_the_credit_code(org, make_customer):
    make_customer(org.rep, "腾讯科技（深圳）有限公司", credit_code=TENCENT)
    client = Client()
    client.force_login(org.rep)
    answer = client.get(reverse("dataio:customer_export") + "?format=csv")
    rows = list(csv.reader(io.StringIO(b"".join(answer.streaming_content).decode("utf-8-sig"))))
    header = rows[0][rows[0].index("简称") + 1]  # after the short name, as on the form
    assert rows[1][rows[0].index(header)] == TENCENT
    # and the exported file imports again with the code recognised
    assert detect_mapping(rows[0])["credit_code"] == header
