"""One WeCom connection's settings (a corp and its secrets)."""

from __future__ import annotations

import pydantic


class WeComConfig(pydantic.BaseModel):
    """A corp's credentials and where its APIs live.

    - `contact_secret`: the 客户联系 secret (external-contact APIs; also used for the directory when no
      app secret is given).
    - `agent_id` / `app_secret`: a self-built app, for OAuth/SSO, JS-SDK tickets and the directory.
    - `token` / `encoding_aes_key`: the callback receiver's settings (signature and AES key).
    - base URLs point at WeCom; tests and the demo point them at the simulator.
    - rate limits are per corp and per API. The current doc says 10 000/min and 150 000/hour; older
      revisions say 2 000/min and 30 000/hour, so both are configurable.
    """

    model_config = pydantic.ConfigDict(frozen=True)

    corp_id: str
    contact_secret: str
    token: str
    encoding_aes_key: str
    agent_id: int | None = None
    app_secret: str | None = None
    api_base_url: str = "https://qyapi.weixin.qq.com"
    oauth_base_url: str = "https://open.weixin.qq.com"
    sso_base_url: str = "https://login.work.weixin.qq.com"
    rate_limit_per_minute: int = pydantic.Field(default=10000, gt=0)
    rate_limit_per_hour: int = pydantic.Field(default=150000, gt=0)
