"""The simulated corp's state: members, customers, tags, contact ways, group chats, codes, tokens.

Everything lives in memory behind one lock; the API and control handlers are the only writers.
Time comes from `SimClock`, which the control API can move forward (`POST /_sim/clock/advance`) so
token, welcome-code, OAuth-code and rate-limit expiry can be exercised without waiting.
"""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from scrm.platforms.wecom.errors import ErrCode
from scrm.platforms.wecom.simulator.config import SimulatorConfig, StaffSeed
from scrm.platforms.wecom.simulator.customers import CustomerBook, SeededCustomers, random_id

_MESSAGES = {
    ErrCode.SYSTEM_BUSY: "system busy",
    ErrCode.INVALID_SECRET: "invalid credential",
    ErrCode.INVALID_USERID: "invalid userid",
    ErrCode.INVALID_CORPID: "invalid corpid",
    ErrCode.INVALID_ACCESS_TOKEN: "invalid access_token",
    ErrCode.INVALID_OAUTH_CODE: "invalid code",
    ErrCode.INVALID_PARAMETER: "invalid parameter",
    ErrCode.EMPTY_PARAMETER: "empty parameter",
    ErrCode.INVALID_TAG_ID: "invalid tagid",
    ErrCode.TAG_NAME_EXISTS: "tag name exist",
    ErrCode.INVALID_EXTERNAL_USERID: "invalid external userid",
    ErrCode.MISSING_ACCESS_TOKEN: "access_token missing",
    ErrCode.MISSING_EXTERNAL_USERID: "external userid missing",
    ErrCode.INVALID_CONFIG_ID: "invalid config id",
    ErrCode.INVALID_WELCOME_CODE: "invalid welcome code",
    ErrCode.CUSTOMER_ALREADY_CHATTING: "customer already chatting",
    ErrCode.ACCESS_TOKEN_EXPIRED: "access_token expired",
    ErrCode.INVALID_JSON: "data format error",
    ErrCode.FREQUENCY_LIMIT: "api freq out of limit",
    ErrCode.CONCURRENCY_LIMIT: "api concurrent out of limit",
    ErrCode.NO_RELATIONSHIP: "not external contact",
}


def errmsg(errcode: int, detail: str = "") -> str:
    """An errmsg shaped like WeCom's, hint and help link included (clients must not parse it)."""
    base = detail or _MESSAGES.get(errcode, "error")  # type: ignore[call-overload]
    hint = f"{int(time.time() * 1000)}{secrets.randbelow(10**8):08d}"
    return (
        f"{base}, hint: [{hint}], from ip: 127.0.0.1, more info at "
        f"https://open.work.weixin.qq.com/devtool/query?e={errcode}"
    )


class SimError(Exception):
    """Answer the current API call with this errcode."""

    def __init__(self, errcode: int, detail: str = "") -> None:
        super().__init__(f"{errcode} {detail}")
        self.errcode = int(errcode)
        self.detail = detail

    def body(self) -> dict[str, Any]:
        return {"errcode": self.errcode, "errmsg": errmsg(self.errcode, self.detail)}


class SimClock:
    """Wall time plus an offset the control API can advance."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class Staff:
    userid: str
    name: str
    department: list[int]
    customer_contact: bool
    position: str = ""
    mobile: str = ""
    gender: int = 0
    status: int = 1  # 1 active; deleted members are removed from `Corp.staff`

    @classmethod
    def from_seed(cls, seed: StaffSeed) -> Staff:
        return cls(
            userid=seed.userid,
            name=seed.name or seed.userid,
            department=list(seed.department),
            customer_contact=seed.customer_contact,
            position=seed.position,
            mobile=seed.mobile,
            gender=seed.gender,
        )

    def to_api(self) -> dict[str, Any]:
        return {
            "userid": self.userid,
            "name": self.name,
            "department": self.department,
            "main_department": self.department[0] if self.department else 1,
            "position": self.position,
            "mobile": self.mobile,
            "gender": str(self.gender),
            "status": self.status,
            "is_leader_in_dept": [0] * len(self.department),
            "avatar": f"https://wework.qpic.cn/sim/staff/{self.userid}/0",
        }


@dataclass
class Tag:
    id: str
    name: str
    create_time: int
    order: int
    group_id: str
    deleted: bool = False


@dataclass
class TagGroup:
    group_id: str
    group_name: str
    create_time: int
    order: int
    tags: dict[str, Tag] = field(default_factory=dict)
    deleted: bool = False


@dataclass
class GroupChat:
    chat_id: str
    name: str
    owner: str
    create_time: int
    notice: str = ""
    members: list[dict[str, Any]] = field(default_factory=list)
    admin_list: list[str] = field(default_factory=list)
    status: int = 0
    member_version: int = 1


@dataclass
class WelcomeCode:
    code: str
    userid: str
    external_userid: str
    issued_at: float
    expires_at: float
    used: bool = False
    chatted: bool = False


@dataclass
class Transfer:
    handover_userid: str
    takeover_userid: str
    external_userid: str
    status: int  # 1 done, 2 waiting, 3 refused, 4 takeover limit
    requested_at: int
    takeover_time: int = 0


class Corp:
    """The whole simulated corp. Hold `lock` while reading or changing several fields together."""

    def __init__(self, config: SimulatorConfig, clock: SimClock | None = None) -> None:
        self.config = config
        self.clock = clock or SimClock()
        self.lock = threading.RLock()
        self.rng = random.Random(config.seed)
        self.departments = {dept.id: dept.model_dump() for dept in config.departments}
        self.staff: dict[str, Staff] = {seed.userid: Staff.from_seed(seed) for seed in config.staff}
        owners = [member.userid for member in self.staff.values() if member.customer_contact]
        seeded = (
            SeededCustomers(config.customers, config.seed, owners, int(self.clock.now()))
            if config.customers
            else None
        )
        self.customers = CustomerBook(seeded)
        self.tag_groups: dict[str, TagGroup] = {}
        self.contact_ways: dict[str, dict[str, Any]] = {}
        self.group_chats: dict[str, GroupChat] = {}
        self.welcome_codes: dict[str, WelcomeCode] = {}
        self.welcome_messages: list[dict[str, Any]] = []
        self.msg_templates: dict[str, dict[str, Any]] = {}
        self.transfers: dict[str, Transfer] = {}  # by external_userid (the latest request)
        self.tokens: dict[str, tuple[str, float]] = {}  # token -> (kind, expires_at)
        self.revoked_tokens: set[str] = set()
        self.oauth_codes: dict[str, tuple[str, float, str]] = {}  # code -> (userid, expires_at, scope)
        self.tickets: dict[str, tuple[str, float]] = {}  # "corp"/"agent" -> (ticket, expires_at)
        self.counters: dict[str, int] = {"tokens_issued": 0, "rate_limited": 0}
        self.scans: deque[dict[str, Any]] = deque(maxlen=10000)

    def now(self) -> float:
        return self.clock.now()

    def now_int(self) -> int:
        return int(self.clock.now())

    def count(self, name: str, amount: int = 1) -> None:
        self.counters[name] = self.counters.get(name, 0) + amount

    # --- tokens -----------------------------------------------------------------------------------

    def issue_token(self, kind: str) -> tuple[str, int]:
        """The kind's current token while valid (WeCom repeats it within validity), else a new one."""
        now = self.now()
        for token, (token_kind, expires_at) in self.tokens.items():
            if token_kind == kind and expires_at > now and token not in self.revoked_tokens:
                return token, int(expires_at - now)
        token = secrets.token_urlsafe(96)
        self.tokens[token] = (kind, now + self.config.token_ttl_seconds)
        self.count("tokens_issued")
        return token, self.config.token_ttl_seconds

    def check_token(self, token: str | None) -> str:
        """The token's kind; raises SimError 41001 (missing), 40014 (unknown), 42001 (expired)."""
        if not token:
            raise SimError(ErrCode.MISSING_ACCESS_TOKEN)
        found = self.tokens.get(token)
        if found is None or token in self.revoked_tokens:
            raise SimError(ErrCode.INVALID_ACCESS_TOKEN)
        if found[1] <= self.now():
            raise SimError(ErrCode.ACCESS_TOKEN_EXPIRED)
        return found[0]

    def expire_tokens(self) -> int:
        """Make every current token expired (the next use answers 42001)."""
        now = self.now()
        for token, (kind, expires_at) in list(self.tokens.items()):
            if expires_at > now:
                self.tokens[token] = (kind, now - 1)
        return len(self.tokens)

    def revoke_tokens(self) -> int:
        """Make every current token unknown (the next use answers 40014), as WeCom may do early."""
        self.revoked_tokens.update(self.tokens)
        return len(self.revoked_tokens)

    def ticket(self, name: str) -> tuple[str, int]:
        now = self.now()
        current = self.tickets.get(name)
        if current is None or current[1] <= now:
            current = (secrets.token_urlsafe(64), now + 7200)
            self.tickets[name] = current
        return current[0], int(current[1] - now)

    # --- members ----------------------------------------------------------------------------------

    def require_staff(self, userid: Any, errcode: int = ErrCode.INVALID_USERID) -> Staff:
        member = self.staff.get(str(userid)) if userid else None
        if member is None:
            raise SimError(errcode, f"invalid userid {userid}")
        return member

    def follow_users(self) -> list[str]:
        return [member.userid for member in self.staff.values() if member.customer_contact]

    # --- tags -------------------------------------------------------------------------------------

    def tag(self, tag_id: str) -> Tag | None:
        for group in self.tag_groups.values():
            found = group.tags.get(tag_id)
            if found is not None and not found.deleted:
                return found
        return None

    def live_tag_count(self) -> int:
        return sum(1 for group in self.tag_groups.values() for tag in group.tags.values() if not tag.deleted)

    def tag_views(self, tag_ids: list[str]) -> list[dict[str, Any]]:
        """follow_user.tags: live corp tags only (a deleted tag disappears from customers)."""
        views = []
        for tag_id in tag_ids:
            tag = self.tag(tag_id)
            if tag is not None:
                group = self.tag_groups[tag.group_id]
                views.append(
                    {"group_name": group.group_name, "tag_name": tag.name, "tag_id": tag.id, "type": 1}
                )
        return views

    def new_id(self, prefix: str, length: int = 32) -> str:
        return random_id(prefix, length)
