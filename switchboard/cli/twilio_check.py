"""`switchboard twilio check`: is the Twilio number pointed at this service, as go-live needs?

It reads the number's IncomingPhoneNumber resource through the REST API (filtered by the
number: `--number`, else `SWITCHBOARD_TWILIO_NUMBER`, else the municipality file's main number)
and compares its voice configuration with what `SWITCHBOARD_PUBLIC_URL` implies:

- voice URL `<public>/twilio/voice` with the connection overrides `#ct=1000&rt=3000`, POST;
- status callback `<public>/twilio/status`, POST;
- a fallback URL: `<public>/twilio/fallback` (POST), or better the static fallback TwiML on an
  independent https host (either method);
- no TwiML App or SIP trunk on the number, either of which Twilio would use instead of the URLs.

It prints one line per thing to fix and exits 1 if there is any; notes (such as a fallback on
the service's own host) are printed but pass.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol
from urllib.parse import parse_qs, urlsplit

from switchboard.cli.command import CommandError, Subparsers, load_settings, read_config
from switchboard.settings import PLACEHOLDER_ACCOUNT_SID, Settings

if TYPE_CHECKING:
    from twilio.http import HttpClient

OVERRIDES = {"ct": "1000", "rt": "3000"}
FRAGMENT = "#" + "&".join(f"{key}={value}" for key, value in OVERRIDES.items())
LOOPBACK = ("127.", "localhost", "[::1]", "0.0.0.0")  # noqa: S104 - compared, never bound


class NumberResource(Protocol):
    """The fields of the SDK's IncomingPhoneNumberInstance that the check reads."""

    sid: str | None
    phone_number: str | None
    voice_url: str | None
    voice_method: str | None
    status_callback: str | None
    status_callback_method: str | None
    voice_fallback_url: str | None
    voice_fallback_method: str | None
    voice_application_sid: str | None
    trunk_sid: str | None


@dataclass
class Findings:
    fixes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def check_number(number: NumberResource, *, public_url: str) -> Findings:
    """What is wrong (and worth knowing) about the number's voice configuration."""
    found = Findings()
    voice = f"{public_url}/twilio/voice"
    status = f"{public_url}/twilio/status"
    own_fallback = f"{public_url}/twilio/fallback"
    if number.voice_application_sid:
        found.fixes.append(
            f"the number uses TwiML App {number.voice_application_sid}, so Twilio ignores its "
            "voice URL: set 'A call comes in' to Webhook instead of the app"
        )
    if number.trunk_sid:
        found.fixes.append(
            f"the number belongs to SIP trunk {number.trunk_sid}, which takes its calls: "
            "remove it from the trunk"
        )
    url, _, fragment = (number.voice_url or "").partition("#")
    overrides = {key: values[-1] for key, values in parse_qs(fragment).items()}
    if url != voice:
        found.fixes.append(f"voice URL is {_shown(number.voice_url)}; set it to {voice}{FRAGMENT}")
    elif any(overrides.get(key) != value for key, value in OVERRIDES.items()):
        found.fixes.append(
            f"voice URL {number.voice_url} lacks the connection overrides {FRAGMENT} (fail over "
            f"to the fallback within seconds, not 15 s); set it to {voice}{FRAGMENT}"
        )
    _method(found, "voice URL", number.voice_method, "POST")
    if number.status_callback != status:
        found.fixes.append(
            f"status callback is {_shown(number.status_callback)}; set it to {status}"
        )
    _method(found, "status callback", number.status_callback_method, "POST")
    _fallback(found, number, public_url=public_url, own=own_fallback)
    return found


def _fallback(found: Findings, number: NumberResource, *, public_url: str, own: str) -> None:
    fallback = (number.voice_fallback_url or "").partition("#")[0]
    target = urlsplit(fallback)
    if not fallback:
        found.fixes.append(
            "no fallback URL: callers would hear Twilio's English error message when the "
            f"service fails; host deploy/fallback.xml on an independent https host (or use {own})"
        )
    elif fallback == own:
        _method(found, "fallback URL", number.voice_fallback_method, "POST")
        found.notes.append(
            f"the fallback {own} runs on the service's own host and fails with it; "
            "deploy/fallback.xml on an independent host is safer"
        )
    elif target.netloc == urlsplit(public_url).netloc:
        found.fixes.append(f"fallback URL is {fallback}; the service's own fallback is {own}")
    elif target.scheme != "https":
        found.fixes.append(f"fallback URL {fallback} is not https")


def _method(found: Findings, what: str, method: str | None, wanted: str) -> None:
    if (method or "POST").upper() != wanted:
        found.fixes.append(f"{what} method is {method}; set it to {wanted}")


def _shown(url: str | None) -> str:
    return url if url else "empty"


def _refusal(exc: Exception) -> str:
    """A page that could not be read: the SDK raises TwilioException("Unable to fetch page",
    response) rather than TwilioRestException; say what Twilio's JSON error said."""
    response = exc.args[1] if len(exc.args) > 1 else None
    try:
        body = json.loads(getattr(response, "text", ""))
        return f"Twilio refused ({body['status']}, error {body['code']}): {body['message']}"
    except (TypeError, ValueError, KeyError):
        return f"cannot reach Twilio's REST API: {exc}"


# --- the command -----------------------------------------------------------------------------


def register(subparsers: Subparsers) -> None:
    twilio = subparsers.add_parser(
        "twilio",
        help="work with the Twilio account",
        description="Work with the Twilio account (SWITCHBOARD_TWILIO_ACCOUNT_SID).",
    )
    actions = twilio.add_subparsers(dest="twilio_command", required=True, metavar="ACTION")
    check = actions.add_parser(
        "check",
        help="check the number's voice, status and fallback URLs before go-live",
        description="Read the number's configuration through Twilio's REST API and compare it "
        "with SWITCHBOARD_PUBLIC_URL: the voice URL with its connection overrides, the status "
        "callback, the fallback and their methods. Prints one line per thing to fix; exit code "
        "1 if there is any.",
    )
    check.add_argument(
        "--number",
        help="the Twilio number in E.164 (default: SWITCHBOARD_TWILIO_NUMBER, else the "
        "municipality file's main number)",
    )
    check.set_defaults(handler=lambda args: run_check(load_settings(), number=args.number))


def run_check(
    settings: Settings, *, number: str | None = None, http_client: HttpClient | None = None
) -> int:
    """Check the number and print the findings; 0 when nothing needs fixing, else 1."""
    from twilio.base.exceptions import TwilioException, TwilioRestException

    from switchboard.twilio_rest import twilio_client

    if settings.twilio_account_sid == PLACEHOLDER_ACCOUNT_SID:
        raise CommandError(
            "SWITCHBOARD_TWILIO_ACCOUNT_SID is the development placeholder: set the account's "
            "SID and SWITCHBOARD_TWILIO_AUTH_TOKEN to check its number"
        )
    wanted = (
        number or settings.twilio_number or read_config(settings.config).municipality.main_number
    )
    client = twilio_client(settings, http_client=http_client)
    try:
        found = client.incoming_phone_numbers.list(phone_number=wanted)
    except TwilioRestException as exc:
        raise CommandError(f"Twilio refused ({exc.status}, error {exc.code}): {exc.msg}") from None
    except TwilioException as exc:
        raise CommandError(_refusal(exc)) from None
    except OSError as exc:
        raise CommandError(f"cannot reach Twilio's REST API: {exc}") from None
    resource = next((n for n in found if n.phone_number == wanted), None)
    if resource is None:
        raise CommandError(
            f"{wanted} is not a number of account {settings.twilio_account_sid}; when the "
            "main number is forwarded, set SWITCHBOARD_TWILIO_NUMBER to the Twilio number"
        )
    findings = check_number(resource, public_url=settings.public_url)
    host = urlsplit(settings.public_url).netloc
    if settings.public_url.startswith("http://") or host.startswith(LOOPBACK):
        findings.fixes.insert(
            0,
            f"SWITCHBOARD_PUBLIC_URL is {settings.public_url}: Twilio needs the service's "
            "public https origin",
        )
    out = sys.stdout
    for note in findings.notes:
        out.write(f"note: {note}\n")
    if not findings.fixes:
        out.write(f"OK: {wanted} ({resource.sid}) points at {settings.public_url}\n")
        return 0
    out.write(f"{wanted} ({resource.sid}): {len(findings.fixes)} to fix\n")
    out.writelines(f"fix: {fix}\n" for fix in findings.fixes)
    return 1
