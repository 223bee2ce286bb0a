"""The per-word pinyin used while importing gives exactly pypinyin's result, polyphones included."""

import pytest

from qianke.core import normalize
from qianke.dataio.fastpinyin import word_pinyin

NAMES = ["重庆银行股份有限公司长沙分行", "北京华为技术有限公司", "中国银行行长办公室", "长春长生生物科技有限责任公司",
         "乐山乐园音乐厅", "Acme 深圳 有限公司 123", "厦门", "曾经", "张伟", "都江堰都市", "单县单家"]


@pytest.mark.parametrize("name", NAMES)
def test_same_pinyin_as_without_the_cache(name):
    plain = (normalize.pinyin_full(name), normalize.pinyin_initials(name))
    with word_pinyin():
        first = (normalize.pinyin_full(name), normalize.pinyin_initials(name))
        again = (normalize.pinyin_full(name), normalize.pinyin_initials(name))
    assert first == plain == again
    assert not hasattr(normalize.lazy_pinyin, "cache")  # restored afterwards
