"""IncomingPhoneNumbers for `SimulatedRest`: the account's numbers, as Twilio lists them.

A number is configured in the simulator as in the Console (`SimulatedRest.add_number`), and
`GET .../IncomingPhoneNumbers.json?PhoneNumber=...` lists it in Twilio's page format. The
`PhoneNumber` filter matches a part of the number, `*` standing for any one digit (as Twilio's
filter does). An unset URL is `null`. One page holds every match (`next_page_uri` is null).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

CREATED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # when the simulated numbers were bought


@dataclass
class IncomingNumber:
    """The voice fields of an IncomingPhoneNumber; URLs None when unset, methods as Twilio's."""

    sid: str
    phone_number: str
    voice_url: str | None = None
    voice_method: str = "POST"
    status_callback: str | None = None
    status_callback_method: str = "POST"
    voice_fallback_url: str | None = None
    voice_fallback_method: str = "POST"
    voice_application_sid: str | None = None
    trunk_sid: str | None = None


def matches(number: IncomingNumber, pattern: str | None) -> bool:
    if not pattern:
        return True
    wanted = re.escape(pattern).replace(r"\*", r"\d")
    return re.search(wanted, number.phone_number) is not None


def number_resource(account_sid: str, number: IncomingNumber) -> dict[str, object]:
    created = format_datetime(CREATED, usegmt=True)
    path = f"/2010-04-01/Accounts/{account_sid}/IncomingPhoneNumbers/{number.sid}.json"
    return {
        **asdict(number),
        "account_sid": account_sid,
        "friendly_name": number.phone_number,
        "api_version": "2010-04-01",
        "capabilities": {"voice": True, "sms": True, "mms": False, "fax": False},
        "voice_caller_id_lookup": False,
        "voice_receive_mode": "voice",
        "sms_url": None,
        "sms_method": "POST",
        "sms_fallback_url": None,
        "sms_fallback_method": "POST",
        "sms_application_sid": None,
        "status": "in-use",
        "origin": "twilio",
        "date_created": created,
        "date_updated": created,
        "uri": path,
    }


def number_page(
    account_sid: str, numbers: list[IncomingNumber], pattern: str | None
) -> dict[str, object]:
    found = [number_resource(account_sid, n) for n in numbers if matches(n, pattern)]
    path = f"/2010-04-01/Accounts/{account_sid}/IncomingPhoneNumbers.json"
    return {
        "incoming_phone_numbers": found,
        "page": 0,
        "page_size": 50,
        "start": 0,
        "end": max(len(found) - 1, 0),
        "first_page_uri": f"{path}?PageSize=50&Page=0",
        "next_page_uri": None,
        "previous_page_uri": None,
        "uri": f"{path}?PageSize=50&Page=0",
    }
