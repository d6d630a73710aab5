"""Douyin's two timestamp spellings, as its simulator reads them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


def parse_timestamp(value: str) -> datetime | None:
    """Epoch seconds, or "yyyy-MM-dd HH:mm:ss" in China time (both are seen [U]); None otherwise."""
    value = value.strip()
    if value.isdigit():
        return datetime.fromtimestamp(int(value), UTC)
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA_TZ).astimezone(UTC)
    except ValueError:
        return None
