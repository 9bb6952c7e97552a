"""The fast path: trained heads + rules + detectors, one batch at a time, numpy only.

Everything a responder needs to trust the answer goes into `explanation`: the model's confidence, the
words that pushed it there, the rules that fired and what they added, and why the urgency is what it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from onevoice.triage import rules
from onevoice.triage.catalog import Catalog
from onevoice.triage.dense import DenseSignals
from onevoice.triage.features import Featurizer, tokenize
from onevoice.triage.heads import Heads
from onevoice.triage.language import UNDETERMINED, LanguageDetector
from onevoice.triage.pii import find_pii
from onevoice.triage.types import TriageInput, TriageResult
from onevoice.triage.urgency import urgency_for

# The runner-up is reported when it is this close to the winner (probability difference).
RUNNER_UP_GAP = 0.3
# Below this confidence a non-English message is not given an English-trained label; it goes to review.
FOREIGN_MIN_CONFIDENCE = 0.6
NEGATIVE_INTENTS = frozenset({"complaint", "legal_risk", "safety_risk"})
THRESHOLDS = {"offensive": 0.7, "hate": 0.75, "crisis": 0.75}
# Words that carry no intent of their own; never shown as "the words that drove the result".
_FILLER = frozenset((
    "a", "an", "the", "i", "you", "we", "my", "your", "our", "to", "of", "and", "or", "is", "it", "in", "on",
    "for", "me", "this", "that", "be", "0", ",", ".", "!", "?", "atuser", "httpurl",
))


class FastTriager:
    def __init__(self, heads: Heads | None = None, catalog: Iterable | Catalog | None = None,
                 model_dir: Path | str | None = None) -> None:
        self.heads = heads or Heads.load(model_dir)
        self.catalog = catalog if isinstance(catalog, Catalog) else Catalog(catalog or ())
        self.model_version = self.heads.version
        self._featurizer = Featurizer()
        self._dense = DenseSignals()
        self._language = LanguageDetector()
        intent = self.heads.heads["intent"]
        self._intents = intent.classes
        self._intent_col = {c: intent.start + i for i, c in enumerate(intent.classes)}
        sentiment = self.heads.heads["sentiment"]
        self._negative_col = sentiment.start + sentiment.classes.index("negative")

    def triage(self, item: TriageInput) -> TriageResult:
        return self.triage_batch([item])[0]

    def triage_batch(self, items: list[TriageInput]) -> list[TriageResult]:
        if not items:
            return []
        texts = [(i.text or "")[:5000] for i in items]
        token_lists = [tokenize(t) for t in texts]
        indptr, cols, vals = self._featurizer.transform(token_lists)
        vader = [self._dense.vader(t) for t in texts]
        logits = self.heads.logits(indptr, cols, vals, self._dense.matrix(texts, vader))
        lowered = [t.lower() for t in texts]
        hits = [rules.intent_hits(t, low) for t, low in zip(texts, lowered, strict=True)]
        for row, doc_hits in enumerate(hits):
            for rule, _ in doc_hits:
                logits[row, self._intent_col[rule.intent]] += rule.boost
                # Public sentiment data has few complaints in it; a complaint rule is evidence of negativity.
                if rule.intent in NEGATIVE_INTENTS:
                    logits[row, self._negative_col] += 1.0
        p = {name: self.heads.probabilities(logits, name) for name in self.heads.heads}
        winners = p["intent"].argmax(axis=1)
        words = self._top_words(token_lists, indptr, cols, vals, winners)
        langs = self._language.detect_batch(texts)
        return [self._result(items[i], texts[i], lowered[i], i, p, hits[i], words[i], langs[i], vader[i])
                for i in range(len(items))]

    def _top_words(self, token_lists, indptr, cols, vals, winners) -> list[list[str]]:
        """Per message, the words whose features pushed hardest toward the winning intent.

        One vectorised pass for the whole batch: per-feature contributions to each message's winning
        column, summed per word with reduceat; Python only picks the top three per message.
        """
        col = np.array([self.heads.heads["intent"].start + w for w in winners])
        contrib = self.heads.weights[cols, np.repeat(col, np.diff(indptr))] * vals
        starts: list[int] = []
        owners: list[tuple[int, str]] = []
        for d, toks in enumerate(token_lists):
            pos = int(indptr[d])
            for w in toks:
                n = len(self._featurizer._word(w))
                if w not in _FILLER and len(w) > 1:
                    starts.append(pos)
                    owners.append((d, w))
                pos += n
        out: list[list[str]] = [[] for _ in token_lists]
        if not starts:
            return out
        # reduceat sums from each start to the next start; cut each word's run at its own end instead.
        ends = [s + len(self._featurizer._word(w)) for s, (_, w) in zip(starts, owners, strict=True)]
        bounds = np.array([x for pair in zip(starts, ends, strict=True) for x in pair])
        sums = np.add.reduceat(contrib, bounds)[::2] if len(contrib) else np.zeros(len(starts))
        best: dict[int, dict[str, float]] = {}
        for (d, w), v in zip(owners, sums.tolist(), strict=True):
            if v > 0.02:
                doc = best.setdefault(d, {})
                doc[w] = max(doc.get(w, v), v)
        for d, scored in best.items():
            out[d] = [w for w, _ in sorted(scored.items(), key=lambda kv: -kv[1])[:3]]
        return out

    def _result(self, item: TriageInput, text: str, low: str, i: int, p: dict, hits, words, lang,
                vader) -> TriageResult:
        explanation: list[str] = []
        flags: dict = {}
        language, lang_score = lang
        english = language in ("en", UNDETERMINED)

        s = p["sentiment"][i]
        classes = self.heads.heads["sentiment"].classes
        sentiment = classes[int(s.argmax())]
        score = float(s[classes.index("positive")] - s[classes.index("negative")])
        explanation.append(f"sentiment {sentiment} ({score:+.2f}): model {float(s.max()):.0%} sure, "
                           f"VADER lexicon {vader['compound']:+.2f}")

        probs = p["intent"][i]
        order = np.argsort(-probs)
        intent, conf = self._intents[order[0]], float(probs[order[0]])
        second, conf2 = self._intents[order[1]], float(probs[order[1]])
        runner_up = second if conf - conf2 < RUNNER_UP_GAP else None
        why = f"intent {intent} ({conf:.0%})"
        if words:
            why += ": words " + ", ".join(f"'{w}'" for w in words)
        explanation.append(why)
        for rule, matched in hits:
            explanation.append(f"rule {rule.name} matched '{matched}' (+{rule.boost:g} toward {rule.intent})")
        if runner_up:
            explanation.append(f"runner-up {runner_up} ({conf2:.0%}) is close")

        if not english:
            explanation.append(f"language {language} ({lang_score:.0%}): the models were trained mostly on English")
            flags["needs_review"] = [f"language {language}"]
            if not hits and conf < FOREIGN_MIN_CONFIDENCE:
                explanation.append(f"intent left as other for review: {intent} was only {conf:.0%} sure")
                runner_up, intent = intent, "other"

        kinds = find_pii(text)
        if kinds:
            flags["pii"] = kinds
            explanation.append("personal data in the text: " + ", ".join(kinds))
        scores = {name: round(float(p[name][i]), 3) for name in ("offensive", "hate", "crisis")}
        for name, threshold in THRESHOLDS.items():
            if scores[name] >= threshold:
                flags[name] = True
                explanation.append(f"{name} language/signal ({scores[name]:.0%})")
        emotion = self.heads.heads["emotion"].classes
        scores["emotion"] = {c: round(float(v), 3) for c, v in zip(emotion, p["emotion"][i], strict=True)}
        if threat := rules.threat(text, low):
            flags["threat"] = True
            explanation.append(f"threat: '{threat}'")

        matched = self.catalog.match(text)
        products = [key for key, _ in matched]
        if products:
            explanation.append("products: " + ", ".join(f"{k} ('{m}')" for k, m in matched))
        topics = rules.topics(text, low)

        urgency, reasons = urgency_for(intent, sentiment, score, flags, scores["emotion"].get("anger", 0.0),
                                       item.author_followers, item.prior_messages)
        explanation.append(f"urgency {urgency}" + (": " + "; ".join(reasons) if reasons else ""))
        return TriageResult(
            sentiment=sentiment, sentiment_score=round(score, 4), intent=intent,
            intent_confidence=round(conf, 4), intent_runner_up=runner_up, urgency=urgency,
            language=language, flags=flags, products=products, topics=topics, explanation=explanation,
            model_version=self.model_version, scores=scores,
        )
