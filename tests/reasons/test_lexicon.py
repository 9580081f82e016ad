"""The keyword lexicon, the tokenizer and the LexiconClassifier (reasons/lexicon.py).

The oracle examples below were written by hand for these tests (not taken from the demo
data); each is labelled with the reason category (or churn type) a churn analyst would
give it.
"""

from __future__ import annotations

import tempfile

import numpy as np
import pytest

from churnradar.exceptions import NotFittedError, SettingsError
from churnradar.reasons.lexicon import (
    Lexicon,
    LexiconClassifier,
    _tokenizer,
    load_lexicon,
    normalize_text,
    parse_entry,
    tokenize,
)
from churnradar.schema import CHURN_TYPES, REASON_CATEGORIES
from churnradar.settings import ReasonsSettings

ZH: dict[str, list[str]] = {
    "product": ["手机在家里老是没信号，只能跑到阳台打电话", "新买的路由器用了一周就坏了",
                "有线电视画面经常花屏，还有马赛克", "这款产品功能太少，满足不了我们的需求",
                "宽带一到晚上就断网，打游戏延迟特别高"],
    "price": ["你们的月租比别家贵了快一倍", "信用卡年费太高了，要求免掉",
              "今年进货价又涨价了，根本赚不到钱", "这个套餐性价比太低，不值这个价钱"],
    "service": ["客服电话打了一上午都没人接", "维修师傅态度恶劣，修完还乱收费用",
                "营业厅排队两个小时才办完", "反映的问题拖了半个月，到现在还没解决"],
    "benefit": ["说好的充值返现到现在都没给", "积分清零了也不提前说一声",
                "隔壁市的经销商窜货过来，把我们的市场搅乱了", "老会员的福利越来越少，折扣也没了"],
    "management": ["这个月账单多扣了我二十块钱", "公司突然改了结算政策，账期从三个月缩到一个月",
                   "订了一个月的货到现在都没发货", "原来的业务员离职了，新来的根本不对接"],
    "industry": ["我们厂已经转型做新能源了，这类配件用不上了", "公司不做这块业务了，不再需要专线",
                 "准备转行开餐馆，五金生意不干了"],
    "natural": ["下个月要搬家去深圳，宽带要停掉", "老人去世了，家属来办理销户",
                "店铺经营不善已经倒闭了", "全家移民加拿大了"],
}

EN: dict[str, list[str]] = {
    "product": ["The internet keeps dropping every evening", "No signal at all in my apartment",
                "The router is faulty and keeps crashing",
                "Picture quality on the TV box is terrible, constant buffering"],
    "price": ["Your plan is far too expensive compared to others", "The monthly fee went up again",
              "I found a cheaper plan elsewhere, your prices are too high",
              "Overdraft fees are way too high"],
    "service": ["Customer service was rude and unhelpful", "I waited on hold for two hours",
                "The technician never showed up for the appointment",
                "My complaint was never resolved"],
    "benefit": ["My loyalty points expired without warning",
                "The promotion ended and I lost my discount",
                "The rebate we were promised for last quarter never arrived",
                "Other dealers are dumping stock in our territory"],
    "management": ["I was overcharged on my last bill",
                   "The new payment terms are impossible for us",
                   "Deliveries are always late and items are out of stock",
                   "Our account manager left the company and nobody took over"],
    "industry": ["We no longer need the leased line after restructuring",
                 "Our company changed business and doesn't need this",
                 "We are leaving the industry altogether"],
    "natural": ["I am moving abroad next month", "The account holder passed away",
                "The shop closed down last week", "I retired and moved to the countryside"],
}

TYPES: dict[str, list[str]] = {
    "competitive": ["别家运营商给的价格更低，携号转网走了", "被竞争对手挖走了",
                    "I switched to a competitor with a better deal",
                    "Ported my number to another carrier"],
    "malicious": ["恶意欠费后一直联系不上", "用假身份证办卡套取优惠",
                  "Customer committed fraud and disappeared",
                  "Account closed for non-payment, bad credit history"],
    "non_malicious": ["忘了交话费被停机了", "出国忘记续费，号码被回收",
                      "I forgot to pay the bill and the line was cut",
                      "My card expired so the payment failed"],
    "retaliatory": ["投诉多次没人管，一气之下销户", "忍无可忍，再也不用你们的宽带了",
                    "I am fed up with your service, never again",
                    "Furious after complaining repeatedly"],
    "natural": ["全家搬到外地了", "老板退休了，店关了", "Moved overseas", "Customer passed away"],
    "fault": ["你们系统出错把我的号停了", "扣费错误一直没有更正",
              "Your billing error charged me twice",
              "The mistake was yours, the order was wrong"],
}


@pytest.fixture(scope="module")
def clf() -> LexiconClassifier:
    return LexiconClassifier().fit([])


def _accuracy(pred: np.ndarray, truth: list[str]) -> float:
    return float(np.mean([p == t for p, t in zip(pred, truth, strict=True)]))


# ------------------------------------------------------------------------ tokenizer


def test_jieba_keeps_domain_words_whole() -> None:
    tokens = tokenize("宽带网速太慢")
    assert "网速" in tokens and "宽带" in tokens
    assert "宽带网" not in tokens
    for text, word in [("打了三次客服电话", "客服"), ("携号转网到其他运营商", "携号转网"),
                       ("窜货没人管", "窜货"), ("去年的返利还没到账", "返利"),
                       ("话费多扣了", "话费"), ("换个便宜的套餐", "套餐")]:
        assert word in tokenize(text), (text, tokenize(text))


def test_tokenize_latin_lower_case_without_stopwords_and_punctuation() -> None:
    assert tokenize("The FEE is too high!!  Feedback: ignored.") == [
        "fee", "high", "feedback", "ignored"]
    assert tokenize("") == [] and tokenize(None) == []
    assert tokenize("，。！") == []


def test_tokenize_mixed_and_full_width() -> None:
    tokens = tokenize("５Ｇ信号太差，ＩＰＴＶ卡顿")
    assert "5g" in tokens and "信号" in tokens and "iptv" in tokens and "卡顿" in tokens
    assert "的" not in tokenize("我的宽带的网速")


def test_settings_words_are_kept_whole_by_the_tokenizer() -> None:
    lex = load_lexicon(ReasonsSettings(lexicon={"product": ("蓝屏死机王",)}))
    assert "蓝屏死机王" in tokenize("电视又蓝屏死机王了", lex)


def test_jieba_cache_in_the_temp_dir() -> None:
    tk = _tokenizer(load_lexicon().words())
    assert tk.tmp_dir == tempfile.gettempdir()


def test_normalize_text() -> None:
    assert normalize_text("  ＦＥＥ\u3000Too   High ") == "fee too high"
    assert normalize_text("doesn\u2019t") == "doesn't"
    assert normalize_text(None) == ""


# ------------------------------------------------------------------------ oracle examples


@pytest.mark.parametrize(("examples", "floor"), [
    # measured: 27 of 28 (0.964); the miss is 说好的充值返现到现在都没给 -> management
    # (a broken promise about a benefit: both readings are defensible)
    (ZH, 0.9),
    # measured: 26 of 27 (0.963); the miss is the promised rebate -> management
    (EN, 0.9),
], ids=["zh", "en"])
def test_hand_labelled_categories(clf: LexiconClassifier, examples: dict[str, list[str]],
                                  floor: float) -> None:
    texts = [t for ts in examples.values() for t in ts]
    truth = [c for c, ts in examples.items() for _ in ts]
    pred = clf.predict(texts)
    assert _accuracy(pred, truth) >= floor
    for cat in REASON_CATEGORIES:  # every category is recognised most of the time
        idx = [i for i, t in enumerate(truth) if t == cat]
        assert _accuracy(pred[idx], [cat] * len(idx)) >= 0.66, cat


def test_hand_labelled_churn_types(clf: LexiconClassifier) -> None:
    texts = [t for ts in TYPES.values() for t in ts]
    truth = [c for c, ts in TYPES.items() for _ in ts]
    types, conf = clf.predict_type(texts)
    # measured: 24 of 24
    assert _accuracy(types, truth) >= 0.9
    assert set(types[types != None]) <= set(CHURN_TYPES)  # noqa: E711
    assert ((conf >= 0) & (conf <= 1)).all()


def test_fee_does_not_hit_feedback(clf: LexiconClassifier) -> None:
    assert clf.predict(["Thanks for the quick feedback"])[0] is None
    assert clf.predict(["The fee is outrageous"])[0] == "price"
    assert clf.predict(["Revenue of one billion"])[0] is None  # not "bill"


def test_prefix_entries_match_any_ending(clf: LexiconClassifier) -> None:
    assert clf.predict(["They overcharged me"])[0] == "management"
    assert clf.predict(["Overcharging again"])[0] == "management"
    assert clf.predict(["I was charged"])[0] is None  # "overcharg*" needs its start


def test_longer_entry_overrules_its_parts(clf: LexiconClassifier) -> None:
    # 收费 (price) lies inside 乱收费 (management)
    assert clf.predict(["营业厅乱收费"])[0] == "management"
    # 恶意 (malicious) lies inside 恶意扣费: the company's fault, not the customer's fraud
    assert clf.predict_type(["运营商恶意扣费"])[0][0] == "fault"
    assert clf.predict_type(["恶意欠费"])[0][0] == "malicious"


def test_chinese_matches_inside_words(clf: LexiconClassifier) -> None:
    # substring matching survives segmentation mistakes (宽带网/速 out of the box)
    assert clf.predict(["宽带网速太慢了"])[0] == "product"


# ------------------------------------------------------------------------ classifier


def test_confidence_in_unit_interval(clf: LexiconClassifier) -> None:
    texts = [t for ts in (*ZH.values(), *EN.values()) for t in ts] + [
        "你好", "", None, "营业厅乱收费，客服态度差，网速慢"]
    labels, conf = clf.predict_with_confidence(texts)
    assert ((conf >= 0) & (conf <= 1)).all()
    assert (conf[labels == None] == 0).all()  # noqa: E711
    assert (conf[labels != None] > 0).all()  # noqa: E711
    np.testing.assert_allclose(clf.confidence(texts), conf)


def test_confidence_is_high_when_one_category_dominates(clf: LexiconClassifier) -> None:
    one, agree, compete = clf.confidence(["资费太贵", "资费太贵，涨价，收费高",
                                          "资费太贵，客服态度也差"])
    assert one == pytest.approx(2 / 2.5)  # 资费 + 太贵: 2 / (2 + 0.5)
    assert agree > one > compete
    assert compete < 0.5


def test_no_keyword_is_none(clf: LexiconClassifier) -> None:
    pred = clf.predict(["你好", "", None, "hello there"])
    assert pred.tolist() == [None, None, None, None]
    assert pred.dtype == object


def test_predict_proba(clf: LexiconClassifier) -> None:
    texts = ["套餐太贵", "你好", "客服态度差，资费也贵"]
    proba = clf.predict_proba(texts)
    assert proba.shape == (3, len(REASON_CATEGORIES))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert proba[0, REASON_CATEGORIES.index("price")] == 1.0
    np.testing.assert_allclose(proba[1], 1 / 7)
    assert list(clf.classes_) == list(REASON_CATEGORIES)
    assert list(clf.types_) == list(CHURN_TYPES)


def test_sklearn_contract() -> None:
    lex = load_lexicon()
    c = LexiconClassifier(lexicon=lex)
    assert c.lexicon is lex and not hasattr(c, "lexicon_")
    with pytest.raises(NotFittedError, match="fit"):
        c.predict(["套餐太贵"])
    with pytest.raises(NotFittedError):
        c.predict_type(["携号转网"])
    with pytest.raises(NotFittedError):
        c.predict_proba(["套餐太贵"])
    assert c.fit([]) is c
    assert c.lexicon_ is lex
    assert LexiconClassifier().fit(["anything"], ["price"]).predict(["套餐太贵"])[0] == "price"


def test_same_input_same_output(clf: LexiconClassifier) -> None:
    texts = [t for ts in ZH.values() for t in ts] * 3
    a, b = clf.predict_with_confidence(texts), LexiconClassifier().fit([]) \
        .predict_with_confidence(texts)
    assert a[0].tolist() == b[0].tolist()
    np.testing.assert_array_equal(a[1], b[1])


# ------------------------------------------------------------------------ lexicon and settings


def test_builtin_lexicon_covers_every_category_and_type() -> None:
    lex = load_lexicon()
    assert set(lex.categories) == set(REASON_CATEGORIES)
    assert set(lex.types) == set(CHURN_TYPES)
    for table in (lex.categories, lex.types):
        for name, words in table.items():
            assert len(words) >= 20, name
            assert any(any("\u4e00" <= ch <= "\u9fff" for ch in w) for w in words), name
            assert any(w.isascii() for w in words), name


def test_settings_words_are_added() -> None:
    settings = ReasonsSettings(lexicon={"product": ("xyzzy", "蓝屏")},
                               type_lexicon={"competitive": ("投奔友商",)})
    lex = load_lexicon(settings)
    assert "xyzzy" in lex.categories["product"] and "质量" in lex.categories["product"]
    assert "投奔友商" in lex.types["competitive"] and "竞品:2" in lex.types["competitive"]
    c = LexiconClassifier(lexicon=lex).fit([])
    assert c.predict(["My xyzzy is dead", "电视蓝屏"]).tolist() == ["product", "product"]
    assert c.predict_type(["投奔友商了"])[0][0] == "competitive"
    # the built-in words still work
    assert c.predict(["套餐太贵"])[0] == "price"


def test_settings_words_replace() -> None:
    settings = ReasonsSettings(lexicon={"price": ("贵死了",)}, replace_lexicon=True)
    lex = load_lexicon(settings)
    assert lex.categories["price"] == ("贵死了",)
    assert all(lex.categories[c] == () for c in REASON_CATEGORIES if c != "price")
    assert lex.types == load_lexicon().types  # no type words given: the built-in ones stay
    c = LexiconClassifier(lexicon=lex).fit([])
    assert c.predict(["贵死了", "套餐资费太贵", "客服态度差"]).tolist() == ["price", None, None]


def test_weights() -> None:
    assert parse_entry("窜货:2") == ("窜货", 2.0)
    assert parse_entry("Switched To") == ("switched to", 1.0)
    assert parse_entry("overcharg*:1.5") == ("overcharg*", 1.5)
    lex = Lexicon(categories={"price": ("贵",), "service": ("客服:3",)}, types={})
    c = LexiconClassifier(lexicon=lex).fit([])
    assert c.predict(["客服说太贵"])[0] == "service"
    np.testing.assert_allclose(c.keyword_scores(["客服说太贵"])[0][:3], [0, 1, 3])
    for bad in ("太贵:0", "太贵:-1", "太贵:x", ":2"):
        with pytest.raises(SettingsError):
            load_lexicon(ReasonsSettings(lexicon={"price": (bad,)}))


def test_unknown_settings_category() -> None:
    with pytest.raises(SettingsError, match="unknown 'cost'"):
        load_lexicon(ReasonsSettings(lexicon={"cost": ("太贵",)}))
    with pytest.raises(SettingsError, match="unknown 'angry'"):
        load_lexicon(ReasonsSettings(type_lexicon={"angry": ("愤怒",)}))
