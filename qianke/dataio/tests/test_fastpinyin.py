"""The per-word pinyin used while importing gives exactly pypinyin's result, polyphones included."""

import pytest

from qianke.core import normalize
from qianke.dataio.fastpinyin import word_pinyin

NAMES = ["重庆银行股份有限公司长沙分行", "北京华为技术有限公司", "中国银行行长办公室", "长春长生生物科技有限责任公司",
         "乐山乐园音乐厅", "Acme 深圳 有限公司 123", "厦门", "曾经", "张伟", "都江堰都市", "单县单家",
         "北京华信科技10000123有限公司", "3m中国", "abc", "2026"]


@pytest.mark.parametrize("name", NAMES)
def test_same_pinyin_as_without_the_cache(name):
    plain = (normalize.pinyin_full(name), normalize.pinyin_initials(name))
    with word_pinyin():
        first = (normalize.pinyin_full(name), normalize.pinyin_initials(name))
        again = (normalize.pinyin_full(name), normalize.pinyin_initials(name))
    assert first == plain == again
    assert not hasattr(normalize.lazy_pinyin, "cache")  # restored afterwards


def test_words_without_pinyin_pass_through_uncached():
    """Digits and latin letters come back as pypinyin gives them, and do not fill the cache."""
    from pypinyin import Style, lazy_pinyin

    with word_pinyin() as fast:
        for text in ("10000123", "acme2026", "北京10000123号"):
            for kwargs in ({"errors": "default"}, {"style": Style.FIRST_LETTER, "errors": "default"}):
                assert fast(text, **kwargs) == lazy_pinyin(text, **kwargs)
        assert not any(word[0].isascii() for word, _kwargs in fast.cache)
