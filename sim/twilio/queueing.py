"""`<Enqueue>` on the caller's leg: wait in a queue until leaving, dequeued, or hung up
(docs/twilio.md, Queues).

While queued, the waitUrl document runs in a loop (re-requested whenever it runs out), with the
queue parameters on each request. A `<Gather>` there posts its action and the answer runs in
the wait context too. Ways out, each with its QueueResult on the Enqueue action:

- `<Leave/>`: `leave`, requested at once; the call goes on after `<Enqueue>` (or with the
  action's TwiML);
- an agent's `<Dial><Queue>`: the `<Queue url>` document runs on this caller, then the bridge;
  `bridged` is requested only when the conversation ends;
- the caller hangs up: `hangup` (the response is ignored, the call is over);
- a REST dequeue or redirect: `redirected` (ignored), then the new URL runs.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from sim.twilio.flow import CallRedirected, Disconnected, LeftQueue, TakenFromQueue
from sim.twilio.process import Signal, Steps, WaitFor
from sim.twilio.transcript import Bridged, Dequeued, Enqueued, Note, QueueResult
from sim.twilio.twiml import Document, Enqueue

if TYPE_CHECKING:
    from sim.twilio.dialing import QueueDial
    from sim.twilio.interpreter import LegRunner
    from sim.twilio.queues import Member


def enqueue(runner: LegRunner, verb: Enqueue, document: Document) -> Steps[Document | None]:
    clock = runner.sim.clock
    queue = runner.sim.queues.get(verb.name)
    action = urljoin(document.url, verb.action) if verb.action else None
    if queue.full:
        runner.record(QueueResult, queue=verb.name, result="queue-full", waited=0)
        return _after(runner, action, verb, {"QueueResult": "queue-full", "QueueSid": queue.sid})
    member = queue.join(runner.call, clock.now)
    runner.queue_member = member
    runner.record(Enqueued, queue=verb.name, position=queue.position(member))
    try:
        try:
            yield from _wait(runner, verb, document, member)
            result = "leave"  # not reached: only an exception ends the wait
        except LeftQueue:
            result = "leave"
        except TakenFromQueue as taken:
            result = yield from _serve(runner, taken.session, member)
    except (Disconnected, CallRedirected) as ended:
        if isinstance(ended, CallRedirected):
            result = "redirected-from-bridged" if member.bridged else "redirected"
        else:
            result = "bridged" if member.bridged else "hangup"
        runner.record(QueueResult, queue=verb.name, result=result, waited=member.waited(clock.now))
        if action is not None:
            runner.send(
                action, verb.method, _result(member, result, clock.now), kind="enqueue-action"
            )
        raise
    finally:
        queue.remove(member)
        runner.queue_member = None
    runner.record(QueueResult, queue=verb.name, result=result, waited=member.waited(clock.now))
    return _after(runner, action, verb, _result(member, result, clock.now))


def _result(member: Member, result: str, now: datetime) -> dict[str, str]:
    return {
        "QueueResult": result,
        "QueueSid": member.queue.sid,
        "QueueTime": str(member.waited(now)),
    }


def _after(
    runner: LegRunner, action: str | None, verb: Enqueue, params: dict[str, str]
) -> Document | None:
    if action is None:
        return None  # on to the verb after <Enqueue>
    return runner.fetch(action, verb.method, params, kind="enqueue-action", context="main")


def _wait(runner: LegRunner, verb: Enqueue, document: Document, member: Member) -> Steps[None]:
    if not verb.wait_url:
        music = "silence" if verb.wait_url == "" else "Twilio's default hold music"
        runner.record(Note, text=f"waits in queue {verb.name} with {music}")
        yield WaitFor(Signal())  # never fires: only an interrupt ends this wait
        return
    url = urljoin(document.url, verb.wait_url)
    while True:
        params = member.queue.params(member, runner.sim.clock.now)
        wait_document: Document | None = runner.fetch(
            url, verb.wait_url_method, params, kind="wait-url", context="wait"
        )
        while wait_document is not None:
            wait_document = yield from runner.execute(wait_document, "wait")


def _serve(runner: LegRunner, session: QueueDial, member: Member) -> Steps[str]:
    """Taken by an agent: run the `<Queue url>` document here, then talk until one hangs up."""
    clock = runner.sim.clock
    agent = session.agent.call
    runner.queue_member = None
    runner.record(
        Dequeued, queue=member.queue.name, by=agent.from_, waited=member.waited(clock.now)
    )
    try:
        if session.url is not None:
            params = {
                "QueueSid": member.queue.sid,
                "QueueTime": str(member.waited(clock.now)),
                "DequeingCallSid": agent.sid,
            }
            document: Document | None = runner.fetch(
                session.url, session.noun.method, params, kind="queue-url", context="dequeue"
            )
            while document is not None:
                document = yield from runner.execute(document, "dequeue")
        bridge = session.connect(runner)
    except (Disconnected, CallRedirected):
        session.caller_gone()
        raise
    if bridge is None:
        runner.record(Note, text="the agent left before the bridge")
        return "error"
    member.bridged = True
    runner.record(Bridged, other=agent.from_)
    try:
        yield WaitFor(bridge.ended)
    except (Disconnected, CallRedirected):
        bridge.end(by=runner.call, at=clock.now)
        raise
    return "bridged"
