"""What the caller and the employee hear, in Nynorsk, Bokmål and English.

Each prompt is a template with named fields. Nynorsk is the default for Alver; Twilio has no
Nynorsk voice, so nn and nb are both spoken by the configured Norwegian (nb-NO) voice.
"""

from __future__ import annotations

from ivr.config import Language

_PROMPTS: dict[str, dict[Language, str]] = {
    "greeting": {
        "nn": "Velkomen til {name}.",
        "nb": "Velkommen til {name}.",
        "en": "Welcome to {name}.",
    },
    "open_until": {
        "nn": "Sentralbordet er ope til klokka {time}.",
        "nb": "Sentralbordet er åpent til klokken {time}.",
        "en": "The switchboard is open until {time}.",
    },
    "self_service_hint": {
        "nn": "Mykje finn du sjølv på {site}.",
        "nb": "Mye finner du selv på {site}.",
        "en": "You can find a lot yourself at {site}.",
    },
    "press_for": {
        "nn": "For {what}, trykk {key}.",
        "nb": "For {what}, trykk {key}.",
        "en": "For {what}, press {key}.",
    },
    "switchboard_option": {
        "nn": "sentralbordet",
        "nb": "sentralbordet",
        "en": "the switchboard",
    },
    "english_option": {
        "nn": "For English, press {key}.",
        "nb": "For English, press {key}.",
        "en": "",
    },
    # The menus ask for speech first, then offer keys (ivr/layout.py).
    "ask_speech": {
        "nn": "Sei kort kva det gjeld.",
        "nb": "Si kort hva det gjelder.",
        "en": "Tell us briefly what it is about.",
    },
    "more_option": {
        "nn": "andre avdelingar",
        "nb": "andre avdelinger",
        "en": "other departments",
    },
    "invalid_choice": {
        "nn": "Det var dessverre eit ugyldig val.",
        "nb": "Det var dessverre et ugyldig valg.",
        "en": "Sorry, that is not a valid choice.",
    },
    "not_understood": {
        "nn": "Orsak, det forstod eg ikkje.",
        "nb": "Beklager, det forsto jeg ikke.",
        "en": "Sorry, I did not understand that.",
    },
    "transferring": {
        "nn": "Du blir sett over til {department}.",
        "nb": "Du blir satt over til {department}.",
        "en": "You are being transferred to {department}.",
    },
    "to_switchboard": {
        "nn": "Du blir sett over til sentralbordet.",
        "nb": "Du blir satt over til sentralbordet.",
        "en": "You are being transferred to the switchboard.",
    },
    "department_closed": {
        "nn": "{department} har telefontid {hours}. Dei opnar att {next}.",
        "nb": "{department} har telefontid {hours}. De åpner igjen {next}.",
        "en": "{department} answers the phone {hours}. They open again {next}.",
    },
    "department_closed_today": {
        "nn": "{department} har stengt i dag.",
        "nb": "{department} har stengt i dag.",
        "en": "{department} is closed today.",
    },
    "sms_option": {
        "nn": "ei tekstmelding med lenke til sjølvbetening",
        "nb": "en tekstmelding med lenke til selvbetjening",
        "en": "a text message with a link to our self-service pages",
    },
    "callback_option": {
        "nn": "å bli ringt opp når vi opnar",
        "nb": "å bli ringt opp når vi åpner",
        "en": "a call back when we open",
    },
    "bounce": {
        "nn": "Vi fekk dessverre ikkje svar hjå {department}.",
        "nb": "Vi fikk dessverre ikke svar hos {department}.",
        "en": "Sorry, {department} did not answer.",
    },
    "bounce_busy": {
        "nn": "Det er dessverre oppteke hjå {department}.",
        "nb": "Det er dessverre opptatt hos {department}.",
        "en": "Sorry, {department} is busy.",
    },
    "bounce_queue": {
        "nn": "Du får no snakke med sentralbordet, og du står først i køen.",
        "nb": "Du får nå snakke med sentralbordet, og du står først i køen.",
        "en": "You will now speak to the switchboard, and you are first in line.",
    },
    # Other returned callers wait ahead (or we cannot tell): the returns queue is served
    # before the main queue, so the caller is ahead of everyone there, not first.
    "bounce_queue_priority": {
        "nn": "Du får no snakke med sentralbordet, og du har forrang i køen.",
        "nb": "Du får nå snakke med sentralbordet, og du har prioritet i køen.",
        "en": "You will now speak to the switchboard, and you have priority in the queue.",
    },
    "closed": {
        "nn": "Sentralbordet er stengt no. Vi opnar att {next}.",
        "nb": "Sentralbordet er stengt nå. Vi åpner igjen {next}.",
        "en": "The switchboard is closed now. We open again {next}.",
    },
    "just_closed": {
        "nn": "Sentralbordet stengde no nettopp.",
        "nb": "Sentralbordet stengte nå nettopp.",
        "en": "The switchboard has just closed.",
    },
    "closed_holiday": {
        "nn": "Sentralbordet er stengt i dag, {holiday}. Vi opnar att {next}.",
        "nb": "Sentralbordet er stengt i dag, {holiday}. Vi åpner igjen {next}.",
        "en": "The switchboard is closed today for a public holiday. We open again {next}.",
    },
    "closed_special": {
        "nn": "Sentralbordet er stengt i dag, {name}. Vi opnar att {next}.",
        "nb": "Sentralbordet er stengt i dag, {name}. Vi åpner igjen {next}.",
        "en": "The switchboard is closed today for {name}. We open again {next}.",
    },
    "closed_today": {
        "nn": "Sentralbordet er stengt i dag. Vi opnar att {next}.",
        "nb": "Sentralbordet er stengt i dag. Vi åpner igjen {next}.",
        "en": "The switchboard is closed today. We open again {next}.",
    },
    "closed_no_next": {
        "nn": "Sentralbordet er stengt no.",
        "nb": "Sentralbordet er stengt nå.",
        "en": "The switchboard is closed now.",
    },
    "reception_open": {
        "nn": "Innbyggjarservice i {desk} er open i dag til klokka {time}.",
        "nb": "Innbyggerservice i {desk} er åpen i dag til klokken {time}.",
        "en": "The service desk in {desk} is open today until {time}.",
    },
    "reception_next": {
        "nn": "Innbyggjarservice i {desk} opnar {next}.",
        "nb": "Innbyggerservice i {desk} åpner {next}.",
        "en": "The service desk in {desk} opens {next}.",
    },
    "emergency": {
        "nn": (
            "Ved fare for liv eller helse, ring {medical}. Brann: {fire}. Politi: {police}. "
            "Legevakta har nummer {legevakt}."
        ),
        "nb": (
            "Ved fare for liv eller helse, ring {medical}. Brann: {fire}. Politi: {police}. "
            "Legevakten har nummer {legevakt}."
        ),
        "en": (
            "In an emergency, call {medical} for an ambulance, {fire} for the fire service "
            "or {police} for the police. The out-of-hours doctor is on {legevakt}."
        ),
    },
    "goodbye": {
        "nn": "Takk for at du ringde. Ha ein fin dag.",
        "nb": "Takk for at du ringte. Ha en fin dag.",
        "en": "Thank you for calling. Goodbye.",
    },
    "queue_position": {
        "nn": "Du er nummer {position} i køen.",
        "nb": "Du er nummer {position} i køen.",
        "en": "You are number {position} in the queue.",
    },
    "queue_wait": {
        "nn": "Ventetida er om lag {minutes}.",
        "nb": "Ventetiden er omtrent {minutes}.",
        "en": "The expected wait is about {minutes}.",
    },
    "queue_callback_offer": {
        "nn": "Trykk 1 om du heller vil at vi ringjer deg opp.",
        "nb": "Trykk 1 hvis du heller vil at vi ringer deg opp.",
        "en": "Press 1 if you would rather we call you back.",
    },
    "queue_overflow": {
        "nn": (
            "Det er lang ventetid no. Trykk 1 for å bli ringt opp, eller 2 for å få ei "
            "tekstmelding med lenke til sjølvbetening. Du kan òg halde fram med å vente."
        ),
        "nb": (
            "Det er lang ventetid nå. Trykk 1 for å bli ringt opp, eller 2 for å få en "
            "tekstmelding med lenke til selvbetjening. Du kan også fortsette å vente."
        ),
        "en": (
            "The wait is long right now. Press 1 for a call back, or 2 for a text message "
            "with a link to our self-service pages. You can also keep waiting."
        ),
    },
    "queue_closing": {
        "nn": (
            "Sentralbordet har stengt for i dag. Trykk 1 for å bli ringt opp {next}, eller 2 "
            "for ei tekstmelding med lenke til sjølvbetening."
        ),
        "nb": (
            "Sentralbordet har stengt for i dag. Trykk 1 for å bli ringt opp {next}, eller 2 "
            "for en tekstmelding med lenke til selvbetjening."
        ),
        "en": (
            "The switchboard has closed for today. Press 1 to be called back {next}, or 2 "
            "for a text message with a link to our self-service pages."
        ),
    },
    "queue_answered": {
        "nn": "Du blir sett over til ein medarbeidar no.",
        "nb": "Du blir satt over til en medarbeider nå.",
        "en": "You are being connected to an advisor now.",
    },
    "callback_confirmed": {
        "nn": (
            "Takk. Vi ringjer deg opp på nummeret som sluttar på {digits}, {when}. "
            "{retention} Du kan leggje på no."
        ),
        "nb": (
            "Takk. Vi ringer deg opp på nummeret som slutter på {digits}, {when}. "
            "{retention} Du kan legge på nå."
        ),
        "en": (
            "Thank you. We will call you back on the number ending in {digits}, {when}. "
            "{retention} You can hang up now."
        ),
    },
    "callback_retention": {
        "nn": "Vi lagrar nummeret ditt til vi har ringt deg, og slettar det {days} etter.",
        "nb": "Vi lagrer nummeret ditt til vi har ringt deg, og sletter det {days} etter.",
        "en": "We keep your number until we have called you, and delete it {days} after that.",
    },
    "callback_when_free": {
        "nn": "så snart ein medarbeidar er ledig",
        "nb": "så snart en medarbeider er ledig",
        "en": "as soon as an advisor is free",
    },
    "callback_enter_number": {
        "nn": (
            "Tast inn telefonnummeret vi skal ringje deg på, åtte siffer, og avslutt med firkant."
        ),
        "nb": "Tast inn telefonnummeret vi skal ringe deg på, åtte sifre, og avslutt med firkant.",
        "en": (
            "Enter the phone number we should call you on, eight digits, then press the hash key."
        ),
    },
    "callback_read_back": {
        "nn": "Du tasta {spoken}. Trykk 1 om det er rett, eller 2 for å taste på nytt.",
        "nb": "Du tastet {spoken}. Trykk 1 hvis det er riktig, eller 2 for å taste på nytt.",
        "en": "You entered {spoken}. Press 1 if that is right, or 2 to enter it again.",
    },
    "callback_invalid_number": {
        "nn": "Det var ikkje eit gyldig norsk telefonnummer.",
        "nb": "Det var ikke et gyldig norsk telefonnummer.",
        "en": "That was not a valid Norwegian phone number.",
    },
    "sms_sent": {
        "nn": "Vi sender deg no ei tekstmelding med lenke til {site}.",
        "nb": "Vi sender deg nå en tekstmelding med lenke til {site}.",
        "en": "We are sending you a text message with a link to {site}.",
    },
    "sms_keep_place": {
        "nn": "Du held plassen din i køen.",
        "nb": "Du beholder plassen din i køen.",
        "en": "You keep your place in the queue.",
    },
    "sms_mobile_only": {
        "nn": "Vi kan dessverre berre sende tekstmeldingar til norske mobilnummer.",
        "nb": "Vi kan dessverre bare sende tekstmeldinger til norske mobilnumre.",
        "en": "Sorry, we can only send text messages to Norwegian mobile numbers.",
    },
    "sms_body": {
        "nn": "Hei frå {name}. Her finn du tenestene våre: {url} Svar ikkje på denne meldinga.",
        "nb": "Hei fra {name}. Her finner du tjenestene våre: {url} Ikke svar på denne meldingen.",
        "en": "Hello from {name}. Find our services here: {url} Please do not reply.",
    },
    # Referrals (ivr/referral.py): what the municipality does not handle, then back to the menu.
    "referral_sms_offer": {
        "nn": "Vil du få dette på tekstmelding, trykk 1.",
        "nb": "Vil du få dette på tekstmelding, trykk 1.",
        "en": "To get this by text message, press 1.",
    },
    "referral_sms_sent": {
        "nn": "Du får det no på tekstmelding.",
        "nb": "Du får det nå på tekstmelding.",
        "en": "We are sending it to you by text message.",
    },
    "anything_else": {
        "nn": "Kan eg hjelpe deg med noko anna?",
        "nb": "Kan jeg hjelpe deg med noe annet?",
        "en": "Can I help you with anything else?",
    },
    "on_call_transfer": {
        "nn": "Du blir sett over til {description}.",
        "nb": "Du blir satt over til {description}.",
        "en": "You are being transferred to {description}.",
    },
    "on_call_failed": {
        "nn": "Vi fekk dessverre ikkje kontakt med vakttelefonen.",
        "nb": "Vi fikk dessverre ikke kontakt med vakttelefonen.",
        "en": "Sorry, we could not reach the on-call line.",
    },
    "technical_error": {
        "nn": "Orsak, vi har eit teknisk problem.",
        "nb": "Beklager, vi har et teknisk problem.",
        "en": "Sorry, we have a technical problem.",
    },
    "whisper": {
        "nn": (
            "Samtale frå sentralbordet i {name}, til {department}. Trykk 1 for å ta imot samtalen."
        ),
        "nb": (
            "Samtale fra sentralbordet i {name}, til {department}. Trykk 1 for å ta imot samtalen."
        ),
        "en": "Call from the {name} switchboard, for {department}. Press 1 to accept the call.",
    },
    "whisper_declined": {
        "nn": "Samtalen går tilbake til sentralbordet.",
        "nb": "Samtalen går tilbake til sentralbordet.",
        "en": "The call goes back to the switchboard.",
    },
    "whisper_accepted": {
        "nn": "Sett over.",
        "nb": "Sett over.",
        "en": "Connecting.",
    },
    "agent_denied": {
        "nn": "Dette nummeret har ikkje tilgang til sentralbordet.",
        "nb": "Dette nummeret har ikke tilgang til sentralbordet.",
        "en": "This number does not have access to the switchboard.",
    },
    "agent_pin": {
        "nn": "Tast PIN-koden din, og avslutt med firkant.",
        "nb": "Tast PIN-koden din, og avslutt med firkant.",
        "en": "Enter your PIN, then press the hash key.",
    },
    "agent_wrong_pin": {
        "nn": "Feil PIN-kode.",
        "nb": "Feil PIN-kode.",
        "en": "Wrong PIN.",
    },
    "agent_pin_attempts_used": {
        "nn": "Du har brukt opp forsøka i denne samtalen. Ha det.",
        "nb": "Du har brukt opp forsøkene i denne samtalen. Ha det.",
        "en": "You have used up your attempts on this call. Goodbye.",
    },
    "agent_locked_out": {
        "nn": (
            "Det har kome for mange feil PIN-kodar frå dette nummeret. Prøv igjen seinare. Ha det."
        ),
        "nb": (
            "Det har kommet for mange feil PIN-koder fra dette nummeret. Prøv igjen senere. Ha det."
        ),
        "en": "There have been too many wrong PINs from this number. Try again later. Goodbye.",
    },
    "agent_returns_first": {
        "nn": "Innringar som kjem i retur frå ei avdeling.",
        "nb": "Innringer som kommer i retur fra en avdeling.",
        "en": "Caller returned from a department.",
    },
    "agent_return_from": {
        "nn": "Retur frå {department}.",
        "nb": "Retur fra {department}.",
        "en": "Returned from {department}.",
    },
}

_MINUTES: dict[Language, tuple[str, str]] = {
    "nn": ("eitt minutt", "{n} minutt"),
    "nb": ("ett minutt", "{n} minutter"),
    "en": ("one minute", "{n} minutes"),
}


def say(prompt_id: str, language: Language, **fields: object) -> str:
    """The prompt's text in the language, with its fields filled in."""
    return _PROMPTS[prompt_id][language].format(**fields)


# Keys that are not digits, as said: the voices would read "*" as "asterisk" or not at all.
_KEY_NAMES: dict[str, dict[Language, str]] = {
    "*": {"nn": "stjerne", "nb": "stjerne", "en": "star"},
}


def press_for(what: str, key: str, language: Language) -> str:
    """ "For byggesak, trykk 1.", "For andre avdelingar, trykk stjerne." An English option
    that is an infinitive ("to hear this again") takes no "For": "To hear this again, press
    0."."""
    spoken = _KEY_NAMES.get(key, {}).get(language, key)
    if language == "en" and what.startswith("to "):
        return f"{what[:1].upper()}{what[1:]}, press {spoken}."
    return say("press_for", language, what=what, key=spoken)


def minutes(seconds: int, language: Language) -> str:
    """A spoken wait such as "om lag 3 minutt": rounded up, at least one minute."""
    count = max(1, -(-seconds // 60))
    one, many = _MINUTES[language]
    return one if count == 1 else many.format(n=count)


def prompt_ids() -> list[str]:
    return sorted(_PROMPTS)
