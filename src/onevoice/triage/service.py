"""Triage services: record a responder's correction, retrain from everything we know, switch models on.

A new model version is only switched on when its quality on the held-out sets is not worse than the
active one's, measured on the same sets in the same run; otherwise it is kept, recorded and reported.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from onevoice.errors import InvalidInput, NotFound
from onevoice.messages.models import Message
from onevoice.triage.models import ModelVersion, TriageCorrection
from onevoice.triage.types import INTENTS, SENTIMENTS

CORRECTABLE = ("intent", "sentiment", "team")
# A new version may be this much worse (mean macro-F1) and still count as "not worse": noise, not quality.
TOLERANCE = 0.005


def record_correction(session: Session, message_id: int, field: str, new_value: str,
                      actor: str = "system") -> TriageCorrection:
    """Store a responder's correction as a labelled example and show it on the message's triage."""
    if field not in CORRECTABLE:
        raise InvalidInput(f"field must be one of {CORRECTABLE}, not {field!r}")
    allowed = {"intent": INTENTS, "sentiment": SENTIMENTS}.get(field)
    if allowed and new_value not in allowed:
        raise InvalidInput(f"{field} must be one of {allowed}, not {new_value!r}")
    message = session.get(Message, message_id)
    if message is None:
        raise NotFound(f"message {message_id} not found")
    triage = dict(message.triage or {})
    old = triage.get(field)
    if field == "team":
        from onevoice.cases.models import RoutingDecision

        old = session.scalars(select(RoutingDecision.lead_team)
                              .where(RoutingDecision.message_id == message_id)).first()
    else:
        # A new dict, so the JSON column sees the change.
        message.triage = {**triage, field: new_value, "corrected": {**triage.get("corrected", {}), field: actor}}
    correction = TriageCorrection(message_id=message_id, field=field, old_value=old, new_value=new_value,
                                  text=message.text or "", actor=actor)
    session.add(correction)
    session.flush()
    return correction


def read_examples(path: Path) -> list[tuple[str, str, str]]:
    """An organization's labelled history: a CSV with a `text` column and `intent` and/or `sentiment`."""
    out = []
    with Path(path).open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or "text" not in reader.fieldnames:
            raise InvalidInput(f"{path}: needs a 'text' column and an 'intent' and/or 'sentiment' column")
        for row in reader:
            for head, allowed in (("intent", INTENTS), ("sentiment", SENTIMENTS)):
                label = (row.get(head) or "").strip()
                if label:
                    if label not in allowed:
                        raise InvalidInput(f"{path}: {head} {label!r} is not one of {allowed}")
                    out.append((row["text"], head, label))
    return out


def corrections_as_examples(session: Session) -> list[tuple[str, str, str]]:
    """Latest correction per message and field; team corrections teach routing, not the heads."""
    latest: dict[tuple, TriageCorrection] = {}
    for c in session.scalars(select(TriageCorrection).order_by(TriageCorrection.id)):
        latest[(c.message_id or -c.id, c.field)] = c
    return [(c.text, c.field, c.new_value) for c in latest.values() if c.field in ("intent", "sentiment")]


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

    def to_dict(self) -> dict:
        return self.__dict__.copy()


def train_model(session: Session, model_dir: Path, examples_csv: Path | None = None,
                data_dir: Path | None = None, limit: int | None = None, tolerance: float = TOLERANCE,
                force: bool = False, log=lambda _m: None) -> TrainReport:
    """Retrain every head from public data + seed set + corrections (+ examples), record, maybe activate."""
    from onevoice.triage import datasets
    from onevoice.triage.factory import active_model_path
    from onevoice.triage.heads import Heads
    from onevoice.triage.train import evaluate, fit, quality

    corrections = corrections_as_examples(session)
    extra = corrections + (read_examples(examples_csv) if examples_csv else [])
    splits = datasets.load(data_dir, extra=extra, limit=limit)
    log(f"training on {len(extra)} organization examples ({len(corrections)} corrections) + public + seed")
    heads = fit(splits, log=log)
    new_quality = quality(heads.meta["metrics"])

    active_path = active_model_path(session)
    baseline = Heads.load(active_path)
    baseline_quality = quality(evaluate(baseline, splits))
    activate = force or new_quality >= baseline_quality - tolerance

    path = Path(model_dir) / heads.version
    heads.meta.update(quality=new_quality, baseline={"version": baseline.version, "quality": baseline_quality},
                      examples={"corrections": len(corrections), "extra": len(extra) - len(corrections)})
    heads.save(path)
    escalation = _train_escalation(splits, path, log)
    if activate:
        session.execute(update(ModelVersion).where(ModelVersion.active.is_(True)).values(active=False))
    session.add(ModelVersion(version=heads.version, path=str(path), active=activate, metrics={
        "quality": new_quality, "baseline_version": baseline.version, "baseline_quality": baseline_quality,
        "forced": force and new_quality < baseline_quality - tolerance, "heads": heads.meta["metrics"],
        "examples": heads.meta["examples"], "escalation": escalation}))
    session.flush()
    return TrainReport(version=heads.version, path=str(path), quality=new_quality,
                       baseline_version=baseline.version, baseline_quality=baseline_quality,
                       activated=activate, metrics=heads.meta["metrics"], examples=heads.meta["examples"],
                       escalation=escalation)


def _train_escalation(splits, path: Path, log) -> dict:
    """Escalation heads for the new version, beside its fast heads; scored before anyone switches them on.

    Without the packaged encoder (a trimmed install) the version simply has no escalation heads, and an
    escalating triager falls back to its fast path with a warning.
    """
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
             "created_at": r.created_at.isoformat(), "path": r.path}
            for r in session.scalars(select(ModelVersion).order_by(ModelVersion.id.desc()))]


def dumps(obj) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False, default=str)
