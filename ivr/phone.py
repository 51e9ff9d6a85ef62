"""Phone numbers as the IVR sees them: Norwegian mobiles, keyed-in numbers, spoken digits.

`From` can be E.164, `anonymous`, `unknown`, `client:name` or other text (docs/twilio.md),
so nothing here assumes a well-formed number.
"""

from __future__ import annotations

import re

_NO_MOBILE = re.compile(r"^\+47[49]\d{7}$")
_NO_NUMBER = re.compile(r"^\+47[2-9]\d{7}$")


def is_norwegian_mobile(number: str) -> bool:
    """Norwegian mobile numbers start with 4 or 9 after +47 and have eight digits."""
    return bool(_NO_MOBILE.match(number.strip()))


def parse_keyed_number(digits: str) -> str | None:
    """Eight keyed digits (optionally with a leading 0047 or 47) as E.164, or None."""
    digits = re.sub(r"\D", "", digits)
    if len(digits) == 12 and digits.startswith("0047"):
        digits = digits[4:]
    elif len(digits) == 10 and digits.startswith("47"):
        digits = digits[2:]
    number = f"+47{digits}"
    return number if _NO_NUMBER.match(number) else None


def spoken_digits(number: str) -> str:
    """Digits separated so that a voice reads them one by one: "9 1 2 3, 4 5 6 7"."""
    local = number.removeprefix("+47")
    digits = [d for d in local if d.isdigit()]
    if len(digits) == 8:
        return " ".join(digits[:4]) + ", " + " ".join(digits[4:])
    return " ".join(digits)


def last_digits(number: str, count: int = 4) -> str:
    """The last digits, spaced for speech, so a read-back never says the whole number."""
    return " ".join(d for d in number[-count:] if d.isdigit())


def masked_number(number: str) -> str:
    """A number fit for a log: only its last three digits, `+47 ••• •• 567`."""
    digits = [d for d in number if d.isdigit()]
    tail = "".join(digits[-3:])
    if number.startswith("+47") and len(digits) == 10:
        return f"+47 ••• •• {tail}"
    return f"••• {tail}" if len(digits) > 3 else "•••"
