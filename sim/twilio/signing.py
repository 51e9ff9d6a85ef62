"""X-Twilio-Signature as Twilio computes it (docs/twilio.md).

The signed URL is the one requested, without its `#fragment`: connection overrides such as
`#ct=1000&rt=3000` configure Twilio's HTTP client and are neither sent nor signed
(docs/twilio.md, Requests).
"""

from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator


def strip_fragment(url: str) -> str:
    return url.split("#", 1)[0]


def sign(*, auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """The signature of a form POST to `url` (for a GET, pass the full URL and no params)."""
    signature: str = RequestValidator(auth_token).compute_signature(strip_fragment(url), params)
    return signature
