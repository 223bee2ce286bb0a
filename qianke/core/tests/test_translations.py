"""The Simplified Chinese catalogue: complete, not fuzzy, compiled, and actually used.

The .po file is read with a small parser below (no polib in the project's dependencies); the committed
django.mo is read back with gettext.GNUTranslations and must hold exactly the .po's translations, so a
.mo that was not recompiled after the .po changed fails here. (File times are not compared: a git
checkout gives both files arbitrary modification times.)
"""

from __future__ import annotations

import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation

LC_MESSAGES = Path(settings.LOCALE_PATHS[0]) / "zh_Hans" / "LC_MESSAGES"
PO_PATH = LC_MESSAGES / "django.po"
MO_PATH = LC_MESSAGES / "django.mo"

# ---------------------------------------------------------------------------------------------
# A minimal .po reader
# ---------------------------------------------------------------------------------------------

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def _unquote(text: str) -> str:
    text = text.strip()
    assert text.startswith('"') and text.endswith('"'), f"not a PO string: {text!r}"
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), text[1:-1])


@dataclass
class Entry:
    line: int
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def key(self) -> str:
        return self.msgid if self.msgctxt is None else f"{self.msgctxt}\x04{self.msgid}"

    def __str__(self) -> str:
        ctx = f" (context {self.msgctxt!r})" if self.msgctxt is not None else ""
        return f"line {self.line}: {self.msgid!r}{ctx}"


def read_po(path: Path) -> list[Entry]:
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int | None] | None = None  # the keyword a continuation line extends

    def start(line_no: int) -> Entry:
        """The entry a comment or msgctxt/msgid line belongs to: the open one if it has no text yet."""
        nonlocal current
        if current is None or current.msgid or current.msgstr or current.msgctxt is not None:
            current = Entry(line=line_no)
            entries.append(current)
        return current

    for line_no, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
        if not line:
            current, target = None, None
            continue
        if line.startswith("#,"):
            entry = start(line_no)
            entry.flags.update(flag.strip() for flag in line[2:].split(",") if flag.strip())
            continue
        if line.startswith("#"):
            start(line_no)
            continue
        keyword_match = re.match(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")$", line)
        if keyword_match:
            keyword, index, value = keyword_match.groups()
            if keyword == "msgctxt" or (
                keyword == "msgid" and (current is None or current.msgid or current.msgstr)
            ):
                entry = start(line_no)  # a new entry, even without a blank line before it
            else:
                assert current is not None, f"{path.name} line {line_no}: {keyword} outside an entry"
                entry = current
            entry.obsolete = entry.obsolete or obsolete
            text = _unquote(value)
            if keyword == "msgctxt":
                entry.msgctxt, target = text, ("msgctxt", None)
            elif keyword == "msgid":
                entry.msgid, target = text, ("msgid", None)
            elif keyword == "msgid_plural":
                entry.msgid_plural, target = text, ("msgid_plural", None)
            else:
                n = int(index) if index is not None else 0
                entry.msgstr[n], target = text, ("msgstr", n)
            continue
        if line.startswith('"') and current is not None and target is not None:
            text = _unquote(line)
            name, n = target
            if name == "msgstr":
                current.msgstr[n] += text
            else:
                setattr(current, name, (getattr(current, name) or "") + text)
            continue
        raise AssertionError(f"{path.name} line {line_no}: cannot parse {raw!r}")
    return [e for e in entries if e.msgid or e.msgstr or e.msgctxt is not None]


@pytest.fixture(scope="module")
def po_entries() -> list[Entry]:
    return read_po(PO_PATH)


@pytest.fixture(scope="module")
def messages(po_entries) -> list[Entry]:
    """The live entries, without the header."""
    return [e for e in po_entries if not e.obsolete and not (e.msgid == "" and e.msgctxt is None)]


@pytest.fixture(scope="module")
def header(po_entries) -> dict[str, str]:
    head = next(e for e in po_entries if e.msgid == "" and e.msgctxt is None)
    assert "fuzzy" not in head.flags, "the catalogue header is marked fuzzy; msgfmt would skip it"
    return dict(
        (key.strip(), value.strip())
        for key, _sep, value in (line.partition(":") for line in head.msgstr[0].splitlines() if line)
    )


# ---------------------------------------------------------------------------------------------
# The .po file
# ---------------------------------------------------------------------------------------------


def test_header_declares_chinese_utf8_and_one_plural_form(header):
    assert header["Language"] == "zh_Hans"
    assert "charset=UTF-8" in header["Content-Type"]
    assert header["Plural-Forms"].replace(" ", "") == "nplurals=1;plural=0;"


def test_catalogue_is_not_empty(messages):
    assert len(messages) > 300


def test_every_entry_is_translated(messages):
    untranslated = [
        str(e)
        for e in messages
        if not e.msgstr.get(0, "").strip() or not all(text.strip() for text in e.msgstr.values())
    ]
    assert not untranslated, f"{len(untranslated)} untranslated entries:\n" + "\n".join(untranslated)


def test_no_entry_is_fuzzy(messages):
    fuzzy = [str(e) for e in messages if "fuzzy" in e.flags]
    assert not fuzzy, f"{len(fuzzy)} fuzzy entries (check them, then remove the flag):\n" + "\n".join(fuzzy)


def test_plural_entries_have_exactly_one_form(messages):
    wrong = [str(e) for e in messages if e.msgid_plural is not None and sorted(e.msgstr) != [0]]
    assert not wrong, "Chinese has one plural form; give msgstr[0] only:\n" + "\n".join(wrong)


_PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[sdif]|%[sdif]|\{[\w.]*\}")


def test_translations_keep_placeholders(messages):
    """%(name)s, %(n)d, %s and {…} of the msgid come back unchanged in the translation."""
    wrong = []
    for e in messages:
        sources = {m.group(0) for m in _PLACEHOLDER.finditer(e.msgid)}
        if e.msgid_plural:
            sources |= {m.group(0) for m in _PLACEHOLDER.finditer(e.msgid_plural)}
        for text in e.msgstr.values():
            got = {m.group(0) for m in _PLACEHOLDER.finditer(text)}
            if got != sources:
                wrong.append(f"{e}: {sorted(sources)} vs {sorted(got)} in {text!r}")
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong)


def test_translations_keep_html_tags(messages):
    tag = re.compile(r"</?[a-zA-Z][^>]*>")
    wrong = [
        str(e)
        for e in messages
        if any(sorted(tag.findall(e.msgid)) != sorted(tag.findall(text)) for text in e.msgstr.values())
        and "<token>" not in e.msgid
    ]
    assert not wrong, "HTML tags differ:\n" + "\n".join(wrong)


def test_no_msgid_appears_twice(messages):
    seen, twice = set(), []
    for e in messages:
        if e.key in seen:
            twice.append(str(e))
        seen.add(e.key)
    assert not twice, twice


# ---------------------------------------------------------------------------------------------
# The compiled .mo file
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mo_catalog() -> dict:
    assert MO_PATH.exists(), "django.mo is missing; run django-admin compilemessages"
    with MO_PATH.open("rb") as fp:
        return dict(gettext.GNUTranslations(fp)._catalog)


def test_mo_holds_exactly_the_po_translations(messages, mo_catalog):
    """A .mo compiled from an older .po lacks new entries or carries old wording: recompile."""
    expected: dict = {}
    for e in messages:
        if "fuzzy" in e.flags or not e.msgstr.get(0):
            continue
        if e.msgid_plural is None:
            expected[e.key] = e.msgstr[0]
        else:
            for n, text in e.msgstr.items():
                expected[(e.key, n)] = text
    compiled = {k: v for k, v in mo_catalog.items() if k != ""}
    missing = sorted(str(k) for k in expected.keys() - compiled.keys())
    extra = sorted(str(k) for k in compiled.keys() - expected.keys())
    changed = sorted(str(k) for k in expected.keys() & compiled.keys() if expected[k] != compiled[k])
    assert not (missing or extra or changed), (
        "django.mo does not match django.po; run `django-admin compilemessages`.\n"
        f"missing in .mo: {missing[:10]}\nonly in .mo: {extra[:10]}\ndifferent: {changed[:10]}"
    )


def test_mo_header_has_plural_forms(mo_catalog):
    assert "nplurals=1; plural=0;" in mo_catalog[""]


# ---------------------------------------------------------------------------------------------
# Django uses it
# ---------------------------------------------------------------------------------------------


def test_default_language_is_simplified_chinese():
    assert settings.LANGUAGE_CODE == "zh-hans"


def test_model_names_and_choices_come_out_in_chinese():
    from qianke.activities.models import Activity
    from qianke.customers.choices import Industry, PotentialKind, Status
    from qianke.customers.models import Contact, Customer

    with translation.override("zh-hans"):
        assert str(Customer._meta.verbose_name) == "客户"
        assert str(Contact._meta.verbose_name) == "联系人"
        assert str(Activity._meta.verbose_name) == "跟进记录"
        assert str(Customer._meta.get_field("code").verbose_name) == "客户编号"
        assert str(Customer._meta.get_field("owner").verbose_name) == "负责人"
        assert str(Status.POTENTIAL.label) == "潜在客户"
        assert str(Status.DORMANT.label) == "休眠客户"
        assert str(PotentialKind.COMPETITOR.label) == "竞争者的客户"
        assert str(Industry.PUBLIC_SECURITY_JUSTICE.label) == "公检法司"
    with translation.override("en"):
        assert str(Customer._meta.verbose_name) == "customer"


def test_validation_messages_come_out_in_chinese():
    from qianke.core import normalize

    with translation.override("zh-hans"):
        with pytest.raises(ValidationError) as mobile:
            normalize.normalize_mobile("12345")
        assert "手机号码" in mobile.value.messages[0]
        with pytest.raises(ValidationError) as postcode:
            normalize.normalize_postcode("1000")
        assert postcode.value.messages == ["邮政编码为 6 位数字，例如 100080。"]
        with pytest.raises(ValidationError) as code:
            normalize.validate_customer_code("K123")
        assert "客户编号" in code.value.messages[0]


def test_plural_and_placeholders_in_chinese():
    with translation.override("zh-hans"):
        assert translation.ngettext("%(n)s customer", "%(n)s customers", 1) % {"n": 1} == "共 1 个客户"
        assert translation.ngettext("%(n)s customer", "%(n)s customers", 5) % {"n": 5} == "共 5 个客户"
        assert translation.gettext("Hello, %(name)s") % {"name": "张三"} == "您好，张三"
