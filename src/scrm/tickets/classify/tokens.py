"""Chinese tokenisation with jieba, loaded lazily once per process.

jieba builds its prefix dictionary on first use (about half a second) and caches it in a file; the
cache goes to a writable temporary directory of ours (never the package's folder, which may be
read-only), and jieba's own log lines ("Building prefix dict...") are quieted. Our domain words
(色号, 丢件, 七天无理由...) are added so they come out as one token.

`features(text)` is what the classifier counts: the jieba words (without punctuation and the
commonest function words), a placeholder for long digit runs (order and waybill numbers say nothing
about the category), and the character bigrams of each Chinese run (they catch what the dictionary
splits differently, e.g. typos such as 色好 for 色号).
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
import unicodedata
from pathlib import Path
from typing import Any

# Beauty and apparel after-sales words jieba's general dictionary splits or does not know.
DOMAIN_WORDS = (
    "色号", "丢件", "破损", "七天无理由", "运费险", "订单丢失", "退换货", "退货退款", "仅退款", "极速退款",
    "补发", "漏发", "错发", "少发", "发错货", "未收到", "没收到", "签收", "揽收", "派送", "驿站",
    "菜鸟驿站", "丰巢", "快递柜", "运单号", "物流信息", "价保", "保价", "差价", "优惠券", "满减",
    "定金", "尾款", "跨店满减", "会员", "积分", "会员等级", "开票", "电子发票", "专票", "普票",
    "增值税专用发票", "发票抬头", "税号", "过敏", "烂脸", "闷痘", "起痘", "假货", "正品", "防伪码",
    "批号", "保质期", "漏液", "断了", "粉底液", "口红", "唇釉", "唇泥", "气垫", "眼影", "精华", "面霜",
    "防晒", "卸妆", "尺码", "偏大", "偏小", "起球", "掉色", "色差", "开线", "12315", "消协",
    "黑猫投诉", "曝光", "差评", "拒收", "顺丰", "中通", "圆通", "韵达", "申通", "极兔", "京东物流",
    "拼多多", "抖音", "天猫", "有赞", "直播间", "赠品", "小样", "试用装", "旗舰店", "包邮",
    "压坏", "压扁", "撒了", "碎了", "外箱", "换个色号", "换码",
)  # fmt: skip

_STOPWORDS_TEXT = (
    "的 了 吗 呢 啊 吧 呀 哦 嗯 哈 么 我 你 您 他 她 它 我们 你们 是 在 有 也 就 都 还 和 与 及 这 那 "
    "这个 那个 一下 一个 请问 亲 么么哒 谢谢 麻烦"
)
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())

_CJK = re.compile(r"[\u4e00-\u9fff]+")
_DIGITS = re.compile(r"\d{5,}")
_WORDLIKE = re.compile(r"\w", re.UNICODE)
_lock = threading.Lock()
_tokenizer: Any = None


def cache_dir() -> Path:
    """Where jieba's dictionary cache lives: `SCRM_JIEBA_CACHE_DIR`, else the temporary directory."""
    configured = os.environ.get("SCRM_JIEBA_CACHE_DIR")
    return Path(configured) if configured else Path(tempfile.gettempdir()) / "scrm-jieba"


def tokenizer() -> Any:
    """The process's jieba tokenizer with our domain words, built on first call (thread-safe)."""
    global _tokenizer
    if _tokenizer is not None:
        return _tokenizer
    with _lock:
        if _tokenizer is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            directory = cache_dir()
            directory.mkdir(parents=True, exist_ok=True)
            built = jieba.Tokenizer()
            built.tmp_dir = str(directory)
            built.cache_file = str(directory / "jieba.cache")
            built.initialize()
            for word in DOMAIN_WORDS:
                # A high frequency makes the word win over the splits the general dictionary prefers.
                built.add_word(word, freq=50_000)
            _tokenizer = built
    return _tokenizer


def normalise(text: str) -> str:
    """Full-width forms to half-width (ＡＢＣ１２３ → abc123), lower case, runs of spaces to one."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def words(text: str) -> list[str]:
    """jieba's words of the normalised text, without spaces and punctuation."""
    return [
        word
        for word in tokenizer().lcut(normalise(text), HMM=True)
        if word.strip() and _WORDLIKE.search(word)
    ]


def features(text: str) -> list[str]:
    """The classifier's features of `text` (repeats kept; the model decides how to count them)."""
    normalised = _DIGITS.sub(" 0 ", normalise(text))
    found = ["#" if word == "0" else word for word in words(normalised) if word not in STOPWORDS]
    for run in _CJK.findall(normalised):
        found.extend("~" + run[index : index + 2] for index in range(len(run) - 1))
    return found
