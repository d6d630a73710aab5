"""Field lists for the forms tests: one field of every type, and a registration form with rules."""

from __future__ import annotations

from typing import Any


def label(zh: str, en: str = "") -> dict[str, str]:
    return {"zh-CN": zh, "en": en or zh}


def every_type() -> list[dict[str, Any]]:
    """One optional field of each type (their keys name their types)."""
    return [
        {"key": "text", "type": "text", "label": label("姓名", "Name"), "max_length": 10},
        {"key": "textarea", "type": "textarea", "label": label("描述", "Description")},
        {"key": "number", "type": "number", "label": label("数量", "Quantity"), "min": 1, "max": 99},
        {"key": "money", "type": "money", "label": label("金额", "Amount"), "max": "1000.00"},
        {"key": "date", "type": "date", "label": label("日期", "Date")},
        {
            "key": "choice",
            "type": "choice",
            "label": label("类型", "Kind"),
            "options": [{"value": "quality", "label": label("质量问题", "Quality")}, {"value": "late"}],
        },
        {
            "key": "multi_choice",
            "type": "multi_choice",
            "label": label("兴趣", "Interests"),
            "options": [{"value": "art"}, {"value": "math"}, {"value": "music"}],
            "max_items": 2,
        },
        {"key": "region", "type": "region", "label": label("地区", "Region")},
        {"key": "phone", "type": "phone", "label": label("手机号", "Mobile")},
        {"key": "file", "type": "file", "label": label("附件", "Files"), "max_items": 3},
        {"key": "rating", "type": "rating", "label": label("评分", "Rating")},
        {"key": "consent", "type": "consent", "label": label("同意条款", "I agree")},
    ]


def registration() -> list[dict[str, Any]]:
    """An education course registration (seed 003): rules depend on the course and the consent."""
    return [
        {"key": "name", "type": "text", "label": label("学员姓名", "Student"), "required": True},
        {"key": "phone", "type": "phone", "label": label("家长手机", "Parent's mobile"), "required": True},
        {
            "key": "course",
            "type": "choice",
            "label": label("课程", "Course"),
            "required": True,
            "options": [{"value": "art", "label": label("美术", "Art")}, {"value": "piano"}],
        },
        {
            "key": "has_piano",
            "type": "choice",
            "label": label("家中是否有钢琴", "Piano at home?"),
            "options": [{"value": "yes"}, {"value": "no"}],
            "visible_if": {"field": "course", "op": "equals", "value": "piano"},
            "required_if": {"field": "course", "op": "equals", "value": "piano"},
        },
        {
            "key": "wechat",
            "type": "text",
            "label": label("微信号", "WeChat id"),
            "required_if": {"field": "promotions", "op": "filled"},
        },
        {"key": "promotions", "type": "consent", "label": label("接收优惠信息", "Send me offers")},
        {
            "key": "agree",
            "type": "consent",
            "label": label("同意报名须知", "I accept the terms"),
            "required": True,
        },
    ]
