"""A third-party SDK (wechatpy's enterprise client) works against the simulator unchanged: the
simulator speaks WeCom, not our own dialect."""

from __future__ import annotations

import warnings
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from scrm.platforms.wecom.simulator import RunningSimulator
from tests.platforms.wecom import simulator_support
from tests.platforms.wecom.simulator_support import (
    AGENT_ID,
    CONTACT_SECRET,
    CORP_ID,
)

# The simulator fixtures, shared with the other simulator test modules.
sim = simulator_support.sim
receiver = simulator_support.receiver
control = simulator_support.control

wechatpy_enterprise = pytest.importorskip("wechatpy.enterprise")
wechatpy_exceptions = pytest.importorskip("wechatpy.exceptions")


@pytest.fixture
def wechat(sim: RunningSimulator) -> Any:
    class SimulatedWeChatClient(wechatpy_enterprise.WeChatClient):  # type: ignore[misc,name-defined]
        # wechatpy hard-codes the gettoken host; every other call goes through API_BASE_URL.
        def fetch_access_token(self) -> Any:
            return self._fetch_access_token(
                url=self.API_BASE_URL + "gettoken", params={"corpid": self.corp_id, "corpsecret": self.secret}
            )

    client = SimulatedWeChatClient(CORP_ID, CONTACT_SECRET, timeout=10)
    client.API_BASE_URL = sim.base_url + "/cgi-bin/"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # wechatpy's own `_get`/`_post` notices
        yield client


def test_directory_and_customers(wechat: Any, control: httpx.Client) -> None:
    assert [dept["id"] for dept in wechat.department.get()] == [1]
    assert [user["userid"] for user in wechat.user.list(1, fetch_child=True)] == [
        "zhangsan",
        "lisi",
        "wangwu",
    ]
    assert [user["name"] for user in wechat.department.get_users(1)] == ["zhangsan", "lisi", "wangwu"]
    assert wechat.external_contact.get_follow_user_list()["follow_user"] == ["zhangsan", "lisi", "wangwu"]

    created = control.post("/_sim/customers", json={"userids": ["zhangsan"], "count": 3}).json()[
        "external_userids"
    ]
    assert sorted(wechat.external_contact.list("zhangsan")["external_userid"]) == sorted(created)
    detail = wechat.external_contact.get(created[0])
    assert detail["external_contact"]["external_userid"] == created[0]
    assert detail["follow_user"][0]["userid"] == "zhangsan"
    page = wechat.post(
        "externalcontact/batch/get_by_user", data={"userid_list": ["zhangsan"], "cursor": "", "limit": 2}
    )
    assert len(page["external_contact_list"]) == 2 and page["next_cursor"]
    rest = wechat.post(
        "externalcontact/batch/get_by_user",
        data={"userid_list": ["zhangsan"], "cursor": page["next_cursor"], "limit": 2},
    )
    assert len(rest["external_contact_list"]) == 1 and not rest.get("next_cursor")


def test_contact_ways_and_welcome(wechat: Any, control: httpx.Client) -> None:
    created = wechat.external_contact.add_contact_way(1, 2, user=["lisi"], state="wechatpy")
    config_id = created["config_id"]
    assert created["qr_code"].endswith(".png")
    assert wechat.external_contact.get_contact_way(config_id)["contact_way"]["state"] == "wechatpy"
    wechat.external_contact.update_contact_way(config_id, "改过的备注")
    assert wechat.external_contact.get_contact_way(config_id)["contact_way"]["remark"] == "改过的备注"
    code = control.post("/_sim/scan", json={"config_id": config_id}).json()["welcome_code"]
    assert (
        wechat.external_contact.send_welcome_msg({"welcome_code": code, "text": {"content": "hi"}})["errcode"]
        == 0
    )
    with pytest.raises(wechatpy_exceptions.WeChatClientException) as caught:
        wechat.external_contact.send_welcome_msg({"welcome_code": code, "text": {"content": "hi"}})
    assert caught.value.errcode == 41050
    wechat.external_contact.del_contact_way(config_id)
    with pytest.raises(wechatpy_exceptions.WeChatClientException) as caught:
        wechat.external_contact.get_contact_way(config_id)
    assert caught.value.errcode == 41044


def test_corp_tags(wechat: Any, control: httpx.Client) -> None:
    group = wechat.external_contact.add_corp_tag(None, "等级", 1, [{"name": "金卡"}, {"name": "银卡"}])[
        "tag_group"
    ]
    gold = group["tag"][0]["id"]
    wechat.external_contact.edit_corp_tag(gold, "黑金卡", 5)
    (listed,) = wechat.external_contact.get_corp_tag_list()["tag_group"]
    assert [tag["name"] for tag in listed["tag"]] == ["黑金卡", "银卡"]  # larger order first
    customer = control.post("/_sim/customers", json={"userids": ["wangwu"]}).json()["external_userids"][0]
    wechat.external_contact.mark_tag("wangwu", customer, add_tag=[gold])
    assert wechat.external_contact.get(customer)["follow_user"][0]["tags"][0]["tag_id"] == gold
    wechat.external_contact.del_corp_tag(group_id=[group["group_id"]])
    assert wechat.external_contact.get_corp_tag_list()["tag_group"] == []


def test_group_chats_tickets_and_oauth(wechat: Any, control: httpx.Client) -> None:
    chat_id = control.post("/_sim/groupchat/create", json={"owner": "lisi", "name": "群"}).json()["chat_id"]
    assert wechat.external_contact_group_chat.list_all() == [{"chat_id": chat_id, "status": 0}]
    assert wechat.external_contact_group_chat.get(chat_id)["group_chat"]["owner"] == "lisi"
    assert wechat.jsapi.get_jsapi_ticket()
    assert wechat.jsapi.get_agent_jsapi_ticket()
    url = (
        wechat.oauth.authorize_url("https://scrm.example.com/cb", state="s1")
        .replace("https://open.weixin.qq.com", str(control.base_url).rstrip("/"))
        .split("#")[0]
    )
    redirect = control.get(url + f"&agentid={AGENT_ID}&sim_userid=wangwu")
    code = parse_qs(urlsplit(redirect.headers["location"]).query)["code"][0]
    assert wechat.oauth.get_user_info(code)["UserId"] == "wangwu"


def test_token_expiry_and_rate_limits_look_like_wecom_to_the_sdk(wechat: Any, control: httpx.Client) -> None:
    wechat.external_contact.get_follow_user_list()
    control.post("/_sim/tokens/expire").raise_for_status()
    assert wechat.external_contact.get_follow_user_list()["errcode"] == 0  # the SDK refetched on 42001
    control.put("/_sim/rate_limits", json={"per_minute": 1}).raise_for_status()
    wechat.external_contact.get_follow_user_list()
    with pytest.raises(wechatpy_exceptions.APILimitedException):
        wechat.external_contact.get_follow_user_list()
