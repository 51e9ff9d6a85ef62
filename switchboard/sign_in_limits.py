"""Limits on failed sign-ins, per account and per address, counted in Redis.

Each failed password counts against the user name tried and against the client's address, in
a window that starts at the first failure. While either count is at its limit, sign-in with
that name, or from that address, is refused before any password is checked, until the window
passes. A successful sign-in clears the account's count (not the address's: one right password
must not reset an address that is guessing at many accounts).

Only sign-in is limited. The Twilio webhooks never are: a caller must never be refused because
of traffic, and Twilio's requests come from a few shared addresses.

The keys hold the SHA-256 of the name and the address, not the values themselves.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import redis

KEY_PREFIX = "switchboard:sign-in-failures:"


def _key(kind: str, value: str) -> str:
    return KEY_PREFIX + kind + ":" + hashlib.sha256(value.lower().encode()).hexdigest()


@dataclass(frozen=True)
class Limits:
    per_account: int = 5
    per_address: int = 20
    window_seconds: int = 15 * 60


# Count a failure against each key; the first failure of a window sets its expiry. One script,
# so that the count and its expiry are set together (`EXPIRE ... NX` would need Redis 7, and
# the embedded server is 6.2), and a key never stays without an expiry.
_COUNT = """
for _, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  if count == 1 or redis.call('TTL', key) < 0 then
    redis.call('EXPIRE', key, ARGV[1])
  end
end
return 1
"""


class SignInLimits:
    def __init__(self, client: redis.Redis, limits: Limits) -> None:
        self._redis = client
        self.limits = limits
        self._count = client.register_script(_COUNT)

    def retry_after(self, username: str, address: str) -> int:
        """Seconds until sign-in as `username` from `address` is allowed again; 0: allowed."""
        pipe = self._redis.pipeline(transaction=False)
        for key in (_key("account", username), _key("address", address)):
            pipe.get(key)
            pipe.ttl(key)
        account, account_ttl, address_count, address_ttl = pipe.execute()
        waits = [0]
        if account is not None and int(account) >= self.limits.per_account:
            waits.append(max(1, int(account_ttl)))
        if address_count is not None and int(address_count) >= self.limits.per_address:
            waits.append(max(1, int(address_ttl)))
        return max(waits)

    def failed(self, username: str, address: str) -> None:
        self._count(
            keys=[_key("account", username), _key("address", address)],
            args=[self.limits.window_seconds],
        )

    def succeeded(self, username: str) -> None:
        self._redis.delete(_key("account", username))
