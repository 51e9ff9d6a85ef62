"""A Twilio Programmable Voice simulator: TwiML interpreted as Twilio does, on a virtual clock.

It calls our webhooks with signed form POSTs, plays scripted callers and departments, queues
callers, sends status callbacks (with optional faults), and writes a transcript of each call.
See engine.py for a usage example. The § numbers in this package refer to the shared Twilio
protocol reference (docs/twilio.md.md), which is what the simulator is built against.
"""

from switchboard.simulator.calls import Call
from switchboard.simulator.departments import Department
from switchboard.simulator.engine import PhoneNumberConfig, Timing, TwilioSimulator
from switchboard.simulator.faults import Faults
from switchboard.simulator.interpreter import SimulationError
from switchboard.simulator.rest import SimulatedRest
from switchboard.simulator.scripts import hang_up, hang_up_after, press, say, silence, talk
from switchboard.simulator.transport import HttpClient, RequestRecord
from switchboard.simulator.twiml import SimulatorLimitation

__all__ = [
    "Call",
    "Department",
    "Faults",
    "HttpClient",
    "PhoneNumberConfig",
    "RequestRecord",
    "SimulatedRest",
    "SimulationError",
    "SimulatorLimitation",
    "Timing",
    "TwilioSimulator",
    "hang_up",
    "hang_up_after",
    "press",
    "say",
    "silence",
    "talk",
]
