"""Simulated gettoken, directory (department/user), OAuth code exchange and JS-SDK tickets."""

from __future__ import annotations

from typing import Any

from scrm.platforms.wecom.errors import ErrCode
from scrm.platforms.wecom.simulator.apis import ApiSpec, Call
from scrm.platforms.wecom.simulator.corp import Corp, SimError


def gettoken(corp: Corp, call: Call) -> dict[str, Any]:
    """40013 for another corp id, 40001 for an unknown secret; the same token within its validity."""
    if call.param("corpid") != corp.config.corp_id:
        raise SimError(ErrCode.INVALID_CORPID)
    secret = call.param("corpsecret")
    if secret and secret == corp.config.contact_secret:
        kind = "contact"
    elif secret and corp.config.app_secret and secret == corp.config.app_secret:
        kind = "app"
    else:
        raise SimError(ErrCode.INVALID_SECRET)
    token, expires_in = corp.issue_token(kind)
    return {"access_token": token, "expires_in": expires_in}


def _subtree(corp: Corp, root: int) -> list[int]:
    found, frontier = [root], [root]
    while frontier:
        parent = frontier.pop()
        children = [dept_id for dept_id, dept in corp.departments.items() if dept["parentid"] == parent]
        found.extend(children)
        frontier.extend(children)
    return found


def _department_id(corp: Corp, value: str | None, *, required: bool) -> int | None:
    if value in (None, ""):
        if required:
            raise SimError(ErrCode.EMPTY_PARAMETER, "department_id missing")
        return None
    try:
        dept_id = int(str(value))
    except ValueError as exc:
        raise SimError(60123, "invalid party id") from exc
    if dept_id not in corp.departments:
        raise SimError(60123, "invalid party id")
    return dept_id


def department_list(corp: Corp, call: Call) -> dict[str, Any]:
    dept_id = _department_id(corp, call.param("id"), required=False)
    ids = list(corp.departments) if dept_id is None else _subtree(corp, dept_id)
    return {"department": [dict(corp.departments[item]) for item in ids]}


def _members(corp: Corp, call: Call) -> list[dict[str, Any]]:
    dept_id = _department_id(corp, call.param("department_id"), required=True)
    assert dept_id is not None
    ids = set(_subtree(corp, dept_id)) if call.param("fetch_child") in ("1", "true") else {dept_id}
    return [member.to_api() for member in corp.staff.values() if ids.intersection(member.department)]


def user_list(corp: Corp, call: Call) -> dict[str, Any]:
    return {"userlist": _members(corp, call)}


def user_simplelist(corp: Corp, call: Call) -> dict[str, Any]:
    return {
        "userlist": [
            {"userid": item["userid"], "name": item["name"], "department": item["department"]}
            for item in _members(corp, call)
        ]
    }


def user_get(corp: Corp, call: Call) -> dict[str, Any]:
    return corp.require_staff(call.param("userid")).to_api()


def _take_code(corp: Corp, call: Call) -> tuple[str, str]:
    code = call.param("code") or ""
    found = corp.oauth_codes.pop(code, None)  # single use, even when it has expired
    if found is None or found[1] <= corp.now():
        raise SimError(ErrCode.INVALID_OAUTH_CODE)
    return found[0], found[2]


def auth_getuserinfo(corp: Corp, call: Call) -> dict[str, Any]:
    """A member's userid (plus user_ticket for snsapi_privateinfo); 40029 for a bad code."""
    userid, scope = _take_code(corp, call)
    answer: dict[str, Any] = {"userid": userid}
    if scope == "snsapi_privateinfo":
        answer.update(user_ticket=corp.new_id("USERTICKET", 64), expires_in=1800)
    return answer


def legacy_user_getuserinfo(corp: Corp, call: Call) -> dict[str, Any]:
    """The old `user/getuserinfo` (capitalised keys), still used by older SDKs such as wechatpy."""
    userid, _ = _take_code(corp, call)
    return {"UserId": userid, "DeviceId": ""}


def get_jsapi_ticket(corp: Corp, call: Call) -> dict[str, Any]:
    ticket, expires_in = corp.ticket("corp")
    return {"ticket": ticket, "expires_in": expires_in}


def ticket_get(corp: Corp, call: Call) -> dict[str, Any]:
    if call.param("type") != "agent_config":
        raise SimError(ErrCode.INVALID_PARAMETER, "type must be agent_config")
    ticket, expires_in = corp.ticket("agent")
    return {"ticket": ticket, "expires_in": expires_in}


APIS: dict[str, ApiSpec] = {
    "gettoken": ApiSpec("GET", gettoken, needs_token=False),
    "department/list": ApiSpec("GET", department_list),
    "user/list": ApiSpec("GET", user_list),
    "user/simplelist": ApiSpec("GET", user_simplelist),
    "user/get": ApiSpec("GET", user_get),
    # A valid code is exempt from the frequency limits (§1.3).
    "auth/getuserinfo": ApiSpec("GET", auth_getuserinfo, rate_limited=False),
    "user/getuserinfo": ApiSpec("GET", legacy_user_getuserinfo, rate_limited=False),
    "get_jsapi_ticket": ApiSpec("GET", get_jsapi_ticket),
    "ticket/get": ApiSpec("GET", ticket_get),
}
