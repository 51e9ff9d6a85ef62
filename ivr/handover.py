"""Handing a chosen waiting caller to a chosen agent, out of first-in-first-out order.

Twilio's `<Enqueue>` is first in, first out, and `<Dial><Queue>` always takes the head. So each
agent has a queue of their own, `agent-<id>` (the roster id), and a hand-over is two moves
(docs/agent-line.md, "Taking a chosen caller"):

1. the caller's queue member is updated with the URL `move_url` makes (docs/twilio.md,
   Queues). Twilio takes them out of their queue and runs `moved`: `<Enqueue>agent-<id>` with
   the same waitUrl, action and queue-visit id, so the statistics see one visit, answered when
   the agent's `<Queue url>` fires;
2. the agent's leg, idle in `<Dial><Queue>`, is redirected to `agent_take`, or (on the agent
   line itself, `ivr.agent.connect`) answered with the same TwiML: the department and cause,
   then `<Dial><Queue>agent-<id></Queue></Dial>`.

The REST calls and the claim that keeps two agents off one caller are the switchboard's
(`switchboard.queue_moves`); this module only decides the TwiML and the words.
"""

from __future__ import annotations

from twilio.twiml.voice_response import Dial, Gather

from ivr.call import (
    TWILIO_QUEUES,
    AgentWaiting,
    Context,
    QueueJoin,
    QueueLeave,
    QueueName,
    Reply,
    Turn,
    Unclaimed,
    Waiting,
)
from ivr.phrases import return_cause
from ivr.prompts import say

AGENT_QUEUE_PREFIX = "agent-"


def agent_queue(agent_id: str) -> str:
    """The Twilio queue of one agent: callers handed to them wait there."""
    return f"{AGENT_QUEUE_PREFIX}{agent_id}"


def queue_of(turn: Turn) -> QueueName:
    name = turn.get("q", "main")
    if name in TWILIO_QUEUES:
        return name
    raise KeyError(f"unknown queue {name!r}")


def _agent_id(ctx: Context, turn: Turn) -> str:
    """The `a` parameter: an agent on the roster, or empty (back to the visit's own queue)."""
    agent_id = turn.get("a")
    if agent_id and all(agent.id != agent_id for agent in ctx.config.switchboard.agents.roster):
        raise KeyError(f"no agent {agent_id!r} on the roster")
    return agent_id


def move_url(ctx: Context, waiting: Waiting, agent_id: str, *, step: int) -> str:
    """Where a caller's queue member is sent: into `agent_id`'s queue (or, with an empty id,
    back into the visit's own queue), keeping the visit."""
    return ctx.url(
        "/twilio/queue/move",
        lang=waiting.language,
        s=step,
        q=waiting.queue,
        v=waiting.visit,
        a=agent_id,
    )


def moved(ctx: Context, turn: Turn) -> Reply:
    """The moved caller's new TwiML: the same visit, now in the agent's queue. The Enqueue
    action the old queue requested (QueueResult `redirected`) does not end the visit: this
    step's `queue_moved` says so (workers/visits.py)."""
    reply = Reply()
    enqueue_again(ctx, turn, reply, agent_id=_agent_id(ctx, turn))
    return reply


def enqueue_again(ctx: Context, turn: Turn, reply: Reply, *, agent_id: str) -> None:
    """The visit's caller joins `agent_id`'s queue, or (empty) their own queue again."""
    queue, visit = queue_of(turn), turn.get("v")
    target = agent_queue(agent_id) if agent_id else TWILIO_QUEUES[queue]
    reply.events.append(
        ctx.event(
            turn,
            "queue_moved",
            f"{turn.call_sid}:{turn.step}:moved",
            queue=queue,
            visit=visit,
            to_queue=target,
            agent=agent_id or None,
        )
    )
    if agent_id:
        reply.changes.append(QueueLeave(queue=queue, call_sid=turn.call_sid))
    else:  # moved back: waiting in its own queue again, for any agent
        reply.changes.append(QueueJoin(queue=queue, call_sid=turn.call_sid))
        reply.changes.append(Unclaimed(call_sid=turn.call_sid))
    # `a` (empty when moved back) tells the waitUrl and the action whose queue this is.
    reply.twiml.enqueue(
        target,
        action=ctx.url("/twilio/queue/done", turn, q=queue, v=visit, a=agent_id),
        wait_url=ctx.url("/twilio/queue/wait", q=queue, v=visit, lang=turn.language, a=agent_id),
        wait_url_method="POST",
    )


def hold(ctx: Context, turn: Turn, reply: Reply) -> None:
    """The waitUrl in an agent's queue: the agent is on their way, so music only. If the agent
    has left the agent line meanwhile (hung up before their Dial took the caller), the caller
    goes back to their own queue, in the same visit: the caller leaves the agent's queue, and the
    Enqueue action (`ivr.queue.done`) enqueues them again (`enqueue_again`). A `<Redirect>`
    would not do: in a waitUrl document it only fetches the next wait document."""
    if turn.live.agent_on_line is False:
        reply.twiml.leave()
        return
    music = ctx.config.switchboard.queue.hold_music
    gather = Gather(input="dtmf", num_digits=1, timeout=2)
    gather.play(music.url, loop=1)
    reply.twiml.append(gather)


def agent_take_url(ctx: Context, waiting: Waiting, *, step: int) -> str:
    """Where the agent's leg is redirected to take `waiting` (`agent_take`)."""
    return ctx.url(
        "/twilio/agent/take",
        lang=ctx.config.municipality.default_language,
        s=step,
        q=waiting.queue,
        v=waiting.visit,
        d=waiting.department or "",
        r=waiting.cause or "",
    )


def announcement(ctx: Context, waiting: Waiting) -> str:
    """What the agent hears first: "Retur frå helse og omsorg. Ingen svarte." For a caller
    from the main queue, or a return whose department is not known, less or nothing."""
    lang = ctx.config.municipality.default_language
    if waiting.queue != "returns":
        return ""
    department = next((d for d in ctx.config.departments if d.id == waiting.department), None)
    if department is None:
        return say("agent_returns_first", lang)
    cause = return_cause(waiting.cause, language=lang)
    text = say("agent_return_from", lang, department=department.name.get(lang))
    return f"{text} {cause}".strip()


def serve(ctx: Context, turn: Turn, reply: Reply, *, agent_id: str, waiting: Waiting) -> None:
    """The agent's TwiML: the department and cause, then their own queue, where the caller is
    (or is on the way)."""
    lang = ctx.config.municipality.default_language
    ctx.speak(reply.twiml, announcement(ctx, waiting), lang)
    idle = ctx.config.switchboard.agents.idle_dial_seconds
    reply.changes.append(AgentWaiting(agent_id=agent_id, call_sid=turn.call_sid, seconds=idle))
    dial = Dial(
        action=ctx.url("/twilio/agent/next", turn),
        timeout=idle,
        hangup_on_star=True,
    )
    dial.queue(
        agent_queue(agent_id),
        url=ctx.url("/twilio/queue/answered", q=waiting.queue, v=waiting.visit),
    )
    reply.twiml.append(dial)


def agent_take(ctx: Context, turn: Turn) -> Reply:
    """The agent's leg, redirected by the API (`POST /api/queue/{call_sid}/take`)."""
    reply = Reply()
    agent = ctx.config.switchboard.agents.find(turn.caller)
    if agent is None:
        return reply  # only our own redirect comes here, and only for agents on the roster
    waiting = Waiting(
        call_sid="",
        queue=queue_of(turn),
        visit=turn.get("v"),
        language=turn.language,
        joined_at=0.0,
        department=turn.get("d") or None,
        cause=turn.get("r") or None,
    )
    serve(ctx, turn, reply, agent_id=agent.id, waiting=waiting)
    return reply
