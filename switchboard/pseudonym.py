"""Caller pseudonyms: the keyed hash that statistics and return detection use instead of numbers.

A plain SHA-256 of a Norwegian number is reversible by brute force (there are only 10^8 of them),
so the pseudonym is HMAC-SHA256 under SWITCHBOARD_CALLER_KEY, a secret kept apart from the
database (EDPB Guidelines 01/2025; docs/privacy.md). Pseudonymised
data is still personal data: it is purged with the rest after retention.
"""

from __future__ import annotations

import hashlib
import hmac


def caller_pseudonym(number: str, *, key: str) -> str:
    """Hex HMAC-SHA256 of an E.164 number; the same number and key always give the same value."""
    return hmac.new(key.encode(), number.strip().encode(), hashlib.sha256).hexdigest()
