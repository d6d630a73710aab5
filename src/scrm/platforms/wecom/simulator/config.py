"""The simulated corp's settings: CLI options and the optional JSON file offer the same fields."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pydantic


class StaffSeed(pydantic.BaseModel):
    """A member of the corp. `customer_contact`: whether 客户联系 is enabled for them."""

    userid: str
    name: str = ""
    department: list[int] = pydantic.Field(default_factory=lambda: [1])
    customer_contact: bool = True
    position: str = ""
    mobile: str = ""
    gender: int = 0


class DepartmentSeed(pydantic.BaseModel):
    id: int
    name: str
    parentid: int = 0
    order: int = 0


class SimulatorConfig(pydantic.BaseModel):
    """Everything `scrm simulate wecom` accepts.

    Timing figures follow WeCom's documentation and can be shortened for tests: tokens 7200 s,
    welcome codes 20 s, OAuth codes 300 s, callback timeout 5 s with 3 retries. The retry interval
    of callbacks is undocumented; `callback_retry_interval_seconds` picks one.
    """

    corp_id: str
    contact_secret: str
    app_secret: str | None = None
    agent_id: int | None = None
    token: str
    encoding_aes_key: str
    callback_url: str | None = None
    corp_name: str = "模拟企业"
    staff: list[StaffSeed] = pydantic.Field(default_factory=list)
    departments: list[DepartmentSeed] = pydantic.Field(default_factory=list)
    customers: int = pydantic.Field(default=0, ge=0)
    seed: int = 0
    rate_limit_per_minute: int = pydantic.Field(default=10000, gt=0)
    rate_limit_per_hour: int = pydantic.Field(default=150000, gt=0)
    #: None: blocked for the window's length after exceeding it (60 s / 3600 s), as the doc says.
    rate_limit_block_seconds: float | None = None
    token_ttl_seconds: int = 7200
    welcome_code_ttl_seconds: float = 20.0
    oauth_code_ttl_seconds: float = 300.0
    callback_timeout_seconds: float = 5.0
    callback_max_retries: int = 3
    callback_retry_interval_seconds: float = 1.0
    follow_user_page_size: int = pydantic.Field(default=500, gt=0)
    request_log_size: int = 10000
    fault_timeout_seconds: float = 30.0

    @pydantic.model_validator(mode="after")
    def _defaults(self) -> SimulatorConfig:
        if not self.departments:
            self.departments = [DepartmentSeed(id=1, name=self.corp_name, parentid=0, order=100000000)]
        for member in self.staff:
            if not member.name:
                member.name = member.userid
        return self

    @classmethod
    def from_file(cls, path: str | Path, **overrides: Any) -> SimulatorConfig:
        """Read a JSON file with the same fields; `overrides` (not None) win over the file."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        data.update({key: value for key, value in overrides.items() if value is not None})
        return cls.model_validate(data)

    @staticmethod
    def staff_from_list(userids: str) -> list[StaffSeed]:
        """`zhangsan,lisi,wangwu` → members with 客户联系 enabled, in department 1."""
        return [StaffSeed(userid=userid.strip()) for userid in userids.split(",") if userid.strip()]
