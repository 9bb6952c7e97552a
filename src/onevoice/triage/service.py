"""Triage services: record a responder's correction, retrain from everything we know, switch models on.

A new model version is switched on when it is better on the organization's own held-out labels and not
much worse on the public held-out sets (triage/judge.py), both measured for the new and the active model
in the same run; otherwise it is kept, recorded and reported with the reason.
"""

from __future__ import annotations

import csv
import importlib.util
import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from onevoice.auth.permissions import POLICY_OWNERS, require
from onevoice.auth.principal import Principal
from onevoice.cases.access import actionable_case
from onevoice.errors import InvalidInput, NotFound
from onevoice.messages.models import Message, RoutingDecision
from onevoice.triage import datasets, judge
from onevoice.triage.models import ModelVersion, TriageCorrection
from onevoice.triage.types import INTENTS, SENTIMENTS

CORRECTABLE = ("intent", "sentiment", "team", "complaint")
# A complaint correction says whether the message is a complaint at all (the triage's complaint flag).
COMPLAINT_VALUES = ("yes", "no")
_TRUE = {"1", "yes", "true", "complaint"}
# The heads an organization's labels teach; `onevoice model train` retrains these unless told to do all.
ORG_HEADS = ("sentiment", "intent", "complaint")
_FALSE = {"0", "no", "false", "not_complaint"}


def training_available() -> bool:
    """Whether this install can train (the `train` extra: scikit-learn and scipy)."""
    return all(importlib.util.find_spec(m) is not None for m in ("sklearn", "scipy"))


def record_correction(session: Session, message_id: int, field: str, new_value: str,
                      actor: str = "system") -> TriageCorrection:
    """Store a responder's correction as a labelled example and show it on the message's triage."""
    if field not in CORRECTABLE:
        raise InvalidInput(f"field must be one of {CORRECTABLE}, not {field!r}")
    allowed = {"intent": INTENTS, "sentiment": SENTIMENTS, "complaint": COMPLAINT_VALUES}.get(field)
    if allowed and new_value not in allowed:
        raise InvalidInput(f"{field} must be one of {allowed}, not {new_value!r}")
    message = session.get(Message, message_id)
    if message is None:
        raise NotFound(f"message {message_id} not found")
    triage = dict(message.triage or {})
    old = triage.get(field)
    if field == "team":
        old = session.scalars(select(RoutingDecision.lead_team)
                              .where(RoutingDecision.message_id == message_id)).first()
    else:
        value = new_value == "yes" if field == "complaint" else new_value
        if field == "complaint":
            old = "yes" if old else "no"
        # A new dict, so the JSON column sees the change.
        message.triage = {**triage, field: value, "corrected": {**triage.get("corrected", {}), field: actor}}
    correction = TriageCorrection(message_id=message_id, field=field, old_value=old, new_value=new_value,
                                  text=message.text or "", actor=actor)
    session.add(correction)
    session.flush()
    return correction


def correct_message(session: Session, who: Principal, message_id: int, field: str, new_value: str,
                    actor: str) -> TriageCorrection:
    """A person's correction through the API: one who does not see every team corrects only the messages of
    cases they may act on (as on the case page); an unknown message and one outside them are alike unknown."""
    if not who.sees_all:
        message = session.get(Message, message_id)
        if message is None or message.case_id is None:
            raise NotFound(f"no message {message_id}")
        actionable_case(session, who, message.case_id)
    return record_correction(session, message_id, field, new_value, actor=actor)


def read_examples(path: Path) -> list[tuple[str, str, str]]:
    """An organization's labelled history: a CSV with a `text` column and `intent`, `sentiment` and/or
    `complaint` (1/0, yes/no, true/false)."""
    out = []
    with Path(path).open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or "text" not in reader.fieldnames:
            raise InvalidInput(f"{path}: needs a 'text' column and an 'intent', 'sentiment' and/or 'complaint' column")
        for row in reader:
            for head, allowed in (("intent", INTENTS), ("sentiment", SENTIMENTS)):
                label = (row.get(head) or "").strip()
                if label:
                    if label not in allowed:
                        raise InvalidInput(f"{path}: {head} {label!r} is not one of {allowed}")
                    out.append((row["text"], head, label))
            flag = (row.get("complaint") or "").strip().lower()
            if flag:
                if flag not in _TRUE | _FALSE:
                    raise InvalidInput(f"{path}: complaint {flag!r} is not 1/0, yes/no or true/false")
                out.append((row["text"], "complaint", "yes" if flag in _TRUE else "no"))
    return out


def corrections_as_examples(session: Session) -> list[tuple[str, str, str]]:
    """Latest correction per message and field; team corrections teach routing, not the heads."""
    latest: dict[tuple, TriageCorrection] = {}
    for c in session.scalars(select(TriageCorrection).order_by(TriageCorrection.id)):
        latest[(c.message_id or -c.id, c.field)] = c
    return [(c.text, c.field, c.new_value) for c in latest.values()
            if c.field in ("intent", "sentiment", "complaint")]


@dataclass
class TrainReport:
    version: str
    path: str
    quality: float
    baseline_version: str
    baseline_quality: float
    activated: bool
    metrics: dict
    examples: dict = field(default_factory=dict)
    # The escalation heads of the same version: their own held-out scores, and the full triage's intent and
    # sentiment with and without them (the layer is only used where settings.triage_escalation is on).
    escalation: dict = field(default_factory=dict)
    # Per head, on the organization's held-out labels: the candidate and the active model, per class.
    org: dict = field(default_factory=dict)
    reason: str = ""
    data_source: str = ""
    # The active model on the same public held-out sets, per head and class (beside `metrics`).
    baseline_metrics: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return self.__dict__.copy()


def train_model(session: Session, model_dir: Path, examples_csv: Path | None = None,
                data_dir: Path | None = None, limit: int | None = None, tolerance: float | None = None,
                force: bool = False, all_heads: bool = False, log=lambda _m: None) -> TrainReport:
    """Retrain every head from public data + seed sets + the organization's labels, judge, maybe activate.

    A stable quarter of the organization's labels is held out to judge the candidate against the active
    model (triage/judge.py); when the candidate is switched on it is refitted with all of them.
    Only the heads the organization's labels teach (intent, sentiment, complaint) are retrained unless
    `all_heads`: the others would learn the same public data again, so they keep the active model's weights.
    """
    # Heavy (numpy and the model heads): only a process that trains loads them.
    from onevoice.triage.factory import active_model_path
    from onevoice.triage.heads import Heads
    from onevoice.triage.train import evaluate, fit, predict_head, quality
    from onevoice.triage.triager import FastTriager

    corrections = corrections_as_examples(session)
    extra = corrections + (read_examples(examples_csv) if examples_csv else [])
    org_train, org_holdout = judge.split_org(extra)
    active_path = active_model_path(session)
    baseline = Heads.load(active_path)

    def teacher(texts: list[str]) -> list[str]:
        return predict_head(baseline, "sentiment", texts)

    splits = datasets.load(data_dir, extra=org_train, limit=limit, teacher=teacher)
    source = splits["intent"].source
    log(f"training on {len(org_train)} of {len(extra)} organization labels ({len(corrections)} corrections; "
        f"{len(extra) - len(org_train)} held out to judge) + seed sets + public data ({source})")
    only = None if all_heads else ORG_HEADS
    heads = fit(splits, log=log, base=baseline, only=only)
    new_quality = quality(heads.meta["metrics"])
    baseline_metrics = evaluate(baseline, splits)
    baseline_quality = quality(baseline_metrics)
    org = {"candidate": judge.score_org(FastTriager(heads=heads), org_holdout),
           "active": judge.score_org(FastTriager(heads=baseline), org_holdout)}
    verdict = judge.decide(org["candidate"], org["active"], new_quality, baseline_quality, force,
                           judge.TOLERANCE if tolerance is None else tolerance)
    log(f"judged: {verdict.reason}")
    if verdict.activate and org_holdout:
        # Judged without the held-out labels; what is switched on learns from every one of them.
        heads = fit(datasets.load(data_dir, extra=extra, limit=limit, teacher=teacher), log=log, base=baseline,
                    version=heads.version, only=only)

    path = Path(model_dir) / heads.version
    examples = {"corrections": len(corrections), "extra": len(extra) - len(corrections),
                "held_out": len(extra) - len(org_train)}
    heads.meta.update(quality=new_quality, baseline={"version": baseline.version, "quality": baseline_quality},
                      examples=examples, org=org, verdict=verdict.reason, data_source=source)
    heads.save(path)
    escalation = _train_escalation(splits, path, log)
    if verdict.activate:
        session.execute(update(ModelVersion).where(ModelVersion.active.is_(True)).values(active=False))
    session.add(ModelVersion(version=heads.version, path=str(path), active=verdict.activate, metrics={
        "quality": new_quality, "baseline_version": baseline.version, "baseline_quality": baseline_quality,
        "forced": force, "heads": heads.meta["metrics"], "examples": examples, "escalation": escalation,
        "org": org, "verdict": verdict.reason, "data_source": source, "baseline_heads": baseline_metrics}))
    session.flush()
    return TrainReport(version=heads.version, path=str(path), quality=new_quality,
                       baseline_version=baseline.version, baseline_quality=baseline_quality,
                       activated=verdict.activate, metrics=heads.meta["metrics"], examples=examples,
                       escalation=escalation, org=org, reason=verdict.reason, data_source=source,
                       baseline_metrics=baseline_metrics)


def _train_escalation(splits, path: Path, log) -> dict:
    """Escalation heads for the new version, beside its fast heads; scored before anyone switches them on.

    Without the packaged encoder (a trimmed install) the version simply has no escalation heads, and an
    escalating triager falls back to its fast path with a warning.
    """
    # Heavy (numpy, the sentence encoder): only a process that trains loads them.
    from onevoice.triage.encoder import PACKAGED_ENCODER_DIR, StaticEncoder
    from onevoice.triage.escalation import EscalatingTriager
    from onevoice.triage.train import combined_quality, fit_escalation
    from onevoice.triage.triager import FastTriager

    if not (PACKAGED_ENCODER_DIR / "vectors.npz").is_file():
        log("no escalation encoder in this install: the new version has no escalation heads")
        return {}
    esc = fit_escalation(splits, StaticEncoder(), log=log)
    esc.save(path)
    fast = FastTriager(model_dir=path)
    combined = combined_quality(fast, EscalatingTriager(fast, path), splits)
    esc.meta["combined"] = combined
    esc.save(path)
    log(f"escalation: full triage intent+sentiment macro-F1 {combined['fast_quality']} fast only, "
        f"{combined['escalated_quality']} with escalation")
    return {"heads": esc.meta["metrics"], "fast_quality": combined["fast_quality"],
            "escalated_quality": combined["escalated_quality"], "share_escalated": combined["share_escalated"]}


def activate_version(session: Session, version: str) -> ModelVersion:
    row = session.scalars(select(ModelVersion).where(ModelVersion.version == version)).first()
    if row is None:
        raise NotFound(f"model version {version!r} not found")
    session.execute(update(ModelVersion).where(ModelVersion.active.is_(True)).values(active=False))
    row.active = True
    session.flush()
    return row


def list_versions(session: Session) -> list[dict]:
    return [{"version": r.version, "active": r.active, "quality": (r.metrics or {}).get("quality"),
             "baseline_version": (r.metrics or {}).get("baseline_version"),
             "baseline_quality": (r.metrics or {}).get("baseline_quality"),
             "verdict": (r.metrics or {}).get("verdict"), "org": (r.metrics or {}).get("org") or {},
             "heads": (r.metrics or {}).get("heads") or {}, "examples": (r.metrics or {}).get("examples") or {},
             "baseline_heads": (r.metrics or {}).get("baseline_heads") or {},
             "created_at": r.created_at.isoformat(), "path": r.path}
            for r in session.scalars(select(ModelVersion).order_by(ModelVersion.id.desc()))]


def models_overview(session: Session, who) -> dict:
    """What the models page shows: the versions (newest first, with how each was judged), whether training
    can run here and how to enable it, and where its public data would come from. Coordinators and admins."""
    require(who, POLICY_OWNERS, "see the triage models")
    versions = list_versions(session)
    try:
        source = datasets.public_source(None)
        data = f"shared data at {source}" if source is not None else "packaged with OneVoice"
    except FileNotFoundError as exc:
        data = str(exc)
    corrections = session.scalar(select(func.count(TriageCorrection.id))) or 0
    return {"versions": versions, "latest": versions[0] if versions else None,
            "active": next((v for v in versions if v["active"]), None), "can_train": training_available(),
            "train_hint": "pip install 'onevoice[train]' on the machine that runs `onevoice model train`",
            "data": data, "corrections": corrections}


def dumps(obj) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False, default=str)
