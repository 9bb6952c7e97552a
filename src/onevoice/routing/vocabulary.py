"""The organization's vocabulary in routing: a named term (or product, or competitor) that carries a team.

Coordinators give entries of the vocabulary (triage/vocabulary.py) a team: "Glimmerdeck" -> sales, "warranty"
-> legal. After the playbook, the first such entry a message names makes its team the lead (the playbook's
lead stays on as a collaborator), and the decision says why. Risks keep their lead: for a safety report, a
legal threat or a journalist the team only collaborates. Spam stays spam. Learned rules (team corrections)
come after this and have the last word.
"""

from __future__ import annotations

from onevoice.routing.types import Decision, RouteInput

# Leads the vocabulary never takes over: the playbook's rules for these are about risk, not subject.
KEEP_LEAD = frozenset({"safety_risk", "legal_risk", "press_inquiry", "spam"})


def apply(decision: Decision, item: RouteInput) -> Decision:
    if decision.close_as_spam:
        return decision
    term = next((t for t in getattr(item.triage, "terms", None) or [] if t.get("team")), None)
    if term is None or decision.lead_team == term["team"]:
        return decision
    team, before = term["team"], decision.lead_team
    if item.triage.intent in KEEP_LEAD and before:
        if team not in decision.collaborators:
            decision.collaborators.append(team)
        why = (f"the organization's vocabulary: {term['kind']} '{term['key']}' brings in {team} "
               f"({before} keeps the lead)")
    else:
        decision.lead_team = team
        if team in decision.collaborators:
            decision.collaborators.remove(team)
        if before and before not in decision.collaborators:
            decision.collaborators.append(before)
        why = f"the organization's vocabulary: {term['kind']} '{term['key']}' goes to {team}" + (
            f" (the playbook said {before}, which collaborates)" if before else "")
    decision.rules.append({"rule": f"vocabulary-{term['key']}", "why": why})
    return decision
