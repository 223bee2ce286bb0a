"""The one normalisation module: names, phones, e-mail, postcodes, codes and search tokens.

Forms, the API, import and duplicate checks all call these functions, so a value is cleaned and
validated the same way wherever it enters. Stored values keep what the user typed; canonical forms
computed here live beside them for matching and search.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils.translation import gettext_lazy as _
from pypinyin import Style, lazy_pinyin

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_NOT_SEARCHABLE = re.compile(rf"[^0-9a-z{_CJK}]+")
_CJK_CHAR = re.compile(rf"[{_CJK}]")
_SPACES = re.compile(r"\s+")
_BRACKETS = re.compile(r"[()\[\]{}<>（）【】〔〕《》「」『』]")

# Longest first, so 股份有限公司 is removed whole rather than leaving 股份.
LEGAL_FORM_SUFFIXES = (
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "股份公司",
    "集团公司",
    "总公司",
    "分公司",
    "公司",
    "集团",
)


def to_halfwidth(text: str) -> str:
    """Full-width letters, digits and punctuation to half-width (NFKC), ideographic space to space."""
    return unicodedata.normalize("NFKC", text).replace("\u3000", " ")


def parse_date(value: object) -> dt.date:
    """A date from a date, a datetime or text such as 2026-11-22, 2026/11/22 or 2026年11月22日.

    Raises ValueError when the text is not a real date; callers attach their field's message.
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = to_halfwidth(str(value)).strip().replace("/", "-").replace(".", "-").removesuffix("日")
    text = text.replace("年", "-").replace("月", "-")
    return dt.date.fromisoformat("-".join(p.zfill(2) for p in text.split("-")))


def clean_text(text: str | None) -> str:
    """Trim and collapse whitespace; keep the characters the user typed."""
    if not text:
        return ""
    return _SPACES.sub(" ", str(text)).strip()


def normalize_company_name(name: str) -> str:
    """Canonical name for duplicate checks: half-width, lower case, no spaces or brackets, no legal form.

    北京华为技术有限公司 and 北京 华为技术 有限责任公司 both give 北京华为技术.
    """
    text = to_halfwidth(name).lower()
    text = _SPACES.sub("", text)
    text = _BRACKETS.sub("", text)
    # Repeat, so 娃哈哈集团有限公司, 娃哈哈集团公司 and 娃哈哈集团 all give 娃哈哈.
    stripped = True
    while stripped:
        stripped = False
        for suffix in LEGAL_FORM_SUFFIXES:
            if text.endswith(suffix):
                if len(text) > len(suffix):
                    text = text[: -len(suffix)]
                    stripped = True
                break
    return text


def normalize_person_name(name: str) -> str:
    return _SPACES.sub("", to_halfwidth(name).lower())


def searchable(text: str | None) -> str:
    """Lower-case half-width text with only digits, latin letters and CJK characters kept."""
    if not text:
        return ""
    return _NOT_SEARCHABLE.sub("", to_halfwidth(text).lower())


# ---------------------------------------------------------------------------------------------
# Phones
# ---------------------------------------------------------------------------------------------

_PHONE_SEPARATORS = re.compile(r"[\s\-‐‑–—.()（）/]+")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
# Area codes: the 3-digit ones are 010 and 02x (8-digit local numbers); all others have 4 digits
# starting 03–09 (7–8 digit local numbers). Service numbers 400/800; 95xxx short numbers.
_LANDLINE = re.compile(r"^(?:0(?:10|2\d)[2-9]\d{7}|0[3-9]\d{2}[2-9]\d{6,7}|[2-9]\d{6,7})$")
_SERVICE = re.compile(r"^(400|800)\d{7}$|^95\d{3,6}$|^1[01]\d{3}$")
_EXTENSION = re.compile(r"(?:转|分机|ext\.?|x|#)\s*(\d{1,6})$", re.IGNORECASE)


def _strip_country_code(digits: str) -> str:
    for prefix in ("0086", "+86", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) >= 10:
            return digits[len(prefix) :]
    return digits


def normalize_mobile(value: str) -> str:
    """A mainland mobile number as its 11 digits; raises ValidationError if it is not one."""
    raw = to_halfwidth(value).strip()
    digits = _strip_country_code(_PHONE_SEPARATORS.sub("", raw))
    if not _MOBILE.match(digits):
        raise ValidationError(
            _("Enter a valid mobile number: 11 digits starting with 1, e.g. 138 1234 5678."),
            code="invalid_mobile",
        )
    return digits


def normalize_phone(value: str) -> str:
    """Canonical digits of a landline, service or mobile number; an extension follows after '-'.

    010-6234 5678 转 801 → 01062345678-801; +86 (21) 5555-1234 → 02155551234.
    """
    raw = to_halfwidth(value).strip()
    extension = ""
    if match := _EXTENSION.search(raw):
        extension = match.group(1)
        raw = raw[: match.start()]
    compact = _PHONE_SEPARATORS.sub("", raw)
    if compact.startswith("+86") or compact.startswith("0086"):
        compact = _strip_country_code(compact)
        if not compact.startswith("0") and not _MOBILE.match(compact):
            compact = "0" + compact  # +86 21 … drops the trunk 0 of the area code
    if not compact.isdigit():
        raise ValidationError(
            _("Enter a valid phone number, e.g. 010-6234 5678 or 138 1234 5678."), code="invalid_phone"
        )
    if not (_MOBILE.match(compact) or _LANDLINE.match(compact) or _SERVICE.match(compact)):
        raise ValidationError(
            _("Enter a valid phone number, e.g. 010-6234 5678 or 138 1234 5678."), code="invalid_phone"
        )
    return f"{compact}-{extension}" if extension else compact


def phone_digits(value: str | None) -> str:
    """Digits only, for search tokens; never raises."""
    if not value:
        return ""
    return re.sub(r"\D", "", to_halfwidth(value))


# ---------------------------------------------------------------------------------------------
# Other fields
# ---------------------------------------------------------------------------------------------

_email_validator = EmailValidator(message=_("Enter a valid e-mail address, e.g. name@example.com."))
_POSTCODE = re.compile(r"^\d{6}$")
CUSTOMER_CODE = re.compile(r"^KH\d{12}$")


def normalize_email(value: str) -> str:
    email = to_halfwidth(value).strip()
    _email_validator(email)
    return email.lower()


def normalize_postcode(value: str) -> str:
    code = to_halfwidth(value).strip()
    if not _POSTCODE.match(code):
        raise ValidationError(_("A postcode has 6 digits, e.g. 100080."), code="invalid_postcode")
    return code


def validate_customer_code(value: str) -> str:
    code = to_halfwidth(value).strip().upper()
    if not CUSTOMER_CODE.match(code):
        raise ValidationError(
            _("A customer code is KH followed by 12 digits, e.g. KH202611000123."), code="invalid_code"
        )
    return code


# ---------------------------------------------------------------------------------------------
# Pinyin and search tokens
# ---------------------------------------------------------------------------------------------


def pinyin_full(text: str) -> str:
    """北京华为 → beijinghuawei (non-Chinese characters kept as they are)."""
    return searchable("".join(lazy_pinyin(searchable(text), errors="default")))


def pinyin_initials(text: str) -> str:
    """北京华为 → bjhw; latin words and digits contribute their characters."""
    parts = lazy_pinyin(searchable(text), style=Style.FIRST_LETTER, errors="default")
    return searchable("".join(parts))


# Gram sizes per search column. A query at least this long becomes a phrase of its grams; a
# shorter one a prefix query. Bigrams suit Chinese names; 4-grams keep phone lists short.
NAME_GRAM, PINYIN_GRAM, DIGIT_GRAM, OTHER_GRAM = 2, 3, 4, 3


def grams(text: str, size: int) -> list[str]:
    """Overlapping grams of `size`, then the shorter tails, so every substring is a phrase or prefix."""
    return [text[i : i + size] for i in range(len(text))]


@dataclass(frozen=True)
class SearchDocument:
    """The four token columns of one customer's search entry (space-separated grams)."""

    names: str
    pinyin: str
    digits: str
    other: str


def search_document(
    *, names: list[str], phones: list[str], others: list[str]
) -> SearchDocument:
    """Tokens for the full-text index: names (and their pinyin), phone digits, e-mail and code."""
    name_tokens: list[str] = []
    pinyin_tokens: list[str] = []
    digit_tokens: list[str] = []
    other_tokens: list[str] = []
    for name in names:
        text = searchable(name)
        if not text:
            continue
        name_tokens += grams(text, NAME_GRAM)
        if _CJK_CHAR.search(text):
            pinyin_tokens += grams(pinyin_initials(text), PINYIN_GRAM)
            pinyin_tokens += grams(pinyin_full(text), PINYIN_GRAM)
    for phone in phones:
        digits = phone_digits(phone)
        if digits:
            digit_tokens += grams(digits, DIGIT_GRAM)
    for other in others:
        text = searchable(other)
        if text:
            other_tokens += grams(text, OTHER_GRAM)
            digits = phone_digits(other)
            if len(digits) >= DIGIT_GRAM:
                digit_tokens += grams(digits, DIGIT_GRAM)
    return SearchDocument(
        names=" ".join(name_tokens),
        pinyin=" ".join(pinyin_tokens),
        digits=" ".join(digit_tokens),
        other=" ".join(other_tokens),
    )


@dataclass(frozen=True)
class SearchClause:
    """One alternative of a query: a phrase of grams (or a prefix) in one column."""

    column: str  # names | pinyin | digits | other
    tokens: tuple[str, ...]
    prefix: bool = False


def _clause(column: str, text: str, size: int) -> SearchClause:
    if len(text) < size:
        return SearchClause(column, (text,), prefix=True)
    return SearchClause(column, tuple(text[i : i + size] for i in range(len(text) - size + 1)))


def search_clauses(query: str) -> list[SearchClause]:
    """The alternatives a search box query stands for; an empty list means nothing to look for."""
    text = searchable(query)
    if not text:
        return []
    if _CJK_CHAR.search(text):
        return [_clause("names", text, NAME_GRAM)]
    if text.isdigit():
        clauses = [_clause("names", text, NAME_GRAM)]
        if len(text) >= DIGIT_GRAM:
            clauses.append(_clause("digits", text, DIGIT_GRAM))
        return clauses
    return [
        _clause("names", text, NAME_GRAM),
        _clause("pinyin", text, PINYIN_GRAM),
        _clause("other", text, OTHER_GRAM),
    ]
