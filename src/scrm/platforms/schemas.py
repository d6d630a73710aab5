"""API shapes of platform connections, and the configuration model of each platform.

A connection's `config` arrives as a plain object and is validated by its platform's model
(`CONFIG_SPECS`), so the error paths read ``config.corp_id`` whatever the platform. Secret fields are
split off before storage: write-only ones (API secrets) are never returned; callback credentials
(token, EncodingAESKey) are shown to people who may manage connections, because they must paste them
into the platform's admin console.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from scrm.platforms.models import ConnectionStatus, PlatformKind
from scrm.platforms.wecom.crypto import WeComCryptoError, decode_aes_key

_HTTP_URL = re.compile(r"^https?://[^\s/?#]+(:\d+)?(/[^\s?#]*)?$")

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Secret = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256)]


def _base_url(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().rstrip("/")
    if not _HTTP_URL.fullmatch(value):
        raise ValueError("must be an http(s) URL without query or fragment")
    return value


class WeComConnectionConfig(BaseModel):
    """A WeCom (企业微信) self-built app connection.

    `contact_secret` is the 客户联系 secret (customer contact APIs); `agent_id` and `app_secret` are an
    optional self-built app (messages, OAuth, SSO) and come together. `token` and `encoding_aes_key`
    are the callback credentials; generated when omitted.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    corp_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    contact_secret: Secret
    agent_id: int | None = Field(default=None, ge=0, le=2**31 - 1)
    app_secret: Secret | None = None
    # The WeCom admin console accepts 3-32 letters or digits.
    token: str | None = Field(default=None, pattern=r"^[A-Za-z0-9]{3,32}$")
    encoding_aes_key: str | None = None
    api_base_url: str | None = None
    oauth_base_url: str | None = None
    sso_base_url: str | None = None
    rate_limit_per_minute: int | None = Field(default=None, ge=1, le=1_000_000)
    rate_limit_per_hour: int | None = Field(default=None, ge=1, le=100_000_000)

    @field_validator("encoding_aes_key")
    @classmethod
    def _aes_key(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if len(value) != 43:
            raise ValueError("must be exactly 43 characters")
        try:
            decode_aes_key(value)
        except WeComCryptoError as error:
            raise ValueError(error.reason) from error
        return value

    @field_validator("api_base_url", "oauth_base_url", "sso_base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return _base_url(value)

    @model_validator(mode="after")
    def _app_pair(self) -> WeComConnectionConfig:
        if (self.agent_id is None) != (self.app_secret is None):
            raise ValueError("agent_id and app_secret are given together or not at all")
        return self


class _ShopConfig(BaseModel):
    """Fields every shop connection has: where the platform's API is (the simulator's URL in the demo
    and tests; the platform's gateway when omitted) and how fast we may call it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    api_base_url: str | None = None
    rate_limit_per_second: float | None = Field(default=None, gt=0, le=10_000)
    # Seconds between incremental pulls (pushes and message channels bring changes sooner).
    pull_interval_seconds: int | None = Field(default=None, ge=1, le=3600)

    @field_validator("api_base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return _base_url(value)


ShopId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
]


class YouzanConnectionConfig(_ShopConfig):
    """A Youzan (有赞) shop: the app's client_id/client_secret and the shop's kdt_id. Pushes are
    signed with the client secret (Event-Sign)."""

    client_id: ShopId
    client_secret: Secret
    kdt_id: ShopId


class TaobaoConnectionConfig(_ShopConfig):
    """A Taobao/Tmall (淘宝/天猫) shop through TOP: app key and secret, the seller's session key, and
    the seller's id. `sign_method` is how requests are signed; `tmc_group` the TMC group to consume."""

    app_key: ShopId
    app_secret: Secret
    session: Secret
    seller_id: ShopId
    sign_method: Literal["md5", "hmac", "hmac-sha256"] = "hmac-sha256"
    tmc_group: str = Field(default="default", min_length=1, max_length=64)


class DouyinConnectionConfig(_ShopConfig):
    """A Douyin shop (抖店): app key and secret and the shop id (self-use app: tokens are created
    with `authorization_self`). Pushes are signed with the app secret (event-sign)."""

    app_key: ShopId
    app_secret: Secret
    shop_id: ShopId


class JdConnectionConfig(_ShopConfig):
    """A JD (京东) POP shop: app key and secret, the seller's access token and the vendor id."""

    app_key: ShopId
    app_secret: Secret
    access_token: Secret
    vender_id: ShopId


class PddConnectionConfig(_ShopConfig):
    """A Pinduoduo (拼多多) shop: client id and secret, the mall's access token and the mall id."""

    client_id: ShopId
    client_secret: Secret
    access_token: Secret
    mall_id: ShopId


#: The config field that names the shop on its platform.
SHOP_ID_FIELDS: dict[PlatformKind, str] = {
    PlatformKind.YOUZAN: "kdt_id",
    PlatformKind.TAOBAO: "seller_id",
    PlatformKind.DOUYIN: "shop_id",
    PlatformKind.JD: "vender_id",
    PlatformKind.PDD: "mall_id",
}


@dataclass(frozen=True)
class ConfigSpec:
    """How one platform's connection config is validated and split for storage."""

    model: type[BaseModel]
    # Stored encrypted, never returned.
    write_only: frozenset[str]
    # Stored encrypted, returned to people who may manage connections.
    credentials: frozenset[str]

    @property
    def secret_fields(self) -> frozenset[str]:
        return self.write_only | self.credentials


CONFIG_SPECS: dict[PlatformKind, ConfigSpec] = {
    PlatformKind.WECOM: ConfigSpec(
        model=WeComConnectionConfig,
        write_only=frozenset({"contact_secret", "app_secret"}),
        credentials=frozenset({"token", "encoding_aes_key"}),
    ),
    PlatformKind.YOUZAN: ConfigSpec(
        model=YouzanConnectionConfig, write_only=frozenset({"client_secret"}), credentials=frozenset()
    ),
    PlatformKind.TAOBAO: ConfigSpec(
        model=TaobaoConnectionConfig, write_only=frozenset({"app_secret", "session"}), credentials=frozenset()
    ),
    PlatformKind.DOUYIN: ConfigSpec(
        model=DouyinConnectionConfig, write_only=frozenset({"app_secret"}), credentials=frozenset()
    ),
    PlatformKind.JD: ConfigSpec(
        model=JdConnectionConfig,
        write_only=frozenset({"app_secret", "access_token"}),
        credentials=frozenset(),
    ),
    PlatformKind.PDD: ConfigSpec(
        model=PddConnectionConfig,
        write_only=frozenset({"client_secret", "access_token"}),
        credentials=frozenset(),
    ),
}


class ConnectionCreate(BaseModel):
    platform: PlatformKind
    name: Name
    config: dict[str, Any]


class ConnectionUpdate(BaseModel):
    """Changes to a connection. In `config`, a field given replaces the stored value (secrets
    included: that rotates them), `null` clears an optional field, an omitted field stays."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    config: dict[str, Any] | None = None
    status: Literal[ConnectionStatus.ACTIVE, ConnectionStatus.DISABLED] | None = None
    # New callback token and EncodingAESKey; paste both into the platform's console afterwards.
    rotate_callback_credentials: bool = False


class ConnectionOut(BaseModel):
    """A connection as the console sees it. `config` holds the public fields plus ``has_<secret>``
    flags; `token` and `encoding_aes_key` are null unless the caller may manage connections (and
    always null in lists)."""

    id: int
    platform: PlatformKind
    name: str
    status: ConnectionStatus
    config: dict[str, Any]
    callback_url: str | None
    token: str | None = None
    encoding_aes_key: str | None = None
    last_error: str | None
    last_error_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ConnectionTestOut(BaseModel):
    ok: bool
    detail: str
    latency_ms: float


class PlatformTypeOut(BaseModel):
    """A platform a connection can be made to, with the JSON Schema of its config (for the form)."""

    platform: PlatformKind
    config_schema: dict[str, Any]
    write_only_fields: list[str]
    credential_fields: list[str]
