"""The demo's (and a new organization's) starting governance: guard rules, approval rules, a first policy
version and training modules. Safe to call on every start: only what is missing is created."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onevoice.auth.principal import SYSTEM
from onevoice.governance import approval_rules, guard_rules, policy
from onevoice.governance.models import TrainingModule

POLICY_TITLE = "Social media policy"
POLICY = """\
# Social media policy

We want everyone at Acme to talk about their work. This policy keeps what we say **true, kind and safe**.

## When you speak for Acme
- Only answer on the organization's accounts through OneVoice, so every reply is checked and recorded.
- Use the approved answers and key messages in the library; do not promise what we cannot deliver.
- Never post personal data: no email addresses, phone numbers, order or card numbers, home addresses.
  Move the conversation to a direct message instead.
- No claims about health, money or safety ("guaranteed", "cure", "risk-free") without Legal's approval.

## When you speak for yourself
- Say that the views are your own, and disclose when you are paid or given something: use **#ad**.
- Do not share confidential information, unreleased products, or anything about customers.

## When something goes wrong
Tell the social lead at once. Do not argue in public; a calm, short answer and a direct message is best.
"""
MODULES = (
    ("basics", "Speaking with one voice", 5,
     "Why every reply goes through OneVoice, how the library helps, and who to ask when unsure."),
    ("privacy", "Personal data on social media", 5,
     "What counts as personal data, why it must never be posted, and how to move a customer to a DM."),
    ("disclosure", "Disclosure and claims", 4,
     "When to add **#ad**, and which claims (health, money, safety) need Legal's approval first."),
)


def seed_governance(session: Session) -> dict:
    """Default guard rules, approval rules (when the teams exist), policy v1 and training modules."""
    added = {"guard_rules": guard_rules.seed_default_rules(session),
             "approval_rules": approval_rules.seed_default_rules(session), "policy": 0, "training": 0}
    if policy.current_version(session) is None:
        policy.publish(session, SYSTEM, POLICY_TITLE, POLICY, "First version")
        added["policy"] = 1
    have = set(session.scalars(select(TrainingModule.key)))
    for key, title, minutes, body in MODULES:
        if key not in have:
            policy.save_module(session, SYSTEM, key, title, body, minutes)
            added["training"] += 1
    return added
