"""High-precision rules that sit next to the trained heads.

Rules do not overwrite the model: each hit adds a fixed amount to one intent's score, so a strong rule
usually wins, a strong opposite model opinion can still beat it, and the explanation shows both. Patterns
cover the languages our customers write in most (en, es, fr, de, it, pt, nl) so that a French legal threat
is not missed just because the intent model was trained on English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_META = set("()[]{}?*+|\\.^$")


def _literal_prefix(alternative: str) -> str:
    """The fixed text every match of this alternative starts with ('' when there is none)."""
    out: list[str] = []
    escaped = False
    for ch in alternative:
        if escaped:
            if ch.isalnum():  # \d, \w, \s...: a class, not a literal
                break
            out.append(ch)
            escaped = False
            continue
        if ch == "\\":
            escaped = True
            continue
        if ch in _META:
            if ch in "?*{" and out:
                out.pop()  # "lawyers?": the s is optional, so the fixed part is "lawyer"
            break
        out.append(ch)
    return "".join(out).lower()


def _split_top(alternative: str) -> list[str]:
    """'a|b(?:c|d)' -> ['a', 'b(?:c|d)']: the branches at nesting depth 0."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(alternative):
        if ch == "\\":
            continue
        depth += ch == "("
        depth -= ch == ")"
        if ch == "|" and depth == 0:
            out.append(alternative[start:i])
            start = i + 1
    return [*out, alternative[start:]]


def _prefixes(alternative: str) -> set[str]:
    """Fixed prefixes of a branch, looking inside a leading '(?:x|y)' group: '(?:is|are) down' -> is, are."""
    if alternative.startswith("(?:"):
        depth = 0
        for i, ch in enumerate(alternative):
            depth += ch == "("
            depth -= ch == ")"
            if depth == 0:
                rest = alternative[i + 1:]
                if rest[:1] in ("?", "*", "{"):
                    return {""}
                return {p for b in _split_top(alternative[3:i]) for p in _prefixes(b + rest)}
    return {_literal_prefix(alternative)}


class Pattern:
    """A word-bounded alternation that skips the regex when none of its fixed prefixes is in the text.

    Python's re has no multi-literal prefilter, and running ~20 large case-insensitive alternations over
    every message cost more than all the models together; a substring test per prefix is ~50 ns.
    """

    __slots__ = ("regex", "prefixes")

    def __init__(self, alternatives: tuple[str, ...]) -> None:
        self.regex = re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.I)
        prefixes = {p for a in alternatives for b in _split_top(a) for p in _prefixes(b)}
        # One alternative without a fixed start means the regex must always run.
        self.prefixes: tuple[str, ...] | None = None if "" in prefixes else tuple(sorted(prefixes))

    def search(self, text: str, lowered: str | None = None) -> re.Match[str] | None:
        if self.prefixes is not None:
            low = lowered if lowered is not None else text.lower()
            if not any(p in low for p in self.prefixes):
                return None
        return self.regex.search(text)


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    intent: str
    boost: float
    pattern: Pattern


def _rx(*alternatives: str) -> Pattern:
    return Pattern(alternatives)


INTENT_RULES: tuple[Rule, ...] = (
    Rule("legal-words", "legal_risk", 3.0, _rx(
        r"lawyers?", r"attorneys?", r"solicitors?", r"su(?:e|ing)(?: you)?", r"lawsuit", r"legal action",
        r"class action", r"small claims", r"see you in court", r"take you to court", r"cease and desist",
        r"letter before action", r"ombudsman", r"trading standards", r"(?:ftc|cfpb|ico|gdpr) complaint",
        r"reported (?:you )?to the (?:regulator|ftc|ico|cfpb|police|data protection authority)",
        r"abogad[oa]s?", r"demanda(?:r|ré)?", r"denunciar?", r"avocats?", r"porter plainte", r"poursuites?",
        r"anwalt|anwältin", r"klage|verklagen", r"avvocat[oi]", r"denuncia", r"advogad[oa]", r"processar",
        r"advocaat", r"rechtszaak")),
    Rule("safety-words", "safety_risk", 3.0, _rx(
        r"caught fire", r"on fire", r"burst into flames", r"explod(?:ed|ing)", r"exploded", r"sparks?",
        r"smoke (?:coming|came|pouring)", r"burn(?:ed|t) (?:my|his|her|our|the)", r"electric shock",
        r"injur(?:ed|y|ies)", r"hospital", r"a&e", r"emergency room", r"food poisoning", r"allergic reaction",
        r"choking hazard", r"carbon monoxide", r"gas (?:smell|leak)", r"could have (?:been )?killed",
        r"fire hazard", r"recall (?:these|this|it)", r"(?:end(?:ing)?|take) my (?:own )?life", r"suicid\w*",
        r"kill myself", r"self[- ]harm", r"can'?t (?:go|keep going) on",
        r"explot[óo]", r"incendio", r"quemadur\w+", r"herid[oa]s?", r"brûlé\w*", r"incendie", r"explosé",
        r"blessé\w*", r"brand verursacht", r"explodiert", r"verletzt", r"esplos\w+", r"ferit[oi]")),
    Rule("spam-words", "spam", 3.0, _rx(
        r"giveaway", r"free (?:followers|likes|views|iphone|gift card)", r"click (?:here|the link)",
        r"link in (?:my )?bio", r"earn \$?\d[\d,]*", r"guaranteed returns?", r"crypto signals?", r"airdrop",
        r"dm (?:me )?(?:for|to win)", r"follow back", r"f4f", r"hot singles", r"sugar daddy",
        r"make money (?:fast|from home)", r"work from home (?:and|to) earn", r"whatsapp \+?\d+",
        r"t\.me/\w+", r"bit\.ly/\w+", r"verify your (?:account|details) here")),
    Rule("job-words", "job_inquiry", 2.5, _rx(
        r"are (?:you|u) (?:guys )?hiring", r"hiring", r"internships?", r"job (?:opening|offer|application|post)s?",
        r"careers? (?:page|portal)", r"my (?:cv|resume|résumé)", r"apply for (?:the|a|your)", r"applied for",
        r"graduate (?:programme|program|scheme)", r"apprenticeships?", r"vacanc(?:y|ies)", r"open (?:roles|positions)",
        r"work (?:placement|visa)s?", r"recruit(?:ing|ers?)", r"interview(?:ed)? for",
        r"busco trabajo", r"empleo", r"candidature", r"offre d'emploi", r"stellenangebot", r"bewerbung")),
    Rule("press-words", "press_inquiry", 2.5, _rx(
        r"journalists?", r"reporters?", r"press (?:office|enquir(?:y|ies)|inquir(?:y|ies)|kit|contact|release)",
        r"media (?:request|relations|team|enquiry|inquiry)", r"newsdesk", r"(?:comment|statement) for (?:a|our|the)",
        r"on the record", r"spokesperson", r"editor at", r"writing (?:a|an) (?:story|article|piece)",
        r"periodista", r"journaliste", r"giornalista", r"pressestelle")),
    Rule("partnership-words", "partnership", 2.5, _rx(
        r"partnerships?", r"partner (?:program(?:me)?|with you)", r"sponsor(?:ship|ing)?", r"collab(?:orate|oration)?",
        r"affiliate", r"reseller program(?:me)?", r"co-?brand(?:ed|ing)?", r"co-?marketing",
        r"ambassador program(?:me)?", r"white[- ]label", r"distributor", r"work together")),
    Rule("sales-words", "sales_lead", 2.0, _rx(
        r"(?:a|formal) quot(?:e|ation)", r"pricing for", r"volume discount", r"bulk (?:order|purchase|buy)",
        r"enterprise (?:plan|quote|pricing)", r"\d+ (?:seats|licen[cs]es|users|units)", r"book a demo",
        r"(?:a|the) demo", r"sales (?:team|call|rep)", r"wholesale", r"fleet (?:discount|leasing|order)",
        r"ready to buy", r"procurement", r"corporate accounts?", r"business plans?")),
    Rule("complaint-words", "complaint", 1.5, _rx(
        r"still waiting", r"never arrived", r"charged (?:me )?twice", r"worst", r"refund", r"not working",
        r"doesn'?t work", r"useless", r"rip-?off", r"scam(?:med)?", r"unacceptable", r"disgusting", r"ridiculous",
        r"never again", r"no (?:reply|response|answer)", r"nobody (?:answers|replies|responds)",
        r"reembolso", r"no funciona", r"remboursement", r"ne fonctionne pas", r"jamais reçue?", r"erstattung",
        r"funktioniert nicht", r"rimborso", r"non funziona", r"reembolso", r"não funciona")),
    Rule("praise-words", "praise", 1.0, _rx(
        r"thank you", r"thanks", r"shout ?out", r"kudos", r"props to", r"love (?:this|my|your|the)",
        r"best (?:service|purchase|customer service)", r"highly recommend", r"well done", r"great job",
        r"gracias", r"merci", r"danke", r"grazie", r"obrigad[oa]")),
    Rule("suggestion-words", "suggestion", 1.5, _rx(
        r"feature request", r"please add", r"you should (?:add|make|offer|sell|bring)", r"it would be (?:nice|great)",
        r"would love to see", r"would be (?:nice|great|helpful)", r"how about (?:a|an|adding)", r"wish list",
        r"consider adding", r"please bring back", r"idea:")),
)

THREAT = _rx(
    r"i(?:'ll| will| am going to|'m gonna| gonna) (?:kill|hurt|shoot|stab|find) (?:you|him|her|them|your)",
    r"burn (?:your|the) (?:store|shop|office|building) down", r"bomb (?:your|the)", r"you(?:'ll| will) regret",
    r"watch your back", r"i know where (?:you|your \w+) (?:live|work)s?", r"death threat", r"shoot up",
)

TOPICS: dict[str, re.Pattern[str]] = {
    "billing": _rx(r"charged", r"bill(?:ed|ing)?", r"invoice", r"overcharg\w+", r"payment", r"subscription fee",
                   r"direct debit"),
    "refund": _rx(r"refunds?", r"money back", r"chargeback", r"reembolso", r"remboursement"),
    "delivery": _rx(r"deliver(?:y|ed)", r"shipping", r"shipment", r"parcel", r"package", r"courier", r"tracking",
                    r"never arrived", r"order (?:hasn'?t|has not|never) arrived"),
    "account_security": _rx(r"hack(?:ed|er)", r"password", r"log ?in", r"2fa", r"two-factor", r"phishing",
                            r"account (?:locked|compromised|taken over)", r"unauthori[sz]ed", r"data breach"),
    "outage": _rx(r"outage", r"(?:is|are|was|went) down", r"not loading", r"status page", r"no signal",
                  r"no internet", r"service down", r"can'?t connect", r"server error", r"50[0-4]"),
    "defect": _rx(r"broken", r"broke", r"defect(?:ive)?", r"faulty", r"stopped working", r"cracked",
                  r"snapped", r"came off", r"malfunction\w*", r"same defect"),
    "pricing": _rx(r"price", r"pricing", r"too expensive", r"price (?:increase|hike)", r"costs? (?:more|too)",
                   r"discount"),
    "safety": INTENT_RULES[1].pattern,
    "privacy": _rx(r"my data", r"personal data", r"privacy", r"gdpr", r"without (?:my )?consent", r"cookies?"),
    "customer_service": _rx(r"customer service", r"on hold", r"support team", r"agent", r"chatbot",
                            r"nobody (?:answers|replies)", r"rude staff"),
    "app": _rx(r"app", r"website", r"update", r"logs? me out", r"crash(?:es|ed|ing)?", r"bug"),
}


def intent_hits(text: str, lowered: str | None = None) -> list[tuple[Rule, str]]:
    """Each rule that matches, with the words that made it match."""
    low = lowered if lowered is not None else text.lower()
    return [(r, m.group(0)) for r in INTENT_RULES if (m := r.pattern.search(text, low))]


def topics(text: str, lowered: str | None = None) -> list[str]:
    low = lowered if lowered is not None else text.lower()
    return [name for name, rx in TOPICS.items() if rx.search(text, low)]


def threat(text: str, lowered: str | None = None) -> str | None:
    m = THREAT.search(text, lowered)
    return m.group(0) if m else None
