"""The demo's channel codes (渠道活码), made through the API like an operator would: an influencer's
code, a store code and a package-card code, each with its tag, routing and welcome message.

The demo's WeCom is a simulator that forgets everything when it stops, so on each start the codes'
tags are re-pointed (a fresh sync brings new tag ids) and each code gets a new contact way with the
same state (`POST /channels/{id}/recreate-way`): the codes, their history and their analytics stay.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from scrm.demo.seed import DEMO_EMAIL, DEMO_PASSWORD

TAG_GROUP = "渠道来源"
TAGS = ["抖音达人", "门店扫码", "包裹卡"]
# Seed 000: mornings get the breakfast offer, evenings the late-night one (a beauty brand's version).
WELCOME_VARIANTS = [
    {
        "name": "早安",
        "start": "06:00",
        "end": "10:30",
        "text": "{customer_name}早上好！晨间护肤礼包今日 8 折～",
    },
    {
        "name": "夜猫子",
        "start": "21:00",
        "end": "02:00",
        "text": "{customer_name}晚上好！夜间修护套装满 199 减 40",
    },
]
COUPON = {
    "msgtype": "link",
    "link": {
        "title": "新人专享券",
        "url": "https://huayang.example/coupon",
        "desc": "扫码添加即领，7 天有效",
    },
}


@dataclass(frozen=True)
class DemoCode:
    name: str
    group: str
    body: dict[str, Any]
    share: float  # of the demo's scans


DEMO_CODES = [
    DemoCode(
        name="抖音达人·小美直播间",
        group="达人",
        share=0.35,
        body={
            "staff": ["zhaoliu", "zhangsan"],
            "routing": {"strategy": "round_robin", "sticky": True},
            "tags": ["抖音达人"],
            "welcome": {
                "text": "{customer_name}你好，我是{staff_name}！感谢从{channel_name}来，同款已为你留好～",
                "attachments": [COUPON],
                "variants": WELCOME_VARIANTS,
            },
            "remark_template": "抖音-{customer_name}",
        },
    ),
    DemoCode(
        name="上海徐汇店·收银台",
        group="门店",
        share=0.45,
        body={
            "store": "上海徐汇店",
            "region": "华东",
            "staff": [
                {"userid": "zhangsan", "daily_cap": 200},
                {"userid": "lisi", "daily_cap": 200},
                {"userid": "wangwu", "backup": True},
            ],
            "routing": {
                "strategy": "round_robin",
                "schedule": [{"days": [1, 2, 3, 4, 5, 6, 7], "start": "09:00", "end": "22:00"}],
            },
            "tags": ["门店扫码"],
            "welcome": {
                "text": "{customer_name}您好，我是徐汇店导购{staff_name}，到店出示此消息领小样一份～",
                "variants": WELCOME_VARIANTS,
            },
            "remark_template": "{store}-{customer_name}",
            "description_template": "{date} 门店扫码",
        },
    ),
    DemoCode(
        name="快递包裹卡",
        group="包裹卡",
        share=0.20,
        body={
            "staff": ["wangwu", "lisi"],
            "routing": {"strategy": "random"},
            "tags": ["包裹卡"],
            "welcome": {
                "text": "{customer_name}您好，感谢下单！晒单可返 5 元，有问题随时找{staff_name}",
                "attachments": [COUPON],
            },
        },
    ),
]


class DemoApi:
    """The demo's calls to its own API, as the demo owner."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)
        token = self.http.post("/api/v1/auth/login", json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD})
        token.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

    def close(self) -> None:
        self.http.close()

    def get(self, path: str, **params: Any) -> Any:
        response = self.http.get(path, params=params)
        response.raise_for_status()
        return response.json()

    def send(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.http.request(method, path, json=body)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response.json() if response.content else None


def _wait_for_tags(api: DemoApi, stop: Any, timeout: float = 180.0) -> bool:
    """The first sync brings the simulator's tags in; the codes name them."""
    deadline = time.monotonic() + timeout
    while not stop.is_set() and time.monotonic() < deadline:
        names = {
            tag["name"]
            for group in api.get("/api/v1/tags")
            if group["name"] == TAG_GROUP
            for tag in group["tags"]
        }
        if set(TAGS) <= names:
            return True
        stop.wait(1.0)
    return False


def ensure_demo_codes(api: DemoApi, *, connection_id: int, simulator_url: str, stop: Any) -> dict[str, str]:
    """Create the demo's codes (or bring existing ones back to this simulator run). Returns name →
    config_id of the live contact way, to scan."""
    if not _wait_for_tags(api, stop):
        return {}
    groups = {group["name"]: group["id"] for group in api.get("/api/v1/channels/groups")}
    for name in {code.group for code in DEMO_CODES} - groups.keys():
        groups[name] = api.send("POST", "/api/v1/channels/groups", {"name": name})["id"]
    existing = {
        code["name"]: code
        for code in api.get("/api/v1/channels", connection_id=connection_id, limit=200)["items"]
    }
    ways: dict[str, str] = {}
    for spec in DEMO_CODES:
        code = existing.get(spec.name)
        if code is None:
            code = api.send(
                "POST",
                "/api/v1/channels",
                {
                    "connection_id": connection_id,
                    "name": spec.name,
                    "group_id": groups[spec.group],
                    **spec.body,
                },
            )
        else:
            # A new simulator run: fresh tag ids, and the old contact way is gone.
            api.send(
                "PATCH", f"/api/v1/channels/{code['id']}", {"tags": spec.body["tags"], "status": "active"}
            )
            if (
                httpx.get(f"{simulator_url}/_sim/contact_ways/{code['config_id']}", timeout=10).status_code
                == 404
            ):
                code = api.send("POST", f"/api/v1/channels/{code['id']}/recreate-way")
        ways[spec.name] = str(code["config_id"])
    return ways
