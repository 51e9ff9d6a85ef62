"""The closed flow: when the switchboard opens, reception desks, emergency numbers, and the
closed menu, which keeps open departments under their usual keys and offers on-call lines,
an SMS with the self-service link and a callback at the next opening.

The menu is laid out as the open one (ivr/layout.py): English right after the greeting, then
when the switchboard opens, the choices, and only then the reception desks and the emergency
numbers, so the first choice comes within `FIRST_CHOICE_SECONDS`. Departments that do not fit
in `MAX_KEYS` go to the "other departments" level, under their usual keys.
"""

from __future__ import annotations

from twilio.twiml import TwiML
from twilio.twiml.voice_response import Gather

from ivr.call import Context, Reply, Turn
from ivr.config import SWITCHBOARD, Config, Language
from ivr.layout import department_order, first_level
from ivr.phrases import describe_instant, holiday_name, spoken_clock
from ivr.prompts import press_for, say


def option_text(ctx: Context, target: str, key: str, language: Language) -> str:
    if target.startswith("department:"):
        department = ctx.config.department(target.split(":", 1)[1])
        return press_for(department.name.get(language), key, language)
    if target == "english":
        return say("english_option", language, key=key)
    what = {
        "switchboard": "switchboard_option",
        "sms": "sms_option",
        "callback": "callback_option",
        "more": "more_option",
    }[target]
    return press_for(say(what, language), key, language)


Spoken = tuple[str, Language]  # a text and the language (so the voice) it is said in


def option_spoken(ctx: Context, target: str, key: str, language: Language) -> Spoken:
    """The option's text and its voice: "For English, press 9" is said by the English voice
    (the Norwegian one would read the 9 as "ni")."""
    text = option_text(ctx, target, key, language)
    return (text, "en" if target == "english" else language)


def speak_all(ctx: Context, node: TwiML, lines: list[Spoken]) -> None:
    """One <Say> for each run of lines in the same language."""
    runs: list[tuple[list[str], Language]] = []
    for text, language in lines:
        if not text:
            continue
        if runs and runs[-1][1] == language:
            runs[-1][0].append(text)
        else:
            runs.append(([text], language))
    for texts, language in runs:
        ctx.speak(node, " ".join(texts), language)


def speech_hints(config: Config, language: Language) -> list[str]:
    """The words the recogniser should expect, in the gather's own language: an English
    gather gets the English keywords and the departments' English names, a Norwegian one the
    Nynorsk and Bokmål keywords (a recogniser set to en-GB gains nothing from "byggjesøknad").
    The referrals' keywords come first: "legevakt" misheard must not become a department."""
    departments = config.departments
    if language == "en":
        words = [w for r in config.referrals for w in r.keywords.en]
        words += [w for d in departments for w in d.keywords.en]
        words += [d.name.get("en") for d in departments]
    else:
        words = [w for r in config.referrals for w in (*r.keywords.nn, *r.keywords.nb)]
        words += [w for d in departments for w in (*d.keywords.nn, *d.keywords.nb)]
    return list(dict.fromkeys(words))


def menu_gather(ctx: Context, turn: Turn, action: str, *, speech: bool) -> Gather:
    voice = ctx.config.voice
    if not speech:
        return Gather(input="dtmf", num_digits=1, action=action, timeout=6)
    hints = ", ".join(speech_hints(ctx.config, turn.language))
    return Gather(
        input="dtmf speech",
        num_digits=1,
        action=action,
        timeout=6,
        speech_timeout="auto",
        language=voice.english_language if turn.language == "en" else voice.speech_language,
        hints=hints[:5000],
    )


def english_line(ctx: Context, turn: Turn, menu: dict[str, str]) -> list[Spoken]:
    """ "For English, press 9": first after the greeting, for a caller not already in English."""
    if turn.language == "en":
        return []
    return [option_spoken(ctx, t, k, turn.language) for k, t in menu.items() if t == "english"]


def closed_levels(ctx: Context, turn: Turn) -> tuple[list[Spoken], list[Spoken]]:
    """The closed menu's choices at the top level, and the departments left for the "other
    departments" level (empty when everything fits): open departments under their keys and
    on-call lines in the config's order, then the SMS and the callback."""
    lang = turn.language
    menu = ctx.config.menus.closed
    departments: list[Spoken] = []
    for department in department_order(ctx.config):
        key = department.key
        if menu.get(key) != f"department:{department.id}":
            continue
        if ctx.hours.is_open(department.id, turn.at):
            departments.append(option_spoken(ctx, f"department:{department.id}", key, lang))
        elif department.on_call is not None:
            what = department.on_call.description.get(lang)
            departments.append((press_for(what, key, lang), lang))
    others: list[Spoken] = []
    for key, target in menu.items():
        if target in {"switchboard", "english"} or target.startswith("department:"):
            continue
        if target == "callback" and ctx.hours.next_opening(SWITCHBOARD, turn.at) is None:
            continue
        others.append(option_spoken(ctx, target, key, lang))
    fixed = len(english_line(ctx, turn, menu)) + len(others)
    shown, rest = first_level(departments, fixed=fixed)
    if rest:
        shown.append(option_spoken(ctx, "more", ctx.config.menus.more_key, lang))
    return [*shown, *others], rest


def emergency_line(config: Config, language: Language) -> str:
    """Norway's emergency numbers are national; the legevakt number is configurable."""
    legevakt = config.municipality.legevakt_number
    spaced = f"{legevakt[:3]} {legevakt[3:]}" if len(legevakt) == 6 else legevakt
    return say("emergency", language, medical="113", fire="110", police="112", legevakt=spaced)


def closed_intro(ctx: Context, turn: Turn) -> tuple[list[str], list[str]]:
    """What comes before the choices (when the switchboard opens) and after them (which
    reception desk is open, and the emergency numbers)."""
    lang = turn.language
    status = ctx.hours.status(SWITCHBOARD, turn.at)
    lines: list[str] = []
    if status.message is not None:
        lines.append(status.message.get(lang))
    if status.next_opening is None:
        lines.append(say("closed_no_next", lang))
    else:
        when = describe_instant(status.next_opening, now=turn.at, language=lang)
        today = turn.at.astimezone(ctx.config.zone).date()
        special = ctx.hours.special_day(SWITCHBOARD, today)
        if status.reason == "holiday" and status.holiday_name:
            lines.append(
                say(
                    "closed_holiday",
                    lang,
                    holiday=holiday_name(status.holiday_name, language=lang),
                    next=when,
                )
            )
        elif status.reason == "special_day" and special is not None and special.note:
            # An English caller hears the day's name only when the config gives it in English.
            named = lang != "en" or special.note.en is not None
            prompt = "closed_special" if named else "closed_today"
            lines.append(say(prompt, lang, name=special.note.get(lang), next=when))
        elif status.message is None:
            lines.append(say("closed", lang, next=when))
        else:
            lines.append(say("closed", lang, next=when).split(". ", 1)[-1])
    desk = reception_line(ctx, turn)
    return lines, [*([desk] if desk else []), emergency_line(ctx.config, lang)]


def reception_line(ctx: Context, turn: Turn) -> str:
    """The reception desk that is open now, or the one that opens first."""
    lang = turn.language
    best: tuple[float, str] | None = None
    for desk in ctx.config.receptions:
        if ctx.hours.is_open(desk.id, turn.at):
            closes = ctx.hours.closes_at(desk.id, turn.at)
            if closes is not None:
                local = closes.astimezone(ctx.config.zone)
                return say(
                    "reception_open",
                    lang,
                    desk=desk.name,
                    time=spoken_clock(local.time(), language=lang),
                )
        opening = ctx.hours.next_opening(desk.id, turn.at)
        if opening is not None and (best is None or opening.timestamp() < best[0]):
            when = describe_instant(opening, now=turn.at, language=lang)
            best = (opening.timestamp(), say("reception_next", lang, desk=desk.name, next=when))
    return best[1] if best else ""


def render_closed(
    ctx: Context, turn: Turn, reply: Reply, *, attempt: int, intro: bool, level: str = "top"
) -> None:
    """The closed menu, or its "other departments" level (`level="more"`, while some are
    left for it). The level travels in the action URL as `l`."""
    lang = turn.language
    top, rest = closed_levels(ctx, turn)
    more = level == "more" and bool(rest)
    params: dict[str, str | int] = {"n": attempt, **({"l": "more"} if more else {})}
    action = ctx.url("/twilio/closed", turn, **params)
    gather = menu_gather(ctx, turn, action, speech=False)
    if more:
        speak_all(ctx, gather, rest)
    else:
        before, after = closed_intro(ctx, turn) if intro else ([], [])
        lines = english_line(ctx, turn, ctx.config.menus.closed)
        lines += [(line, lang) for line in before]
        lines += top
        lines += [(line, lang) for line in after]
        speak_all(ctx, gather, lines)
    reply.twiml.append(gather)
    reply.twiml.redirect(action)
