"""The main menu while the switchboard is open, and the closed flow with its own menu.

Both key maps come from the config. Each menu has two levels (ivr/layout.py): the top level
offers English, asks for speech first and offers the busiest departments by key; its "other
departments" key (`menus.more_key`) leads to the second level, which lists the rest under their
usual keys. Every key of the menu works at both levels, spoken or not, and so does speech; the
level travels in the action URL as `l=more`. A Gather is always followed by a Redirect to the same
action URL, so silence arrives as a request without Digits or SpeechResult (docs/twilio.md).
Silence or an invalid choice re-prompts once; then the caller goes to the switchboard
queue when it is open, or hears goodbye when it is closed.

Opening is judged at each webhook's own instant, not at the call's start: a closed menu
answered after the switchboard opened leads to the open menu (or the queue on silence). An
answer to the open menu that arrives after closing keeps its meaning for
`switchboard.menu_grace_seconds` (judged at the instant the menu was offered, `o` in its
signed action URL); after that the caller hears that the line has just closed, and the
closed menu.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ivr import contact, overflow, queue, referral, transfer
from ivr.call import Context, MenuChoice, Reply, Turn
from ivr.closed import english_line, menu_gather, option_spoken, render_closed, speak_all
from ivr.config import SWITCHBOARD, Department, Language
from ivr.keymap import MAX_KEYS
from ivr.layout import keys_offered, open_levels
from ivr.phrases import spoken_clock
from ivr.prompts import say
from ivr.speech import route

MAX_ATTEMPTS = 2


def department_of_number(ctx: Context, number: str) -> str | None:
    """The department whose phone or on-call number is calling: a hand-back (docs/glossary.md)."""
    for department in ctx.config.departments:
        on_call = department.on_call.number if department.on_call else None
        if number in (department.number, on_call):
            return department.id
    return None


def answer_call(ctx: Context, turn: Turn) -> Reply:
    """The number's voice webhook: greet, then the open menu or the closed flow."""
    reply = Reply()
    reply.events.append(
        ctx.event(
            turn,
            "call_started",
            f"{turn.call_sid}:started",
            caller=turn.caller_id,
            to=turn.get("To"),
            switchboard_open=ctx.hours.is_open(SWITCHBOARD, turn.at),
            forwarded_from_present=bool(turn.get("ForwardedFrom")),
            from_department=department_of_number(ctx, turn.caller),
        )
    )
    name = ctx.config.municipality.name
    ctx.play_or_speak(
        reply.twiml,
        prompt_id="greeting",
        text=say("greeting", turn.language, name=name),
        language=turn.language,
    )
    if ctx.hours.is_open(SWITCHBOARD, turn.at):
        render_open_menu(ctx, turn, reply, attempt=0, intro=True)
    else:
        render_closed(ctx, turn, reply, attempt=0, intro=True)
    return reply


def render_open_menu(
    ctx: Context,
    turn: Turn,
    reply: Reply,
    *,
    attempt: int,
    intro: bool = False,
    level: str = "top",
    offered_at: datetime | None = None,
) -> None:
    """The open menu's top level, or its "other departments" level (`level="more"`).
    `offered_at` is the instant its answer is judged at (the menu grace), by default now."""
    lang = turn.language
    menu = ctx.config.menus.open
    keys = {target: key for key, target in menu.items()}
    top, rest = open_levels(ctx.config, lang)
    more = level == "more" and bool(rest)
    offered = int((offered_at or turn.at).timestamp())
    params: dict[str, str | int] = {"n": attempt, "m": "open", "o": offered}
    if more:
        params["l"] = "more"
    action = ctx.url("/twilio/menu", turn, **params)
    gather = menu_gather(ctx, turn, action, speech=True)
    lines = [] if more else english_line(ctx, turn, menu)
    closes = ctx.hours.closes_at(SWITCHBOARD, turn.at)
    if intro and not more and closes is not None:
        clock = spoken_clock(closes.astimezone(ctx.config.zone).time(), language=lang)
        lines.append((say("open_until", lang, time=clock), lang))
    lines.append((say("ask_speech", lang), lang))
    shown = rest if more else top
    lines += [option_spoken(ctx, target, keys[target], lang) for target in shown]
    if rest and not more:
        lines.append(option_spoken(ctx, "more", ctx.config.menus.more_key, lang))
    if "switchboard" in keys and len(keys_in(lines)) < MAX_KEYS:
        lines.append(option_spoken(ctx, "switchboard", keys["switchboard"], lang))
    if intro and not more:
        site = ctx.config.municipality.self_service_url.removeprefix("https://")
        lines.append((say("self_service_hint", lang, site=site.removeprefix("www.")), lang))
    speak_all(ctx, gather, lines)
    reply.twiml.append(gather)
    reply.twiml.redirect(action)


def keys_in(lines: list[tuple[str, Language]]) -> list[str]:
    return [key for text, _ in lines for key in keys_offered(text)]


def open_menu_instant(ctx: Context, turn: Turn) -> datetime | None:
    """The instant an answer to the open menu is judged at: now while the switchboard is open;
    within the menu grace after closing, when the menu was offered (or the last open instant);
    None once the grace has run out."""
    if ctx.hours.is_open(SWITCHBOARD, turn.at):
        return turn.at
    offered = datetime.fromtimestamp(turn.number("o"), UTC) if turn.get("o") else None
    if offered is not None and not ctx.hours.is_open(SWITCHBOARD, offered):
        return None  # not offered while open (a forged or stale instant): no grace
    since = queue.closed_since(ctx, turn.at)
    start = since if since is not None else offered
    if start is None:
        return None
    grace = timedelta(seconds=ctx.config.switchboard.menu_grace_seconds)
    if turn.at - start >= grace:
        return None
    return offered if offered is not None else start - timedelta(microseconds=1)


def just_closed(ctx: Context, turn: Turn, reply: Reply) -> None:
    """The open menu was offered, but the switchboard has closed since: say so, plainly."""
    ctx.speak(reply.twiml, say("just_closed", turn.language), turn.language)
    render_closed(ctx, turn, reply, attempt=0, intro=True)


def handle_open_menu(ctx: Context, turn: Turn) -> Reply:
    """The main menu's Gather action (or its Redirect on silence)."""
    reply = Reply()
    attempt = turn.number("n")
    judged_at = open_menu_instant(ctx, turn)
    late = judged_at != turn.at  # the switchboard has closed since the menu was offered
    level = "more" if turn.get("l") == "more" else "top"
    digits, speech = turn.get("Digits").strip(), turn.get("SpeechResult").strip()
    target: str | None = None
    if digits:
        target = key_target(ctx, ctx.config.menus.open, digits[:1])
        problem = "invalid_choice"
    elif speech:
        target = route(ctx.config, speech)  # referral:, department:, switchboard or None
        problem = "not_understood"
    else:
        problem = ""
    if judged_at is None:
        target = None  # past the grace: the choice is not carried out
    reply.events.append(
        ctx.event(
            turn,
            "menu_choice",
            f"{turn.call_sid}:{turn.step}:menu",
            menu="open",
            level=level,
            input="dtmf" if digits else "speech" if speech else "none",
            key=digits[:1] or None,
            target=target,
            attempt=attempt,
            late=late,
        )
    )
    reply.changes.append(
        MenuChoice.of(
            turn.call_sid,
            via="dtmf" if digits else "speech" if speech else "none",
            key=digits[:1] or None,
            target=target,
        )
    )
    if judged_at is None or (late and target is None):
        just_closed(ctx, turn, reply)  # no re-prompt of a menu that is no longer offered
        return reply
    if target is None:
        if problem:
            ctx.speak(reply.twiml, say(problem, turn.language), turn.language)
        if attempt + 1 >= MAX_ATTEMPTS:
            overflow.join(ctx, turn, reply)
        else:
            render_open_menu(ctx, turn, reply, attempt=attempt + 1, level=level)
        return reply
    perform(ctx, turn, reply, target=target, menu="open", judged_at=judged_at)
    return reply


def perform(
    ctx: Context,
    turn: Turn,
    reply: Reply,
    *,
    target: str,
    menu: str,
    judged_at: datetime | None = None,
) -> None:
    """Carry out a menu choice that both menus share. Opening is judged at `judged_at`
    (the open menu's grace), else at the turn's own instant."""
    at = judged_at or turn.at
    open_now = ctx.hours.is_open(SWITCHBOARD, turn.at)
    if target == "english":
        english = turn.with_language("en")
        if open_now:
            render_open_menu(ctx, english, reply, attempt=0, intro=menu != "open")
        elif menu == "open":
            just_closed(ctx, english, reply)
        else:
            render_closed(ctx, english, reply, attempt=0, intro=True)
    elif target == "switchboard":
        if ctx.hours.is_open(SWITCHBOARD, at):
            overflow.join(ctx, turn, reply)
        else:
            render_closed(ctx, turn, reply, attempt=0, intro=True)
    elif target == "more":
        if menu == "open":  # within the grace too: its answer is judged when first offered
            render_open_menu(ctx, turn, reply, attempt=0, level="more", offered_at=at)
        elif open_now:  # the switchboard opened while the closed menu played
            render_open_menu(ctx, turn, reply, attempt=0, level="more")
        else:
            render_closed(ctx, turn, reply, attempt=0, intro=False, level="more")
    elif target == "sms":
        contact.send_sms(ctx, turn, reply)
        _back_to_menu(ctx, turn, reply, menu)
    elif target == "callback":
        contact.offer_callback(ctx, turn, reply)
    elif target.startswith("referral:"):
        if not referral.refer(ctx, turn, reply, ctx.config.referral(target.split(":", 1)[1])):
            anything_else(ctx, turn, reply)
    else:
        department = ctx.config.department(target.split(":", 1)[1])
        choose_department(ctx, turn, reply, department, at=at)


def key_target(ctx: Context, menu: dict[str, str], key: str) -> str | None:
    """What a key means in a menu, at either level: its target, "more" for the "other
    departments" key, or None."""
    return "more" if key == ctx.config.menus.more_key else menu.get(key)


def _back_to_menu(ctx: Context, turn: Turn, reply: Reply, menu: str) -> None:
    if menu == "open" and ctx.hours.is_open(SWITCHBOARD, turn.at):
        render_open_menu(ctx, turn, reply, attempt=0)
    else:
        ctx.speak(reply.twiml, say("goodbye", turn.language), turn.language)
        reply.twiml.hangup()


def handle_referral_sms(ctx: Context, turn: Turn) -> Reply:
    """A referral's SMS offer answered (ivr/referral.py), then back to the menu."""
    reply = Reply()
    referral.answer_offer(ctx, turn, reply)
    anything_else(ctx, turn, reply)
    return reply


def anything_else(ctx: Context, turn: Turn, reply: Reply) -> None:
    """After a referral: "Kan eg hjelpe deg med noko anna?" and the menu from its start."""
    ctx.speak(reply.twiml, say("anything_else", turn.language), turn.language)
    if ctx.hours.is_open(SWITCHBOARD, turn.at):
        render_open_menu(ctx, turn, reply, attempt=0)
    else:
        render_closed(ctx, turn, reply, attempt=0, intro=True)


def choose_department(
    ctx: Context,
    turn: Turn,
    reply: Reply,
    department: Department,
    *,
    at: datetime | None = None,
) -> None:
    """A department was chosen: transfer when it is open, else say when and offer the rest.
    Opening is judged at `at` (the open menu's grace), else at the turn's instant."""
    at = at or turn.at
    guard = ctx.config.switchboard.transfer.max_automatic_per_call
    if turn.transfers >= guard and ctx.hours.is_open(SWITCHBOARD, at):
        queue.enqueue(ctx, turn, reply, queue="returns")  # a person sorts it out, first in line
    elif ctx.hours.is_open(department.id, at):
        transfer.start_transfer(ctx, turn, reply, department=department, initiator="ivr")
    elif not ctx.hours.is_open(SWITCHBOARD, at) and department.on_call is not None:
        transfer.dial_on_call(ctx, turn, reply, department=department)
    else:
        transfer.department_closed(ctx, turn, reply, department=department)


def handle_closed_menu(ctx: Context, turn: Turn) -> Reply:
    """The closed menu's Gather action (or its Redirect on silence)."""
    reply = Reply()
    attempt = turn.number("n")
    level = "more" if turn.get("l") == "more" else "top"
    digits = turn.get("Digits").strip()[:1]
    target = key_target(ctx, ctx.config.menus.closed, digits) if digits else None
    if target is not None and target.startswith("department:"):
        department = ctx.config.department(target.split(":", 1)[1])
        if not ctx.hours.is_open(department.id, turn.at) and department.on_call is None:
            target = None
    reply.events.append(
        ctx.event(
            turn,
            "menu_choice",
            f"{turn.call_sid}:{turn.step}:menu",
            menu="closed",
            level=level,
            input="dtmf" if digits else "none",
            key=digits or None,
            target=target,
            attempt=attempt,
        )
    )
    reply.changes.append(
        MenuChoice.of(turn.call_sid, via="dtmf" if digits else "none", key=digits, target=target)
    )
    if target is None:
        if digits:
            ctx.speak(reply.twiml, say("invalid_choice", turn.language), turn.language)
        if ctx.hours.is_open(SWITCHBOARD, turn.at):
            # The switchboard opened while the closed menu played: the open menu's rules now.
            if attempt + 1 >= MAX_ATTEMPTS:
                queue.enqueue(ctx, turn, reply, queue="main")
            else:
                render_open_menu(ctx, turn, reply, attempt=attempt + 1, intro=True)
        elif attempt + 1 >= MAX_ATTEMPTS:
            ctx.speak(reply.twiml, say("goodbye", turn.language), turn.language)
            reply.twiml.hangup()
        else:
            render_closed(ctx, turn, reply, attempt=attempt + 1, intro=False, level=level)
        return reply
    perform(ctx, turn, reply, target=target, menu="closed")
    return reply
