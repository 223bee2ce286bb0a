"""The duplicate check on import: rows against existing customers and each other, flag and skip."""

import pytest
from django.utils import translation

from qianke.core.errors import ValidationFailed
from qianke.customers.models import Customer
from qianke.customers.services import customer_create
from qianke.dataio.models import ImportJob, ImportRejection
from qianke.dataio.services import import_check, import_create, import_preview, import_run, import_undo
from qianke.dedupe.models import DuplicateGroup, DuplicateMember
from qianke.dedupe.selectors import GroupFilters, duplicate_group_list

HEADER = ["客户名称", "电话", "手机", "城市"]


def _import(actor, path, batch_size=2000, **kwargs):
    job = import_create(actor=actor, path=path, file_name=path.name, **kwargs)
    return import_run(job_id=job.pk, batch_size=batch_size)


@pytest.fixture
def huawei(org):
    return customer_create(
        actor=org.rep,
        data={
            "name": "北京华为技术有限公司",
            "phone": "010-62345678",
            "city": "北京市",
            "province": "北京市",
        },
    )


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.mark.django_db
def test_flag_imports_a_row_like_an_existing_customer_and_lists_it_for_review(org, huawei, write_csv):
    path = write_csv(
        [
            HEADER,
            ["华为技术（北京）有限公司", "(010) 6234 5678", "", "北京"],
            ["上海宏达物流有限公司", "", "13900001111", "上海"],
        ]
    )
    job = _import(org.rep, path)
    assert (job.created_customers, job.flagged_rows, job.skipped_rows, job.rejected_rows) == (2, 1, 0, 0)
    group = DuplicateGroup.objects.get(import_job=job)
    new = Customer.objects.get(name="华为技术（北京）有限公司")
    assert set(DuplicateMember.objects.filter(group=group).values_list("customer_id", flat=True)) == {
        new.pk,
        huawei.pk,
    }
    assert group.status == "open" and group.decision == "same"
    roles = {e["role"] for e in group.pairs[0]["evidence"] if e["weight"] > 0}
    assert {"phone", "name"} <= roles
    page = duplicate_group_list(user=org.rep, filters=GroupFilters())
    assert [g.pk for g in page.items] == [group.pk]


@pytest.mark.django_db
def test_skip_rejects_the_same_customer_naming_it_and_the_agreeing_fields(org, huawei, write_csv):
    path = write_csv([HEADER, ["华为技术（北京）有限公司", "010 62345678", "", "北京"]])
    job = _import(org.rep, path, duplicates="skip")
    assert (job.created_customers, job.skipped_rows, job.rejected_rows, job.flagged_rows) == (0, 1, 1, 0)
    message = ImportRejection.objects.get(job=job).errors["客户名称"][0]
    assert huawei.code in message and "phone" in message


@pytest.mark.django_db
def test_rows_are_checked_against_earlier_rows_of_the_same_file(org, write_csv):
    rows = [
        HEADER,
        ["杭州云帆科技有限公司", "", "13812345678", "杭州"],
        ["杭州云帆科技", "", "+86 138-1234-5678", "杭州"],
    ]
    job = _import(org.rep, write_csv(rows, name="a.csv"), duplicates="skip")
    assert (job.created_customers, job.skipped_rows) == (1, 1)
    assert "row 2" in ImportRejection.objects.get(job=job).errors["客户名称"][0]
    # Across batches too: the earlier batch is in the database by then.
    rows = [
        HEADER,
        ["苏州明达机械有限公司", "0512-66881234", "", "苏州"],
        ["明达机械（苏州）有限公司", "0512 6688 1234", "", "苏州"],
    ]
    job = _import(org.rep2, write_csv(rows, name="b.csv"), batch_size=1, duplicates="skip")
    assert (job.created_customers, job.skipped_rows) == (1, 1)
    assert "row 2" in ImportRejection.objects.get(job=job).errors["客户名称"][0]


@pytest.mark.django_db
def test_skip_does_not_reveal_a_customer_the_importer_may_not_see(org, huawei, write_csv):
    path = write_csv([HEADER, ["华为技术（北京）有限公司", "010-62345678", "", "北京"]])
    job = _import(org.rep_north, path, duplicates="skip")
    assert job.skipped_rows == 1
    message = ImportRejection.objects.get(job=job).errors["客户名称"][0]
    assert huawei.code not in message and "华为" not in message and "phone" not in message


@pytest.mark.django_db
def test_branches_in_other_cities_are_not_flagged(org, huawei, write_csv):
    path = write_csv([HEADER, ["华为技术（上海）有限公司", "021-62345678", "", "上海"]])
    job = _import(org.rep, path)
    assert (job.created_customers, job.flagged_rows) == (1, 0)
    assert not DuplicateGroup.objects.exists()


@pytest.mark.django_db
def test_dry_run_and_preview_report_rows_that_would_be_flagged_or_skipped(org, huawei, write_csv):
    path = write_csv(
        [
            HEADER,
            ["华为技术（北京）有限公司", "010-62345678", "", "北京"],
            ["杭州云帆科技有限公司", "", "13812345678", "杭州"],
            ["杭州云帆科技", "", "13812345678", "杭州"],
        ]
    )
    result = import_check(actor=org.rep, path=path, duplicates="skip")
    assert (result["valid"], result["skipped"], result["flagged"], len(result["rejected"])) == (1, 2, 0, 2)
    assert import_check(actor=org.rep, path=path)["flagged"] == 2
    preview = import_preview(actor=org.rep, path=path)
    assert [bool(r["duplicates"]) for r in preview["rows"]] == [True, False, True]
    assert huawei.code in preview["rows"][0]["duplicates"][0]
    assert not Customer.objects.filter(name__startswith="杭州").exists()


@pytest.mark.django_db
def test_undo_removes_the_groups_the_import_created(org, huawei, write_csv):
    job = _import(org.rep, write_csv([HEADER, ["华为技术（北京）有限公司", "010-62345678", "", "北京"]]))
    assert DuplicateGroup.objects.filter(import_job=job).count() == 1
    import_undo(actor=org.rep, job_id=job.pk)
    assert not DuplicateGroup.objects.exists() and not DuplicateMember.objects.exists()


@pytest.mark.django_db
def test_an_unknown_duplicates_policy_is_refused_naming_the_field(org, write_csv):
    with pytest.raises(ValidationFailed) as exc:
        import_create(actor=org.rep, path=write_csv([HEADER]), file_name="x.csv", duplicates="merge")
    assert "flag, skip" in exc.value.fields["duplicates"][0]
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_a_group_with_a_customer_the_importer_may_not_see_is_shown_only_to_who_sees_both(
    org, huawei, write_csv
):
    job = _import(
        org.rep_north, write_csv([HEADER, ["华为技术（北京）有限公司", "010-62345678", "", "北京"]])
    )
    assert job.flagged_rows == 1
    assert duplicate_group_list(user=org.rep_north, filters=GroupFilters(import_job=job.pk)).items == []
    assert len(duplicate_group_list(user=org.gm, filters=GroupFilters(import_job=job.pk)).items) == 1


@pytest.mark.django_db
def test_result_page_counts_the_flagged_rows_and_links_the_review_list_of_the_import(org, huawei, write_csv):
    from django.test import Client
    from django.urls import reverse

    job = _import(
        org.rep,
        write_csv(
            [
                HEADER,
                ["华为技术（北京）有限公司", "010-62345678", "", "北京"],
                ["华为技术（上海）有限公司", "021-62345678", "", "上海"],
            ]
        ),
    )
    client = Client()
    client.force_login(org.rep)
    page = client.get(reverse("dataio:import_detail", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    link = f"{reverse('dedupe:list')}?import={job.pk}"
    assert 'id="count-flagged">1<' in text and link in text
    listing = client.get(link).content.decode()
    assert "华为技术（北京）有限公司" in listing and "华为技术（上海）有限公司" not in listing
    assert 'id="import-filter"' in listing


@pytest.mark.django_db
def test_the_mapping_page_offers_the_policy_and_the_preview_marks_duplicates(org, huawei, write_csv):
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(org.rep)
    path = write_csv([HEADER, ["华为技术（北京）有限公司", "010-62345678", "", "北京"]])
    with open(path, "rb") as f:
        url = client.post(reverse("dataio:import_upload"), {"file": f})["Location"]
    assert 'name="duplicates"' in client.get(url).content.decode()
    form = {
        "col_0": "name",
        "col_1": "phone",
        "col_2": "mobile",
        "col_3": "city",
        "mode": "partial",
        "duplicates": "skip",
    }
    text = client.post(url, {**form, "action": "preview"}).content.decode()
    assert huawei.code in text and 'class="duplicate-note"' in text
    client.post(url, {**form, "action": "start"})
    assert ImportJob.objects.get().duplicates == "skip"


@pytest.mark.django_db
def test_api_takes_the_policy_and_refuses_an_unknown_one_naming_the_field(org, token_for, write_csv):
    from django.test import Client

    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token_for(org.info)}"}
    path = write_csv([HEADER, ["甲有限公司", "", "13800001111", "北京"]])
    with open(path, "rb") as f:
        answer = client.post("/api/v1/imports", data={"file": f, "duplicates": "maybe"}, **headers)
    assert answer.status_code == 422 and "duplicates" in answer.content.decode()
    with open(path, "rb") as f:
        answer = client.post("/api/v1/imports", data={"file": f, "duplicates": "skip"}, **headers)
    assert answer.status_code == 201
    body = answer.json()
    assert (body["duplicates"], body["flagged_rows"], body["skipped_rows"]) == ("skip", 0, 0)


@pytest.mark.django_db
def test_cli_option_is_validated_and_the_dry_run_counts_duplicates(capsys, org, huawei, write_csv):
    from qianke import cli

    path = write_csv([HEADER, ["华为技术（北京）有限公司", "010-62345678", "", "北京"]])
    code = cli.main(["import", str(path), "--as", "rep_east", "--duplicates", "merge"])
    assert code == 2 and "--duplicates: invalid choice: 'merge'" in capsys.readouterr().err
    code = cli.main(["import", str(path), "--as", "rep_east", "--duplicates", "skip", "--dry-run"])
    out = capsys.readouterr().out
    assert code == 1 and "1 of them skipped as duplicates" in out
    code = cli.main(["import", str(path), "--as", "rep_east"])
    out = capsys.readouterr().out
    assert code == 0 and "1 rows look like existing customers" in out and Customer.objects.count() == 2


@pytest.mark.django_db
def test_atomic_import_still_commits_when_only_duplicates_were_skipped(org, huawei, write_csv):
    rows = [
        HEADER,
        ["华为技术（北京）有限公司", "010-62345678", "", "北京"],
        ["宁波海通贸易有限公司", "", "", "宁波"],
    ]
    job = _import(org.rep, write_csv(rows, name="a.csv"), mode="atomic", duplicates="skip")
    assert (job.status, job.created_customers, job.skipped_rows, job.rejected_rows) == ("done", 1, 1, 1)
    assert ImportRejection.objects.filter(job=job).count() == 1
    rows.append(["", "", "12", ""])  # an invalid row: all or nothing again
    job = _import(org.rep, write_csv(rows, name="b.csv"), mode="atomic", duplicates="skip")
    assert (job.status, job.created_customers) == ("failed", 0)
    assert Customer.objects.filter(name="宁波海通贸易有限公司").count() == 1
