"""Browser pages: the OAuth and web-login (SSO) screens where you pick the member to log in as,
and the contact ways' QR images with a page to "scan" them.

Both login pages redirect to `redirect_uri?code=CODE&state=STATE`; `?sim_userid=` skips the choice.
Codes are single use and valid `oauth_code_ttl_seconds` (5 min); `auth/getuserinfo` exchanges them.
"""

from __future__ import annotations

import html
import io
import json
from urllib.parse import urlencode

import segno
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from scrm.platforms.wecom.simulator.control import sim_of
from scrm.platforms.wecom.simulator.customers import random_id

router = APIRouter()


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:28rem;margin:3rem auto}"
        "a.member{display:block;padding:.6rem;margin:.3rem 0;border:1px solid #ccc;border-radius:6px;"
        "text-decoration:none;color:#111}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>",
        status_code=status,
    )


def _login(
    request: Request,
    *,
    title: str,
    appid: str,
    redirect_uri: str,
    state: str,
    scope: str,
    sim_userid: str | None,
) -> Response:
    simulator = sim_of(request)
    corp = simulator.corp
    if appid != simulator.config.corp_id:
        return _page("参数错误", "<p>appid 与企业 CorpID 不符 (invalid appid)</p>", 400)
    if not redirect_uri:
        return _page("参数错误", "<p>redirect_uri 缺失</p>", 400)
    if sim_userid is None:
        links = []
        for member in corp.staff.values():
            query = urlencode({**request.query_params, "sim_userid": member.userid})
            links.append(
                f"<a class='member' data-userid='{html.escape(member.userid)}' "
                f"href='{html.escape(request.url.path)}?{html.escape(query)}'>"
                f"{html.escape(member.name)} <small>({html.escape(member.userid)})</small></a>"
            )
        return _page(title, "<p>选择登录成员 (log in as)</p>" + "".join(links))
    with corp.lock:
        if sim_userid not in corp.staff:
            return _page("参数错误", "<p>成员不存在 (unknown member)</p>", 400)
        code = random_id("", 64)
        corp.oauth_codes[code] = (sim_userid, corp.now() + corp.config.oauth_code_ttl_seconds, scope)
    separator = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(f"{redirect_uri}{separator}{urlencode({'code': code, 'state': state})}", 302)


@router.get("/connect/oauth2/authorize", include_in_schema=False)
async def oauth_authorize(
    request: Request,
    appid: str = "",
    redirect_uri: str = "",
    state: str = "",
    scope: str = "snsapi_base",
    agentid: str | None = None,
    sim_userid: str | None = None,
) -> Response:
    if scope == "snsapi_privateinfo" and not agentid:
        return _page("参数错误", "<p>snsapi_privateinfo 需要 agentid</p>", 400)
    return _login(
        request,
        title="企业微信授权 (simulated)",
        appid=appid,
        redirect_uri=redirect_uri,
        state=state,
        scope=scope,
        sim_userid=sim_userid,
    )


@router.get("/wwlogin/sso/login", include_in_schema=False)
async def sso_login(
    request: Request,
    appid: str = "",
    redirect_uri: str = "",
    state: str = "",
    login_type: str = "CorpApp",
    sim_userid: str | None = None,
) -> Response:
    if login_type not in ("CorpApp", "ServiceApp"):
        return _page("参数错误", "<p>login_type 无效</p>", 400)
    return _login(
        request,
        title="企业微信登录 (simulated)",
        appid=appid,
        redirect_uri=redirect_uri,
        state=state,
        scope="snsapi_base",
        sim_userid=sim_userid,
    )


@router.get("/_sim/qr/{config_id}.png", include_in_schema=False)
async def contact_way_qr(config_id: str, request: Request) -> Response:
    """The QR image of a contact way: it encodes the page below."""
    target = f"{str(request.base_url).rstrip('/')}/_sim/contact_ways/{config_id}"
    buffer = io.BytesIO()
    segno.make(target, error="m").save(buffer, kind="png", scale=5, border=2)
    return Response(buffer.getvalue(), media_type="image/png")


@router.get("/_sim/contact_ways/{config_id}", include_in_schema=False)
async def contact_way_page(config_id: str, request: Request) -> Response:
    """What a phone would show after scanning: a button that performs `POST /_sim/scan`."""
    way = sim_of(request).corp.contact_ways.get(config_id)
    if way is None:
        return _page("二维码已失效", "<p>This contact way does not exist.</p>", 404)
    payload = json.dumps({"config_id": config_id})
    script = (
        "<button id='scan'>扫码添加 (scan as a new customer)</button><pre id='out'></pre><script>"
        "document.getElementById('scan').onclick=async()=>{const r=await fetch('/_sim/scan',{method:'POST',"
        f"headers:{{'Content-Type':'application/json'}},body:'{payload}'}});"
        "document.getElementById('out').textContent=JSON.stringify(await r.json(),null,2)}</script>"
    )
    return _page(f"联系我: {way.get('remark') or way.get('state') or config_id}", script)
