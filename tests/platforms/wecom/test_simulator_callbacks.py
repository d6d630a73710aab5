"""Callbacks from the simulator: encrypted and signed like WeCom's, retried on failure and slowness,
one per customer/admin action, and the scan semantics (same WeChat user, already following)."""

from __future__ import annotations

from typing import Any

import httpx

from scrm.platforms.wecom.simulator import RunningSimulator, start_simulator
from tests.platforms.wecom import simulator_support
from tests.platforms.wecom.simulator_support import (
    CONTACT_SECRET,
    CORP_ID,
    Receiver,
    sim_config,
)

# The simulator fixtures, shared with the other simulator test modules.
sim = simulator_support.sim
receiver = simulator_support.receiver
control = simulator_support.control


def _token(control: httpx.Client) -> dict[str, str]:
    answer = control.get("/cgi-bin/gettoken", params={"corpid": CORP_ID, "corpsecret": CONTACT_SECRET}).json()
    return {"access_token": answer["access_token"]}


def add_way(control: httpx.Client, **fields: Any) -> str:
    answer = control.post(
        "/cgi-bin/externalcontact/add_contact_way", params=_token(control), json={"scene": 2, **fields}
    ).json()
    assert answer["errcode"] == 0, answer
    return str(answer["config_id"])


def scan(control: httpx.Client, **body: Any) -> dict[str, Any]:
    response = control.post("/_sim/scan", json=body)
    response.raise_for_status()
    return dict(response.json())


def test_scan_delivers_an_encrypted_signed_add_event(
    sim: RunningSimulator, control: httpx.Client, receiver: Receiver
) -> None:
    add_way(control, type=1, user=["lisi"], state="ch_tmall_01")
    added = scan(control, state="ch_tmall_01", name="小红", unionid="owUNION-A")
    assert added["userid"] == "lisi" and added["external_userid"].startswith("wm") and added["welcome_code"]
    (event,) = receiver.wait_for(1)
    assert event == {
        "ToUserName": CORP_ID,
        "FromUserName": "sys",
        "CreateTime": event["CreateTime"],
        "MsgType": "event",
        "Event": "change_external_contact",
        "ChangeType": "add_external_contact",
        "UserID": "lisi",
        "ExternalUserID": added["external_userid"],
        "State": "ch_tmall_01",
        "WelcomeCode": added["welcome_code"],
    }
    (post,) = receiver.posts()
    assert set(post.query) == {"msg_signature", "timestamp", "nonce"}
    assert b"<ToUserName><![CDATA[" + CORP_ID.encode() in post.body and b"<Encrypt>" in post.body
    assert sim.simulator.callbacks.wait_idle()
    state = control.get("/_sim/state").json()
    assert state["callbacks"]["delivered"] == 1 and state["counts"]["relations"] == 1


def test_failed_deliveries_are_retried_three_times(
    sim: RunningSimulator, control: httpx.Client, receiver: Receiver
) -> None:
    add_way(control, type=1, user=["zhangsan"], state="retry")
    receiver.fail_next = 2
    scan(control, state="retry")
    assert sim.simulator.callbacks.wait_idle()
    assert len(receiver.posts()) == 3
    first, *repeats = receiver.posts()
    assert all(item.body == first.body and item.query == first.query for item in repeats)  # the same envelope

    receiver.fail_next = 10
    scan(control, state="retry")
    assert sim.simulator.callbacks.wait_idle()
    records = control.get("/_sim/callbacks").json()
    assert [(record["status"], record["attempts"]) for record in records] == [("delivered", 3), ("failed", 4)]
    assert records[1]["errors"] == ["HTTP 500"] * 4
    assert control.get("/_sim/state").json()["callbacks"]["failed"] == 1


def test_a_receiver_slower_than_the_timeout_gets_the_event_again(receiver: Receiver) -> None:
    config = sim_config(callback_url=receiver.url, callback_timeout_seconds=0.5)
    with start_simulator(config) as running, httpx.Client(base_url=running.base_url) as http:
        add_way(http, type=1, user=["zhangsan"], state="slow")
        receiver.delay_next, receiver.delay_seconds = 1, 1.5
        scan(http, state="slow")
        assert running.simulator.callbacks.wait_idle()
        (record,) = http.get("/_sim/callbacks").json()
        assert record["status"] == "delivered" and record["attempts"] == 2
        assert record["errors"] == ["ReadTimeout"]


def test_the_same_wechat_user_keeps_one_external_userid(
    sim: RunningSimulator, control: httpx.Client, receiver: Receiver
) -> None:
    add_way(control, type=1, user=["zhangsan"], state="a")
    add_way(control, type=1, user=["lisi"], state="b")
    first = scan(control, state="a", unionid="owSAME")
    second = scan(control, state="b", unionid="owSAME")
    assert second["external_userid"] == first["external_userid"]
    again = scan(control, state="a", unionid="owSAME")
    assert (
        again["already_following"] is True and again["welcome_code"] is None and again["callback_id"] is None
    )
    control.post(
        "/_sim/customer/delete_staff",
        json={"external_userid": first["external_userid"], "userid": "zhangsan"},
    ).raise_for_status()
    back = scan(control, state="a", unionid="owSAME")
    assert back["already_following"] is False and back["external_userid"] == first["external_userid"]
    assert sim.simulator.callbacks.wait_idle()
    events = receiver.events()  # deliveries run in parallel, so in no particular order
    assert sorted((event["ChangeType"], event["UserID"]) for event in events) == sorted(
        [
            ("add_external_contact", "zhangsan"),
            ("add_external_contact", "lisi"),
            ("del_follow_user", "zhangsan"),
            ("add_external_contact", "zhangsan"),
        ]
    )


def test_multi_member_ways_pick_among_members_with_customer_contact(
    sim: RunningSimulator, control: httpx.Client
) -> None:
    config_id = add_way(control, type=2, user=["zhangsan", "lisi", "wangwu"], state="multi")
    chosen = {scan(control, config_id=config_id)["userid"] for _ in range(30)}
    assert chosen == {"zhangsan", "lisi", "wangwu"}
    assert scan(control, config_id=config_id, userid="lisi")["userid"] == "lisi"
    assert control.post("/_sim/scan", json={"state": "nobody-has-this"}).status_code == 404


def test_every_action_fires_its_callback(
    sim: RunningSimulator, control: httpx.Client, receiver: Receiver
) -> None:
    add_way(control, type=1, user=["zhangsan"], state="s")
    customer = scan(control, state="s")["external_userid"]
    tags = control.post("/_sim/tags/create", json={"group_name": "兴趣", "tags": ["美妆", "母婴"]}).json()
    control.post("/_sim/tags/update", json={"id": tags["tag_ids"][0], "name": "彩妆"}).raise_for_status()
    control.post(
        "/_sim/customer/edit",
        json={"external_userid": customer, "remark": "VIP", "add_tag": [tags["tag_ids"][0]]},
    ).raise_for_status()
    control.post("/_sim/tags/delete", json={"tag_ids": tags["tag_ids"]}).raise_for_status()
    chat = control.post("/_sim/groupchat/create", json={"owner": "zhangsan", "members": [customer]}).json()
    control.post(
        "/_sim/groupchat/update", json={"chat_id": chat["chat_id"], "add_member": ["lisi"], "name": "福利群"}
    ).raise_for_status()
    control.post("/_sim/groupchat/dismiss", json={"chat_id": chat["chat_id"]}).raise_for_status()
    control.post("/_sim/staff/create", json={"userid": "zhaoliu", "name": "赵六"}).raise_for_status()
    control.post("/_sim/staff/update", json={"userid": "zhaoliu", "position": "店长"}).raise_for_status()
    control.post("/_sim/staff/delete", json={"userid": "zhaoliu"}).raise_for_status()
    control.post("/_sim/staff/delete_customer", json={"external_userid": customer, "userid": "zhangsan"})
    assert sim.simulator.callbacks.wait_idle()
    events = receiver.events()
    kinds = sorted(
        (event["Event"], event["ChangeType"], event.get("TagType") or event.get("UpdateDetail", ""))
        for event in events
    )
    assert kinds == sorted(
        [
            ("change_external_contact", "add_external_contact", ""),
            ("change_external_tag", "create", "tag_group"),
            ("change_external_tag", "create", "tag"),
            ("change_external_tag", "create", "tag"),
            ("change_external_tag", "update", "tag"),
            ("change_external_contact", "edit_external_contact", ""),
            ("change_external_tag", "delete", "tag"),
            ("change_external_tag", "delete", "tag"),
            ("change_external_tag", "delete", "tag_group"),
            ("change_external_chat", "create", ""),
            ("change_external_chat", "update", "add_member"),
            ("change_external_chat", "update", "change_name"),
            ("change_external_chat", "dismiss", ""),
            ("change_contact", "create_user", ""),
            ("change_contact", "update_user", ""),
            ("change_contact", "delete_user", ""),
            ("change_external_contact", "del_external_contact", ""),
        ]
    )
    add_member = next(event for event in events if event.get("UpdateDetail") == "add_member")
    assert add_member["MemChangeCnt"] == "1" and add_member["JoinScene"] == "3"
    assert add_member["LastMemVer"] == "1" and add_member["CurMemVer"] == "2"
    created = next(event for event in events if event["ChangeType"] == "create_user")
    assert created["Name"] == "赵六" and created["Department"] == "1"


def test_url_verification_against_the_receiver(sim: RunningSimulator, control: httpx.Client) -> None:
    answer = control.post("/_sim/callback/verify").json()
    assert answer["ok"] is True and answer["answered"] == answer["expected"]


def test_without_a_callback_url_events_are_recorded_only() -> None:
    with start_simulator(sim_config()) as running, httpx.Client(base_url=running.base_url) as http:
        add_way(http, type=1, user=["zhangsan"], state="quiet")
        scan(http, state="quiet")
        (record,) = http.get("/_sim/callbacks").json()
        assert record["status"] == "skipped" and "add_external_contact" in record["xml"]
