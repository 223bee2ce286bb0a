"""Pinyin per word while importing: the same result as pypinyin, computed once per word.

pypinyin segments a text into words (its mmseg over the phrase dictionary) and converts each word on
its own, so converting the words one by one and joining the results gives exactly what a call on
the whole text gives. Imported names share most of their words (有限公司, 科技, 北京…), and the
conversion, not the segmentation, is what costs (~40 µs a call): cached per word, a 1,000,000-row
import spends its time on the rows instead of on pinyin. Used like core.demo's _word_pinyin: the
module-level `normalize.lazy_pinyin` is swapped for the duration of an import.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator

from pypinyin import Style
from pypinyin.seg.simpleseg import seg

from qianke.core import normalize

CACHE_LIMIT = 500_000
# A word of digits and latin letters (the rest of a searchable text besides Chinese characters) has
# no pinyin: with errors="default" pypinyin gives it back as it is, in either spelling used here.
# Passed through, not converted (~5 µs a call) nor cached: serial and house numbers, one per name,
# would fill the cache and leave no room for the Chinese words.
_PLAIN_WORD = re.compile(r"[0-9a-z]+")
_PLAIN_STYLES = (Style.NORMAL, Style.FIRST_LETTER)


class WordPinyin:
    def __init__(self, real: Callable) -> None:
        self.real = real
        self.cache: dict[tuple, list[str]] = {}
        # The last text's words: a search entry spells each name twice (full and initials) in a row.
        self._last: tuple[str, list[str]] = ("", [])

    def __call__(self, text, **kwargs) -> list[str]:
        if not isinstance(text, str):
            return self.real(text, **kwargs)
        kwargs_key = tuple(sorted(kwargs.items()))
        whole = self.cache.get((text, kwargs_key))
        if whole is not None:  # person names and other short texts repeat as a whole
            return list(whole)
        out: list[str] = []
        # Read once: an import's writer thread calls this too, and may replace _last meanwhile.
        last_text, last_words = self._last
        if last_text == text:
            words = last_words
        else:
            words = list(seg(text))
            self._last = (text, words)
        plain = kwargs.get("errors") == "default" and kwargs.get("style", Style.NORMAL) in _PLAIN_STYLES \
            and kwargs.keys() <= {"errors", "style"}
        for word in words:
            if plain and _PLAIN_WORD.fullmatch(word):
                out.append(word)
                continue
            key = (word, kwargs_key)
            result = self.cache.get(key)
            if result is None:
                result = self.real(word, **kwargs)
                if len(self.cache) < CACHE_LIMIT:
                    self.cache[key] = result
            out += result
        if len(text) <= 4 and len(self.cache) < CACHE_LIMIT:
            self.cache[(text, kwargs_key)] = list(out)
        return out


@contextlib.contextmanager
def word_pinyin() -> Iterator[WordPinyin]:
    real = normalize.lazy_pinyin
    if isinstance(real, WordPinyin):  # nested: keep the outer one
        yield real
        return
    fast = WordPinyin(real)
    normalize.lazy_pinyin = fast
    try:
        yield fast
    finally:
        normalize.lazy_pinyin = real
