"""Routing of channel codes (渠道活码分配): which staff a code's WeCom contact way lists right now.

Pure: the caller passes the code's policy and the facts counted from rows (adds today per member,
who received the latest add, who is offline); nothing here reads a clock or a database.

WeCom, not us, picks the member when someone scans a contact way: among the way's users, at random.
So the engine decides the way's user list and keeps it right; the add callback then tells who got the
customer. `plan_way` computes that list; the caller pushes it with `update_contact_way` when it differs
from what the way has (after adds, at schedule boundaries, on edits and presence changes).

Eligibility, member by member, in this order (the first reason that applies is recorded):

1. **客户联系**: a member WeCom does not let serve customers is never listed.
2. **Online**: a member marked offline is skipped until marked online again.
3. **Schedule**: a member works during their own weekly windows, else the code's, in the code's time
   zone; no windows means always. A special date replaces the weekly windows for that local date
   (no hours: closed), for everyone or for the listed members.
4. **Daily cap**: a member whose adds through this code today (the code's local day) reached their
   cap is skipped until the next local day.

Then, when `match_location` is set, eligible primaries in the code's store are preferred, else those
in the code's region, else all eligible primaries. Backup members (`backup=True`) are used only when
no primary is eligible ("backups take over"). When nobody is eligible at all, the way falls back to
the backups, else to every primary, ignoring schedule, presence and caps (a printed QR code must
always reach someone); members without 客户联系 are never listed.

Strategies, over the eligible members ("candidates"):

- **round_robin**: the way lists one member: the first candidate after the member who received the
  latest add through this code, in the code's staff order, wrapping around (the first candidate when
  there was no add yet). Consecutive adds therefore go to the listed members in turn, skipping
  ineligible ones. The way rotates after every add, so under a burst the adds that arrive before the
  rotation lands go to the same member; the rotation then continues after whoever got the latest add.
- **weighted**: the way lists one member, chosen from today's counts so that over any prefix of the
  day each member's adds stay within `1 - 1/(2k-2)` (less than one add) of `n * weight / W`, for `k`
  candidates, `n` adds and total weight `W` (Tijdeman's chairman assignment: earliest deadline first;
  property-tested). Ties go to the first after the latest receiver.
- **random**: the way lists every candidate and WeCom picks one uniformly at each scan.

**Sticky** is per customer, so it cannot act before WeCom's pick: when a returning customer is added by
someone other than their previous guide, and that guide is on this code and eligible, `sticky_target`
names the guide and the caller hands the customer back (WeCom's in-service transfer).

`next_change_at` is the next instant at which eligibility can change by time alone (a schedule
boundary, or the next local midnight when someone is capped); the caller sets a timer for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from enum import StrEnum
from fractions import Fraction

from scrm.channels.calendar import (
    SpecialDate,
    WeeklyWindow,
    boundary_times,
    in_any,
    next_boundary,
    on_duty,
    zone,
)


class Strategy(StrEnum):
    ROUND_ROBIN = "round_robin"
    WEIGHTED = "weighted"
    RANDOM = "random"


class PlanMode(StrEnum):
    PRIMARY = "primary"  # eligible primaries are listed
    BACKUP = "backup"  # no primary is eligible: eligible backups take over
    FALLBACK = "fallback"  # nobody is eligible: listed anyway so the QR code reaches someone
    EMPTY = "empty"  # nobody can be listed at all (no member has 客户联系)


class Exclusion(StrEnum):
    NO_CUSTOMER_CONTACT = "no_customer_contact"
    OFFLINE = "offline"
    OFF_DUTY = "off_duty"
    AT_CAP = "at_cap"
    OTHER_LOCATION = "other_location"


@dataclass(frozen=True)
class StaffEntry:
    userid: str
    weight: int = 1
    daily_cap: int | None = None
    backup: bool = False
    store: str | None = None
    region: str | None = None
    schedule: tuple[WeeklyWindow, ...] | None = None


@dataclass(frozen=True)
class RoutingPolicy:
    staff: tuple[StaffEntry, ...]
    strategy: Strategy = Strategy.ROUND_ROBIN
    timezone: str = "Asia/Shanghai"
    schedule: tuple[WeeklyWindow, ...] | None = None
    special_dates: tuple[SpecialDate, ...] = ()
    match_location: bool = False
    store: str | None = None
    region: str | None = None
    sticky: bool = False

    def entry(self, userid: str) -> StaffEntry | None:
        return next((entry for entry in self.staff if entry.userid == userid), None)


@dataclass(frozen=True)
class RoutingFacts:
    """What the caller counted from rows at `now` (UTC)."""

    now: datetime
    adds_today: Mapping[str, int] = field(default_factory=dict)
    last_userid: str | None = None
    offline: frozenset[str] = frozenset()
    without_customer_contact: frozenset[str] = frozenset()


@dataclass(frozen=True)
class WayPlan:
    users: tuple[str, ...]
    pick: str | None
    mode: PlanMode
    reason: str
    candidates: tuple[str, ...]
    excluded: Mapping[str, str]
    next_change_at: datetime | None


def _exclusion(policy: RoutingPolicy, facts: RoutingFacts, entry: StaffEntry) -> str | None:
    local = facts.now.astimezone(zone(policy.timezone))
    if entry.userid in facts.without_customer_contact:
        return Exclusion.NO_CUSTOMER_CONTACT
    if entry.userid in facts.offline:
        return Exclusion.OFFLINE
    windows = entry.schedule if entry.schedule is not None else policy.schedule
    if not on_duty(windows, policy.special_dates, entry.userid, local):
        return Exclusion.OFF_DUTY
    if entry.daily_cap is not None and facts.adds_today.get(entry.userid, 0) >= entry.daily_cap:
        return f"{Exclusion.AT_CAP} {facts.adds_today.get(entry.userid, 0)}/{entry.daily_cap}"
    return None


def exclusions(policy: RoutingPolicy, facts: RoutingFacts) -> dict[str, str]:
    """userid -> why the member is not eligible now (eligible members are absent)."""
    found: dict[str, str] = {}
    for entry in policy.staff:
        reason = _exclusion(policy, facts, entry)
        if reason is not None:
            found[entry.userid] = reason
    return found


def _by_location(policy: RoutingPolicy, entries: list[StaffEntry]) -> list[StaffEntry]:
    if not policy.match_location:
        return entries
    if policy.store:
        in_store = [entry for entry in entries if entry.store == policy.store]
        if in_store:
            return in_store
    if policy.region:
        in_region = [entry for entry in entries if entry.region == policy.region]
        if in_region:
            return in_region
    return entries


def _order_after(policy: RoutingPolicy, last_userid: str | None) -> list[str]:
    """The staff's userids in list order, starting after `last_userid` (from the top without one)."""
    userids = [entry.userid for entry in policy.staff]
    if last_userid not in userids:
        return userids
    index = userids.index(last_userid)
    return userids[index + 1 :] + userids[: index + 1]


def _round_robin(policy: RoutingPolicy, facts: RoutingFacts, candidates: list[StaffEntry]) -> str:
    names = {entry.userid for entry in candidates}
    return next(userid for userid in _order_after(policy, facts.last_userid) if userid in names)


def _weighted(policy: RoutingPolicy, facts: RoutingFacts, candidates: list[StaffEntry]) -> str:
    """Tijdeman's chairman assignment: earliest deadline first over today's counts.

    With `n` the number of this add among the candidates' adds today and `k` candidates of shares
    `q = weight / W`, member i's deficit before the add is `Q = q * n - count`. Members with
    `Q >= 1/(2k-2)` may take the add (it leaves them at most `1 - 1/(2k-2)` ahead); among them the one
    whose deficit would pass that bound soonest takes it. Every prefix then keeps each count within
    `1 - 1/(2k-2)` (< 1) of its share, when the candidates stay the same through the day.
    """
    if len(candidates) == 1:
        return candidates[0].userid
    counts = {entry.userid: facts.adds_today.get(entry.userid, 0) for entry in candidates}
    weights = {entry.userid: max(entry.weight, 1) for entry in candidates}
    total_weight = sum(weights.values())
    n = sum(counts.values()) + 1
    bound = 1 - Fraction(1, 2 * len(candidates) - 2)
    deficit = {
        userid: Fraction(weights[userid] * n - total_weight * counts[userid], total_weight)
        for userid in counts
    }
    allowed = [userid for userid in counts if deficit[userid] >= 1 - bound] or [
        max(deficit, key=deficit.__getitem__)
    ]
    deadline = {userid: (bound - deficit[userid]) * total_weight / weights[userid] for userid in allowed}
    earliest = min(deadline.values())
    return next(
        userid for userid in _order_after(policy, facts.last_userid) if deadline.get(userid) == earliest
    )


def _next_change(policy: RoutingPolicy, facts: RoutingFacts, excluded: Mapping[str, str]) -> datetime | None:
    windows: list[WeeklyWindow] = list(policy.schedule or ())
    for entry in policy.staff:
        windows.extend(entry.schedule or ())
    has_time_rules = bool(windows or policy.special_dates)
    capped = any(reason.startswith(Exclusion.AT_CAP) for reason in excluded.values())
    if not has_time_rules and not capped:
        return None
    times = boundary_times(windows, policy.special_dates) if has_time_rules else {time(0, 0)}
    return next_boundary(facts.now, zone(policy.timezone), times)


def plan_way(policy: RoutingPolicy, facts: RoutingFacts) -> WayPlan:
    """The user list the code's contact way should have at `facts.now`, and why."""
    excluded = exclusions(policy, facts)
    eligible = [entry for entry in policy.staff if entry.userid not in excluded]
    primaries = [entry for entry in eligible if not entry.backup]
    located = _by_location(policy, primaries)
    for entry in primaries:
        if entry not in located:
            excluded[entry.userid] = Exclusion.OTHER_LOCATION
    next_change = _next_change(policy, facts, excluded)
    if located:
        candidates, mode = located, PlanMode.PRIMARY
    else:
        candidates, mode = [entry for entry in eligible if entry.backup], PlanMode.BACKUP
    if not candidates:
        contactable = [entry for entry in policy.staff if entry.userid not in facts.without_customer_contact]
        backups = [entry for entry in contactable if entry.backup]
        listed = tuple(entry.userid for entry in (backups or contactable))
        if not listed:
            return WayPlan((), None, PlanMode.EMPTY, "no member has 客户联系", (), excluded, next_change)
        return WayPlan(
            listed,
            None,
            PlanMode.FALLBACK,
            "nobody is eligible: listing " + ("the backups" if backups else "every member"),
            (),
            excluded,
            next_change,
        )
    names = tuple(entry.userid for entry in candidates)
    who = "backups take over: " if mode == PlanMode.BACKUP else ""
    if policy.strategy == Strategy.RANDOM:
        return WayPlan(names, None, mode, f"{who}random among {len(names)}", names, excluded, next_change)
    if policy.strategy == Strategy.WEIGHTED:
        pick = _weighted(policy, facts, candidates)
        reason = f"{who}weighted: {pick} is due by its share of today's adds"
    else:
        pick = _round_robin(policy, facts, candidates)
        after = f"after {facts.last_userid}" if facts.last_userid else "first"
        reason = f"{who}round robin: {pick} ({after})"
    return WayPlan((pick,), pick, mode, reason, names, excluded, next_change)


def sticky_target(policy: RoutingPolicy, facts: RoutingFacts, previous_guide: str | None) -> str | None:
    """The previous guide a returning customer should go back to, when sticky routing is on and that
    guide is on this code and eligible now; otherwise None."""
    if not policy.sticky or previous_guide is None or policy.entry(previous_guide) is None:
        return None
    entry = policy.entry(previous_guide)
    assert entry is not None
    return previous_guide if _exclusion(policy, facts, entry) is None else None


def skip_verify_at(default: bool, windows: Sequence[WeeklyWindow], timezone: str, now: datetime) -> bool:
    """Whether the way should skip verification at `now`: inside a window when windows are set,
    otherwise `default`."""
    if not windows:
        return default
    return in_any(windows, now.astimezone(zone(timezone)))


def next_skip_verify_change(windows: Sequence[WeeklyWindow], timezone: str, now: datetime) -> datetime | None:
    if not windows:
        return None
    return next_boundary(now, zone(timezone), boundary_times(windows, ()))
