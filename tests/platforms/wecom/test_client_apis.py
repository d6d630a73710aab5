"""The client's typed methods against the simulator: pagination, contact ways, welcome messages,
tags, groups, transfers, tickets and the JS-SDK signature, OAuth and SSO."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from scrm.core.shared_state import DatabaseSharedState, SharedState
from scrm.platforms.wecom.client import WeComClient, jsapi_signature
from scrm.platforms.wecom.errors import WeComError
from scrm.platforms.wecom.simulator import RunningSimulator, start_simulator
from tests.platforms.wecom import simulator_support
from tests.platforms.wecom.simulator_support import (
    AGENT_ID,
    CORP_ID,
    api_requests,
    make_client,
    many_staff,
    sim_config,
)

# The simulator fixtures, shared with the other simulator test modules.
sim = simulator_support.sim
receiver = simulator_support.receiver
control = simulator_support.control


@pytest.fixture
def state(committing_factory: Any) -> SharedState:
    return DatabaseSharedState(committing_factory)


@pytest.fixture
def client(sim: RunningSimulator, state: SharedState) -> WeComClient:
    return make_client(sim, state)


def scan(control: httpx.Client, **body: Any) -> dict[str, Any]:
    response = control.post("/_sim/scan", json=body)
    response.raise_for_status()
    return dict(response.json())


def test_directory(client: WeComClient) -> None:
    assert [dept["id"] for dept in client.list_departments()] == [1]
    users = client.list_users(1)
    assert [user["userid"] for user in users] == ["zhangsan", "lisi", "wangwu"]
    assert client.get_follow_user_list() == ["zhangsan", "lisi", "wangwu"]


def test_batch_get_by_user_follows_the_cursor_and_splits_userids(state: SharedState) -> None:
    with start_simulator(sim_config(staff=many_staff(120), customers=450, seed=3)) as running:
        client = make_client(running, state)
        userids = client.get_follow_user_list()
        assert len(userids) == 120
        pages = list(client.iter_batch_get_by_user(userids, limit=100))
        items = [item for page in pages for item in page]
        assert all(len(page) <= 100 for page in pages)
        assert len(items) == 450
        assert len({item["external_contact"]["external_userid"] for item in items}) == 450
        listed = {eid for userid in userids for eid in client.list_external_contacts(userid)}
        assert listed == {item["external_contact"]["external_userid"] for item in items}
        with httpx.Client(base_url=running.base_url) as control_client:
            calls = api_requests(control_client, "externalcontact/batch/get_by_user")
        assert all(len(call["body"]["userid_list"]) <= 100 for call in calls)
        assert {len(call["body"]["userid_list"]) for call in calls} == {100, 20}
        first = items[0]
        assert set(first["follow_info"]) >= {"userid", "createtime", "tag_id", "add_way", "oper_userid"}
        assert set(first["external_contact"]) >= {"external_userid", "name", "unionid", "type", "gender"}


def test_get_external_contact_merges_follower_pages(state: SharedState) -> None:
    # WeCom pages follow_user by 500: a customer of 1001 members takes three calls.
    with start_simulator(sim_config(staff=many_staff(1001))) as running:
        client = make_client(running, state)
        members = [f"user{index:03d}" for index in range(1001)]
        with httpx.Client(base_url=running.base_url) as control_client:
            created = control_client.post("/_sim/customers", json={"userids": members}).json()
            (external_userid,) = created["external_userids"]
            merged = client.get_external_contact(external_userid)
            assert merged["external_contact"]["external_userid"] == external_userid
            assert [item["userid"] for item in merged["follow_user"]] == members
            assert len(api_requests(control_client, "externalcontact/get")) == 3


def test_list_external_contacts_is_empty_for_a_member_without_customers(client: WeComClient) -> None:
    assert client.list_external_contacts("lisi") == []


def test_contact_way_lifecycle(client: WeComClient, control: httpx.Client) -> None:
    created = client.add_contact_way(
        type=2, scene=2, user=["zhangsan", "lisi"], state="ch_spring", remark="春季"
    )
    assert set(created) == {"config_id", "qr_code"}
    assert control.get(created["qr_code"]).headers["content-type"] == "image/png"
    way = client.get_contact_way(created["config_id"])
    assert way["state"] == "ch_spring" and way["user"] == ["zhangsan", "lisi"] and way["skip_verify"] is True
    client.update_contact_way(created["config_id"], user=["wangwu"], state="ch_summer")
    way = client.get_contact_way(created["config_id"])
    assert way["user"] == ["wangwu"] and way["state"] == "ch_summer" and way["remark"] == "春季"
    listed = client.list_contact_way()
    assert listed["contact_way"] == [{"config_id": created["config_id"]}]
    with pytest.raises(WeComError) as caught:
        client.add_contact_way(type=1, scene=2, user=["zhangsan"], state="x" * 31)
    assert caught.value.errcode == 40058
    with pytest.raises(WeComError) as caught:
        client.add_contact_way(type=1, scene=2, user=["zhangsan", "lisi"])
    assert caught.value.errcode == 40058
    single = client.add_contact_way(type=1, scene=1, user=["lisi"])
    assert "qr_code" not in single
    client.del_contact_way(created["config_id"])
    with pytest.raises(WeComError) as caught:
        client.get_contact_way(created["config_id"])
    assert caught.value.errcode == 41044


def test_welcome_code_is_single_use_and_short_lived(
    client: WeComClient, control: httpx.Client, receiver: Any
) -> None:
    way = client.add_contact_way(type=1, scene=2, user=["zhangsan"], state="welcome")
    first = scan(control, config_id=way["config_id"], name="小明")
    client.send_welcome_msg(first["welcome_code"], text="你好，欢迎！")
    with pytest.raises(WeComError) as caught:
        client.send_welcome_msg(first["welcome_code"], text="again")
    assert caught.value.errcode == 41050

    late = scan(control, state="welcome")
    control.post("/_sim/clock/advance", json={"seconds": 21}).raise_for_status()
    with pytest.raises(WeComError) as caught:
        client.send_welcome_msg(late["welcome_code"], text="too late")
    assert caught.value.errcode == 41050

    chatted = scan(control, state="welcome", customer_chatted=True)
    with pytest.raises(WeComError) as caught:
        client.send_welcome_msg(chatted["welcome_code"], text="hello")
    assert caught.value.errcode == 41051

    messages = control.get("/_sim/welcome_messages").json()
    assert [message["external_userid"] for message in messages] == [first["external_userid"]]
    assert messages[0]["text"] == {"content": "你好，欢迎！"} and messages[0]["latency_seconds"] >= 0


def test_corp_tags_and_marking(client: WeComClient, control: httpx.Client) -> None:
    group = client.add_corp_tag(group_name="客户等级", tags=[{"name": "VIP", "order": 2}, {"name": "普通"}])
    assert [tag["name"] for tag in group["tag"]] == ["VIP", "普通"]
    vip = group["tag"][0]["id"]
    assert vip.startswith("et")
    with pytest.raises(WeComError) as caught:
        client.add_corp_tag(group_id=group["group_id"], tags=[{"name": "VIP"}])
    assert caught.value.errcode == 40071
    # An existing group name receives the new tags, as WeCom does.
    more = client.add_corp_tag(group_name="客户等级", tags=[{"name": "黑卡"}])
    assert more["group_id"] == group["group_id"]
    client.edit_corp_tag(vip, name="VIP客户")
    (listed,) = client.get_corp_tag_list()
    assert {tag["name"] for tag in listed["tag"]} == {"VIP客户", "普通", "黑卡"}

    customer = control.post("/_sim/customers", json={"userids": ["zhangsan"]}).json()["external_userids"][0]
    client.mark_tag("zhangsan", customer, add_tag=[vip])
    client.remark("zhangsan", customer, remark="老客户", description="买过三次")
    follow = client.get_external_contact(customer)["follow_user"][0]
    assert follow["tags"] == [{"group_name": "客户等级", "tag_name": "VIP客户", "tag_id": vip, "type": 1}]
    assert follow["remark"] == "老客户" and follow["description"] == "买过三次"
    client.del_corp_tag(tag_ids=[vip])
    assert client.get_external_contact(customer)["follow_user"][0]["tags"] == []
    (deleted,) = client.get_corp_tag_list(tag_ids=[vip])
    assert deleted["tag"][0]["deleted"] is True
    client.del_corp_tag(group_ids=[group["group_id"]])
    assert client.get_corp_tag_list() == []
    with pytest.raises(WeComError) as caught:
        client.mark_tag("zhangsan", customer, add_tag=[vip])
    assert caught.value.errcode == 40068


def test_unionid_group_chats_transfers_and_mass_messages(client: WeComClient, control: httpx.Client) -> None:
    way = client.add_contact_way(type=1, scene=2, user=["zhangsan"])
    added = scan(control, config_id=way["config_id"], unionid="owUNION0001")
    assert client.unionid_to_external_userid("owUNION0001") == added["external_userid"]
    assert client.unionid_to_external_userid("owNOBODY") is None

    chat = control.post(
        "/_sim/groupchat/create",
        json={"owner": "zhangsan", "name": "老客户群", "members": ["lisi", added["external_userid"]]},
    ).json()
    assert list(client.iter_groupchats(limit=1)) == [{"chat_id": chat["chat_id"], "status": 0}]
    detail = client.groupchat_get(chat["chat_id"])
    assert detail["owner"] == "zhangsan"
    assert [(member["userid"], member["type"]) for member in detail["member_list"]] == [
        ("zhangsan", 1),
        ("lisi", 1),
        (added["external_userid"], 2),
    ]

    results = client.transfer_customer("zhangsan", "lisi", [added["external_userid"], "wmunknown"])
    assert results == [
        {"external_userid": added["external_userid"], "errcode": 0},
        {"external_userid": "wmunknown", "errcode": 40131},
    ]
    assert client.transfer_result("zhangsan", "lisi")["customer"][0]["status"] == 2
    control.post("/_sim/transfers/complete", json={}).raise_for_status()
    assert client.transfer_result("zhangsan", "lisi")["customer"][0]["status"] == 1
    assert [
        item["userid"] for item in client.get_external_contact(added["external_userid"])["follow_user"]
    ] == ["lisi"]

    sent = client.add_msg_template(
        sender="lisi", external_userid=[added["external_userid"], "wmunknown"], text="双十一"
    )
    assert sent["fail_list"] == ["wmunknown"] and sent["msgid"]
    result = client.get_groupmsg_send_result(sent["msgid"], "lisi")
    assert result["send_list"][0]["status"] == 0
    control.post("/_sim/groupmsg/confirm", json={"msgid": sent["msgid"]}).raise_for_status()
    assert client.get_groupmsg_send_result(sent["msgid"], "lisi")["send_list"][0]["status"] == 1


def test_jsapi_signature_reproduces_the_official_example() -> None:
    ticket = "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg"
    expected = "0f9de62fce790f9a083d5c99e95740ceb90c27ed"
    assert (
        jsapi_signature(ticket, "Wm3WZYTPz0wzccnW", 1414587457, "http://mp.weixin.qq.com?params=value")
        == expected
    )
    assert jsapi_signature(
        ticket, "Wm3WZYTPz0wzccnW", "1414587457", "http://mp.weixin.qq.com?params=value#x"
    ) == (expected)


def test_tickets_are_cached(client: WeComClient, control: httpx.Client, state: SharedState) -> None:
    ticket = client.get_jsapi_ticket()
    assert client.get_jsapi_ticket() == ticket
    agent_ticket = client.get_agent_jsapi_ticket()
    assert agent_ticket != ticket and client.get_agent_jsapi_ticket() == agent_ticket
    # Another client sharing the state reads the cached tickets.
    assert make_client_like(client, state).get_jsapi_ticket() == ticket
    assert len(api_requests(control, "get_jsapi_ticket")) == 1
    assert len(api_requests(control, "ticket/get")) == 1


def make_client_like(client: WeComClient, state: SharedState) -> WeComClient:
    return WeComClient(client.config, shared_state=state)


def _follow(http: httpx.Client, url: str, userid: str) -> dict[str, list[str]]:
    page = http.get(url)
    assert page.status_code == 200 and f"data-userid='{userid}'" in page.text
    redirect = http.get(url + "&sim_userid=" + userid)
    assert redirect.status_code == 302
    location = redirect.headers["location"]
    assert location.startswith("https://scrm.example.com/auth/wecom/callback?")
    return parse_qs(urlsplit(location).query)


def test_oauth_and_sso_code_flow(client: WeComClient, control: httpx.Client) -> None:
    url = client.oauth_authorize_url("https://scrm.example.com/auth/wecom/callback", "st4te")
    assert f"appid={CORP_ID}" in url and f"agentid={AGENT_ID}" in url and url.endswith("#wechat_redirect")
    assert "redirect_uri=https%3A%2F%2Fscrm.example.com%2Fauth%2Fwecom%2Fcallback" in url
    query = _follow(control, url.split("#")[0], "lisi")
    assert query["state"] == ["st4te"]
    assert client.get_user_info_by_code(query["code"][0]) == {"userid": "lisi"}
    with pytest.raises(WeComError) as caught:
        client.get_user_info_by_code(query["code"][0])
    assert caught.value.errcode == 40029

    sso = client.sso_login_url("https://scrm.example.com/auth/wecom/callback", "console")
    assert "/wwlogin/sso/login?login_type=CorpApp" in sso
    query = _follow(control, sso, "wangwu")
    control.post("/_sim/clock/advance", json={"seconds": 301}).raise_for_status()
    with pytest.raises(WeComError) as caught:
        client.get_user_info_by_code(query["code"][0])
    assert caught.value.errcode == 40029
    assert control.get(url.replace(CORP_ID, "wwwrong").split("#")[0]).status_code == 400
