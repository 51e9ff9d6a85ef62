"""Every Twilio-facing step of the call flow, by the URL path it answers.

Each step is `(Context, Turn) -> Reply`. The path's query string carries our own parameters
(language `lang`, step counter `s`, attempt `n`, department `d`, transfer `t`, initiator `i`,
queue `q`, visit `v`); a step reads them from the turn. An unknown department or queue raises
`KeyError`, which the edge turns into spoken error TwiML like any other failure.
"""

from __future__ import annotations

from collections.abc import Callable

from ivr import agent, contact, handover, overflow, queue, transfer
from ivr.call import TWILIO_QUEUES, Context, QueueName, Reply, Turn
from ivr.menu import answer_call, handle_closed_menu, handle_open_menu, handle_referral_sms
from ivr.vocabulary import Initiator

Step = Callable[[Context, Turn], Reply]


def _queue(turn: Turn) -> QueueName:
    name = turn.get("q", "main")
    if name in TWILIO_QUEUES:
        return name
    raise KeyError(f"unknown queue {name!r}")


def _initiator(turn: Turn) -> Initiator:
    return "agent" if turn.get("i") == "agent" else "ivr"


def _transfer_start(ctx: Context, turn: Turn) -> Reply:
    """Where an agent's REST redirect sends the caller (`switchboard/routes/calls.py`): the
    same Dial, whisper and bounce as an IVR transfer, with the initiator from the URL."""
    reply = Reply()
    department = ctx.config.department(turn.get("d"))
    transfer.start_transfer(ctx, turn, reply, department=department, initiator=_initiator(turn))
    return reply


STEPS: dict[str, Step] = {
    "/voice": answer_call,
    "/menu": handle_open_menu,
    "/closed": handle_closed_menu,
    "/referral": handle_referral_sms,
    "/department/closed": lambda ctx, turn: transfer.handle_department_closed(
        ctx, turn, department=ctx.config.department(turn.get("d"))
    ),
    "/transfer/start": _transfer_start,
    "/transfer/result": lambda ctx, turn: transfer.transfer_result(
        ctx,
        turn,
        department=ctx.config.department(turn.get("d")),
        transfer_id=turn.get("t"),
        initiator=_initiator(turn),
    ),
    "/whisper": lambda ctx, turn: transfer.whisper(
        ctx, turn, department=ctx.config.department(turn.get("d")), transfer_id=turn.get("t")
    ),
    "/whisper/answer": lambda ctx, turn: transfer.whisper_answer(
        ctx, turn, transfer_id=turn.get("t")
    ),
    "/oncall/result": transfer.on_call_result,
    "/queue/wait": lambda ctx, turn: queue.wait(ctx, turn, queue=_queue(turn), visit=turn.get("v")),
    "/queue/choice": lambda ctx, turn: queue.choice(
        ctx, turn, queue=_queue(turn), visit=turn.get("v")
    ),
    "/queue/done": lambda ctx, turn: queue.done(ctx, turn, queue=_queue(turn), visit=turn.get("v")),
    "/queue/answered": lambda ctx, turn: queue.answered(ctx, turn, queue=_queue(turn)),
    "/queue/move": handover.moved,
    "/callback/number": contact.handle_number,
    "/callback/confirm": contact.handle_confirm,
    "/agent": agent.agent_entry,
    "/agent/pin": agent.agent_pin,
    "/agent/next": agent.agent_next,
    "/agent/take": handover.agent_take,
    "/agent/paused": agent.agent_paused,
    "/agent/ready": agent.agent_ready,
    "/agent/off": agent.agent_off,
    "/overflow": overflow.choice,
}
