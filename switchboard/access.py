"""Who may use the API: the staff roles, API tokens, and the principal behind a request.

The four roles, defined here once:

- `agent`, a switchboard agent: transfers live calls, sees and marks callbacks (with the
  citizen's number), sees and tags returns, reads the statistics;
- `department_lead`, the head of one department: sees and tags the returns to their
  department, reads the statistics of transfers to it;
- `manager`: reads all statistics, sees and tags all returns;
- `operator`, who runs the service: reads the API docs; no call data.

An API token is a random string; the service keeps only its SHA-256 (`SWITCHBOARD_API_TOKENS`,
a JSON list of `{"name", "role", "department", "sha256"}`), so the settings never hold a usable
token. A request presents the token as `Authorization: Bearer <token>`, or, for a browser
opening the API docs, as the password of HTTP Basic (any user name). `switchboard token new`
makes a token and prints the entry to add.

In development, with no tokens configured, one development token per role is accepted; they
are public (`DEVELOPMENT_TOKENS`), `serve` prints them, and production refuses to start with
any of them configured.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

Role = Literal["agent", "department_lead", "manager", "operator"]
ROLES: tuple[Role, ...] = get_args(Role)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(BaseModel):
    """One entry of `SWITCHBOARD_API_TOKENS`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[\w.@ -]+$")]
    role: Role
    department: str | None = None
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]

    @model_validator(mode="after")
    def _department_for_leads(self) -> ApiToken:
        if self.role == "department_lead" and not self.department:
            raise ValueError(f"token {self.name!r}: a department_lead token needs a department")
        if self.role != "department_lead" and self.department:
            raise ValueError(f"token {self.name!r}: only a department_lead has a department")
        return self


DEVELOPMENT_TOKENS: dict[str, Role] = {
    "dev-agent-token": "agent",
    "dev-manager-token": "manager",
    "dev-operator-token": "operator",
}
DEVELOPMENT_DIGESTS = frozenset(token_digest(token) for token in DEVELOPMENT_TOKENS)


def development_tokens() -> list[ApiToken]:
    return [
        ApiToken(name=f"development {role}", role=role, sha256=token_digest(token))
        for token, role in DEVELOPMENT_TOKENS.items()
    ]


@dataclass(frozen=True)
class Principal:
    """Who a request acts for: an API token's holder, or a person signed in (a local account or
    OpenID Connect). `name` is what the audit log records; `agent_id` links an agent to the
    agent roster, which the console controls calls through."""

    name: str
    role: Role
    department: str | None = None
    agent_id: str | None = None
    display_name: str = ""


def presented_token(authorization: str) -> str:
    """The token in an `Authorization` header (Bearer, or Basic's password), or ""."""
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        return value
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return decoded.partition(":")[2]
    return ""


def authenticate(token: str, tokens: Sequence[ApiToken]) -> Principal | None:
    """The principal whose token this is; every entry is compared, in constant time each."""
    if not token:
        return None
    digest = token_digest(token)
    found: ApiToken | None = None
    for entry in tokens:
        if hmac.compare_digest(digest, entry.sha256):
            found = entry
    if found is None:
        return None
    return Principal(name=found.name, role=found.role, department=found.department)


# --- `switchboard token new` -------------------------------------------------------------
