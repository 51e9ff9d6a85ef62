"""The words the whole system shares: one definition, imported everywhere else.

The IVR decides a transfer's outcome (ivr/transfer.py), the projection records it
(workers/projection.py), the statistics and the exporter count it (switchboard/stats/aggregates.py,
switchboard/stats/kpis.py) and the simulation's ground truth checks it (sim/ground_truth.py).
They all take the values from here, so a new outcome or kind is added in one place. What each
word means is in docs/glossary.md. Database migrations keep their own frozen copies: a
migration must not change when this module does.

Pure data: no I/O.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal, get_args

# -- transfers -----------------------------------------------------------------------------

Initiator = Literal["ivr", "agent"]
INITIATORS: tuple[Initiator, ...] = get_args(Initiator)

# How a transfer to a department ended (ivr/transfer.py decides it).
TransferOutcome = Literal["connected", "no_answer", "busy", "failed", "declined", "caller_hung_up"]
TRANSFER_OUTCOMES: tuple[TransferOutcome, ...] = get_args(TransferOutcome)
# Outcomes that are not bounces: the caller reached the department, or left before it answered.
NOT_BOUNCE_OUTCOMES: frozenset[TransferOutcome] = frozenset({"connected", "caller_hung_up"})
# A bounce's cause is its transfer's outcome: one of these.
BOUNCE_CAUSES: frozenset[TransferOutcome] = frozenset(TRANSFER_OUTCOMES) - NOT_BOUNCE_OUTCOMES

# -- returns -------------------------------------------------------------------------------

# A bounce (the transfer did not connect), a hand-back (the department sent the caller back
# during or right after the talk) or a recall (the caller called again within the window).
ReturnKind = Literal["bounce", "hand_back", "recall"]
RETURN_KINDS: tuple[ReturnKind, ...] = get_args(ReturnKind)
RECALL_WINDOW = timedelta(hours=24)

# The agent's tag on a return: why the caller came back.
ReturnReason = Literal[
    "wrong_department", "no_answer", "department_closed", "wanted_switchboard", "other"
]
RETURN_REASONS: tuple[ReturnReason, ...] = get_args(ReturnReason)
# With `other`, the agent may add a short note in words. It is free text: it must say why, never
# who (no names, numbers or case details), and it is capped at this many characters.
RETURN_NOTE_MAX_CHARS = 200
# A return no agent has tagged yet: the exporter's `reason` label for it (the API's key is null).
UNTAGGED = "untagged"

# -- calls ---------------------------------------------------------------------------------

# What a call that came in while the switchboard was closed got, the best thing first.
AfterHoursResult = Literal["department", "on_call", "callback", "sms", "queue", "hung_up"]
AFTER_HOURS_RESULTS: tuple[AfterHoursResult, ...] = get_args(AfterHoursResult)

# What a call came to. The projection takes the first that applies (workers/projection.py
# `call_outcome`): in_progress while the call lasts; unresolved when the sweep gave up on it;
# transferred (a transfer connected); answered (in a queue); callback or sms (asked for one);
# abandoned (hung up in a queue); else ivr (it ended in the menus).
CallOutcome = Literal[
    "transferred", "answered", "callback", "sms", "abandoned", "ivr", "unresolved", "in_progress"
]
CALL_OUTCOMES: tuple[CallOutcome, ...] = get_args(CallOutcome)
# The outcomes of calls that have ended (or were given up on): their counts only ever grow.
ENDED_CALL_OUTCOMES: tuple[CallOutcome, ...] = CALL_OUTCOMES[:-1]

# -- service level -------------------------------------------------------------------------

SERVICE_LEVEL_SECONDS = 20.0  # T in "answered within T"
SHORT_ABANDON_SECONDS = 5.0  # hang-ups in a queue sooner than this are short abandons
