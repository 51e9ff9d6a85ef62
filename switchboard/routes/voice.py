"""The Twilio-facing routes. Each is thin: verify and parse (`TwilioTurn`), run the pure step,
then record its events and live-state changes and answer with TwiML.

Any exception in a voice route, once the request is verified, becomes spoken Norwegian TwiML
(`VoiceRoute`), never a 500: Twilio would otherwise play its English "application error" and
hang up. Before verification there is no caller to speak to, only a refusal (403).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from ivr.call import PinFailed, Reply, Turn
from ivr.fallback import error_reply, fallback_twiml
from ivr.status import call_status, transfer_status
from ivr.steps import STEPS, Step
from switchboard.deps import (
    ServicesDep,
    TwilioTurn,
    get_services,
    make_turn,
    verified_twilio_params,
)
from switchboard.observability.web_metrics import WebMetrics
from switchboard.routes.metrics import web_metrics

log = logging.getLogger(__name__)
TWIML = "text/xml"


def twiml_response(xml: str) -> Response:
    return Response(content=xml, media_type=TWIML)


class VoiceRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            with web_metrics(request).timing(self.path) as seen:
                try:
                    response = await original(request)
                except HTTPException as exc:
                    seen.status = exc.status_code
                    raise  # a refused request: 403, no side effect
                except Exception:
                    params = verified_twilio_params(request)
                    if params is None:
                        # It failed before the signature was verified: a refusal like any other.
                        log.warning("voice route %s failed before verification", self.path)
                        seen.status = 403
                        return JSONResponse({"detail": "invalid Twilio signature"}, 403)
                    log.exception(
                        "voice route %s failed; the caller hears the error path", self.path
                    )
                    seen.error_path = True
                    response = _error_response(request, params)
                seen.status = response.status_code
                web_metrics(request).sync_event_log(get_services(request).events)
                return response

        return handler


def _error_response(request: Request, params: dict[str, str]) -> Response:
    """The spoken error path, for a verified request whose step failed."""
    services = get_services(request)
    try:
        turn = make_turn(services, request, params)
        xml, events = error_reply(services.ctx, turn)
        services.events.append(events)
        return twiml_response(xml)
    except Exception:
        log.exception("error path failed too; serving the static fallback")
        return twiml_response(fallback_twiml(services.ctx.config))


def respond(services: ServicesDep, metrics: WebMetrics, turn: Turn, reply: Reply) -> Response:
    services.live.apply(reply.changes, at=turn.at)
    services.events.append(reply.events)
    wrong_pins = sum(isinstance(change, PinFailed) for change in reply.changes)
    if wrong_pins:
        metrics.agent_pin_failures.inc(wrong_pins)
    metrics.count_events(reply.events)
    return twiml_response(reply.xml())


router = APIRouter(prefix="/twilio", route_class=VoiceRoute, tags=["twilio"])


def _register(path: str, step: Step) -> None:
    def handler(request: Request, turn: TwilioTurn, services: ServicesDep) -> Response:
        return respond(services, web_metrics(request), turn, step(services.ctx, turn))

    name = path.strip("/").replace("/", "_")
    router.add_api_route(
        path,
        handler,
        methods=["POST"],
        name=name,
        response_class=Response,
        summary=f"Twilio webhook: {name.replace('_', ' ')}",
        responses={200: {"content": {TWIML: {}}}, 403: {"description": "bad signature"}},
    )


for _path, _step in STEPS.items():
    _register(_path, _step)
_register("/status", call_status)
_register("/transfer/status", transfer_status)


@router.post("/fallback", response_class=Response, responses={200: {"content": {TWIML: {}}}})
async def fallback(services: ServicesDep) -> Response:
    """The number's fallback URL: static TwiML for every request. It never refuses and never
    reads the body (Twilio calls it when our primary URL failed, so it must not fail too)."""
    return twiml_response(services.fallback_xml)
