"""Keyword and phrase rules (分类规则), evaluated by a pure function: (text, rules) → match.

A rule lists phrases and matches when any (or, with `match_mode="all"`, every) phrase occurs in the
text. What a matching rule does:
- `category`: the ticket's category (the first matching rule with a category, by position, wins);
- `priority`: raise the priority to at least this (never lowers); `urgent`: raise it to `urgent`;
- `creates_ticket_from_chat`: a chat message it matches opens a ticket.

Matching is on the normalised text (full-width to half-width, lower case, spaces ignored except
between Latin words). Chinese
phrases match as substrings: Chinese has no spaces, and requiring jieba's word boundaries would miss
a phrase inside a compound jieba keeps whole (质量 in 质量问题). Latin and digit phrases match whole
words only, so 12315 does not fire inside an order number. An occurrence right after a negation
(不, 没, 没有, 别, 不要, 不用, 无需, 并非) does not count: "不投诉" is not a complaint.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

PRIORITY_RANK = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
NEGATIONS = ("没有", "不要", "不用", "无需", "并非", "不", "没", "别")
_ASCII_WORD = re.compile(r"[0-9a-z]")
_LONE_SPACE = re.compile(r"(?<![0-9a-z]) | (?![0-9a-z])")


@dataclass(frozen=True)
class Rule:
    id: int
    name: str
    phrases: tuple[str, ...]
    match_mode: str = "any"  # "any" | "all"
    category: str | None = None
    priority: str | None = None
    urgent: bool = False
    creates_ticket_from_chat: bool = False
    enabled: bool = True
    position: int = 0


@dataclass(frozen=True)
class RuleHit:
    rule_id: int
    name: str
    phrases: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class RuleMatch:
    """What the matching rules decide together. `priority` is the highest any of them raises to."""

    hits: tuple[RuleHit, ...] = ()
    category: str | None = None
    category_rule_id: int | None = None
    priority: str | None = None
    urgent: bool = False
    creates_ticket: bool = False
    chat_rule_ids: tuple[int, ...] = field(default_factory=tuple)

    @property
    def rule_ids(self) -> list[int]:
        return [hit.rule_id for hit in self.hits]

    @property
    def reasons(self) -> list[str]:
        return [hit.reason for hit in self.hits]


def normalise(text: str) -> str:
    """Full-width to half-width, lower case; spaces go, except one between two Latin words or numbers
    (so "sku abc-1" keeps its word boundary while "订单 丢失" reads 订单丢失)."""
    spaced = " ".join(unicodedata.normalize("NFKC", text).lower().split())
    return _LONE_SPACE.sub("", spaced)


def raised(current: str, to: str | None) -> str:
    """`current` raised to `to` (never lowered)."""
    if to is None or PRIORITY_RANK.get(to, -1) <= PRIORITY_RANK.get(current, -1):
        return current
    return to


def _negated(text: str, start: int) -> bool:
    before = text[max(0, start - 2) : start]
    return any(before.endswith(word) for word in NEGATIONS)


def _is_whole_word(text: str, start: int, end: int) -> bool:
    left = text[start - 1] if start > 0 else ""
    right = text[end] if end < len(text) else ""
    return not (_ASCII_WORD.match(left) or _ASCII_WORD.match(right))


def phrase_occurs(text: str, phrase: str) -> bool:
    """Whether `phrase` occurs in `text`, both normalised, not negated (see the module doc)."""
    return _occurs(normalise(text), phrase)


def _occurs(text: str, phrase: str) -> bool:
    needle = normalise(phrase)
    if not needle:
        return False
    ascii_edges = bool(_ASCII_WORD.match(needle[0])) or bool(_ASCII_WORD.match(needle[-1]))
    start = text.find(needle)
    while start != -1:
        end = start + len(needle)
        if not _negated(text, start) and (not ascii_edges or _is_whole_word(text, start, end)):
            return True
        start = text.find(needle, start + 1)
    return False


def _hit(rule: Rule, text: str) -> RuleHit | None:
    found = tuple(phrase for phrase in rule.phrases if _occurs(text, phrase))
    if not found or (rule.match_mode == "all" and len(found) != len(rule.phrases)):
        return None
    does = []
    if rule.category:
        does.append(f"分类为「{rule.category}」")
    if rule.urgent:
        does.append("标记紧急")
    elif rule.priority:
        does.append(f"优先级至少 {rule.priority}")
    if rule.creates_ticket_from_chat:
        does.append("聊天消息建单")
    reason = f"规则「{rule.name}」命中「{'、'.join(found)}」" + (f"：{'，'.join(does)}" if does else "")
    return RuleHit(rule_id=rule.id, name=rule.name, phrases=found, reason=reason)


def evaluate(text: str, rules: Iterable[Rule]) -> RuleMatch:
    """The enabled rules matching `text`, in position order (then id), and what they decide."""
    normalised = normalise(text)
    ordered: Sequence[Rule] = sorted(
        (rule for rule in rules if rule.enabled), key=lambda rule: (rule.position, rule.id)
    )
    hits: list[RuleHit] = []
    category: str | None = None
    category_rule_id: int | None = None
    priority: str | None = None
    urgent = False
    chat_rule_ids: list[int] = []
    for rule in ordered:
        hit = _hit(rule, normalised)
        if hit is None:
            continue
        hits.append(hit)
        if rule.category and category is None:
            category, category_rule_id = rule.category, rule.id
        rule_priority = "urgent" if rule.urgent else rule.priority
        if rule_priority is not None:
            priority = raised(priority or "low", rule_priority)
        urgent = urgent or rule.urgent
        if rule.creates_ticket_from_chat:
            chat_rule_ids.append(rule.id)
    return RuleMatch(
        hits=tuple(hits),
        category=category,
        category_rule_id=category_rule_id,
        priority=priority,
        urgent=urgent,
        creates_ticket=bool(chat_rule_ids),
        chat_rule_ids=tuple(chat_rule_ids),
    )
