"""Runtime configuration, read from the environment with the ``SCRM_`` prefix.

Development needs no configuration at all: the database is an SQLite file under ``./var/`` and the
secret key is generated into ``./var/secret_key`` on first use. Production refuses to start without an
explicit secret key, so a forgotten variable never ships a guessable key.
"""

from __future__ import annotations

import secrets
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from scrm.core.worker import WorkerConfig


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SCRM_", env_file=None, extra="ignore")

    environment: Environment = Environment.DEVELOPMENT
    var_dir: Path = Path("var")
    database_url: str = ""
    redis_url: str | None = None
    secret_key: str | None = Field(default=None, repr=False)
    public_base_url: str = "http://127.0.0.1:8000"
    log_level: str = "INFO"
    log_format: LogFormat = LogFormat.TEXT
    embedded_worker: bool = True
    access_token_ttl_seconds: int = 12 * 3600
    login_max_failures: int = 10
    login_failure_window_seconds: int = 15 * 60
    max_request_body_bytes: int = 1024 * 1024
    # A ticket attachment's size limit (its upload's body may exceed `max_request_body_bytes`).
    attachment_max_bytes: int = 10 * 1024 * 1024
    worker_lease_seconds: float = 30.0
    worker_batch_size: int = 100
    worker_batch_budget_seconds: float = 0.1
    outbox_max_attempts: int = 8

    @model_validator(mode="after")
    def _defaults_and_production_guard(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.var_dir / 'scrm.db').as_posix()}"
        if self.environment == Environment.PRODUCTION and not self.secret_key:
            raise ValueError("SCRM_SECRET_KEY is required when SCRM_ENVIRONMENT=production")
        if self.secret_key is not None and len(self.secret_key) < 32:
            raise ValueError("SCRM_SECRET_KEY must be at least 32 characters")
        return self

    @cached_property
    def resolved_secret_key(self) -> str:
        """The configured key, or in development a key generated once into ``var/secret_key``."""
        if self.secret_key:
            return self.secret_key
        path = self.var_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def worker_config(settings: Settings) -> WorkerConfig:
    """The worker tuning these settings ask for (embedded and separate workers alike)."""
    from scrm.core.worker import WorkerConfig

    return WorkerConfig(
        batch_size=settings.worker_batch_size,
        batch_budget_seconds=settings.worker_batch_budget_seconds,
        lease_seconds=settings.worker_lease_seconds,
        max_attempts=settings.outbox_max_attempts,
    )


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
