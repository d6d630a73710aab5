"""One running simulator: the corp, what stands in front of it, and the callbacks it sends."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from scrm.platforms.wecom.simulator.callbacks import CallbackDispatcher, FieldValue, event_xml
from scrm.platforms.wecom.simulator.config import SimulatorConfig
from scrm.platforms.wecom.simulator.corp import Corp, SimClock, Staff
from scrm.platforms.wecom.simulator.gateway import FaultBook, RateLimiter, RequestLog


class Simulator:
    def __init__(self, config: SimulatorConfig, *, clock: SimClock | None = None) -> None:
        self.config = config
        self.corp = Corp(config, clock)
        self.faults = FaultBook(random.Random(config.seed + 1))
        self.limiter = RateLimiter(
            config.rate_limit_per_minute, config.rate_limit_per_hour, config.rate_limit_block_seconds
        )
        self.requests = RequestLog(config.request_log_size)
        self.callbacks = CallbackDispatcher(config)

    def close(self) -> None:
        self.callbacks.close()

    # --- events (platform-protocols.md §3.10) -----------------------------------------------------

    def emit(
        self, event: str, change_type: str | None, fields: Sequence[tuple[str, FieldValue]]
    ) -> dict[str, Any]:
        xml = event_xml(self.config.corp_id, event, change_type, fields, self.corp.now_int())
        return self.callbacks.emit(xml, event=event, change_type=change_type)

    def emit_contact(
        self, change_type: str, userid: str, external_userid: str, *extra: tuple[str, FieldValue]
    ) -> dict[str, Any]:
        return self.emit(
            "change_external_contact",
            change_type,
            [("UserID", userid), ("ExternalUserID", external_userid), *extra],
        )

    def emit_tag(self, change_type: str, tag_id: str, tag_type: str) -> dict[str, Any]:
        return self.emit("change_external_tag", change_type, [("Id", tag_id), ("TagType", tag_type)])

    def emit_chat(self, change_type: str, chat_id: str, *extra: tuple[str, FieldValue]) -> dict[str, Any]:
        return self.emit("change_external_chat", change_type, [("ChatId", chat_id), *extra])

    def emit_staff(self, change_type: str, member: Staff) -> dict[str, Any]:
        """change_contact (通讯录变更): create_user/update_user carry the member's fields."""
        fields: list[tuple[str, FieldValue]] = [("UserID", member.userid)]
        if change_type != "delete_user":
            fields += [
                ("Name", member.name),
                ("Department", ",".join(map(str, member.department))),
                ("MainDepartment", member.department[0] if member.department else 1),
                ("Position", member.position),
                ("Mobile", member.mobile),
                ("Gender", str(member.gender)),
                ("Status", member.status),
            ]
        return self.emit("change_contact", change_type, fields)

    def state(self) -> dict[str, Any]:
        """GET /_sim/state."""
        corp = self.corp
        with corp.lock:
            tags = [
                tag for group in corp.tag_groups.values() for tag in group.tags.values() if not tag.deleted
            ]
            return {
                "corp_id": self.config.corp_id,
                "now": corp.now(),
                "staff": [
                    {
                        "userid": member.userid,
                        "name": member.name,
                        "department": member.department,
                        "customer_contact": member.customer_contact,
                    }
                    for member in corp.staff.values()
                ],
                "counts": {
                    "external_contacts": corp.customers.contact_count,
                    "relations": corp.customers.relation_count,
                    "tag_groups": sum(1 for group in corp.tag_groups.values() if not group.deleted),
                    "tags": len(tags),
                    "contact_ways": len(corp.contact_ways),
                    "group_chats": len(corp.group_chats),
                    "welcome_codes_issued": corp.counters.get("welcome_codes_issued", 0),
                    "welcome_messages": len(corp.welcome_messages),
                    "msg_templates": len(corp.msg_templates),
                    "transfers": len(corp.transfers),
                    "tokens_issued": corp.counters.get("tokens_issued", 0),
                    "requests": self.requests.total,
                },
                "callbacks": {"url": self.callbacks.url, **self.callbacks.counts},
                # 45009 answers from the rate limiter; `errcodes` counts every error answered,
                # injected ones included.
                "rate_limited": self.limiter.limited,
                "errcodes": {str(code): count for code, count in sorted(self.requests.errcodes.items())},
                "rate_limited_by_api": dict(self.limiter.limited_by_api),
                "rate_limits": {
                    "per_minute": self.limiter.limits[0][1],
                    "per_hour": self.limiter.limits[1][1],
                },
                "faults": self.faults.list(),
            }
