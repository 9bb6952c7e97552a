"""A training run as text for the command line: the verdict, then per class, the candidate beside the
active model on the organization's held-out labels first and on the public held-out sets after."""

from __future__ import annotations


def _table(title: str, candidate: dict, active: dict) -> list[str]:
    lines = [title, f"  {'head / class':<34}{'candidate':>10}{'active':>10}{'n':>7}"]
    for head, new in candidate.items():
        old = active.get(head, {})
        lines.append(f"  {head + ' (macro-F1)':<34}{new['macro_f1']:>10.3f}{old.get('macro_f1', float('nan')):>10.3f}"
                     f"{new['n']:>7}")
        for cls, f1 in new.get("per_class", {}).items():
            lines.append(f"    {cls:<32}{f1:>10.3f}{old.get('per_class', {}).get(cls, float('nan')):>10.3f}")
    return lines


def format_train_report(r: dict) -> str:
    verdict = "switched on" if r["activated"] else "kept off"
    lines = [f"model {r['version']}: {verdict}: {r['reason']}",
             f"active before: {r['baseline_version']}; public data: {r['data_source']}; "
             f"your labels: {r['examples'].get('corrections', 0)} corrections + {r['examples'].get('extra', 0)} "
             f"examples, {r['examples'].get('held_out', 0)} held out to judge", ""]
    if r["org"].get("candidate"):
        lines += _table("on your held-out labels (full triage)", r["org"]["candidate"], r["org"].get("active", {}))
    else:
        lines.append("on your held-out labels: none yet (corrections and --examples are held out by a stable hash)")
    lines.append("")
    for head, sets in r["metrics"].items():
        for set_name, new in sets.items():
            old = r.get("baseline_metrics", {}).get(head, {}).get(set_name, {})
            lines += _table(f"public held-out set {set_name}", {head: new}, {head: old})
    lines.append(f"public mean macro-F1: candidate {r['quality']:.4f}, active {r['baseline_quality']:.4f}")
    return "\n".join(lines)
