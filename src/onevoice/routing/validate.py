"""Check a playbook draft and say, for each problem, on which line and what is wrong.

`Playbook.from_yaml` stops at the first problem and names the rule; an editor needs every problem and the
line to look at. The YAML is composed once more into nodes (which keep their positions) so each rule and
SLA policy can be checked on its own and its problems reported at its own line.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from onevoice.routing.playbook import Playbook, PlaybookError, sla_policy

# A draft larger than this is not a playbook someone wrote by hand (and YAML parsing is not free).
MAX_SOURCE = 200_000


@dataclass(frozen=True)
class Problem:
    line: int | None  # 1-based; None when the problem is the whole text
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message

    def to_dict(self) -> dict:
        return {"line": self.line, "message": self.message}


def _mapping_items(node) -> dict:
    """key -> (key node, value node) of a YAML mapping node."""
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {k.value: (k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)}


def check(source: str, teams: set[str] | None = None) -> list[Problem]:
    """Every problem of a playbook draft, each with its line; an empty list means it is valid.

    `teams`: the team keys that exist; a rule naming another team is a problem (it would route to nobody).
    """
    if not source or not source.strip():
        return [Problem(None, "the playbook is empty")]
    if len(source) > MAX_SOURCE:
        return [Problem(None, f"the playbook is longer than {MAX_SOURCE:,} characters")]
    try:
        data = yaml.safe_load(source)
        root = yaml.compose(source)
    except RecursionError:  # PyYAML recurses per nesting level: "[[[[..." thousands deep exhausts the stack
        return [Problem(None, "not valid YAML: nested too deeply")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        what = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        return [Problem(mark.line + 1 if mark else None, f"not valid YAML: {what}" + (f" ({context})"
                                                                                    if context else ""))]
    if not isinstance(data, dict):
        return [Problem(1, "a playbook is a mapping with name, sla_policies and a list of rules")]
    top = _mapping_items(root)
    problems: list[Problem] = []

    def line(node) -> int:
        return node.start_mark.line + 1

    policies = {}
    spec = data.get("sla_policies") or {}
    if not isinstance(spec, dict):
        problems.append(Problem(line(top["sla_policies"][0]), "sla_policies must be a mapping of name to policy"))
        spec = {}
    policy_nodes = _mapping_items(top["sla_policies"][1]) if "sla_policies" in top else {}
    for name, p in spec.items():
        try:
            policies[name] = sla_policy(name, p)
        except PlaybookError as exc:
            node = policy_nodes.get(str(name))
            problems.append(Problem(line(node[0]) if node else None, str(exc)))
    default_sla = data.get("default_sla")
    if default_sla and default_sla not in spec:
        problems.append(Problem(line(top["default_sla"][1]),
                                f"default_sla {default_sla!r} is not one of the sla_policies ({', '.join(spec)})"))

    rules = data.get("rules")
    if not isinstance(rules, list):
        where = line(top["rules"][0]) if "rules" in top else None
        problems.append(Problem(where, "the playbook needs `rules:`, a list of rules"))
        return problems
    rule_nodes = top["rules"][1].value if isinstance(top["rules"][1], yaml.SequenceNode) else []
    names: dict[str, int] = {}
    for i, r in enumerate(rules):
        at = line(rule_nodes[i]) if i < len(rule_nodes) else None
        try:
            rule = Playbook._rule(i, r, {**policies, **{n: None for n in spec if n not in policies}})
        except PlaybookError as exc:
            problems.append(Problem(at, str(exc)))
            continue
        if rule.name in names:
            problems.append(Problem(at, f"rule {rule.name}: the name is already used by the rule on line "
                                        f"{names[rule.name]}"))
        names.setdefault(rule.name, at or 0)
        if teams is not None:
            named = [rule.then.get("lead"), *_as_list(rule.then.get("collaborators"))]
            for team in [t for t in named if t and t not in teams]:
                problems.append(Problem(at, f"rule {rule.name}: there is no team {team!r} "
                                            f"(teams: {', '.join(sorted(teams))})"))
    return problems


def _as_list(v) -> list:
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def parse(source: str, teams: set[str] | None = None, version: str | None = None) -> Playbook:
    """The playbook, or PlaybookError listing every problem with its line."""
    problems = check(source, teams)
    if problems:
        raise PlaybookError("; ".join(str(p) for p in problems))
    return Playbook.from_yaml(source, version=version)
