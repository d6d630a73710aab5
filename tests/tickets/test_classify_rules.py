"""Classification's pure parts: rule evaluation (any/all, position order, priority only raised,
negation, whole-word digits, chat rules), jieba tokenisation of our domain words, and the naive Bayes
pieces (counts that add up, the fixed split, metrics)."""

from __future__ import annotations

from scrm.tickets.classify import tokens
from scrm.tickets.classify.bayes import Counts, NaiveBayes, accuracy, is_held_out, macro_f1, majority
from scrm.tickets.classify.rules import Rule, evaluate, phrase_occurs, raised

LOST = Rule(
    id=1, name="订单丢失", phrases=("订单丢失", "丢件"), category="丢件/未收到", urgent=True, position=1
)
COMPLAINT = Rule(
    id=2,
    name="投诉升级",
    phrases=("投诉", "12315", "曝光"),
    category="投诉",
    priority="high",
    creates_ticket_from_chat=True,
    position=0,
)
SHADE = Rule(id=3, name="色号不符", phrases=("色号", "不对"), match_mode="all", category="色号/尺码不符")
OFF = Rule(id=4, name="停用", phrases=("发票",), category="发票", enabled=False)
RULES = [LOST, COMPLAINT, SHADE, OFF]


def test_a_matching_rule_sets_the_category_and_urgent_phrases_raise_the_priority() -> None:
    match = evaluate("快递显示签收但是订单丢失了，怎么办", RULES)
    assert match.rule_ids == [1]
    assert (match.category, match.category_rule_id, match.priority, match.urgent) == (
        "丢件/未收到",
        1,
        "urgent",
        True,
    )
    assert match.reasons == ["规则「订单丢失」命中「订单丢失」：分类为「丢件/未收到」，标记紧急"]
    assert not match.creates_ticket


def test_rules_apply_in_position_order_and_the_highest_priority_wins() -> None:
    # Both match: the complaint rule comes first (position 0) and gives the category; the lost-parcel
    # rule's urgent beats the complaint's high.
    match = evaluate("丢件了还不处理，我要去12315投诉", RULES)
    assert match.rule_ids == [2, 1]
    assert match.category == "投诉"
    assert match.priority == "urgent"
    assert match.creates_ticket and match.chat_rule_ids == (2,)
    assert "「12315、投诉」" in match.reasons[0] or "「投诉、12315」" in match.reasons[0]


def test_match_all_needs_every_phrase_and_disabled_rules_never_match() -> None:
    assert evaluate("色号是哪个", RULES).rule_ids == []
    assert evaluate("收到的色号不对", RULES).rule_ids == [3]
    assert evaluate("能开发票吗", RULES).rule_ids == []


def test_negated_phrases_and_digits_inside_longer_numbers_do_not_count() -> None:
    assert not phrase_occurs("我不投诉，就问问", "投诉")
    assert not phrase_occurs("没有投诉的意思", "投诉")
    assert phrase_occurs("我要投诉", "投诉")
    assert not phrase_occurs("订单号12315667788", "12315")
    assert phrase_occurs("打了12315了", "12315")
    # Full-width digits and letters, case and spaces are normalised.
    assert phrase_occurs("我要打１２３１５！", "12315")
    assert phrase_occurs("订单 丢 失", "订单丢失")
    assert phrase_occurs("SKU ABC-1 坏了", "abc-1")


def test_priority_is_only_ever_raised() -> None:
    assert raised("normal", "urgent") == "urgent"
    assert raised("urgent", "high") == "urgent"
    assert raised("high", None) == "high"
    assert evaluate("没有规则命中的话", RULES).priority is None


def test_jieba_keeps_our_domain_words_whole() -> None:
    words = tokens.words("色号不对，丢件了，七天无理由退货，运费险有吗？包装破损")
    for word in ("色号", "丢件", "七天无理由", "运费险", "破损"):
        assert word in words, words
    found = tokens.features("订单号 4520017739881 口红断了")
    assert "#" in found and "4520017739881" not in found  # order numbers fold into one placeholder
    assert "口红" in found and "~口红" in found  # words and character bigrams


def test_counts_add_up_and_the_model_prefers_the_label_seen_with_the_words() -> None:
    first, second = Counts(), Counts()
    first.add(["快递", "没到"], "物流")
    first.add(["发票", "抬头"], "发票")
    second.add(["快递", "丢了"], "丢件")
    merged = first.merged(second)
    assert merged.docs == {"物流": 1, "发票": 1, "丢件": 1}
    assert merged.features["物流"] == {"快递": 1, "没到": 1}
    model = NaiveBayes.from_counts(merged)
    prediction = model.predict(["发票", "开"])
    assert prediction.label == "发票"
    assert abs(sum(p for _, p in prediction.ranked) - 1.0) < 0.01
    restored = NaiveBayes.from_json(model.to_json())
    assert restored.predict(["发票", "开"]).ranked == prediction.ranked


def test_the_split_is_fixed_and_the_metrics_are_the_textbook_ones() -> None:
    texts = [f"第{index}条消息" for index in range(200)]
    held = [text for text in texts if is_held_out(text)]
    assert held == [text for text in texts if is_held_out(text)]
    assert 20 <= len(held) <= 60  # about one in five
    assert is_held_out("a  b") == is_held_out("a b")
    assert accuracy(["a", "b", "b"], ["a", "b", "a"]) == 2 / 3
    # a: precision 1/2, recall 1 → 2/3; b: precision 1, recall 1/2 → 2/3.
    assert abs(macro_f1(["a", "b", "b"], ["a", "b", "a"]) - 2 / 3) < 1e-9
    assert majority(["b", "a", "b"]) == "b"
