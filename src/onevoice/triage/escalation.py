"""The escalation layer: a sentence-embedding model for the messages the fast path is unsure about.

`EscalatingTriager` wraps any fast triager. After the fast path has answered a batch, the English
messages whose intent confidence is low, or whose sentiment score sits near a class boundary, are
embedded with the static encoder (`triage/encoder.py`) and read by small logistic-regression heads
(`escalation.npz` in the model version's directory, trained with the fast heads). The two answers are
averaged with a fixed weight, so neither silently wins; the explanation says what each said and
`scores["escalation"]` carries both. Urgency is recomputed when intent or sentiment changed.

Everything loads on first use, so a worker's cold start does not pay for the encoder, and a missing or
mismatched artifact logs a warning and leaves the fast answers as they are.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import threading
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from onevoice.triage import complaint as complaint_signal
from onevoice.triage import rules
from onevoice.triage.dense import DenseSignals
from onevoice.triage.encoder import StaticEncoder
from onevoice.triage.heads import PACKAGED_MODEL_DIR
from onevoice.triage.transformer import SentimentTransformer
from onevoice.triage.types import INTENTS, SENTIMENTS, TriageInput, TriageResult
from onevoice.triage.urgency import urgency_for

log = logging.getLogger(__name__)

HEADS_FILE, META_FILE = "escalation.npz", "escalation.json"
ENGLISH = ("en", "und")
RUNNER_UP_GAP = 0.3  # as on the fast path: a runner-up this close is reported


@dataclass(frozen=True, slots=True)
class Policy:
    """When a message is unsure, and how much the fast answer weighs in the combination.

    Picked on the held-out sets (bench/bench_escalation.py --tune); see bench/README.md "Escalation".
    """

    intent_below: float = 0.5       # fast intent confidence under this escalates
    polar_within: float = 0.2       # a negative/positive answer with |score| under this escalates
    neutral_beyond: float = 0.3     # a neutral answer with |score| over this escalates
    fast_weight: float = 0.5        # weight of the fast answer in the average (the encoder gets the rest)
    # With the fine-tuned sentiment transformer (triage/transformer.py) installed, sentiment is averaged from
    # three opinions: the fast answer, the static encoder's head and the transformer, with these weights,
    # and these thresholds decide which sentiment answers are unsure.
    sentiment_weights: tuple[float, float, float] = (0.2, 0.0, 0.8)
    transformer_polar_within: float = 0.4
    transformer_neutral_beyond: float = 0.15


DEFAULT_POLICY = Policy()


class EscalationHeads:
    """Logistic-regression heads over the encoder's embedding: one weight matrix, numpy at run time."""

    def __init__(self, weights: np.ndarray, bias: np.ndarray, meta: dict) -> None:
        self.weights = np.ascontiguousarray(weights, dtype=np.float32)
        self.bias = bias.astype(np.float32)
        self.meta = meta
        self.heads = {h["name"]: (h["classes"], h["start"], h["end"]) for h in meta["heads"]}

    @classmethod
    def exists(cls, model_dir: Path) -> bool:
        return (model_dir / HEADS_FILE).is_file() and (model_dir / META_FILE).is_file()

    @classmethod
    def load(cls, model_dir: Path) -> EscalationHeads:
        meta = json.loads((model_dir / META_FILE).read_text(encoding="utf-8"))
        with np.load(model_dir / HEADS_FILE) as z:
            return cls(z["weights"], z["bias"], meta)

    def save(self, model_dir: Path) -> None:
        model_dir.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(model_dir / HEADS_FILE, weights=self.weights, bias=self.bias)
        (model_dir / META_FILE).write_text(json.dumps(self.meta, indent=1, sort_keys=True), encoding="utf-8")

    def probabilities(self, embeddings: np.ndarray) -> dict[str, np.ndarray]:
        logits = embeddings @ self.weights + self.bias
        out = {}
        for name, (_, start, end) in self.heads.items():
            z = logits[:, start:end]
            e = np.exp(z - z.max(axis=1, keepdims=True))
            out[name] = e / e.sum(axis=1, keepdims=True)
        return out

    def predict(self, embeddings: np.ndarray, name: str) -> list[str]:
        classes = self.heads[name][0]
        return [classes[i] for i in self.probabilities(embeddings)[name].argmax(axis=1)]


def features(encoder, dense, texts: list[str]) -> np.ndarray:
    """What the escalation heads read: the sentence embedding, plus the fast path's dense signals (VADER,
    question mark, exclamations, caps, length), which a mean of token vectors blurs."""
    return np.hstack([encoder.encode(texts), dense.matrix(texts)])


def fast_intent_distribution(result: TriageResult) -> dict[str, float]:
    """What the fast answer says about every intent, from the fields it reports.

    The winner keeps its confidence; a named runner-up gets half of the rest, but never more than the winner (a
    winner at 27 % gave its runner-up 36.5 %: the fast answer's order turned over); the others share the rest.
    """
    conf = result.intent_confidence
    dist = dict.fromkeys(INTENTS, 0.0)
    rest = 1.0 - conf
    others = [c for c in INTENTS if c not in (result.intent, result.intent_runner_up)]
    if result.intent_runner_up:
        dist[result.intent_runner_up] = second = min(rest / 2, conf)
        rest -= second
    for c in others:
        dist[c] = rest / len(others)
    dist[result.intent] = conf
    return dist


def fast_sentiment_distribution(result: TriageResult) -> dict[str, float]:
    """The fast sentiment as a distribution: its score is P(positive) - P(negative), its label the arg-max."""
    s = result.sentiment_score
    if result.sentiment == "neutral":
        top = 1.0 - 0.5 * abs(s)
        lean = "positive" if s > 0 else "negative"
        other = "negative" if lean == "positive" else "positive"
        return {"neutral": top, lean: (1 - top) * 2 / 3, other: (1 - top) / 3}
    top = 0.5 + 0.5 * abs(s)
    opposite = "negative" if result.sentiment == "positive" else "positive"
    return {result.sentiment: top, "neutral": (1 - top) * 2 / 3, opposite: (1 - top) / 3}


def unsure(result: TriageResult, policy: Policy = DEFAULT_POLICY, transformer: bool = False) -> list[str]:
    """Why the fast answer is unsure (empty when it is sure, or the text is not English).

    transformer: the sentiment transformer is there, so its own thresholds decide for sentiment.
    """
    if result.language not in ENGLISH:
        return []  # the encoder is English; non-English messages go to review instead
    why = []
    if result.intent_confidence < policy.intent_below:
        why.append(f"intent {result.intent_confidence:.0%} sure")
    s = abs(result.sentiment_score)
    polar, neutral = ((policy.transformer_polar_within, policy.transformer_neutral_beyond) if transformer
                      else (policy.polar_within, policy.neutral_beyond))
    if (result.sentiment != "neutral" and s < polar) or (result.sentiment == "neutral" and s > neutral):
        why.append(f"sentiment {result.sentiment} at {result.sentiment_score:+.2f}")
    return why


def combine(fast: dict[str, float], encoder: dict[str, float], fast_weight: float) -> dict[str, float]:
    return {c: fast_weight * fast.get(c, 0.0) + (1 - fast_weight) * encoder.get(c, 0.0) for c in fast}


def combine3(opinions: tuple[dict[str, float], ...], weights: tuple[float, ...]) -> dict[str, float]:
    """A weighted average of several distributions over the same classes (weights sum to 1)."""
    return {c: sum(w * o.get(c, 0.0) for o, w in zip(opinions, weights, strict=True)) for c in opinions[0]}


_ENCODERS: dict = {}
_ENCODERS_LOCK = threading.Lock()


def _transformer_installed(path: Path | None) -> bool:
    """The sentiment transformer's files are there and onnxruntime can be imported (without importing it)."""
    return SentimentTransformer.exists(path) and importlib.util.find_spec("onnxruntime") is not None


def _shared_encoder(path, factory):
    """One encoder per process and directory: it never changes, while model versions come and go."""
    with _ENCODERS_LOCK:
        if path not in _ENCODERS:
            _ENCODERS[path] = factory(path)
        return _ENCODERS[path]


class EscalatingTriager:
    """The fast triager, plus a second opinion for the messages it is unsure about."""

    def __init__(self, fast, model_dir: Path | str | None = None, encoder_dir: Path | str | None = None,
                 policy: Policy = DEFAULT_POLICY, sentiment_model: Path | str | bool | object = True) -> None:
        """sentiment_model: the sentiment transformer's directory (True: the packaged one, False: none), or
        any object with `classes` and `probabilities(texts)` standing for it."""
        self.fast = fast
        self.model_dir = Path(model_dir) if model_dir else PACKAGED_MODEL_DIR
        self.encoder_dir = encoder_dir
        self.policy = policy
        self._heads: EscalationHeads | None = None
        self._encoder = self._dense = None
        self._failed = not EscalationHeads.exists(self.model_dir)
        if self._failed:
            log.warning("triage escalation is on but %s has no escalation heads; using the fast path only",
                        self.model_dir)
        self._transformer = None
        self._transformer_source = None
        if sentiment_model is True or isinstance(sentiment_model, (str, Path)):
            path = None if sentiment_model is True else Path(sentiment_model)
            if _transformer_installed(path):
                self._transformer_source = path or "packaged"
        elif sentiment_model is not False and sentiment_model is not None:
            self._transformer = sentiment_model
        self._lock = threading.Lock()

    @property
    def uses_transformer(self) -> bool:
        return self._transformer is not None or self._transformer_source is not None

    @property
    def model_version(self) -> str:
        return self.fast.model_version

    @property
    def active(self) -> bool:
        return not self._failed

    def triage(self, item: TriageInput) -> TriageResult:
        return self.triage_batch([item])[0]

    def warm(self) -> None:
        """Load now what would load on first use (a worker process warming before its server answers)."""
        self._load()

    def _load(self) -> bool:
        """Encoder and heads on first use; False (with a warning, once) when they cannot be used."""
        if self._heads is not None or self._failed:
            return not self._failed
        with self._lock:
            if self._heads is None and not self._failed:
                try:
                    heads = EscalationHeads.load(self.model_dir)
                    encoder = _shared_encoder(self.encoder_dir, StaticEncoder)
                    if heads.meta.get("encoder") != encoder.id:
                        raise ValueError(f"heads were trained on encoder {heads.meta.get('encoder')}, "
                                         f"this one is {encoder.id}")
                    self._dense = DenseSignals()
                    self._encoder, self._heads = encoder, heads
                except Exception as exc:  # noqa: BLE001 - a broken artifact must not stop triage
                    log.warning("triage escalation disabled, using the fast path only: %s", exc)
                    self._failed = True
                if not self._failed and self._transformer is None and self._transformer_source is not None:
                    try:
                        source = self._transformer_source
                        self._transformer = _shared_encoder(
                            ("sentiment", source), lambda key: SentimentTransformer(None if key[1] == "packaged"
                                                                                     else key[1]))
                    except Exception as exc:  # noqa: BLE001 - the static encoder's opinion still stands
                        log.warning("sentiment transformer not loaded, escalating without it: %s", exc)
                        self._transformer_source = None
        return not self._failed

    def triage_batch(self, items: list[TriageInput]) -> list[TriageResult]:
        results = self.fast.triage_batch(items)
        if self._failed:
            return results
        reasons = [unsure(r, self.policy) for r in results]
        # The transformer reads only the messages whose sentiment its (wider) thresholds call unsure (it costs
        # ~15 fast-path messages each). Those the static thresholds would not escalate get a second opinion
        # on sentiment alone: their intent and complaint signal stay the fast path's.
        sentiment_only, for_transformer = set(), set()
        if self.uses_transformer:
            for i, r in enumerate(results):
                why = unsure(r, self.policy, transformer=True)
                if any(reason.startswith("sentiment") for reason in why):
                    for_transformer.add(i)
                    if not reasons[i]:
                        reasons[i] = why
                        sentiment_only.add(i)
        todo = [i for i, why in enumerate(reasons) if why]
        if not todo or not self._load():
            return results
        texts = [rules.plainly((items[i].text or "")[:5000], results[i].scores.get("slang")) for i in todo]
        probs = self._heads.probabilities(features(self._encoder, self._dense, texts))
        read = [row for row, i in enumerate(todo) if i in for_transformer] if self._transformer is not None else []
        tf = dict(zip(read, self._transformer.probabilities([texts[row] for row in read]), strict=True)) if read else {}
        for row, i in enumerate(todo):
            opinions = {name: p[row] for name, p in probs.items()}
            if row in tf:
                opinions["transformer"] = tf[row]
            results[i] = self._second_opinion(items[i], results[i], reasons[i], opinions, i in sentiment_only)
        return results

    def _second_opinion(self, item: TriageInput, fast: TriageResult, why: list[str], probs: dict,
                        sentiment_only: bool = False) -> TriageResult:
        w = self.policy.fast_weight
        enc_intent = dict(zip(self._heads.heads["intent"][0], probs["intent"].tolist(), strict=True))
        ruled_out = fast.scores.get("ruled_out") or ()
        if ruled_out:
            # The fast path found the text against this intent (triage/contradiction.py: praise on a text that
            # condemns, a complaint leaning on a plain question); the encoder, which reads no rules, may not
            # bring it back. Its other intents share what it gave that one.
            kept = {k: (0.0 if k in ruled_out else v) for k, v in enc_intent.items()}
            total = sum(kept.values())
            enc_intent = {k: v / total for k, v in kept.items()} if total > 0 else enc_intent
        enc_sent = dict(zip(self._heads.heads["sentiment"][0], probs["sentiment"].tolist(), strict=True))
        # Sentiment only: the fast intents stand (the winner with its confidence, its runner-up).
        intents = (fast_intent_distribution(fast) if sentiment_only
                   else combine(fast_intent_distribution(fast), enc_intent, w))
        tf_sent = (dict(zip(self._transformer.classes, probs["transformer"].tolist(), strict=True))
                   if "transformer" in probs else None)
        if tf_sent is None:
            sentiments = combine(fast_sentiment_distribution(fast), enc_sent, w)
            weights_said = f"{w:.0%} / {1 - w:.0%}"
        else:
            sw = self.policy.sentiment_weights
            sentiments = combine3((fast_sentiment_distribution(fast), enc_sent, tf_sent), sw)
            weights_said = (f"{w:.0%} / {1 - w:.0%}; sentiment {sw[0]:.0%} / {sw[1]:.0%} / {sw[2]:.0%} "
                            "with the transformer")
        sentiment = max(SENTIMENTS, key=sentiments.get)
        if sentiment_only:
            intent, conf, runner_up = fast.intent, fast.intent_confidence, fast.intent_runner_up
            p, complaint, why_changed = fast.complaint_probability, fast.complaint, None
        else:
            ranked = sorted(intents, key=intents.get, reverse=True)
            intent, conf, second = ranked[0], intents[ranked[0]], ranked[1]
            runner_up = second if conf - intents[second] < RUNNER_UP_GAP else None
            # The complaint signal, averaged like the rest with the encoder's share of complaint-type intents,
            # holds the complaint-type intents to it here as on the fast path.
            enc_p = sum(enc_intent.get(c, 0.0) for c in complaint_signal.COMPLAINT_INTENTS)
            p = w * fast.complaint_probability + (1 - w) * enc_p
            ruled_in = fast.scores.get("ruled_in") or ()
            if "complaint" in ruled_in:
                p = max(p, fast.complaint_probability)  # a stated complaint (triager: a rule beside a letdown)
            intent_now, conf, complaint, why_changed = complaint_signal.reconcile(
                intents, p, intent, conf, sentiment == "negative" and "praise" not in ruled_in)
            if intent_now != intent:
                runner_up, intent = intent, intent_now
        score = sentiments["positive"] - sentiments["negative"]
        sentiment, score, why_negative = complaint_signal.sentiment_follows(p, sentiment, score)
        enc_top = max(enc_intent, key=enc_intent.get)
        enc_sentiment = max(enc_sent, key=enc_sent.get)

        explanation = [line for line in fast.explanation if not line.startswith("urgency ")]
        tf_said = ""
        if tf_sent is not None:
            tf_top = max(tf_sent, key=tf_sent.get)
            tf_said = f"; sentiment transformer says {tf_top} ({tf_sent[tf_top]:.0%})"
        if sentiment_only:
            sw = self.policy.sentiment_weights
            explanation.append(
                f"escalated for sentiment ({'; '.join(why)}): encoder says {enc_sentiment} "
                f"({enc_sent[enc_sentiment]:.0%}){tf_said}; combined with the fast answer "
                f"({sw[0]:.0%} / {sw[1]:.0%} / {sw[2]:.0%}): sentiment {sentiment} ({score:+.2f})")
        else:
            explanation.append(
                f"escalated ({'; '.join(why)}): encoder says {enc_top} ({enc_intent[enc_top]:.0%}), {enc_sentiment} "
                f"({enc_sent[enc_sentiment]:.0%}){tf_said}; combined with the fast answer ({weights_said}): "
                f"intent {intent} ({conf:.0%}), sentiment {sentiment} ({score:+.2f}), complaint {p:.0%}")
        if why_changed:
            explanation.append(why_changed)
        if why_negative:
            explanation.append(why_negative)
        urgency, reasons = urgency_for(intent, sentiment, score, fast.flags,
                                       fast.scores.get("emotion", {}).get("anger", 0.0), item.author_followers,
                                       item.prior_messages, fast.topics)
        explanation.append(f"urgency {urgency}" + (": " + "; ".join(reasons) if reasons else ""))
        scores = {**fast.scores, "escalation": {
            "why": why, "sentiment_only": sentiment_only,
            "fast": {"intent": fast.intent, "intent_confidence": fast.intent_confidence,
                     "sentiment": fast.sentiment, "sentiment_score": fast.sentiment_score},
            "encoder": {"intent": {k: round(v, 3) for k, v in enc_intent.items() if v >= 0.05},
                        "sentiment": {k: round(v, 3) for k, v in enc_sent.items()}},
            **({"transformer": {"sentiment": {k: round(v, 3) for k, v in tf_sent.items()}}} if tf_sent else {}),
            "changed": [f for f, a, b in (("intent", intent, fast.intent), ("sentiment", sentiment, fast.sentiment))
                        if a != b]}}
        return replace(fast, intent=intent, intent_confidence=round(conf, 4), intent_runner_up=runner_up,
                       complaint=complaint, complaint_probability=round(p, 4),
                       sentiment=sentiment, sentiment_score=round(score, 4), urgency=urgency,
                       explanation=explanation, scores=scores)
