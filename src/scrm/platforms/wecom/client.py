"""The WeCom API client: typed methods over `WeComTransport` (tokens, pacing, retries).

Methods follow the official docs (platform-protocols.md §1, §3, §5): GET for `get`, `list`,
`get_follow_user_list`, the directory and the tickets; POST JSON for everything else. Each method
returns the useful part of the answer and raises `WeComError` (see `errors.py` for which codes are
retryable) or `PlatformUnavailable`.

Which secret: external-contact APIs use the 客户联系 secret; the directory, OAuth code exchange and
the JS-SDK tickets use the app's secret when one is configured (they belong to an app), else the
客户联系 one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from scrm.platforms.wecom.errors import ErrCode, WeComError
from scrm.platforms.wecom.transport import WeComTransport

BATCH_USERIDS_MAX = 100


def jsapi_signature(ticket: str, noncestr: str, timestamp: int | str, url: str) -> str:
    """The JS-SDK signature (wx.config / wx.agentConfig): SHA-1 over the four fields in this fixed
    order, not URL-encoded; `url` loses any #fragment."""
    url = url.split("#", 1)[0]
    plain = f"jsapi_ticket={ticket}&noncestr={noncestr}&timestamp={timestamp}&url={url}"
    return hashlib.sha1(plain.encode()).hexdigest()


def _quote_all(value: Any, safe: Any = "", encoding: Any = None, errors: Any = None) -> str:
    """urlencode's quoting, but "/" and ":" too: WeCom wants redirect_uri fully encoded."""
    return quote(value, safe="", encoding=encoding, errors=errors)


def _without_none(**fields: Any) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


class WeComClient(WeComTransport):
    """One corp's WeCom APIs. Build one per connection:
    `WeComClient(config, shared_state=state, http=None, sleep=time.sleep)`."""

    jsapi_signature = staticmethod(jsapi_signature)

    # --- directory --------------------------------------------------------------------------------

    def list_departments(self, department_id: int | None = None) -> list[dict[str, Any]]:
        """`GET department/list`: departments (id, name, parentid, order) visible to the secret."""
        params = {} if department_id is None else {"id": department_id}
        return list(
            self.call("GET", "department/list", params=params, kind=self.app_or_contact()).get(
                "department", []
            )
        )

    def list_users(self, department_id: int, fetch_child: bool = True) -> list[dict[str, Any]]:
        """`GET user/list`: members of a department (and its children) with details."""
        data = self.call(
            "GET",
            "user/list",
            params={"department_id": department_id, "fetch_child": int(fetch_child)},
            kind=self.app_or_contact(),
        )
        return list(data.get("userlist", []))

    # --- customers --------------------------------------------------------------------------------

    def get_follow_user_list(self) -> list[str]:
        """`GET externalcontact/get_follow_user_list`: userids of members with 客户联系 enabled."""
        return list(self.call("GET", "externalcontact/get_follow_user_list").get("follow_user", []))

    def list_external_contacts(self, userid: str) -> list[str]:
        """`GET externalcontact/list`: a member's external_userids; [] when WeCom answers 84061
        (the member has no customer)."""
        try:
            data = self.call("GET", "externalcontact/list", params={"userid": userid})
        except WeComError as error:
            if error.errcode == ErrCode.NO_RELATIONSHIP:
                return []
            raise
        return list(data.get("external_userid", []))

    def get_external_contact(self, external_userid: str) -> dict[str, Any]:
        """`GET externalcontact/get`, following `next_cursor` (customers with >500 followers):
        `{"external_contact": {...}, "follow_user": [every follower]}`."""
        params: dict[str, Any] = {"external_userid": external_userid}
        data = self.call("GET", "externalcontact/get", params=params)
        merged = {
            "external_contact": data.get("external_contact", {}),
            "follow_user": list(data.get("follow_user", [])),
        }
        while cursor := data.get("next_cursor"):
            data = self.call("GET", "externalcontact/get", params={**params, "cursor": cursor})
            merged["follow_user"].extend(data.get("follow_user", []))
        return merged

    def iter_batch_get_by_user(
        self, userid_list: Sequence[str], limit: int = 100
    ) -> Iterator[list[dict[str, Any]]]:
        """`POST externalcontact/batch/get_by_user`, one page (≤`limit` ≤100 items of
        `{"external_contact", "follow_info"}`) per yield, following `next_cursor`; more than 100
        userids are split into calls of 100."""
        limit = max(1, min(limit, 100))
        for start in range(0, len(userid_list), BATCH_USERIDS_MAX):
            chunk = list(userid_list[start : start + BATCH_USERIDS_MAX])
            cursor = ""
            while True:
                data = self.call(
                    "POST",
                    "externalcontact/batch/get_by_user",
                    body={"userid_list": chunk, "cursor": cursor, "limit": limit},
                    replay_safe=True,
                )
                page = list(data.get("external_contact_list", []))
                if page:
                    yield page
                cursor = data.get("next_cursor") or ""
                if not cursor:
                    break

    def remark(
        self,
        userid: str,
        external_userid: str,
        *,
        remark: str | None = None,
        description: str | None = None,
        remark_company: str | None = None,
        remark_mobiles: Sequence[str] | None = None,
        remark_pic_mediaid: str | None = None,
    ) -> None:
        """`POST externalcontact/remark`: set a follower's remark fields (only those given)."""
        self.call(
            "POST",
            "externalcontact/remark",
            body=_without_none(
                userid=userid,
                external_userid=external_userid,
                remark=remark,
                description=description,
                remark_company=remark_company,
                remark_mobiles=None if remark_mobiles is None else list(remark_mobiles),
                remark_pic_mediaid=remark_pic_mediaid,
            ),
            replay_safe=True,
        )

    def unionid_to_external_userid(self, unionid: str, openid: str | None = None) -> str | None:
        """`POST externalcontact/unionid_to_external_userid`: the customer's external_userid in this
        corp, None when WeCom knows no relationship (84061) or answers none."""
        try:
            data = self.call(
                "POST",
                "externalcontact/unionid_to_external_userid",
                body=_without_none(unionid=unionid, openid=openid),
                replay_safe=True,
            )
        except WeComError as error:
            if error.errcode == ErrCode.NO_RELATIONSHIP:
                return None
            raise
        return data.get("external_userid") or None

    # --- corp tags --------------------------------------------------------------------------------

    def get_corp_tag_list(
        self, tag_ids: Sequence[str] | None = None, group_ids: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """`POST externalcontact/get_corp_tag_list`: tag groups with their tags (WeCom ignores
        `tag_ids` when `group_ids` is given)."""
        body = _without_none(
            tag_id=None if tag_ids is None else list(tag_ids),
            group_id=None if group_ids is None else list(group_ids),
        )
        data = self.call("POST", "externalcontact/get_corp_tag_list", body=body, replay_safe=True)
        return list(data.get("tag_group", []))

    def add_corp_tag(
        self,
        group_id: str | None = None,
        group_name: str | None = None,
        tags: Sequence[dict[str, Any]] = (),
        order: int | None = None,
    ) -> dict[str, Any]:
        """`POST externalcontact/add_corp_tag`: the created `tag_group` (with the new tags' ids).
        `tags` are `{"name", "order"?}`; raises WeComError 40071 on a name clash, 40126 past 3000."""
        body = _without_none(
            group_id=group_id, group_name=group_name, order=order, agentid=self.config.agent_id
        )
        body["tag"] = [dict(tag) for tag in tags]
        return dict(self.call("POST", "externalcontact/add_corp_tag", body=body).get("tag_group", {}))

    def edit_corp_tag(self, id: str, name: str | None = None, order: int | None = None) -> None:
        """`POST externalcontact/edit_corp_tag`: rename or reorder a tag or a tag group."""
        self.call(
            "POST",
            "externalcontact/edit_corp_tag",
            body=_without_none(id=id, name=name, order=order, agentid=self.config.agent_id),
            replay_safe=True,
        )

    def del_corp_tag(self, tag_ids: Iterable[str] = (), group_ids: Iterable[str] = ()) -> None:
        """`POST externalcontact/del_corp_tag` (deleting every tag of a group deletes the group)."""
        self.call(
            "POST",
            "externalcontact/del_corp_tag",
            body=_without_none(tag_id=list(tag_ids), group_id=list(group_ids), agentid=self.config.agent_id),
            replay_safe=True,
        )

    def mark_tag(
        self, userid: str, external_userid: str, add_tag: Iterable[str] = (), remove_tag: Iterable[str] = ()
    ) -> None:
        """`POST externalcontact/mark_tag`: add/remove corp tags on one follower's view of a customer."""
        self.call(
            "POST",
            "externalcontact/mark_tag",
            body={
                "userid": userid,
                "external_userid": external_userid,
                "add_tag": list(add_tag),
                "remove_tag": list(remove_tag),
            },
            replay_safe=True,
        )

    # --- contact ways (「联系我」) ------------------------------------------------------------------

    def add_contact_way(self, **fields: Any) -> dict[str, Any]:
        """`POST externalcontact/add_contact_way` with the documented fields (type, scene, style,
        remark, skip_verify, state ≤30 chars, user, party, is_temp, expires_in, ...):
        `{"config_id", "qr_code"?}` (qr_code only for scene=2)."""
        data = self.call("POST", "externalcontact/add_contact_way", body=_without_none(**fields))
        return {key: data[key] for key in ("config_id", "qr_code") if key in data}

    def get_contact_way(self, config_id: str) -> dict[str, Any]:
        """`POST externalcontact/get_contact_way`: the `contact_way` object."""
        data = self.call(
            "POST", "externalcontact/get_contact_way", body={"config_id": config_id}, replay_safe=True
        )
        way = data.get("contact_way", {})
        return dict(way[0] if isinstance(way, list) and way else way)

    def update_contact_way(self, config_id: str, **fields: Any) -> None:
        """`POST externalcontact/update_contact_way`: `user`/`party` given here replace the lists."""
        self.call(
            "POST",
            "externalcontact/update_contact_way",
            body={"config_id": config_id, **_without_none(**fields)},
            replay_safe=True,
        )

    def del_contact_way(self, config_id: str) -> None:
        """`POST externalcontact/del_contact_way`."""
        self.call("POST", "externalcontact/del_contact_way", body={"config_id": config_id})

    def list_contact_way(
        self,
        start_time: int | None = None,
        end_time: int | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> dict[str, Any]:
        """`POST externalcontact/list_contact_way`: `{"contact_way": [{"config_id"}], "next_cursor"}`
        (WeCom defaults to the last 90 days and 100 items, 1000 at most)."""
        data = self.call(
            "POST",
            "externalcontact/list_contact_way",
            body=_without_none(start_time=start_time, end_time=end_time, cursor=cursor, limit=limit),
            replay_safe=True,
        )
        return {"contact_way": list(data.get("contact_way", [])), "next_cursor": data.get("next_cursor", "")}

    # --- messages ---------------------------------------------------------------------------------

    def send_welcome_msg(
        self, welcome_code: str, text: str | None = None, attachments: Sequence[dict[str, Any]] = ()
    ) -> None:
        """`POST externalcontact/send_welcome_msg`. The code is single use and valid 20 s:
        raises WeComError 41050 (expired or used) or 41051 (the customer already chatted)."""
        body: dict[str, Any] = {"welcome_code": welcome_code}
        if text is not None:
            body["text"] = {"content": text}
        if attachments:
            body["attachments"] = [dict(item) for item in attachments]
        self.call("POST", "externalcontact/send_welcome_msg", body=body)

    def add_msg_template(
        self,
        *,
        chat_type: str = "single",
        external_userid: Sequence[str] | None = None,
        chat_id_list: Sequence[str] | None = None,
        tag_filter: dict[str, Any] | None = None,
        sender: str | None = None,
        allow_select: bool | None = None,
        text: str | None = None,
        attachments: Sequence[dict[str, Any]] = (),
    ) -> dict[str, Any]:
        """`POST externalcontact/add_msg_template` (企业群发): `{"msgid", "fail_list"}`. The task is
        delivered only after the sender confirms it in the client."""
        body = _without_none(
            chat_type=chat_type,
            external_userid=None if external_userid is None else list(external_userid),
            chat_id_list=None if chat_id_list is None else list(chat_id_list),
            tag_filter=tag_filter,
            sender=sender,
            allow_select=allow_select,
            text=None if text is None else {"content": text},
        )
        if attachments:
            body["attachments"] = [dict(item) for item in attachments]
        data = self.call("POST", "externalcontact/add_msg_template", body=body)
        return {"msgid": data.get("msgid", ""), "fail_list": list(data.get("fail_list", []))}

    def get_groupmsg_send_result(
        self, msgid: str, userid: str, cursor: str | None = None, limit: int | None = None
    ) -> dict[str, Any]:
        """`POST externalcontact/get_groupmsg_send_result`: `{"send_list": [...], "next_cursor"}`."""
        data = self.call(
            "POST",
            "externalcontact/get_groupmsg_send_result",
            body=_without_none(msgid=msgid, userid=userid, cursor=cursor, limit=limit),
            replay_safe=True,
        )
        return {"send_list": list(data.get("send_list", [])), "next_cursor": data.get("next_cursor", "")}

    # --- customer groups --------------------------------------------------------------------------

    def groupchat_list(
        self,
        status_filter: int = 0,
        owner_userids: Sequence[str] | None = None,
        cursor: str | None = None,
        limit: int = 1000,
    ) -> dict[str, Any]:
        """`POST externalcontact/groupchat/list`:
        `{"group_chat_list": [{chat_id, status}], "next_cursor"}`."""
        body = _without_none(status_filter=status_filter, cursor=cursor, limit=limit)
        if owner_userids:
            body["owner_filter"] = {"userid_list": list(owner_userids)}
        data = self.call("POST", "externalcontact/groupchat/list", body=body, replay_safe=True)
        return {
            "group_chat_list": list(data.get("group_chat_list", [])),
            "next_cursor": data.get("next_cursor", ""),
        }

    def iter_groupchats(
        self, status_filter: int = 0, owner_userids: Sequence[str] | None = None, limit: int = 1000
    ) -> Iterator[dict[str, Any]]:
        """Every `{chat_id, status}` of `groupchat/list`, following the cursor."""
        cursor: str | None = None
        while True:
            page = self.groupchat_list(status_filter, owner_userids, cursor, limit)
            yield from page["group_chat_list"]
            cursor = page["next_cursor"]
            if not cursor:
                return

    def groupchat_get(self, chat_id: str, need_name: bool = True) -> dict[str, Any]:
        """`POST externalcontact/groupchat/get`: the `group_chat` object (members, admins...)."""
        data = self.call(
            "POST",
            "externalcontact/groupchat/get",
            body={"chat_id": chat_id, "need_name": int(need_name)},
            replay_safe=True,
        )
        return dict(data.get("group_chat", {}))

    # --- transfers (在职继承) -----------------------------------------------------------------------

    def transfer_customer(
        self,
        handover_userid: str,
        takeover_userid: str,
        external_userids: Sequence[str],
        transfer_success_msg: str | None = None,
    ) -> list[dict[str, Any]]:
        """`POST externalcontact/transfer_customer` (≤100 customers): `[{external_userid, errcode}]`,
        errcode 0 meaning the takeover is scheduled."""
        data = self.call(
            "POST",
            "externalcontact/transfer_customer",
            body=_without_none(
                handover_userid=handover_userid,
                takeover_userid=takeover_userid,
                external_userid=list(external_userids),
                transfer_success_msg=transfer_success_msg,
            ),
        )
        return list(data.get("customer", []))

    def transfer_result(
        self, handover_userid: str, takeover_userid: str, cursor: str | None = None
    ) -> dict[str, Any]:
        """`POST externalcontact/transfer_result`: `{"customer": [{external_userid, status,
        takeover_time}], "next_cursor"}` (status 1 done, 2 waiting, 3 refused, 4 limit, 5 no record)."""
        data = self.call(
            "POST",
            "externalcontact/transfer_result",
            body=_without_none(
                handover_userid=handover_userid, takeover_userid=takeover_userid, cursor=cursor
            ),
            replay_safe=True,
        )
        return {"customer": list(data.get("customer", [])), "next_cursor": data.get("next_cursor", "")}

    # --- JS-SDK and login ---------------------------------------------------------------------------

    def get_jsapi_ticket(self) -> str:
        """The corp jsapi_ticket (`GET get_jsapi_ticket`) for wx.config, cached in the shared state
        for its 7200 s less a margin (WeCom allows 400 fetches per hour per corp)."""
        kind = self.app_or_contact()

        def fetch() -> tuple[str, float]:
            data = self.call("GET", "get_jsapi_ticket", kind=kind)
            return str(data["ticket"]), float(data.get("expires_in", 7200))

        return self._cached_value("jsapi_ticket", kind, fetch)

    def get_agent_jsapi_ticket(self) -> str:
        """The app jsapi_ticket (`GET ticket/get?type=agent_config`) for wx.agentConfig, cached like
        `get_jsapi_ticket` (100 fetches per hour per app)."""
        kind = self.app_or_contact()

        def fetch() -> tuple[str, float]:
            data = self.call("GET", "ticket/get", params={"type": "agent_config"}, kind=kind)
            return str(data["ticket"]), float(data.get("expires_in", 7200))

        return self._cached_value(f"agent_jsapi_ticket:{self.config.agent_id}", kind, fetch)

    def get_user_info_by_code(self, code: str) -> dict[str, Any]:
        """`GET auth/getuserinfo`: `{"userid", "user_ticket"?}` for a member, `{"openid",
        "external_userid"?}` otherwise. Raises WeComError 40029 for a bad, used or expired code."""
        data = self.call(
            "GET", "auth/getuserinfo", params={"code": code}, kind=self.app_or_contact(), replay_safe=False
        )  # codes are single use: a replay after a timeout fails
        return {key: value for key, value in data.items() if key not in ("errcode", "errmsg")}

    def oauth_authorize_url(self, redirect_uri: str, state: str, scope: str = "snsapi_base") -> str:
        """The OAuth page for a member inside WeCom (sidebar, app pages)."""
        query = {
            "appid": self.config.corp_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": scope,
            "state": state,
        }
        if self.config.agent_id is not None:
            query["agentid"] = str(self.config.agent_id)
        return (
            f"{self.config.oauth_base_url.rstrip('/')}/connect/oauth2/authorize?"
            f"{urlencode(query, quote_via=_quote_all)}#wechat_redirect"
        )

    def sso_login_url(self, redirect_uri: str, state: str) -> str:
        """The WeCom web login (QR) page for the console, for the configured app."""
        query = {
            "login_type": "CorpApp",
            "appid": self.config.corp_id,
            "agentid": "" if self.config.agent_id is None else str(self.config.agent_id),
            "redirect_uri": redirect_uri,
            "state": state,
        }
        base = self.config.sso_base_url.rstrip("/")
        return f"{base}/wwlogin/sso/login?{urlencode(query, quote_via=_quote_all)}"
