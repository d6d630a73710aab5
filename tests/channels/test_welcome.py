"""Welcome messages: variant choice by time of day, weekday and dates; placeholders; WeCom's limits."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from scrm.channels.calendar import TimeRange, zone
from scrm.channels.schemas import WelcomeIn
from scrm.channels.welcome import (
    WELCOME_PLACEHOLDERS,
    Variant,
    WelcomeConfig,
    attachment_errors,
    choose,
    fit_bytes,
    message_for,
    render,
    template_errors,
)

SHANGHAI = zone("Asia/Shanghai")
# Seed 000: mornings get the breakfast offer, evenings the late-night one.
SEED_000 = WelcomeConfig(
    text="{customer_name}您好，欢迎光临",
    variants=(
        Variant(
            name="早餐",
            time_range=TimeRange.parse("06:00", "10:30"),
            text="{customer_name}早上好，早餐套餐8折",
        ),
        Variant(
            name="宵夜", time_range=TimeRange.parse("21:00", "02:00"), text="{customer_name}晚上好，宵夜满减"
        ),
    ),
)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("hour", "minute", "variant"),
    [
        (5, 59, None),
        (6, 0, "早餐"),
        (10, 29, "早餐"),
        (10, 30, None),
        (15, 0, None),
        (21, 0, "宵夜"),
        (23, 59, "宵夜"),
        (0, 30, "宵夜"),
        (1, 59, "宵夜"),
        (2, 0, None),
    ],
)
def test_variants_by_time_of_day(hour: int, minute: int, variant: str | None) -> None:
    assert choose(SEED_000, local(date(2026, 11, 24), hour, minute))[0] == variant


def test_variants_by_weekday_and_date_range_first_match_wins() -> None:
    config = WelcomeConfig(
        text="默认",
        variants=(
            Variant(
                name="双十一", from_date=date(2026, 11, 11), to_date=date(2026, 11, 15), text="双十一快乐"
            ),
            Variant(name="周末", days=frozenset({6, 7}), text="周末愉快"),
        ),
    )
    assert choose(config, local(date(2026, 11, 11), 12))[0] == "双十一"  # a Wednesday
    assert choose(config, local(date(2026, 11, 21), 12))[0] == "周末"  # Saturday
    assert choose(config, local(date(2026, 11, 16), 12))[0] is None  # Monday
    # Saturday 14th is in both: the date variant is listed first, so it wins.
    assert choose(config, local(date(2026, 11, 14), 12))[0] == "双十一"


def test_a_variant_without_text_or_attachments_inherits_the_default() -> None:
    link = {"msgtype": "link", "link": {"title": "领券", "url": "https://x.test/c"}}
    config = WelcomeConfig(text="默认{staff_name}", attachments=(link,), variants=(Variant(name="全天"),))
    message = message_for(config, local(date(2026, 11, 24), 9), {"staff_name": "张三"})
    assert (message.variant, message.text, message.attachments) == ("全天", "默认张三", (link,))


def test_placeholders_are_substituted_not_formatted() -> None:
    values = {"customer_name": "王女士", "staff_name": "张三", "channel_name": "抖音达人A"}
    assert (
        render("{customer_name}您好，我是{staff_name}（{channel_name}）", values)
        == "王女士您好，我是张三（抖音达人A）"
    )
    assert render("{{customer_name}} {customer_name}", values) == "{customer_name} 王女士"
    assert render("你好{customer_name}", {"customer_name": None}) == "你好"
    assert template_errors("{customer_name.__class__}", WELCOME_PLACEHOLDERS)
    assert template_errors("{customer_name!r}", WELCOME_PLACEHOLDERS)
    assert template_errors("{order_total}", WELCOME_PLACEHOLDERS)
    assert template_errors("{customer_name", WELCOME_PLACEHOLDERS)
    assert template_errors("{customer_name}{staff_name}{channel_name}", WELCOME_PLACEHOLDERS) == []


@given(st.text(max_size=200))
def test_rendering_any_text_never_raises_and_keeps_plain_text(text: str) -> None:
    if not template_errors(text, WELCOME_PLACEHOLDERS):
        rendered = render(text, {"customer_name": "甲", "staff_name": "乙", "channel_name": "丙"})
        assert isinstance(rendered, str)
        if "{" not in text and "}" not in text:
            assert rendered == text


def test_attachments_follow_wecom_shapes_and_limits() -> None:
    assert attachment_errors({"msgtype": "image", "image": {"pic_url": "https://x.test/a.png"}}) == []
    assert attachment_errors({"msgtype": "image", "image": {}}) == ["image needs media_id or pic_url"]
    assert attachment_errors({"msgtype": "link", "link": {"title": "t" * 129, "url": "u"}}) == [
        "link.title is longer than 128 bytes"
    ]
    mini = {
        "msgtype": "miniprogram",
        "miniprogram": {"title": "小程序", "appid": "wx1", "page": "p", "pic_media_id": "m"},
    }
    assert attachment_errors(mini) == []
    assert attachment_errors({"msgtype": "video", "video": {"media_id": "m"}}) == [
        "msgtype must be image, link or miniprogram"
    ]


def test_the_welcome_schema_names_the_bad_fields() -> None:
    with pytest.raises(ValidationError) as raised:
        WelcomeIn.model_validate(
            {
                "text": "{nickname}",
                "attachments": [{"msgtype": "image", "image": {"pic_url": "p"}}] * 10,
                "variants": [{"name": "早", "start": "06:00"}],
            }
        )
    locations = {".".join(str(part) for part in error["loc"]) for error in raised.value.errors()}
    assert {"text", "attachments", "variants.0"} <= locations


def test_fit_bytes_never_splits_a_character() -> None:
    assert fit_bytes("欢迎欢迎", 7) == "欢迎"
    assert fit_bytes("abc", 10) == "abc"
