"""Daily caps under concurrent adds: counted from rows, never from a read-modify-write counter.

Twenty add callbacks for the same member arrive at once against a cap of five (WeCom assigned them
before the way could be updated). Every add is recorded, exactly fifteen show as over the cap, and the
refresh that follows the last commit lists the backup only. On PostgreSQL the twenty handlers really
run in parallel transactions; on SQLite they queue on the write lock.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tests.conftest import Persona

from scrm.channels import ways
from scrm.channels.handlers import on_added
from scrm.channels.models import ChannelAdd, ChannelCode
from scrm.channels.routing import PlanMode
from scrm.channels.views import list_adds
from scrm.channels.ways import REFRESH_KIND, desired_way, on_refresh_timer
from scrm.core.actors import Actor
from scrm.core.clock import utcnow
from scrm.core.events import Delivery, TimerDelivery
from scrm.core.outbox_models import Timer
from scrm.core.pagination import PageRequest
from scrm.platforms.canonical import ExternalContactAdded
from scrm.registry import build_registry

ADDS = 20
CAP = 5


class FakeWeCom:
    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []

    def update_contact_way(self, config_id: str, **fields: Any) -> None:
        self.updates.append({"config_id": config_id, **fields})


def _code(factory: sessionmaker[Session], tenant_id: int) -> int:
    with factory.begin() as session:
        code = ChannelCode(
            tenant_id=tenant_id,
            connection_id=1,
            name="门店码",
            state="cap-test",
            config_id="way-cap-test",
            staff=[{"userid": "guide", "daily_cap": CAP}, {"userid": "backup", "backup": True}],
            routing={"strategy": "round_robin"},
            way_users=["guide"],
            way_skip_verify=True,
        )
        session.add(code)
        session.flush()
        return code.id


def _delivery(tenant_id: int, index: int) -> Delivery:
    event = ExternalContactAdded(
        tenant_id=tenant_id,
        connection_id=1,
        corp_id="wwcaps",
        inbound_message_id=10_000_000 + index,  # no such row: the event's own time is used
        occurred_at=datetime.now(UTC),
        userid="guide",
        external_userid=f"wm-cap-{index:03d}",
        state="cap-test",
        welcome_code=None,
    )
    return Delivery(
        event_id=str(uuid.uuid4()),
        event_type=event.event_type,
        tenant_id=tenant_id,
        payload=event.model_dump(mode="json"),
        attempt=1,
    )


def test_twenty_concurrent_adds_against_a_cap_of_five(
    committing_factory: sessionmaker[Session], owner: Persona, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_registry()
    code_id = _code(committing_factory, owner.tenant_id)
    start = threading.Barrier(ADDS)
    errors: list[BaseException] = []

    def add(index: int) -> None:
        try:
            start.wait(timeout=30)
            with committing_factory.begin() as session:
                on_added(session, _delivery(owner.tenant_id, index))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=add, args=(index,)) for index in range(ADDS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []

    actor = Actor.system(owner.tenant_id)
    with committing_factory() as session:
        recorded = session.scalar(
            select(func.count()).select_from(ChannelAdd).where(ChannelAdd.code_id == code_id)
        )
        assert recorded == ADDS
        adds, _ = list_adds(session, actor=actor, code_id=code_id, page=PageRequest(limit=ADDS))
        assert sum(add.over_cap for add in adds) == ADDS - CAP
        # The five earliest adds are the ones within the cap.
        assert sorted(add.id for add in adds if not add.over_cap) == sorted(add.id for add in adds)[:CAP]
        code = session.get_one(ChannelCode, code_id)
        plan = desired_way(session, code, utcnow()).plan
        assert plan.users == ("backup",) and plan.mode == PlanMode.BACKUP
        assert plan.excluded["guide"] == f"at_cap {ADDS}/{CAP}"
        timer = session.scalars(
            select(Timer).where(Timer.kind == REFRESH_KIND, Timer.key == f"{code_id}:now")
        ).one()
        assert timer.status == "scheduled"

    # The refresh that follows pushes the backup, once; a second firing finds nothing to change.
    fake = FakeWeCom()
    monkeypatch.setattr(ways, "wecom_client", lambda *args, **kwargs: fake)
    firing = TimerDelivery(
        kind=REFRESH_KIND,
        key=f"{code_id}:now",
        tenant_id=owner.tenant_id,
        payload={"code_id": code_id, "trigger": "add"},
        due_at=utcnow(),
        attempt=1,
    )
    for _ in range(2):
        with committing_factory.begin() as session:
            on_refresh_timer(session, firing)
    assert fake.updates == [{"config_id": "way-cap-test", "user": ["backup"], "skip_verify": True}]
