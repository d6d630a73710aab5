"""A code's stored settings (JSON columns) turned into the pure routing and welcome dataclasses."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from scrm.channels.calendar import SpecialDate, TimeRange, WeeklyWindow
from scrm.channels.models import ChannelCode
from scrm.channels.routing import RoutingPolicy, StaffEntry, Strategy
from scrm.channels.welcome import Variant, WelcomeConfig


def windows_of(items: Iterable[Mapping[str, Any]] | None) -> tuple[WeeklyWindow, ...] | None:
    if items is None:
        return None
    return tuple(
        WeeklyWindow(
            days=frozenset(int(day) for day in item.get("days") or []) or frozenset(range(1, 8)),
            ranges=(TimeRange.parse(str(item["start"]), str(item["end"])),),
        )
        for item in items
    )


def _specials(items: Iterable[Mapping[str, Any]]) -> tuple[SpecialDate, ...]:
    return tuple(
        SpecialDate(
            day=date.fromisoformat(str(item["date"])),
            ranges=tuple(TimeRange.parse(str(r["start"]), str(r["end"])) for r in item.get("hours") or []),
            userids=frozenset(item.get("userids") or []),
        )
        for item in items
    )


def staff_entries(code: ChannelCode) -> tuple[StaffEntry, ...]:
    return tuple(
        StaffEntry(
            userid=str(item["userid"]),
            weight=int(item.get("weight") or 1),
            daily_cap=None if item.get("daily_cap") is None else int(item["daily_cap"]),
            backup=bool(item.get("backup")),
            store=item.get("store") or code.store,
            region=item.get("region") or code.region,
            schedule=windows_of(item.get("schedule")),
        )
        for item in code.staff
    )


def routing_policy(code: ChannelCode) -> RoutingPolicy:
    routing = code.routing or {}
    return RoutingPolicy(
        staff=staff_entries(code),
        strategy=Strategy(routing.get("strategy") or Strategy.ROUND_ROBIN),
        timezone=code.timezone,
        schedule=windows_of(routing.get("schedule")),
        special_dates=_specials(routing.get("special_dates") or []),
        match_location=bool(routing.get("match_location")),
        store=code.store,
        region=code.region,
        sticky=bool(routing.get("sticky")),
    )


def skip_verify_windows(code: ChannelCode) -> tuple[WeeklyWindow, ...]:
    return windows_of(code.skip_verify_windows or []) or ()


def welcome_config(code: ChannelCode) -> WelcomeConfig | None:
    welcome = code.welcome or {}
    if not welcome or not welcome.get("enabled", True):
        return None
    variants = []
    for item in welcome.get("variants") or []:
        start, end = item.get("start"), item.get("end")
        variants.append(
            Variant(
                name=str(item["name"]),
                days=frozenset(int(day) for day in item.get("days") or []),
                time_range=TimeRange.parse(start, end) if start and end else None,
                from_date=date.fromisoformat(item["from_date"]) if item.get("from_date") else None,
                to_date=date.fromisoformat(item["to_date"]) if item.get("to_date") else None,
                text=item.get("text"),
                attachments=None if item.get("attachments") is None else tuple(item["attachments"]),
            )
        )
    return WelcomeConfig(
        text=str(welcome.get("text") or ""),
        attachments=tuple(welcome.get("attachments") or ()),
        variants=tuple(variants),
        enabled=True,
    )
