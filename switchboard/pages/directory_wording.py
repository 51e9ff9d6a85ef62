"""What an agent reads in the console's department directory and its transfer guard, in
Nynorsk, Bokmål and English (merged into the pages' wording by switchboard/pages/renderer.py).

Texts with `{name}` placeholders are filled in by switchboard/pages/static/console-directory.js.
"""

from __future__ import annotations

from typing import Final

from ivr.config import Language

NYNORSK: Final[dict[str, str]] = {
    "directory_page_title": "Avdelingar og overføring",
    "directory_title": "Avdelingar",
    "directory_intro": "Opningstid no og tala for i dag. «Set over» sender innringaren du "
    "snakkar med, til avdelinga.",
    "directory_loading": "Hentar avdelingane …",
    "directory_updated": "Oppdatert {time}.",
    "directory_department": "Avdeling",
    "directory_number": "Nummer",
    "directory_status": "Opningstid",
    "directory_transfers": "Overføringar i dag",
    "directory_accepted": "Teke imot",
    "directory_returns": "Returar (del)",
    "directory_guard": "Åtvaring",
    "directory_action": "Handling",
    "directory_open_until": "Ope til {time}",
    "directory_open": "Ope",
    "directory_opens": "Stengd, opnar {when}",
    "directory_closed": "Stengd",
    "directory_ok": "Ingen",
    "directory_badge_closed": "Stengd",
    "directory_badge_closes_soon": "Stengjer snart",
    "directory_badge_often_unanswered": "Svarar lite i dag",
    "directory_warning_closed": "Avdelinga er stengd no.",
    "directory_warning_closes_soon": "Avdelinga stengjer om {minutes} minutt ({time}).",
    "directory_warning_often_unanswered": "Avdelinga har ikkje teke imot {unanswered} av "
    "{whispers} overføringar i dag.",
    "directory_transfer": "Set over",
    "directory_transfer_to": "Set over til {name}",
    "directory_no_caller": "Du snakkar ikkje med nokon innringar no, så det er ingen å setje over.",
    "directory_transferred": "Innringaren er sett over til {name}.",
    "directory_guard_title": "Vent før du set over til {name}",
    "directory_guard_risk": "Innringaren kan kome attende til sentralbordet:",
    "directory_guard_offer": "Tilby heller innringaren:",
    "directory_guard_callback": "Tilbakeringing frå avdelinga",
    "directory_guard_sms": "SMS med lenkje til sjølvbetening",
    "directory_guard_go_ahead": "Set over likevel",
    "directory_guard_cancel": "Avbryt",
    "directory_callback_done": "Avdelinga ringjer innringaren opp ({to}).",
    "directory_sms_done": "SMS med lenkje er send til {to}.",
    "directory_cancelled": "Du sette ikkje over.",
    "directory_failed": "Det gjekk ikkje: {message}",
}

BOKMAL: Final[dict[str, str]] = {
    "directory_page_title": "Avdelinger og overføring",
    "directory_title": "Avdelinger",
    "directory_intro": "Åpningstid nå og tallene for i dag. «Sett over» sender innringeren du "
    "snakker med, til avdelingen.",
    "directory_loading": "Henter avdelingene …",
    "directory_updated": "Oppdatert {time}.",
    "directory_department": "Avdeling",
    "directory_number": "Nummer",
    "directory_status": "Åpningstid",
    "directory_transfers": "Overføringer i dag",
    "directory_accepted": "Tatt imot",
    "directory_returns": "Returer (andel)",
    "directory_guard": "Advarsel",
    "directory_action": "Handling",
    "directory_open_until": "Åpen til {time}",
    "directory_open": "Åpen",
    "directory_opens": "Stengt, åpner {when}",
    "directory_closed": "Stengt",
    "directory_ok": "Ingen",
    "directory_badge_closed": "Stengt",
    "directory_badge_closes_soon": "Stenger snart",
    "directory_badge_often_unanswered": "Svarer lite i dag",
    "directory_warning_closed": "Avdelingen er stengt nå.",
    "directory_warning_closes_soon": "Avdelingen stenger om {minutes} minutter ({time}).",
    "directory_warning_often_unanswered": "Avdelingen har ikke tatt imot {unanswered} av "
    "{whispers} overføringer i dag.",
    "directory_transfer": "Sett over",
    "directory_transfer_to": "Sett over til {name}",
    "directory_no_caller": "Du snakker ikke med noen innringer nå, så det er ingen å sette over.",
    "directory_transferred": "Innringeren er satt over til {name}.",
    "directory_guard_title": "Vent før du setter over til {name}",
    "directory_guard_risk": "Innringeren kan komme tilbake til sentralbordet:",
    "directory_guard_offer": "Tilby heller innringeren:",
    "directory_guard_callback": "Tilbakeringing fra avdelingen",
    "directory_guard_sms": "SMS med lenke til selvbetjening",
    "directory_guard_go_ahead": "Sett over likevel",
    "directory_guard_cancel": "Avbryt",
    "directory_callback_done": "Avdelingen ringer innringeren opp ({to}).",
    "directory_sms_done": "SMS med lenke er sendt til {to}.",
    "directory_cancelled": "Du satte ikke over.",
    "directory_failed": "Det gikk ikke: {message}",
}

ENGLISH: Final[dict[str, str]] = {
    "directory_page_title": "Departments and transfers",
    "directory_title": "Departments",
    "directory_intro": "Opening hours now and today's figures. \u201cTransfer\u201d sends the "
    "caller you are talking with to the department.",
    "directory_loading": "Loading the departments …",
    "directory_updated": "Updated {time}.",
    "directory_department": "Department",
    "directory_number": "Number",
    "directory_status": "Hours",
    "directory_transfers": "Transfers today",
    "directory_accepted": "Accepted",
    "directory_returns": "Returns (rate)",
    "directory_guard": "Warning",
    "directory_action": "Action",
    "directory_open_until": "Open until {time}",
    "directory_open": "Open",
    "directory_opens": "Closed, opens {when}",
    "directory_closed": "Closed",
    "directory_ok": "None",
    "directory_badge_closed": "Closed",
    "directory_badge_closes_soon": "Closes soon",
    "directory_badge_often_unanswered": "Rarely answers today",
    "directory_warning_closed": "The department is closed now.",
    "directory_warning_closes_soon": "The department closes in {minutes} minutes ({time}).",
    "directory_warning_often_unanswered": "The department has not accepted {unanswered} of "
    "{whispers} transfers today.",
    "directory_transfer": "Transfer",
    "directory_transfer_to": "Transfer to {name}",
    "directory_no_caller": "You are not talking with a caller now, so there is no one to transfer.",
    "directory_transferred": "The caller has been transferred to {name}.",
    "directory_guard_title": "Wait before you transfer to {name}",
    "directory_guard_risk": "The caller may come back to the switchboard:",
    "directory_guard_offer": "Offer the caller instead:",
    "directory_guard_callback": "A callback from the department",
    "directory_guard_sms": "An SMS with the self-service link",
    "directory_guard_go_ahead": "Transfer anyway",
    "directory_guard_cancel": "Cancel",
    "directory_callback_done": "The department will call the caller back ({to}).",
    "directory_sms_done": "An SMS with the link has been sent to {to}.",
    "directory_cancelled": "You did not transfer.",
    "directory_failed": "That did not work: {message}",
}

WORDING: Final[dict[Language, dict[str, str]]] = {
    "nn": NYNORSK,
    "nb": BOKMAL,
    "en": ENGLISH,
}
