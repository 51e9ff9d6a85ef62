"""The glossary: what every number in the statistics means, for managers, in Nynorsk.

This is the one source. `/glossary` serves it as HTML and `/api/glossary` as JSON, every
number in `/api/stats` links to its entry (`/glossary#<anchor>`), and `docs/glossary.md` is
`glossary_markdown()` written out (a test keeps the two equal). It lives in the package, not
in docs/, because the image ships only the package.

The code words in brackets (connected, bounce, transferred, ...) are the values the system
stores and exports; they are defined once, in `ivr/vocabulary.py`, and a test checks that the
entries here name them all.
"""

from __future__ import annotations

import html
from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    anchor: str
    title: str
    text: str

    @property
    def link(self) -> str:
        return f"/glossary#{self.anchor}"


TERMS: tuple[Term, ...] = (
    Term(
        "call",
        "Anrop",
        "Eitt innkomande anrop til hovudnummeret, kjent på Twilio-ID-en til anropet (CallSid). "
        "Anrop vert talde på den dagen og timen dei kom inn, i norsk tid (Europe/Oslo).",
    ),
    Term(
        "in-progress",
        "Pågåande anrop",
        "Anrop som ikkje er avslutta enno, eller der sluttmeldinga frå Twilio ikkje har kome.",
    ),
    Term(
        "call-outcome",
        "Utfall av anropet",
        "Det første som gjeld: ei overføring vart kopla til (transferred), ein medarbeidar svara "
        "i ein kø (answered), innringaren bad om å bli ringd opp (callback) eller om SMS (sms), "
        "la på i ein kø (abandoned), eller enda i talemenyen (ivr). Anrop som ikkje er avslutta, "
        "er pågåande (in_progress); anrop som avstemminga gav opp, er uavklarte (unresolved). "
        "Same utfall i statistikken og i Prometheus: det står på anropet.",
    ),
    Term(
        "ivr-time",
        "Tid i talemenyen",
        "Sekund frå anropet starta til innringaren kom i kø, vart sett over til ei avdeling, "
        "eller la på. Gjennomsnitt over anropa.",
    ),
    Term(
        "priority",
        "Prioriterte anrop",
        "Anrop der to overføringar til avdelingar ikkje vart kopla til (to avvisingar i same "
        "anrop). Slike innringarar skal ikkje sendast rundt ein gong til.",
    ),
    Term(
        "after-hours",
        "Anrop utanom opningstid",
        "Anrop som kom inn medan sentralbordet var stengt, delte etter kva innringaren fekk: "
        "sett over til ei open avdeling (department), vakttelefon (on_call), tilbakeringing "
        "(callback), SMS med lenkje til sjølvbetening (sms), kø fordi sentralbordet opna medan "
        "dei var i menyen (queue), eller ingenting før dei la på (hung_up).",
    ),
    Term(
        "queue-visit",
        "Købesøk",
        "Eitt opphald i sentralbordkøen. Ein innringar som kjem attende til køen etter ei "
        "overføring som ikkje vart kopla til, gjev eit nytt købesøk. Talt på den timen det "
        "starta.",
    ),
    Term(
        "offered",
        "Tilbodne",
        "Alle købesøk som starta i perioden, også dei som framleis ventar. Ein innringar som la "
        "på under meldinga før køen, kom aldri i kø og er ikkje med (sjå «Ikkje i kø»).",
    ),
    Term(
        "answered",
        "Svara",
        "Ein medarbeidar på sentralbordet tok innringaren ut av køen. Svartida er frå "
        "innringaren kom i kø til medarbeidaren fekk samtalen, ikkje til samtalen slutta.",
    ),
    Term(
        "abandoned",
        "Fråfall",
        "Innringaren la på i køen utan å få svar, etter minst 5 sekund. Korte fråfall (under "
        "5 sekund) er ikkje med. Å leggje på i talemenyen, eller under meldinga før køen, er "
        "ikkje fråfall: det er ikkje noko købesøk.",
    ),
    Term(
        "short-abandon",
        "Korte fråfall",
        "Innringaren la på i køen innan 5 sekund. Dei er haldne utanfor både fråfall og "
        "servicenivå.",
    ),
    Term(
        "queue-callback",
        "Tilbakeringing frå køen",
        "Købesøket enda med at innringaren bad om å bli ringd opp. Det er korkje svara eller "
        "fråfall, og er halde utanfor servicenivået.",
    ),
    Term(
        "closing",
        "Kø ved stenging",
        "Innringaren stod framleis i kø då sentralbordet stengde, og fekk tilbod om "
        "tilbakeringing då fristen etter stengetid var ute. Tel mot servicenivået.",
    ),
    Term(
        "redirected",
        "Flytta ut av køen",
        "Ein medarbeidar flytte innringaren ut av køen, til dømes rett til ei avdeling, utan å "
        "svare i køen. Det er ikkje fråfall, og er halde utanfor servicenivået.",
    ),
    Term("queue-error", "Feil i køen", "Twilio melde feil, eller køen var full."),
    Term("waiting", "Ventar", "Købesøk som ikkje er avslutta enno."),
    Term(
        "not-joined",
        "Ikkje i kø",
        "Innringaren valde sentralbordet, men la på under meldinga før køen. Twilio melde "
        "aldri at innringaren gjekk ut av køen, og anropet enda utan svar: det er ikkje noko "
        "købesøk, og er halde utanfor tilbodne, fråfall og servicenivå. Den som legg på i "
        "køen, vert alltid meld av Twilio (QueueResult=hangup), og er fråfall.",
    ),
    Term(
        "service-level",
        "Servicenivå",
        "Delen av købesøka som vart svara innan T sekund (standard 20 s, mål 80 %). Berre "
        "besøk som starta i opningstida og er avslutta, er med, og berre innringarar som kom "
        "i kø. Utrekning: svara innan T / (avslutta besøk − korte fråfall − "
        "tilbakeringingar − flytta).",
    ),
    Term(
        "answered-within",
        "Svara innan T",
        "Købesøk i opningstida som vart svara innan T sekund: teljaren i servicenivået.",
    ),
    Term(
        "service-level-base",
        "Grunnlag for servicenivå",
        "Avslutta købesøk i opningstida, utan korte fråfall, tilbakeringingar og flytta besøk: "
        "nemnaren i servicenivået.",
    ),
    Term(
        "asa",
        "Gjennomsnittleg svartid (ASA)",
        "Gjennomsnittleg ventetid i køen, i sekund, for købesøk som vart svara.",
    ),
    Term(
        "abandonment-rate",
        "Fråfallsdel",
        "Fråfall / (tilbodne købesøk − korte fråfall). Korte fråfall (under 5 sekund) er "
        "tekne ut av både teljaren og nemnaren.",
    ),
    Term(
        "transfer",
        "Overføring",
        "Ei oppringing frå tenesta til ei avdeling, starta frå talemenyen eller av ein "
        "medarbeidar. Talt på den timen ho starta.",
    ),
    Term(
        "initiator",
        "Starta av",
        "Kven som sette i gang overføringa: talemenyen (ivr) eller ein medarbeidar (agent). "
        "Strategien sitt mål om 20 % gjeld overføringane til medarbeidarane.",
    ),
    Term(
        "connected",
        "Kopla til",
        "Ein person i avdelinga tok imot samtalen ved å trykkje ein tast då kviskremeldinga "
        "«samtale frå sentralbordet» vart spela. At telefonen svara, er ikkje nok: ein "
        "telefonsvarar eller ein automatisk sentral svarar òg.",
    ),
    Term(
        "transfer-outcome",
        "Utfall av overføringa",
        "Kopla til (connected), ikkje svar (no_answer), oppteke (busy), feil (failed), avvist i "
        "kviskremeldinga (declined), innringaren la på (caller_hung_up), eller ventar på svar "
        "(pending).",
    ),
    Term(
        "returned-transfer",
        "Returnert overføring (retur)",
        "Ei overføring der innringaren kom attende til sentralbordet. Kvar retur høyrer til "
        "nøyaktig éi overføring, og er éin av tre slag: bounce, hand_back eller recall. Ei "
        "overføring returnerer høgst éin gong: til det første anropet som kom attende frå ho.",
    ),
    Term(
        "bounce",
        "Avvist (bounce)",
        "I same anrop vart overføringa ikkje kopla til (ikkje svar, oppteke, feil eller avvist), "
        "og innringaren kom attende til sentralbordkøen, eller til stengt-menyen om "
        "sentralbordet hadde stengt.",
    ),
    Term(
        "hand-back",
        "Sendt attende (hand_back)",
        "Eit nytt anrop frå nummeret til ei avdeling (eller vakttelefonen hennar): avdelinga "
        "sende innringaren attende. Anropet høyrer til éi overføring: den overføringa til "
        "avdelinga som sist vart kopla til og framleis var i gang då anropet kom (den første "
        "samtalen var framleis kopla til); elles den overføringa til avdelinga som sist enda, "
        "om ho enda innan 24 timar før anropet. Eit anrop frå innringaren sjølv medan ei "
        "overføring til innringaren framleis var i gang, er òg hand_back, til den som sist vart "
        "kopla til. Går føre recall.",
    ),
    Term(
        "recall",
        "Ringde att (recall)",
        "Same innringar ringjer hovudnummeret att innan 24 timar etter at ei overføring som "
        "vart kopla til, enda. Vindauget tel frå då innringaren gjekk frå avdelinga, ikkje frå "
        "då overføringa starta. Anropet høyrer til den overføringa til innringaren som sist "
        "enda. Innringaren er kjend på eit nøkla pseudonym, aldri på telefonnummeret; løynde "
        "nummer vert aldri kjende att.",
    ),
    Term(
        "return-rate",
        "Returdel",
        "Returnerte overføringar / overføringar, for overføringar som starta i perioden. Dette "
        "er strategien sine «20 %». Gruppert på slag er nemnaren alle overføringane, så dei tre "
        "slaga summerer seg til heile returdelen.",
    ),
    Term(
        "cause",
        "Årsak (cause)",
        "Det oppringinga melde for ei avvist overføring: no_answer, busy, failed eller declined.",
    ),
    Term(
        "reason",
        "Grunn (reason)",
        "Det medarbeidaren merkte då den returnerte innringaren kom attende: feil avdeling "
        "(wrong_department), ikkje svar (no_answer), avdelinga stengd (department_closed), "
        "ville til sentralbordet (wanted_switchboard), eller anna (other), med ein kort merknad "
        "om medarbeidaren vil. Merknaden seier kvifor, aldri kven: ingen namn, telefonnummer "
        "eller saksopplysningar. Returar som ingen har merkt enno, er «Ikkje merkt» (untagged). "
        "Ein retur kan merkjast om att; då gjeld den nye grunnen. Gruppert på grunn er nemnaren "
        "alle overføringane, så grunnane summerer seg til heile returdelen.",
    ),
    Term(
        "callback",
        "Tilbakeringing",
        "Innringaren bad om å bli ringd opp. Status: ventar (pending), gjort (done) eller "
        "avlyst (cancelled). Talt på den timen anropet kom inn.",
    ),
    Term(
        "callback-time",
        "Tid til tilbakeringing",
        "Median tid, i sekund, frå innringaren bad om tilbakeringing til ho vart merkt som gjort.",
    ),
    Term(
        "sms",
        "SMS med lenkje",
        "SMS med lenkje til sjølvbetening som innringaren bad om: sende, og dei som ikkje kunne "
        "sendast (feil, eller ikkje eit norsk mobilnummer). Talt på den timen anropet kom inn.",
    ),
    Term(
        "deflection",
        "Avleiing",
        "Anrop der innringaren fekk SMS-lenkja og korkje vart svara på sentralbordet eller "
        "kopla til ei avdeling: sjølvbetening i staden for kø.",
    ),
)

TERM_BY_ANCHOR = {term.anchor: term for term in TERMS}

# The return reasons (ivr/vocabulary.py RETURN_REASONS) in words, as /api/stats labels its
# groups and the dashboard names its bars; `untagged` is a return no agent has tagged yet.
REASON_LABELS: dict[str, str] = {
    "wrong_department": "Feil avdeling",
    "no_answer": "Ikkje svar",
    "department_closed": "Avdelinga stengd",
    "wanted_switchboard": "Ville til sentralbordet",
    "other": "Anna",
    "untagged": "Ikkje merkt",
}

_INTRO = (
    "Kva tala i statistikken tyder. Tidspunkt er lagra i UTC og gruppert i norsk tid "
    "(Europe/Oslo): time 0–23 og vekedag (måndag = 0). Kodeorda i parentes (som connected "
    "eller bounce) er dei verdiane systemet lagrar og eksporterer; dei er definerte éin stad, "
    "i ivr/vocabulary.py."
)


def glossary_markdown() -> str:
    lines = ["# Ordliste for statistikken", "", _INTRO, ""]
    for term in TERMS:
        lines += [f'<a id="{term.anchor}"></a>', "", f"## {term.title}", "", term.text, ""]
    return "\n".join(lines)


def glossary_html() -> str:
    entries = "\n".join(
        f'<dt id="{term.anchor}">{html.escape(term.title)}</dt>\n<dd>{html.escape(term.text)}</dd>'
        for term in TERMS
    )
    return (
        '<!doctype html>\n<html lang="nn">\n<head><meta charset="utf-8">'
        "<title>Ordliste for statistikken</title></head>\n<body>\n"
        f"<h1>Ordliste for statistikken</h1>\n<p>{html.escape(_INTRO)}</p>\n"
        f"<dl>\n{entries}\n</dl>\n"
        "</body>\n</html>\n"
    )
