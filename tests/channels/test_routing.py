"""The routing engine's semantics, strategy by strategy (pure; property tests with hypothesis).

Each property simulates what the service does: plan the way, let "WeCom" pick among its users, count
the add, plan again.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from scrm.channels.calendar import SpecialDate, TimeRange, WeeklyWindow, on_duty
from scrm.channels.routing import (
    PlanMode,
    RoutingFacts,
    RoutingPolicy,
    StaffEntry,
    Strategy,
    plan_way,
    skip_verify_at,
    sticky_target,
)

# Monday 2026-11-23 10:00 in Shanghai (02:00 UTC).
MONDAY_10 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
USERIDS = [f"u{index}" for index in range(8)]


def policy(*entries: StaffEntry, **fields) -> RoutingPolicy:  # type: ignore[no-untyped-def]
    return RoutingPolicy(staff=tuple(entries), **fields)


def simulate(
    routing: RoutingPolicy,
    adds: int,
    *,
    now: datetime = MONDAY_10,
    offline: frozenset[str] = frozenset(),
    rng: random.Random | None = None,
) -> tuple[list[str], list[PlanMode]]:
    """Sequential adds: plan, WeCom picks one of the way's users, the add is counted."""
    rng = rng or random.Random(0)
    counts: Counter[str] = Counter()
    last: str | None = None
    picks: list[str] = []
    modes: list[PlanMode] = []
    for _ in range(adds):
        plan = plan_way(
            routing, RoutingFacts(now=now, adds_today=dict(counts), last_userid=last, offline=offline)
        )
        assert plan.users, plan
        picked = rng.choice(plan.users)
        picks.append(picked)
        modes.append(plan.mode)
        counts[picked] += 1
        last = picked
    return picks, modes


# --- round robin --------------------------------------------------------------------------------------


@given(
    size=st.integers(min_value=1, max_value=8),
    offline=st.sets(st.integers(min_value=0, max_value=7)),
    adds=st.integers(min_value=1, max_value=40),
)
def test_round_robin_gives_consecutive_adds_to_the_listed_staff_in_turn(
    size: int, offline: set[int], adds: int
) -> None:
    userids = USERIDS[:size]
    away = frozenset(USERIDS[index] for index in offline if index < size)
    picks, modes = simulate(policy(*(StaffEntry(u) for u in userids)), adds, offline=away)
    available = [u for u in userids if u not in away]
    if available:
        assert picks == [available[index % len(available)] for index in range(adds)]
        assert set(modes) == {PlanMode.PRIMARY}
    else:  # nobody online: the QR code still reaches everyone listed
        assert set(modes) == {PlanMode.FALLBACK}


def test_round_robin_lists_one_member_and_continues_after_the_latest_receiver() -> None:
    routing = policy(StaffEntry("a"), StaffEntry("b"), StaffEntry("c"))
    plan = plan_way(routing, RoutingFacts(now=MONDAY_10, last_userid="b"))
    assert plan.users == ("c",) and plan.pick == "c"
    assert "after b" in plan.reason
    # A burst gave "a" three adds before the rotation landed: the rotation continues after "a".
    plan = plan_way(routing, RoutingFacts(now=MONDAY_10, adds_today={"a": 3}, last_userid="a"))
    assert plan.users == ("b",)
    # A receiver no longer on the code: start from the top.
    assert plan_way(routing, RoutingFacts(now=MONDAY_10, last_userid="gone")).users == ("a",)


# --- caps and backups ---------------------------------------------------------------------------------


@given(
    caps=st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=4),
    backup_caps=st.lists(st.one_of(st.none(), st.integers(min_value=1, max_value=3)), max_size=2),
    strategy=st.sampled_from([Strategy.ROUND_ROBIN, Strategy.WEIGHTED, Strategy.RANDOM]),
    adds=st.integers(min_value=1, max_value=40),
    seed=st.integers(min_value=0, max_value=1000),
)
def test_caps_hold_and_backups_take_over_only_when_every_primary_is_capped(
    caps: list[int], backup_caps: list[int | None], strategy: Strategy, adds: int, seed: int
) -> None:
    primaries = [StaffEntry(f"p{index}", daily_cap=cap) for index, cap in enumerate(caps)]
    backups = [StaffEntry(f"b{index}", daily_cap=cap, backup=True) for index, cap in enumerate(backup_caps)]
    routing = policy(*primaries, *backups, strategy=strategy)
    picks, modes = simulate(routing, adds, rng=random.Random(seed))
    counts = Counter(picks)
    capacity = sum(caps)
    for index, pick in enumerate(picks):
        if index < capacity:
            # While any primary is below its cap, only primaries get adds, never past their caps.
            assert pick.startswith("p") and modes[index] == PlanMode.PRIMARY
        elif backups and index < capacity + sum(c or adds for c in backup_caps):
            assert pick.startswith("b") and modes[index] == PlanMode.BACKUP
    for entry in primaries:
        if capacity >= adds or backups:
            assert counts[entry.userid] <= (entry.daily_cap or adds)


def test_a_capped_member_is_skipped_until_the_next_local_day() -> None:
    routing = policy(StaffEntry("a", daily_cap=2), StaffEntry("b"))
    plan = plan_way(routing, RoutingFacts(now=MONDAY_10, adds_today={"a": 2}, last_userid="b"))
    assert plan.users == ("b",)
    assert plan.excluded["a"] == "at_cap 2/2"
    # The reset is at the next local midnight (Shanghai: 16:00 UTC).
    assert plan.next_change_at == datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
    # The counts the caller passes are per local day: the next day starts from zero.
    tomorrow = plan_way(
        routing, RoutingFacts(now=MONDAY_10 + timedelta(days=1), adds_today={}, last_userid="b")
    )
    assert tomorrow.users == ("a",)


def test_when_everyone_is_capped_the_backups_are_listed_anyway() -> None:
    routing = policy(StaffEntry("a", daily_cap=1), StaffEntry("z", daily_cap=1, backup=True))
    plan = plan_way(routing, RoutingFacts(now=MONDAY_10, adds_today={"a": 1, "z": 1}))
    assert plan.mode == PlanMode.FALLBACK and plan.users == ("z",)


# --- weighted -----------------------------------------------------------------------------------------


@settings(max_examples=200)
@given(
    weights=st.lists(st.integers(min_value=1, max_value=10), min_size=1, max_size=6),
    adds=st.integers(min_value=1, max_value=120),
)
def test_weighted_keeps_every_member_within_one_add_of_its_share(weights: list[int], adds: int) -> None:
    routing = policy(
        *(StaffEntry(f"u{i}", weight=w) for i, w in enumerate(weights)), strategy=Strategy.WEIGHTED
    )
    picks, _ = simulate(routing, adds)
    total = sum(weights)
    bound = 1 - Fraction(1, 2 * len(weights) - 2) if len(weights) > 1 else Fraction(0)
    for n in range(1, adds + 1):
        counts = Counter(picks[:n])
        for index, weight in enumerate(weights):
            assert abs(counts[f"u{index}"] - Fraction(n * weight, total)) <= bound


def test_weighted_example_two_to_one() -> None:
    routing = policy(StaffEntry("a", weight=2), StaffEntry("b", weight=1), strategy=Strategy.WEIGHTED)
    picks, _ = simulate(routing, 6)
    assert Counter(picks) == {"a": 4, "b": 2}


# --- random -------------------------------------------------------------------------------------------


@given(offline=st.sets(st.sampled_from(USERIDS[:4])))
def test_random_lists_every_eligible_member_and_lets_wecom_pick(offline: set[str]) -> None:
    routing = policy(*(StaffEntry(u) for u in USERIDS[:4]), strategy=Strategy.RANDOM)
    plan = plan_way(routing, RoutingFacts(now=MONDAY_10, offline=frozenset(offline)))
    expected = tuple(u for u in USERIDS[:4] if u not in offline)
    if expected:
        assert plan.users == expected and plan.pick is None
    else:
        assert plan.mode == PlanMode.FALLBACK


# --- schedules ----------------------------------------------------------------------------------------


def window(days: set[int], start: str, end: str) -> WeeklyWindow:
    return WeeklyWindow(days=frozenset(days), ranges=(TimeRange.parse(start, end),))


def at_shanghai(day: date, clock: str) -> datetime:
    hour, minute = map(int, clock.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=UTC) - timedelta(hours=8)


def test_schedule_work_days_hours_and_time_zone() -> None:
    weekdays_9_to_18 = (window({1, 2, 3, 4, 5}, "09:00", "18:00"),)
    routing = policy(StaffEntry("day", schedule=weekdays_9_to_18), StaffEntry("always"))
    monday = date(2026, 11, 23)
    assert plan_way(routing, RoutingFacts(now=at_shanghai(monday, "09:00"))).users == ("day",)
    off = plan_way(routing, RoutingFacts(now=at_shanghai(monday, "18:00")))
    assert off.users == ("always",) and off.excluded["day"] == "off_duty"
    assert plan_way(routing, RoutingFacts(now=at_shanghai(date(2026, 11, 28), "10:00"))).users == ("always",)
    # The same instant in New York is Sunday evening: off duty there.
    new_york = policy(
        StaffEntry("day", schedule=weekdays_9_to_18), StaffEntry("always"), timezone="America/New_York"
    )
    assert plan_way(new_york, RoutingFacts(now=at_shanghai(monday, "10:00"))).users == ("always",)
    # The next boundary is the end of the shift.
    assert plan_way(routing, RoutingFacts(now=at_shanghai(monday, "10:00"))).next_change_at == at_shanghai(
        monday, "18:00"
    )


def test_overnight_shifts_belong_to_the_day_they_start() -> None:
    friday_night = (window({5}, "21:00", "02:00"),)
    saturday = date(2026, 11, 28)
    assert on_duty(friday_night, (), "u", at_shanghai(saturday, "01:00").astimezone(_shanghai()))
    assert not on_duty(friday_night, (), "u", at_shanghai(saturday, "02:00").astimezone(_shanghai()))
    assert not on_duty(friday_night, (), "u", at_shanghai(saturday, "21:30").astimezone(_shanghai()))


def _shanghai():  # type: ignore[no-untyped-def]
    from scrm.channels.calendar import zone

    return zone("Asia/Shanghai")


def test_special_dates_close_or_change_hours_for_everyone_or_some() -> None:
    monday = date(2026, 11, 23)
    holiday = SpecialDate(day=monday)  # closed
    short_day = SpecialDate(day=monday, ranges=(TimeRange.parse("12:00", "14:00"),), userids=frozenset({"b"}))
    routing = policy(StaffEntry("a"), StaffEntry("b"), special_dates=(short_day,))
    assert plan_way(routing, RoutingFacts(now=at_shanghai(monday, "10:00"))).users == ("a",)
    assert plan_way(routing, RoutingFacts(now=at_shanghai(monday, "12:30"), last_userid="a")).users == ("b",)
    closed = policy(StaffEntry("a"), StaffEntry("z", backup=True), special_dates=(holiday,))
    plan = plan_way(closed, RoutingFacts(now=at_shanghai(monday, "10:00")))
    assert plan.mode == PlanMode.FALLBACK and plan.users == ("z",)


@given(minute_of_week=st.integers(min_value=0, max_value=7 * 24 * 60 - 1))
def test_off_duty_members_are_never_listed_while_someone_is_on_duty(minute_of_week: int) -> None:
    now = at_shanghai(date(2026, 11, 23), "00:00") + timedelta(minutes=minute_of_week)
    routing = policy(
        StaffEntry("early", schedule=(window({1, 2, 3, 4, 5}, "08:00", "16:00"),)),
        StaffEntry("late", schedule=(window({1, 2, 3, 4, 5, 6}, "14:00", "23:00"),)),
        StaffEntry("night", schedule=(window({5, 6, 7}, "22:00", "03:00"),)),
        strategy=Strategy.RANDOM,
    )
    plan = plan_way(routing, RoutingFacts(now=now))
    local = now.astimezone(_shanghai())
    working = {entry.userid for entry in routing.staff if on_duty(entry.schedule, (), entry.userid, local)}
    if working:
        assert set(plan.users) == working
    else:
        assert plan.mode == PlanMode.FALLBACK
    assert plan.next_change_at is not None and plan.next_change_at > now


# --- location, presence, 客户联系 -------------------------------------------------------------------------


def test_match_location_prefers_the_codes_store_then_its_region() -> None:
    staff = (
        StaffEntry("xuhui", store="徐汇店", region="上海"),
        StaffEntry("jingan", store="静安店", region="上海"),
        StaffEntry("xihu", store="西湖店", region="杭州"),
    )
    routing = RoutingPolicy(
        staff=staff, strategy=Strategy.RANDOM, match_location=True, store="徐汇店", region="上海"
    )
    assert plan_way(routing, RoutingFacts(now=MONDAY_10)).users == ("xuhui",)
    away = plan_way(routing, RoutingFacts(now=MONDAY_10, offline=frozenset({"xuhui"})))
    assert away.users == ("jingan",) and away.excluded["xihu"] == "other_location"
    everyone_away = plan_way(routing, RoutingFacts(now=MONDAY_10, offline=frozenset({"xuhui", "jingan"})))
    assert everyone_away.users == ("xihu",)


def test_members_without_customer_contact_are_never_listed() -> None:
    routing = policy(StaffEntry("a"), StaffEntry("b", backup=True))
    plan = plan_way(routing, RoutingFacts(now=MONDAY_10, without_customer_contact=frozenset({"a"})))
    assert plan.users == ("b",) and plan.excluded["a"] == "no_customer_contact"
    nobody = plan_way(routing, RoutingFacts(now=MONDAY_10, without_customer_contact=frozenset({"a", "b"})))
    assert nobody.mode == PlanMode.EMPTY and nobody.users == ()


# --- sticky, skip-verify ------------------------------------------------------------------------------


def test_sticky_sends_a_returning_customer_back_to_an_eligible_previous_guide() -> None:
    routing = policy(StaffEntry("a", daily_cap=1), StaffEntry("b"), sticky=True)
    facts = RoutingFacts(now=MONDAY_10)
    assert sticky_target(routing, facts, "a") == "a"
    assert sticky_target(routing, facts, "stranger") is None  # not on this code
    assert sticky_target(routing, RoutingFacts(now=MONDAY_10, offline=frozenset({"a"})), "a") is None
    assert sticky_target(routing, RoutingFacts(now=MONDAY_10, adds_today={"a": 1}), "a") is None
    assert sticky_target(policy(StaffEntry("a")), facts, "a") is None  # sticky off


def test_skip_verify_follows_its_windows() -> None:
    windows = (window({1, 2, 3, 4, 5}, "09:00", "21:00"),)
    monday = date(2026, 11, 23)
    assert skip_verify_at(False, windows, "Asia/Shanghai", at_shanghai(monday, "10:00")) is True
    assert skip_verify_at(True, windows, "Asia/Shanghai", at_shanghai(monday, "22:00")) is False
    assert skip_verify_at(True, (), "Asia/Shanghai", at_shanghai(monday, "22:00")) is True
