"""Simulated inbound traffic for the demo organization (the sandbox connector's source).

Realistic mix: complaints, questions, praise, sales leads, job questions, press, partnerships, legal
threats, safety reports, spam; replies in threads; the same customer writing again on another channel.
Deterministic for a given seed, so tests can rely on it.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import NamedTuple

PRODUCTS = ["Nimbus Router", "Nimbus Cloud", "Aero Phone 5", "Aero Buds", "SmartHome Hub"]
FIRST = ["Ana", "Ben", "Chloé", "Dmitri", "Emeka", "Fatima", "Giulia", "Hiro", "Ines", "Jamal", "Kofi",
         "Lena", "Mateo", "Nadia", "Oskar", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Wei", "Yara", "Zoe"]
LAST = ["Silva", "Novak", "Okafor", "Tanaka", "Müller", "Haddad", "Rossi", "Kowalski", "Singh", "Brown"]

class Template(NamedTuple):
    """A message the simulated customers send, with what it is and which team should lead it.

    The expected intent and lead team are part of the definition, so a test can hold the triage and the
    default playbook to them (a demo whose first screen shows HR holding product questions misleads).
    """

    text: str
    intent: str
    lead: str | None  # None: closed as spam, no team leads


def _t(intent: str, lead: str | None, *texts: str) -> list[Template]:
    return [Template(text, intent, lead) for text in texts]


TEMPLATES: dict[str, list[Template]] = {
    "complaint": _t(
        "complaint", "support",
        "@acme my {p} stopped working after the last update. Third time this month. Really disappointed.",
        "Ordered a {p} two weeks ago and it never arrived. Order #{n}. Nobody answers support emails.",
        "You charged me twice for {p}! Refund please, this is ridiculous @acme",
        "The {p} keeps dropping the connection every hour. Worst purchase I've made this year.",
        "Still waiting on my refund for the {p}, it's been 3 weeks. Terrible service.",
    ),
    "question": _t(
        "question", "support",
        "@acme how do I reset my {p} to factory settings?",
        "Does the {p} work with Apple Home? Can't find it in the docs.",
        "When will the {p} be back in stock in Canada?",
        "Is there a way to export my data from {p}?",
    ),
    "praise": _t(
        "praise", "marketing",
        "Shout out to @acme support, fixed my {p} in 5 minutes. Amazing team!",
        "Loving my new {p}. Best upgrade this year, thank you @acme",
        "The new {p} update is fantastic, battery lasts twice as long 🙌",
    ),
    "sales_lead": _t(
        "sales_lead", "sales",
        "@acme we're a 200-person company looking at {p} for the whole office. Who can send us a quote?",
        "Interested in an enterprise plan for {p}, 50 seats. Can someone from sales reach out?",
        "What's the pricing for {p} for schools? We'd need around 300 licences.",
    ),
    "job_inquiry": _t(
        "job_inquiry", "hr",
        "Hi @acme, are you hiring support engineers in Lisbon? Would love to apply.",
        "Is the product designer position still open? Sent my CV last week.",
        "Do you offer internships for students next summer?",
    ),
    "press_inquiry": _t(
        "press_inquiry", "pr",
        "Journalist at TechDaily here: could someone at @acme comment for a story on the {p} recall rumours?",
        "Reporter with City News, looking for a comment on today's outage. Please DM.",
    ),
    "partnership": _t(
        "partnership", "sales",
        "We run a network of 40 electronics stores and would like to become a reseller for {p}.",
        "Would @acme be interested in a sponsorship for our gaming tournament next month?",
    ),
    "legal_risk": _t(
        "legal_risk", "support",
        "Your {p} leaked my personal data. I've contacted my lawyer and will be filing a complaint with the regulator.",
        "If I don't get my money back for the {p} by Friday I'm taking legal action against @acme.",
    ),
    "safety_risk": _t(
        "safety_risk", "support",
        "My {p} got extremely hot while charging and started to smoke. My kid was right next to it. This is dangerous!",
        "The {p} charger burned my hand. Had to go to the hospital. @acme what is going on?",
    ),
    "suggestion": _t(
        "suggestion", "product",
        "@acme you should add a dark mode to the {p} app, would be great at night.",
        "Feature request: let the {p} schedule updates overnight instead of during the day.",
    ),
    "spam": _t(
        "spam", None,
        "🎁 GIVEAWAY! Click here to get 10,000 free followers now 👉 bit.ly/fr33",
        "Earn $500 a day from home with crypto, DM me to win!!!",
    ),
}
WEIGHTS = {"complaint": 28, "question": 20, "praise": 12, "sales_lead": 8, "job_inquiry": 5, "press_inquiry": 3,
           "partnership": 3, "legal_risk": 3, "safety_risk": 2, "suggestion": 6, "spam": 10}
# Replies in a thread: they join the case they answer, but are triaged like any message.
FOLLOW_UPS = [
    Template("Any update on this? Still not fixed.", "complaint", "support"),
    Template("Thanks, that worked!", "praise", "marketing"),
    Template("I sent the order number by DM.", "other", "support"),
    Template("This is the third time I'm asking. Hello??", "complaint", "support"),
]
PHOTO_INTENTS = {"complaint": "photo from the customer", "safety_risk": "photo of what happened"}
KIND_BY_CHANNEL = {"mail": "direct", "reviews": "review"}


class SandboxTraffic:
    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.counter = 0
        self.people = [self._person(i) for i in range(400)]
        # Recent messages per channel, so that some new ones reply in their thread.
        self.recent: dict[str, list[tuple[str, dict]]] = {}
        # People who already wrote, and where (to write again on another channel).
        self.wrote: list[tuple[dict, str]] = []

    def _person(self, i: int) -> dict:
        # Who `user-i` is depends on i alone, not on the generator's seed: the demo's history and each
        # channel's live traffic run generators with different seeds, and the same account must keep its
        # name and handle across them (else a live message from user-291 named someone else than its contact).
        who = random.Random(f"person-{i}")
        first, last = who.choice(FIRST), who.choice(LAST)
        reach = who.choice([12, 80, 240, 900, 3_400, 15_000, 120_000]) if i % 9 else 250_000
        return {"external_id": f"user-{i}", "handle": f"@{first.lower()}{last.lower()[:3]}{i}",
                "name": f"{first} {last}", "followers": reach}

    def next_batch(self, channel_key: str, n: int = 1, now: datetime | None = None) -> list[dict]:
        return [self.next_message(channel_key, now) for _ in range(n)]

    def next_message(self, channel_key: str, now: datetime | None = None) -> dict:
        rng = self.rng
        self.counter += 1
        now = now or datetime.now(UTC)
        external_id = f"{channel_key}-{int(now.timestamp())}-{self.counter}-{rng.randrange(10**6)}"
        recent = self.recent.setdefault(channel_key, [])
        roll = rng.random()
        if recent and roll < 0.15:
            parent_id, author = rng.choice(recent[-30:])
            text, in_reply_to = rng.choice(FOLLOW_UPS).text, parent_id
        else:
            in_reply_to = None
            if self.wrote and roll < 0.25:
                author, _earlier = rng.choice(self.wrote[-100:])
            else:
                author = rng.choice(self.people)
            intent = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
            text = rng.choice(TEMPLATES[intent]).text.format(p=rng.choice(PRODUCTS), n=rng.randrange(10_000, 99_999))
        message = {
            "channel": channel_key, "external_id": external_id,
            "kind": "comment" if in_reply_to else KIND_BY_CHANNEL.get(channel_key.split("-")[-1], "mention"),
            "author": dict(author), "text": text, "created_at": now.isoformat(), "in_reply_to": in_reply_to,
            "url": f"https://sandbox.invalid/{channel_key}/{external_id}",
            "raw": {"sandbox": True, "seq": self.counter},
        }
        if in_reply_to is None and intent in PHOTO_INTENTS and self.counter % 4 == 0:
            # Customers show what went wrong; counted, not drawn, so the seeded sequence stays the same.
            message["attachments"] = [{"type": "image", "url": f"https://sandbox.invalid/media/{external_id}.jpg",
                                       "alt": PHOTO_INTENTS[intent]}]
        recent.append((external_id, author))
        del recent[:-200]
        self.wrote.append((author, channel_key))
        del self.wrote[:-500]
        return message
