"""Sealed phone numbers: AES-256-GCM under a key with an id, so that keys can rotate.

A caller's number travels inside call events from the webhook to the ingest: through the Redis
Stream (and with it Redis' append-only file) or the local spool. Those places keep bytes long
after the event is handled, so the number travels sealed, and only the ingest opens it, where a
number is needed (a pending callback, an SMS not yet sent; docs/privacy.md).

A sealed value is text: `sealed:v1:<key id>:<base64url(nonce | ciphertext | tag)>`. The key id
says which key opens it; the field's name is bound in as associated data, so a sealed `to`
cannot be passed off as a sealed `number`.

Keys come from SWITCHBOARD_NUMBER_KEYS: `id:base64url-32-bytes`, comma separated. The first
seals; all of them open. Rotation: put a new key first, keep the old one after it, run
`switchboard privacy rekey` (which seals what is still waiting under the new key), then drop
the old key.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import re
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ivr.events import NUMBER_FIELDS, Event

PREFIX = "sealed:v1:"
KEY_BYTES = 32
NONCE_BYTES = 12
KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class SealError(ValueError):
    """A sealed value that no configured key opens, or that is not a sealed value at all."""


def new_key(key_id: str) -> str:
    """A fresh key in the settings' format, `id:base64url`."""
    return f"{key_id}:{_b64(os.urandom(KEY_BYTES))}"


def development_keys() -> str:
    """The public development key: derived from a constant, so `make run` needs no set-up."""
    return f"dev:{_b64(hashlib.sha256(b'switchboard development number key').digest())}"


def parse_keys(text: str) -> dict[str, bytes]:
    """`id:base64url, ...` as {id: key}, in order; raises ValueError saying what is wrong."""
    keys: dict[str, bytes] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        key_id, colon, encoded = item.partition(":")
        if not colon or not KEY_ID.match(key_id):
            raise ValueError("each key is `id:base64url`, the id 1-32 of A-Z a-z 0-9 _ -")
        if key_id in keys:
            raise ValueError(f"key id {key_id!r} appears twice")
        try:
            key = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except ValueError:
            raise ValueError(f"key {key_id!r} is not base64url") from None
        if len(key) != KEY_BYTES:
            raise ValueError(f"key {key_id!r} is {len(key)} bytes; AES-256 takes {KEY_BYTES}")
        keys[key_id] = key
    if not keys:
        raise ValueError("no key given")
    return keys


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def key_id_of(value: str) -> str:
    """The id of the key that sealed `value`."""
    if not is_sealed(value):
        raise SealError("not a sealed value")
    return value[len(PREFIX) :].partition(":")[0]


@dataclass(frozen=True)
class NumberSeal:
    keys: dict[str, bytes]  # the first seals
    # One cipher per key, made once: building one expands the key, which costs more than
    # sealing a number with it (bench/number_sealing.py).
    _ciphers: dict[str, AESGCM] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_ciphers", {kid: AESGCM(k) for kid, k in self.keys.items()})

    @classmethod
    def from_text(cls, text: str) -> NumberSeal:
        return cls(parse_keys(text))

    @property
    def current(self) -> str:
        return next(iter(self.keys))

    def seal(self, value: str, *, field: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        box = self._ciphers[self.current].encrypt(nonce, value.encode(), field.encode())
        return f"{PREFIX}{self.current}:{_b64(nonce + box)}"

    def open(self, sealed: str, *, field: str) -> str:
        key_id = key_id_of(sealed)
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise SealError(f"sealed under key {key_id!r}, which is not configured")
        encoded = sealed[len(PREFIX) + len(key_id) + 1 :]
        try:
            raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
            plain = cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], field.encode())
        except (ValueError, InvalidTag):
            raise SealError(f"a value sealed under key {key_id!r} does not open") from None
        return plain.decode()

    def reseal(self, sealed: str, *, field: str) -> str:
        """The same value under the current key (unchanged when it already is)."""
        if key_id_of(sealed) == self.current:
            return sealed
        return self.seal(self.open(sealed, field=field), field=field)


# --- events -----------------------------------------------------------------------------------


def seal_numbers(event: Event, seal: NumberSeal) -> Event:
    """The event with its number fields (`ivr.events.NUMBER_FIELDS`) sealed under the current
    key. Values already sealed stay as they are, so a replayed event is never sealed twice."""
    data = dict(event.data)
    changed = False
    for name in NUMBER_FIELDS.get(event.kind, ()):
        value = data.get(name)
        if isinstance(value, str) and value and not is_sealed(value):
            data[name] = seal.seal(value, field=name)
            changed = True
    return dataclasses.replace(event, data=data) if changed else event


@dataclass(frozen=True)
class Unopened:
    """A number field that no configured key opened: which field, and the key that sealed it."""

    field: str
    key_id: str


def open_numbers(event: Event, seal: NumberSeal) -> tuple[Event, list[Unopened]]:
    """The event with its sealed number fields opened. Plain numbers (written before numbers
    were sealed) pass as they are; a field that does not open is left out and reported."""
    data = dict(event.data)
    unopened: list[Unopened] = []
    for name in NUMBER_FIELDS.get(event.kind, ()):
        value = data.get(name)
        if not isinstance(value, str) or not is_sealed(value):
            continue
        try:
            data[name] = seal.open(value, field=name)
        except SealError:
            del data[name]
            unopened.append(Unopened(field=name, key_id=key_id_of(value)))
    if data == event.data:
        return event, unopened
    return dataclasses.replace(event, data=data), unopened


def reseal_fields(
    fields: dict[str, str], seal: NumberSeal, *, older_keys: bool = True
) -> dict[str, str] | None:
    """A stream entry's or spool line's fields with every number under the current key: plain
    ones sealed and (with `older_keys`) older keys' values re-sealed. None when nothing changes
    (or the fields are not an event this understands); raises SealError for a value no
    configured key opens."""
    numbers = NUMBER_FIELDS.get(fields.get("kind", ""), ())
    if not numbers:
        return None
    try:
        data = json.loads(fields.get("data") or "{}")
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    changed = False
    for name in numbers:
        value = data.get(name)
        if not isinstance(value, str) or not value:
            continue
        if not is_sealed(value):
            fresh = seal.seal(value, field=name)
        elif older_keys:
            fresh = seal.reseal(value, field=name)
        else:
            continue
        if fresh != value:
            data[name] = fresh
            changed = True
    if not changed:
        return None
    return {**fields, "data": json.dumps(data, ensure_ascii=False, sort_keys=True)}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
