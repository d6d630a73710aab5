"""The simulator answers like WeCom: tokens, error codes, rate limits, faults, the request log, and
pre-created customers that stay small and deterministic."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path
from typing import Any

import httpx
import pytest

from scrm.platforms.wecom.simulator import RunningSimulator, SimulatorConfig
from scrm.platforms.wecom.simulator.corp import Corp
from tests.platforms.wecom import simulator_support
from tests.platforms.wecom.simulator_support import (
    CONTACT_SECRET,
    CORP_ID,
    sim_config,
)

# The simulator fixtures, shared with the other simulator test modules.
sim = simulator_support.sim
receiver = simulator_support.receiver
control = simulator_support.control

FOLLOW_LIST = "/cgi-bin/externalcontact/get_follow_user_list"


def token(control: httpx.Client, secret: str = CONTACT_SECRET) -> str:
    answer = control.get("/cgi-bin/gettoken", params={"corpid": CORP_ID, "corpsecret": secret}).json()
    assert answer["errcode"] == 0 and 7000 < answer["expires_in"] <= 7200  # the remaining validity
    return str(answer["access_token"])


def errcode(response: httpx.Response) -> int:
    assert response.status_code == 200
    return int(response.json()["errcode"])


def test_gettoken_checks_the_corp_and_secret_and_repeats_a_valid_token(control: httpx.Client) -> None:
    assert (
        errcode(control.get("/cgi-bin/gettoken", params={"corpid": "wwother", "corpsecret": CONTACT_SECRET}))
        == 40013
    )
    assert (
        errcode(control.get("/cgi-bin/gettoken", params={"corpid": CORP_ID, "corpsecret": "wrong"})) == 40001
    )
    first = token(control)
    assert token(control) == first
    errmsg = control.get("/cgi-bin/gettoken", params={"corpid": CORP_ID, "corpsecret": "x"}).json()["errmsg"]
    assert "hint: [" in errmsg and "more info at" in errmsg  # like WeCom: branch on errcode, never on text


def test_every_api_checks_the_access_token(control: httpx.Client) -> None:
    assert errcode(control.get(FOLLOW_LIST)) == 41001
    assert errcode(control.get(FOLLOW_LIST, params={"access_token": "made-up"})) == 40014
    current = token(control)
    assert errcode(control.get(FOLLOW_LIST, params={"access_token": current})) == 0
    control.post("/_sim/clock/advance", json={"seconds": 7201}).raise_for_status()
    assert errcode(control.get(FOLLOW_LIST, params={"access_token": current})) == 42001
    assert token(control) != current  # after expiry gettoken issues a new one


def test_methods_bodies_and_unknown_paths(control: httpx.Client) -> None:
    access = {"access_token": token(control)}
    assert errcode(control.get("/cgi-bin/externalcontact/add_contact_way", params=access)) == 40063
    bad_json = control.post("/cgi-bin/externalcontact/add_contact_way", params=access, content=b"{nope")
    assert errcode(bad_json) == 47001
    missing_type = control.post("/cgi-bin/externalcontact/add_contact_way", params=access, json={"scene": 2})
    assert errcode(missing_type) == 41037
    assert control.get("/cgi-bin/no/such/api", params=access).status_code == 404


def test_rate_limit_answers_45009_and_blocks_the_api_for_the_window(control: httpx.Client) -> None:
    access = {"access_token": token(control)}
    control.put("/_sim/rate_limits", json={"per_minute": 3}).raise_for_status()
    codes = [errcode(control.get(FOLLOW_LIST, params=access)) for _ in range(5)]
    assert codes == [0, 0, 0, 45009, 45009]
    # Other APIs have their own counters.
    assert errcode(control.get("/cgi-bin/department/list", params=access)) == 0
    state = control.get("/_sim/state").json()
    assert state["rate_limited"] == 2 and state["errcodes"] == {"45009": 2}
    assert state["rate_limited_by_api"] == {"externalcontact/get_follow_user_list": 2}
    control.post("/_sim/clock/advance", json={"seconds": 59}).raise_for_status()
    assert errcode(control.get(FOLLOW_LIST, params=access)) == 45009  # blocked 60 s from the excess
    control.post("/_sim/clock/advance", json={"seconds": 2}).raise_for_status()
    assert errcode(control.get(FOLLOW_LIST, params=access)) == 0


def test_faults_fire_by_api_rate_and_count(control: httpx.Client) -> None:
    access = {"access_token": token(control)}
    control.post(
        "/_sim/faults", json={"api": "externalcontact/*", "errcode": -1, "count": 2}
    ).raise_for_status()
    control.post(
        "/_sim/faults", json={"api": "department/list", "errcode": 45033, "rate": 0}
    ).raise_for_status()
    assert [errcode(control.get(FOLLOW_LIST, params=access)) for _ in range(3)] == [-1, -1, 0]
    assert errcode(control.get("/cgi-bin/department/list", params=access)) == 0  # rate 0 never fires
    assert len(control.get("/_sim/faults").json()) == 1  # the counted fault is spent
    control.post("/_sim/faults", json={"api": "*", "errcode": 6000, "latency_ms": 20}).raise_for_status()
    assert errcode(control.get("/cgi-bin/department/list", params=access)) == 6000
    control.delete("/_sim/faults").raise_for_status()
    assert errcode(control.get("/cgi-bin/department/list", params=access)) == 0
    assert control.get("/_sim/state").json()["errcodes"] == {"-1": 2, "6000": 1}


def test_dropped_connections_break_mid_answer(control: httpx.Client) -> None:
    access = {"access_token": token(control)}
    control.post("/_sim/faults", json={"api": "department/list", "drop": True, "count": 1}).raise_for_status()
    with pytest.raises(httpx.TransportError):
        control.get("/cgi-bin/department/list", params=access)


def test_the_request_log_keeps_no_secrets(control: httpx.Client) -> None:
    access = {"access_token": token(control)}
    control.post("/cgi-bin/externalcontact/get_corp_tag_list", params=access, json={"tag_id": ["et1"]})
    log = control.get("/_sim/requests").json()
    assert [entry["api"] for entry in log] == ["gettoken", "externalcontact/get_corp_tag_list"]
    assert log[0]["query"] == {"corpid": CORP_ID}
    assert log[1]["query"] == {} and log[1]["body"] == {"tag_id": ["et1"]} and log[1]["errcode"] == 0
    assert "access_token" not in json.dumps(log) and CONTACT_SECRET not in json.dumps(log)
    assert len(control.get("/_sim/requests", params={"api": "gettoken"}).json()) == 1
    assert len(control.get("/_sim/requests", params={"limit": 1}).json()) == 1
    control.delete("/_sim/requests").raise_for_status()
    assert control.get("/_sim/requests").json() == []


def test_state_counts(sim: RunningSimulator, control: httpx.Client) -> None:
    state = control.get("/_sim/state").json()
    assert [member["userid"] for member in state["staff"]] == ["zhangsan", "lisi", "wangwu"]
    assert state["counts"]["external_contacts"] == 0 and state["callbacks"]["delivered"] == 0
    assert state["rate_limits"] == {"per_minute": 10000, "per_hour": 150000}


def test_precreated_customers_are_deterministic_and_small() -> None:
    config = sim_config(customers=100_000, seed=11)
    tracemalloc.start()
    try:
        corp = Corp(config)
        first = corp.customers.external_userids_of("lisi")[:5]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000  # 100 000 customers in a few MB, not hundreds
    assert corp.customers.contact_count == 100_000 and corp.customers.relation_count == 100_000
    again = Corp(sim_config(customers=100_000, seed=11))
    assert again.customers.external_userids_of("lisi")[:5] == first
    other = Corp(sim_config(customers=100_000, seed=12))
    assert other.customers.external_userids_of("lisi")[:5] != first
    counts = {
        userid: len(corp.customers.external_userids_of(userid)) for userid in ("zhangsan", "lisi", "wangwu")
    }
    assert sum(counts.values()) == 100_000 and min(counts.values()) > 30_000
    contact = corp.customers.contact(first[0])
    assert contact is not None and contact.external_userid == first[0]
    assert corp.customers.find_by_unionid(contact.unionid) == first[0]
    assert corp.customers.contact("wm" + first[0][2:-1] + "x") is None  # a forged id does not decode
    # Changing one copies it out of the generated set without losing or duplicating it.
    editable = corp.customers.editable(first[0])
    assert editable is not None
    editable.name = "改名"
    assert corp.customers.contact(first[0]).name == "改名"  # type: ignore[union-attr]
    assert corp.customers.contact_count == 100_000 and corp.customers.relation_count == 100_000
    assert len(set(corp.customers.external_userids_of("lisi"))) == counts["lisi"]


def test_config_file_offers_the_same_options(tmp_path: Path) -> None:
    path = tmp_path / "sim.json"
    path.write_text(
        json.dumps(
            {
                "corp_id": "wwfile",
                "contact_secret": "s",
                "token": "t",
                "encoding_aes_key": "k" * 43,
                "staff": [
                    {"userid": "zhangsan", "name": "张三"},
                    {"userid": "robot", "customer_contact": False},
                ],
                "customers": 10,
                "rate_limit_per_minute": 2000,
            }
        ),
        encoding="utf-8",
    )
    config = SimulatorConfig.from_file(path, customers=None, rate_limit_per_hour=30000)
    assert config.corp_id == "wwfile" and config.customers == 10
    assert (config.rate_limit_per_minute, config.rate_limit_per_hour) == (2000, 30000)
    assert [(member.name, member.customer_contact) for member in config.staff] == [
        ("张三", True),
        ("robot", False),
    ]
    assert Corp(config).follow_users() == ["zhangsan"]


def test_cli_command_is_registered() -> None:
    from typer.testing import CliRunner

    from scrm.cli import app

    result = CliRunner().invoke(app, ["simulate", "wecom", "--help"])
    assert result.exit_code == 0 and "--rate-limit-per-minute" in result.output
    invalid = CliRunner().invoke(app, ["simulate", "wecom", "--corp-id", "ww1"])
    assert invalid.exit_code == 2


@pytest.mark.parametrize("secret_kind", ["app"])
def test_app_secret_gets_its_own_token(control: httpx.Client, secret_kind: Any) -> None:
    from tests.platforms.wecom.simulator_support import APP_SECRET

    assert token(control, APP_SECRET) != token(control)
