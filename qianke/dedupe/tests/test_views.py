"""Review pages: the list, the comparison with evidence, merge with chosen values, undo, visibility."""

from __future__ import annotations

import pytest
from django.urls import reverse

from qianke.customers.models import Contact, Customer
from qianke.customers.services import customer_update
from qianke.dedupe.jobs import duplicate_scan
from qianke.dedupe.models import DuplicateGroup, Merge


@pytest.fixture
def pair(org, make_customer, make_contact):
    a = make_customer(org.rep, "北京华为技术有限公司", phone="010-62345678", city="北京", industry="telecom")
    b = make_customer(org.rep, "华为技术（北京）有限公司", phone="(010)6234-5678", city="北京",
                      email="info@huawei.example", industry="healthcare")
    make_contact(org.rep, b, "李娜")
    duplicate_scan()
    return a, b, DuplicateGroup.objects.get()


def test_list_shows_the_groups_the_user_may_see(client, org, pair, make_customer):
    a, b, group = pair
    client.force_login(org.rep)
    body = client.get(reverse("dedupe:list")).content.decode()
    assert f'id="group-{group.pk}"' in body and a.name in body and b.name in body
    assert f'href="{reverse("dedupe:list")}"' in body  # the menu item
    client.force_login(org.rep2)
    body = client.get(reverse("dedupe:list")).content.decode()
    assert f'id="group-{group.pk}"' not in body
    assert client.get(reverse("dedupe:review", args=[group.pk])).status_code == 404
    assert client.post(reverse("dedupe:dismiss", args=[group.pk])).status_code == 404


def test_list_filters_by_decision_and_status(client, org, pair):
    a, b, group = pair
    client.force_login(org.rep)
    assert f'id="group-{group.pk}"' not in client.get(reverse("dedupe:list"), {"decision": "review"}).content.decode()
    assert f'id="group-{group.pk}"' in client.get(reverse("dedupe:list"), {"decision": "same"}).content.decode()
    assert f'id="group-{group.pk}"' not in client.get(reverse("dedupe:list"), {"status": "merged"}).content.decode()


def test_review_page_shows_evidence_per_field_and_a_radio_per_differing_field(client, org, pair):
    a, b, group = pair
    client.force_login(org.rep)
    response = client.get(reverse("dedupe:review", args=[group.pk]))
    body = response.content.decode()
    assert 'id="evidence"' in body
    rows = {r["key"]: r for r in response.context["rows"]}
    assert set(rows) >= {"name", "email", "industry"}
    assert "city" not in rows  # the same everywhere
    assert 'name="field:name"' in body and f'name="survivor" value="{a.pk}" checked' in body


def test_merge_from_the_review_page_with_chosen_values_then_undo(client, org, pair):
    a, b, group = pair
    client.force_login(org.rep)
    response = client.post(reverse("dedupe:review", args=[group.pk]), {
        "action": "merge", "ids": [a.pk, b.pk], "survivor": a.pk, "field:name": b.pk, "field:industry": a.pk,
        "field:email": b.pk,
    })
    merge = Merge.objects.get()
    assert response.status_code == 302 and response.url == reverse("dedupe:merge_detail", args=[merge.pk])
    a.refresh_from_db()
    assert (a.name, a.industry, a.email) == ("华为技术（北京）有限公司", "telecom", "info@huawei.example")
    assert Contact.objects.get(name="李娜").customer_id == a.pk
    group.refresh_from_db()
    assert group.status == "merged"
    detail = client.get(response.url).content.decode()
    assert 'id="undo"' in detail and "李娜" not in detail and 'id="merge-moved"' in detail
    # A rep does not see archived records (the info specialist does, with the pointer: below).
    assert client.get(reverse("customers:detail", args=[b.pk])).status_code == 404

    undone = client.post(reverse("dedupe:undo", args=[merge.pk]))
    assert undone.status_code == 302 and undone.url == reverse("customers:detail", args=[a.pk])
    a.refresh_from_db()
    assert a.name == "北京华为技术有限公司"
    assert Customer.objects.get(pk=b.pk).archived_at is None
    assert 'id="undo"' not in client.get(reverse("dedupe:merge_detail", args=[merge.pk])).content.decode()


def test_undo_refused_with_a_message_after_a_conflicting_edit(client, org, pair):
    a, b, group = pair
    client.force_login(org.rep)
    client.post(reverse("dedupe:review", args=[group.pk]), {"action": "merge", "ids": [a.pk, b.pk],
                                                             "survivor": a.pk, "field:email": b.pk})
    merge = Merge.objects.get()
    customer_update(actor=org.rep, customer_id=a.pk, data={"email": "sales@huawei.example"})
    response = client.post(reverse("dedupe:undo", args=[merge.pk]), follow=True, headers={"Accept-Language": "en"})
    body = response.content.decode()
    assert "edited after the merge" in body
    assert Merge.objects.get().undone_at is None


def test_info_specialist_sees_the_merged_pointer_on_the_archived_record(client, org, pair):
    a, b, group = pair
    client.force_login(org.rep)
    client.post(reverse("dedupe:review", args=[group.pk]), {"action": "merge", "ids": [a.pk, b.pk],
                                                             "survivor": a.pk})
    client.force_login(org.info)
    body = client.get(reverse("customers:detail", args=[b.pk])).content.decode()
    assert 'id="merged-into"' in body and reverse("customers:detail", args=[a.pk]) in body


def test_dismiss_from_the_review_page(client, org, pair):
    a, b, group = pair
    client.force_login(org.rep)
    response = client.post(reverse("dedupe:dismiss", args=[group.pk]))
    assert response.status_code == 302
    group.refresh_from_db()
    assert group.status == "dismissed"


def test_merge_picked_by_hand_and_hidden_ids_are_404(client, org, make_customer):
    a = make_customer(org.rep, "甲公司")
    b = make_customer(org.rep, "甲公司分号", phone="010-88888888")
    theirs = make_customer(org.rep2, "乙公司")
    client.force_login(org.rep)
    page = client.get(reverse("dedupe:merge"), {"ids": [a.pk, b.pk]})
    assert page.status_code == 200 and 'id="merge-form"' in page.content.decode()
    assert client.get(reverse("dedupe:merge"), {"ids": [a.pk, theirs.pk]}).status_code == 404
    response = client.post(reverse("dedupe:merge"), {"action": "merge", "ids": [a.pk, b.pk], "survivor": b.pk,
                                                     "field:name": a.pk})
    assert response.status_code == 302
    b.refresh_from_db()
    assert b.name == "甲公司" and b.phone == "010-88888888"
    assert Customer.objects.get(pk=a.pk).archived_at is not None


def test_scan_now_is_for_administrators(client, org):
    client.force_login(org.rep)
    assert client.post(reverse("dedupe:scan")).status_code == 403
    client.force_login(org.admin)
    assert client.post(reverse("dedupe:scan")).status_code == 302


def test_list_query_count_is_bounded(client, org, make_customer, django_assert_max_num_queries):
    customers = [make_customer(org.rep, f"公司{i}") for i in range(20)]
    for i in range(0, 20, 2):
        group = DuplicateGroup.objects.create(decision="same", score=0.95, size=2, signature=str(i), pairs=[])
        for c in customers[i:i + 2]:
            group.members.create(customer=c)
    client.force_login(org.rep)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("dedupe:list"))
    assert len(response.context["page"].items) == 10


def test_customer_form_warning_loads_the_evidence_for_the_values_entered(client, org, make_customer):
    existing = make_customer(org.rep, "北京华为技术有限公司", phone="010-62345678")
    hidden = make_customer(org.rep2, "华为技术北京有限公司", phone="010-62345678")
    client.force_login(org.rep)
    form = client.post(reverse("customers:create") + "?kind=organization",
                       {"kind": "organization", "name": "华为技术（北京）有限公司", "phone": "(010) 6234 5678",
                        "relation_class": "business", "status": "potential"})
    body = form.content.decode()
    assert 'id="duplicate-warning"' in body and 'id="duplicate-evidence"' in body
    response = client.post(reverse("dedupe:form_evidence"), {"kind": "organization", "name": "华为技术（北京）有限公司",
                                                             "phone": "(010) 6234 5678"})
    body = response.content.decode()
    assert f'data-customer="{existing.pk}"' in body and f'data-customer="{hidden.pk}"' not in body
    assert "01062345678" in body  # the phone evidence
    # While editing, the customer itself is left out.
    response = client.post(reverse("dedupe:form_evidence"), {"kind": "organization", "name": existing.name,
                                                             "phone": existing.phone, "exclude": existing.pk})
    assert f'data-customer="{existing.pk}"' not in response.content.decode()
    assert client.post(reverse("dedupe:form_evidence"), {"name": "x", "exclude": hidden.pk}).status_code == 404


def test_customer_page_loads_its_likely_duplicates_with_a_merge_link(client, org, make_customer,
                                                                     django_assert_max_num_queries):
    a = make_customer(org.rep, "北京华为技术有限公司", phone="010-62345678")
    b = make_customer(org.rep, "华为技术（北京）有限公司", phone="010 6234 5678")
    hidden = make_customer(org.rep2, "华为技术北京有限公司", phone="01062345678")
    client.force_login(org.rep)
    page = client.get(reverse("customers:detail", args=[a.pk])).content.decode()
    assert reverse("dedupe:customer_candidates", args=[a.pk]) in page
    body = client.get(reverse("dedupe:customer_candidates", args=[a.pk])).content.decode()
    assert f'data-customer="{b.pk}"' in body and f'data-customer="{hidden.pk}"' not in body
    assert f"ids={a.pk}&amp;ids={b.pk}" in body
    lone = make_customer(org.rep, "独一无二贸易有限公司")
    assert client.get(reverse("dedupe:customer_candidates", args=[lone.pk])).content.decode().strip() == ""
    assert client.get(reverse("dedupe:customer_candidates", args=[hidden.pk])).status_code == 404


def test_review_page_query_count_does_not_grow_with_custom_fields(client, org, pair, django_assert_max_num_queries):
    from qianke.core.models import CustomFieldDefinition

    a, b, group = pair
    for i in range(6):
        CustomFieldDefinition.objects.create(key=f"f{i}", label=f"字段{i}", field_type="text")
    Customer.objects.filter(pk=a.pk).update(custom={f"f{i}": "甲" for i in range(6)})
    Customer.objects.filter(pk=b.pk).update(custom={f"f{i}": "乙" for i in range(6)})
    client.force_login(org.rep)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("dedupe:review", args=[group.pk]))
    assert len([r for r in response.context["rows"] if r["key"].startswith("custom.")]) == 6
    assert "字段5" in response.content.decode()


def test_evidence_labels_follow_the_users_language():
    from django.utils import translation

    from qianke.dedupe.views import ROLE_LABELS

    with translation.override("en"):
        assert str(ROLE_LABELS["mobile"]) == "mobile"
    with translation.override("zh-hans"):
        assert str(ROLE_LABELS["mobile"]) == "手机"


def test_evidence_notes_are_shown_translated():
    from django.utils import translation

    from qianke.dedupe.views import _evidence_rows

    evidence = [{"role": "phone", "left": "01062345678", "right": "01062345678", "similarity": 1.0,
                 "weight": 3.0, "note": "same number"}]
    with translation.override("zh-hans"):
        assert _evidence_rows([{"evidence": evidence}])[0]["rows"][0]["note"] == "号码相同"
    with translation.override("en"):
        assert _evidence_rows([{"evidence": evidence}])[0]["rows"][0]["note"] == "same number"


def test_merge_page_names_the_owners_before_and_after(client, org, make_customer):
    from qianke.dedupe.services import customer_merge

    a = make_customer(org.rep, "北京华为技术有限公司")
    b = make_customer(org.rep2, "华为技术（北京）有限公司")
    merge = customer_merge(actor=org.manager, survivor_id=a.pk, merged_ids=[b.pk], field_choices={"owner": b.pk})
    client.force_login(org.manager)
    html = client.get(reverse("dedupe:merge_detail", args=[merge.pk])).content.decode()
    assert str(org.rep) in html and str(org.rep2) in html


def test_list_names_each_agreeing_field_once(client, org, make_customer):
    from qianke.dedupe.views import ROLE_LABELS

    for name in ("北京华为技术有限公司", "华为技术（北京）有限公司"):
        make_customer(org.rep, name, phone="010-62345678", address="北京市海淀区中关村大街1号")
    duplicate_scan()
    group = DuplicateGroup.objects.get()
    notes = [e["note"] for e in group.pairs[0]["evidence"] if e["role"] == "address" and e["weight"] > 0]
    assert len(notes) == 2, notes  # the same city and the same street: two rows of evidence, one field
    client.force_login(org.rep)
    body = client.get(reverse("dedupe:list")).content.decode()
    row = body[body.index(f'id="group-{group.pk}"'):].split("</tr>")[0]
    assert row.count(f'<span class="tag tag-muted">{ROLE_LABELS["address"]}</span>') == 1
