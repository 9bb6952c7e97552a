"""Readings the text contradicts: praise the model read on a condemnation, a complaint read on a plain question.

Grounded in tests/triage/devsets/misread_dev.csv (written for this, with its counter-examples). The intent
head learned some words as praise or complaint that carry neither: "honestly" and "new" read as praise ("the
new ad with the kid and the dog is honestly offensive, pull it": praise 63 %), a product's name as a complaint
("where do i find the warranty info for the aero phone 5": complaint 58 %). Two checks, both after the rules
and the first probabilities, both standing aside where a legal, safety or spam rule fired:

- **Praise against the text**: praise that no praise rule read (the model's alone) and no sarcasm reading
  explains, on a text that condemns (an offensive-content word: offensive, tasteless, creepy, "pull it"), or
  that the sentiment head is sure is negative (>= NEGATIVE_SURE) beside a problem topic. The praise is taken
  away and the text counts toward a complaint. A condemnation of the brand's content (an ad) counts toward a
  complaint however the model read it, unless it read a risk or a department's intent (a journalist asking).
- **A plain question**: a message that opens by asking for information ("where do i find", "how do i pair",
  "does it support", "do you deliver to", "is there a warranty") with no sign of a problem: no complaint rule,
  no problem topic, no letdown (sarcasm.letdown: a delay, a loss, a repeat, a wait), not read as negative. It
  counts toward a question and away from a complaint.
"""

from __future__ import annotations

import re

# The sentiment head's P(negative) from which praise beside a problem topic is a contradiction.
NEGATIVE_SURE = 0.6
# Topics that name a problem: praise read beside one on a surely negative text is not praise; a question
# beside one is not plain.
PROBLEM_TOPICS = frozenset({"billing", "refund", "delivery", "account_security", "fraud", "outage", "defect", "pricing",
                            "safety", "privacy", "data_breach", "customer_service", "app", "conduct",
                            "offensive_content"})
# Of those, the ones a plain question may name: asking where to see a bill or how to use the app is no complaint.
QUESTION_PROBLEM_TOPICS = frozenset({"refund", "account_security", "fraud", "outage", "defect", "safety", "conduct",
                                     "offensive_content", "customer_service", "data_breach"})
# Words that condemn what they name (the offensive_content topic): praise read beside them is a misreading.
CONDEMNING_TOPICS = frozenset({"offensive_content"})

_OPENING = r"^(?:(?:@\w+|hi|hey|hello|hiya|morning|quick question)[\s,:!.-]*)*"
_PLAIN_QUESTION = re.compile(
    _OPENING + r"(?:"
    r"(?:where|how) (?:do|can|could|would|should) (?:i|we|you) (?:find|get|download|see|check|buy|set|change|pair|"
    r"turn|use|add|update|book|order|register|bring|access|connect|reach|contact|redeem|track|print)|"
    r"(?:is|are) there (?:a|an|any)|"
    r"(?:does|do|will|can) (?:the|it|this|your|ur|a|an|my) [^?.!]{0,40}?(?:support|come with|work with|fit|include|"
    r"have)|"
    r"do (?:you|u) (?:guys )?(?:deliver|ship|sell|have|stock|offer|open|accept|take|do)|"
    r"what(?:'s| is| are)? (?:time|size|sizes|the|your|ur)|"
    r"when (?:does|do|is|will) (?:the|your|ur)|"
    r"(?:can|could) (?:i|we) (?:return|bring|pay|use|get|buy|change|take|order|book|collect|exchange)"
    r")(?!\w)", re.I)


def plain_question(text: str) -> str | None:
    """The words by which a message opens asking for information, or None."""
    m = _PLAIN_QUESTION.search(text)
    return m.group(0).strip() if m else None


# What a condemnation must name to count toward a complaint when the model did not read praise: the brand's own
# content (an ad, a campaign, a poster), what the default playbook's offensive-ad rule is for. On general tweets a
# condemnation of anyone ("@user disgraceful", "racist rant") is not a complaint to a brand.
CONDEMNED_CONTENT = frozenset({"advertising"})


def condemns(topics: list[str]) -> bool:
    """The text condemns the brand's content ("the new ad is tasteless, pull it"): a complaint, praise or not."""
    return not CONDEMNING_TOPICS.isdisjoint(topics) and not CONDEMNED_CONTENT.isdisjoint(topics)


def praise_against(topics: list[str], negative: float) -> str | None:
    """Why praise the model read is contradicted by the text, or None."""
    condemning = CONDEMNING_TOPICS.intersection(topics)
    if condemning:
        return "condemning words (" + ", ".join(sorted(condemning)) + ")"
    problems = PROBLEM_TOPICS.intersection(topics)
    if negative >= NEGATIVE_SURE and problems:
        return f"negative ({negative:.0%}) about " + ", ".join(sorted(problems))
    return None
