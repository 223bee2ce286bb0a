"""`qianke dedupe FILE --id-column COL … --out OUT.csv`: clusters a CSV, never touches the database."""

import csv
from pathlib import Path

import pytest

from qianke.cli import main
from qianke.dedupe.tests.test_matching_quality import FEBRL as _FEBRL_DIR

FEBRL = _FEBRL_DIR / "dataset1.csv"


def _write(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


COMPANIES = [
    ["编号", "公司名称", "联系电话", "邮箱", "地址", "备注"],
    ["1", "北京华为技术有限公司", "010-6234 5678", "", "北京市海淀区中关村", "展会名录"],
    ["2", "華為技術（北京）有限公司", "+86 10 62345678", "", "北京海淀区中关村", "114 查询"],
    ["3", "上海华为技术有限公司", "021-5555 1234", "", "上海市浦东新区张江", ""],
    ["4", "广州白云山制药股份有限公司", "020-81218888", "info@gzbys.com", "广州市白云区", ""],
]


def test_chinese_headers_are_recognised_and_duplicates_share_a_cluster(tmp_path, capsys):
    out = tmp_path / "out.csv"
    code = main(["dedupe", str(_write(tmp_path / "in.csv", COMPANIES)), "--id-column", "编号", "--out", str(out)])
    assert code == 0
    rows = {r["编号"]: r for r in _read(out)}
    assert list(_read(out)[0]) == ["编号", "cluster_id", "score", "evidence"]
    assert rows["1"]["cluster_id"] == rows["2"]["cluster_id"]
    assert len({rows["1"]["cluster_id"], rows["3"]["cluster_id"], rows["4"]["cluster_id"]}) == 3
    assert "phone" in rows["1"]["evidence"] and float(rows["1"]["score"]) >= 0.9
    assert rows["4"]["score"] == "" and rows["4"]["evidence"] == ""
    err = capsys.readouterr().err
    assert "name=公司名称" in err and "phone=联系电话" in err and "备注" not in err  # unmapped ignored
    assert "done:" in err


def test_gb18030_and_semicolons_are_read(tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes("\n".join(";".join(r) for r in COMPANIES).encode("gb18030"))
    out = tmp_path / "out.csv"
    assert main(["dedupe", str(path), "--id-column", "编号", "--out", str(out)]) == 0
    rows = {r["编号"]: r for r in _read(out)}
    assert rows["1"]["cluster_id"] == rows["2"]["cluster_id"]


def test_map_gives_a_role_several_columns_and_overrides_headers(tmp_path):
    rows = [["key", "firm", "tel_a", "tel_b"],
            ["a", "杭州娃哈哈集团有限公司", "0571-86032866", ""],
            ["b", "杭州娃哈哈集团", "", "(0571) 8603 2866"]]
    out = tmp_path / "out.csv"
    code = main(["dedupe", str(_write(tmp_path / "in.csv", rows)), "--id-column", "key", "--map", "name=firm",
                 "--map", "phone=tel_a", "--map", "phone=tel_b", "--out", str(out)])
    assert code == 0
    result = {r["key"]: r["cluster_id"] for r in _read(out)}
    assert result["a"] == result["b"]


@pytest.mark.skipif(not FEBRL.exists(), reason="shared FEBRL data not present")
def test_english_person_headers_of_febrl_are_recognised(tmp_path, capsys):
    out = tmp_path / "out.csv"
    assert main(["dedupe", str(FEBRL), "--id-column", "rec_id", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "family_name=surname" in err and "street=street_number+address_1+address_2" in err
    assert "(individual)" in err
    rows = _read(out)
    assert len(rows) == 1000
    by_cluster: dict[str, set[str]] = {}
    for r in rows:
        by_cluster.setdefault(r["cluster_id"], set()).add(r["rec_id"].split("-")[1])
    pure = sum(1 for entities in by_cluster.values() if len(entities) == 1)
    assert pure / len(by_cluster) > 0.98


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--id-column", "nope"], "--id-column 'nope'"),
        (["--id-column", "编号", "--map", "name"], "ROLE=COLUMN"),
        (["--id-column", "编号", "--map", "colour=公司名称"], "unknown role 'colour'"),
        (["--id-column", "编号", "--map", "name=公司"], "no column '公司'"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(tmp_path, capsys, extra, message):
    path = _write(tmp_path / "in.csv", COMPANIES)
    assert main(["dedupe", str(path), *extra, "--out", str(tmp_path / "o.csv")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and err[0].startswith("qianke dedupe: error:")


def test_missing_file_and_duplicate_ids_are_refused(tmp_path, capsys):
    assert main(["dedupe", str(tmp_path / "none.csv"), "--id-column", "x", "--out", str(tmp_path / "o.csv")]) == 2
    path = _write(tmp_path / "dup.csv", [["id", "name"], ["1", "甲公司"], ["1", "乙公司"]])
    assert main(["dedupe", str(path), "--id-column", "id", "--out", str(tmp_path / "o.csv")]) == 2
    assert "appears twice" in capsys.readouterr().err
