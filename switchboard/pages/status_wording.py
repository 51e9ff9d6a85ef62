"""The agent status panel's words (templates/console_status.html, static/console-status.js),
in Nynorsk, Bokmål and English. Keys start with `status_`; the renderer merges them
(`switchboard.pages.renderer.WORDING_PARTS`)."""

from __future__ import annotations

from typing import Final

from ivr.config import Language

WORDING: Final[dict[Language, dict[str, str]]] = {
    "nn": {
        "status_title": "Status",
        "status_heading": "Statusen din",
        "status_now": "Du er no:",
        "status_ready": "Klar",
        "status_paused": "Pause",
        "status_offline": "Logga av linja",
        "status_unknown": "Ukjend",
        "status_ready_button": "Klar",
        "status_pause_button": "Pause",
        "status_offline_button": "Logg av linja",
        "status_reason_label": "Grunn til pausen",
        "status_reason_lunch": "Lunsj",
        "status_reason_meeting": "Møte",
        "status_reason_admin": "Administrativt",
        "status_reason_other": "Anna",
        "status_colleagues": "Kollegaer",
        "status_connected": "på linja",
        "status_not_connected": "ikkje på linja",
        "status_saved": "Statusen er endra.",
        "status_failed": "Statusen vart ikkje endra. Prøv igjen.",
        "status_no_agent": "Du er ikkje sett opp som agent på sentralbordet, så du kan ikkje "
        "setje status.",
    },
    "nb": {
        "status_title": "Status",
        "status_heading": "Statusen din",
        "status_now": "Du er nå:",
        "status_ready": "Klar",
        "status_paused": "Pause",
        "status_offline": "Logget av linjen",
        "status_unknown": "Ukjent",
        "status_ready_button": "Klar",
        "status_pause_button": "Pause",
        "status_offline_button": "Logg av linjen",
        "status_reason_label": "Grunn til pausen",
        "status_reason_lunch": "Lunsj",
        "status_reason_meeting": "Møte",
        "status_reason_admin": "Administrativt",
        "status_reason_other": "Annet",
        "status_colleagues": "Kolleger",
        "status_connected": "på linjen",
        "status_not_connected": "ikke på linjen",
        "status_saved": "Statusen er endret.",
        "status_failed": "Statusen ble ikke endret. Prøv igjen.",
        "status_no_agent": "Du er ikke satt opp som agent på sentralbordet, så du kan ikke "
        "sette status.",
    },
    "en": {
        "status_title": "Status",
        "status_heading": "Your status",
        "status_now": "You are now:",
        "status_ready": "Ready",
        "status_paused": "Paused",
        "status_offline": "Off the line",
        "status_unknown": "Unknown",
        "status_ready_button": "Ready",
        "status_pause_button": "Pause",
        "status_offline_button": "Log off the line",
        "status_reason_label": "Reason for the pause",
        "status_reason_lunch": "Lunch",
        "status_reason_meeting": "Meeting",
        "status_reason_admin": "Administrative",
        "status_reason_other": "Other",
        "status_colleagues": "Colleagues",
        "status_connected": "on the line",
        "status_not_connected": "not on the line",
        "status_saved": "Your status is changed.",
        "status_failed": "Your status was not changed. Try again.",
        "status_no_agent": "You are not set up as a switchboard agent, so you cannot set a status.",
    },
}
