"""A Twilio Programmable Voice simulator: TwiML interpreted as Twilio does, on a virtual clock.

It calls our webhooks with signed form POSTs, plays scripted callers and departments, queues
callers, sends status callbacks (with optional faults), and writes a transcript of each call.
See engine.py for a usage example. The Twilio behaviour it imitates is described in
docs/twilio.md, and the modules point to its sections by name.
"""

from sim.twilio.calls import Call
from sim.twilio.departments import Department
from sim.twilio.engine import PhoneNumberConfig, Timing, TwilioSimulator
from sim.twilio.faults import Faults
from sim.twilio.interpreter import SimulationError
from sim.twilio.rest import SimulatedRest
from sim.twilio.scripts import hang_up, hang_up_after, press, say, silence, talk
from sim.twilio.transport import HttpClient, RequestRecord
from sim.twilio.twiml import SimulatorLimitation

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
