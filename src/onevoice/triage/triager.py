"""The fast path: trained heads + rules + detectors, one batch at a time, numpy only.

Everything a responder needs to trust the answer goes into `explanation`: the model's confidence, the
words that pushed it there, the rules that fired and what they added, and why the urgency is what it is.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain, repeat
from pathlib import Path

import numpy as np

from onevoice.triage import complaint as complaint_signal
from onevoice.triage import contradiction, rules, sarcasm
from onevoice.triage.catalog import Catalog
from onevoice.triage.dense import DenseSignals
from onevoice.triage.features import Tokenizer
from onevoice.triage.heads import Heads
from onevoice.triage.language import UNDETERMINED, LanguageDetector
from onevoice.triage.pii import find_pii
from onevoice.triage.types import TriageInput, TriageResult
from onevoice.triage.urgency import urgency_for
from onevoice.triage.wordscore import WordScorer

# The runner-up is reported when it is this close to the winner (probability difference).
RUNNER_UP_GAP = 0.3
# Below this confidence a non-English message is not given an English-trained label; it goes to review.
FOREIGN_MIN_CONFIDENCE = 0.6
NEGATIVE_INTENTS = frozenset({"complaint", "legal_risk", "safety_risk"})
THRESHOLDS = {"offensive": 0.7, "hate": 0.75, "crisis": 0.75}
# What a vocabulary entry carrying an intent adds to that intent's score: enough to decide it (the coordinator
# said so for this organization), except where a legal, safety or spam rule fired: a risk is never hidden.
TERM_BOOST = 8.0
RISK_INTENTS = frozenset({"legal_risk", "safety_risk", "spam"})

# What praise read as sarcasm (triage/sarcasm.py) adds toward a complaint instead, and an ironic marker alone.
SARCASM_BOOST = 3.0
IRONY_BOOST = 1.5
SARCASM_NEGATIVE = 2.0
# What slang thanks ("thx", "u guys rock", "legends") add toward positive sentiment, when not sarcastic.
PRAISE_SLANG_POSITIVE = 1.0
# What slang compliments ("killing it", "goated", "the admin is on fire") add toward positive sentiment.
PRAISE_COMPLIMENT_POSITIVE = 2.0
# And more for a thing that "is fire" or "slaps": the models and VADER read the words in their literal sense (a
# disaster, a blow; tests/triage/test_misreadings). The second opinion reads them put plainly (rules.plainly).
SLANG_WORD_POSITIVE = 3.0
# Praise the text contradicts (triage/contradiction.py): taken from praise, added toward a complaint and negative.
CONTRADICTED_PRAISE = 3.0
CONTRADICTED_COMPLAINT = 1.5
CONTRADICTED_NEGATIVE = 1.0
# A plain question (triage/contradiction.py): added toward question, taken from the complaint evidence.
PLAIN_QUESTION = 1.0
PLAIN_QUESTION_NOT_COMPLAINT = 1.5
# What a plain question's reading may move a message from: how it is put, or a complaint (never a risk or a
# department's intent the model read).
_QUESTION_OVER = complaint_signal.MANNER_INTENTS | {"complaint"}
# Words that carry no intent of their own; never shown as "the words that drove the result".
_FILLER = frozenset((
    "a", "an", "the", "i", "you", "we", "my", "your", "our", "to", "of", "and", "or", "is", "it", "in", "on",
    "for", "me", "this", "that", "be", "0", ",", ".", "!", "?", "atuser", "httpurl",
))


# What is read from a text alone is kept for this many distinct texts (then forgotten all at once): a crisis
# brings the same words from many people (copied complaints, a shared post's text), close together. ~1-2 kB
# each. It is a trade: on the batched bench's traffic (templates) it saves ~0.06 ms of the worker's ~0.42 ms
# per message; with every text distinct nothing is reused (no cost could be told from the noise, ~0.02 ms;
# bench/README.md, webhook intake, round 6). Kept small all the same.
READINGS_KEPT = 2_000


def _by_pull(item: tuple[str, float]) -> float:
    return -item[1]


def _risk(hits) -> bool:
    """A legal, safety or spam rule fired among these rule hits: its reading decides, nothing overrides it."""
    return any(rule.intent in RISK_INTENTS for rule, _ in hits)


@dataclass(frozen=True, slots=True)
class TextReading:
    """Everything the fast path reads from the text alone (no model, no author): the same for the same text.
    Shared by every message with that text, so never changed; the lists that go into a result are copied."""

    lowered: str
    vader: dict
    dense: list[float]  # DenseSignals.row
    rules: tuple  # rules.read: (intent hits, threat, topics)
    named: list  # the catalog's entries the text names
    language: tuple[str, float]
    pii: list[str]
    sarcasm: sarcasm.Reading | None
    question: str | None  # the words of a plain question with no sign of a problem (contradiction.plain_question)


class FastTriager:
    def __init__(self, heads: Heads | None = None, catalog: Iterable | Catalog | None = None,
                 model_dir: Path | str | None = None) -> None:
        self.heads = heads or Heads.load(model_dir)
        self.catalog = catalog if isinstance(catalog, Catalog) else Catalog(catalog or ())
        self.model_version = self.heads.version
        self._scorer = WordScorer(self.heads)
        self._dense = DenseSignals()
        self._language = LanguageDetector()
        self._tokenize = Tokenizer()
        self._lock = threading.Lock()
        intent = self.heads.heads["intent"]
        self._intents = intent.classes
        self._intent_col = {c: intent.start + i for i, c in enumerate(intent.classes)}
        sentiment = self.heads.heads["sentiment"]
        self._negative_col = sentiment.start + sentiment.classes.index("negative")
        self._positive_col = sentiment.start + sentiment.classes.index("positive")
        self._sentiments = sentiment.classes
        self._pos, self._neg = sentiment.classes.index("positive"), sentiment.classes.index("negative")
        self._emotions = tuple(self.heads.heads["emotion"].classes)
        self._complaint_intent_cols = [intent.classes.index(c) for c in complaint_signal.COMPLAINT_INTENTS]
        head = self.heads.heads.get("complaint")
        self._complaint_col = head.start if head is not None else None
        self._calibration = complaint_signal.Calibration(self.heads.meta.get("complaint_calibration"),
                                                         head is not None)
        self._readings: dict[str, TextReading] = {}

    def _read(self, text: str) -> TextReading:
        """The text's reading, kept per text (READINGS_KEPT): each part is a function of the text alone (the
        catalog is this triager's own; a new catalog builds a new triager)."""
        known = self._readings.get(text)
        if known is None:
            if len(self._readings) >= READINGS_KEPT:
                self._readings.clear()
            low = text.lower()
            vader = self._dense.vader(text)
            read = rules.read(text, low)
            praised = any(rule.intent == "praise" for rule, _ in read[0])
            question = contradiction.plain_question(text)
            # Plain: no rule read anything into it (a complaint, a job, a sale...), and no problem is named.
            if question is not None and (read[0] or contradiction.QUESTION_PROBLEM_TOPICS.intersection(read[2])
                                         or sarcasm.letdown(text, read[2]) is not None):
                question = None
            known = self._readings[text] = TextReading(
                low, vader, self._dense.row(text, vader), read, self.catalog.match(text),
                self._language.detect(text), find_pii(text, low), sarcasm.read(text, praised, vader["pos"], read[2]),
                question)
        return known

    def triage(self, item: TriageInput) -> TriageResult:
        return self.triage_batch([item])[0]

    def triage_batch(self, items: list[TriageInput]) -> list[TriageResult]:
        if not items:
            return []
        # The caches (tokens, word vectors, bigrams, catalog words) are filled as messages come in; one
        # triager may serve the worker thread and a web request at once, so one batch at a time.
        with self._lock:
            return self._triage_batch(items)

    def _forward(self, items: list[TriageInput]) -> dict:
        """Everything one batch's answers are made of: tokens, VADER, logits (rules added), probabilities."""
        texts = [(i.text or "")[:5000] for i in items]
        # The slang put plainly is for the second opinion only: this model learned "was great" in a short text
        # as a complaint (sarcasm), so "that ad was great" read worse than "that ad was fire" (tried, stop 29).
        token_lists = [self._tokenize(t) for t in texts]
        read = [self._read(t) for t in texts]
        vader = [r.vader for r in read]
        dense = np.array([r.dense for r in read], dtype=np.float32).reshape(len(texts), 8)  # DenseSignals.matrix
        logits, scale, ids, n_tok = self._scorer.logits(token_lists, dense)
        lowered = [r.lowered for r in read]
        # (intent hits, threat, topics) per message, from one pass of the rules.
        readings = [r.rules for r in read]
        boosts = np.zeros(len(items), dtype=np.float64)
        # The organization's vocabulary: a named entry that carries an intent leans the message toward it.
        matched = [r.named for r in read]
        for row, found in enumerate(matched):
            if _risk(readings[row][0]):
                continue
            for key, _ in found:
                intent = self.catalog.by_key[key].intent
                if intent in self._intent_col:
                    logits[row, self._intent_col[intent]] += TERM_BOOST
        complaint_col, praise_col = self._intent_col["complaint"], self._intent_col["praise"]
        for row, (doc_hits, _, _topics) in enumerate(readings):
            # A legal, safety or spam rule decides: a risk is never hidden behind a complaint, spam never is one.
            irony = None if _risk(doc_hits) else read[row].sarcasm
            sarcastic = irony is not None and irony.sarcastic
            counted = False
            for rule, word in doc_hits:
                if rule.intent == "praise" and sarcastic:
                    # Thanks next to a letdown ("another update that bricked my phone, thanks so much") is
                    # sarcasm: the thanks counts toward a complaint instead.
                    logits[row, complaint_col] += SARCASM_BOOST
                    boosts[row] += SARCASM_BOOST
                    counted = True
                    continue
                logits[row, self._intent_col[rule.intent]] += rule.boost
                if rule.name == "praise-slang":
                    logits[row, self._positive_col] += PRAISE_SLANG_POSITIVE
                elif rule.name == "praise-compliment":
                    # A slang "fire" or "slaps" more: every model (and VADER) reads the word in its literal sense.
                    logits[row, self._positive_col] += PRAISE_COMPLIMENT_POSITIVE + (
                        SLANG_WORD_POSITIVE if rules.is_slang_word(rule, word) else 0.0)
                # Public sentiment data has few complaints in it; a complaint rule is evidence of negativity.
                if rule.intent in NEGATIVE_INTENTS:
                    logits[row, self._negative_col] += 1.0
                    boosts[row] += rule.boost
            if irony is not None and not counted:
                # Praise without a praise rule ("amazing", "so thoughtful") beside a letdown, or an eye-roll.
                boost = SARCASM_BOOST if sarcastic else IRONY_BOOST
                logits[row, complaint_col] += boost
                boosts[row] += boost
            if sarcastic:
                # The praise words mean the opposite: what the model read as praise and positive is not.
                logits[row, praise_col] -= SARCASM_BOOST
                logits[row, self._negative_col] += SARCASM_NEGATIVE
        p = self.heads.all_probabilities(logits)
        self._signals_read_plainly(texts, read, p)
        contradicted = self._contradictions(read, readings, logits, boosts, p)
        x = complaint_signal.signals(
            None if self._complaint_col is None else logits[:, self._complaint_col].astype(np.float64),
            p["intent"][:, self._complaint_intent_cols].sum(axis=1), p["sentiment"][:, self._neg],
            p["sentiment"][:, self._pos], boosts)
        return {"texts": texts, "tokens": token_lists, "vader": vader, "scale": scale, "ids": ids, "n_tok": n_tok,
                "lowered": lowered, "readings": readings, "p": p, "complaint_x": x, "matched": matched,
                "read": read, "contradicted": contradicted}

    def _signals_read_plainly(self, texts: list[str], read: list[TextReading], p: dict) -> None:
        """The offensive, hate and crisis signals of a text with slang praise, read with the slang put plainly:
        these heads learned "fire" literally ("that drop was fire" was 73 % offensive, and so went to PR; "that
        drop was great" 19 %). Only those heads: the intent and sentiment heads read "was great" in a short text
        as sarcasm, worse than the slang (rules.SLANG_PLAIN). Changes `p` of those rows in place."""
        slang = {row: words for row, r in enumerate(read) if (words := rules.slang_words(r.rules[0]))}
        if not slang:
            return
        plain = [rules.plainly(texts[row], words) for row, words in slang.items()]
        # VADER reads the word literally too, and the heads lean on it: its signals from the plain text as well.
        rows_dense = np.array([self._dense.row(t, self._dense.vader(t)) for t in plain], dtype=np.float32)
        logits, *_ = self._scorer.logits([self._tokenize(t) for t in plain], rows_dense.reshape(len(plain), 8))
        rows = np.fromiter(slang, dtype=np.intp)
        again = self.heads.all_probabilities(logits)
        for name in ("offensive", "hate", "crisis"):
            p[name][rows] = again[name]

    def _contradictions(self, read: list[TextReading], readings: list, logits: np.ndarray, boosts: np.ndarray,
                        p: dict) -> dict[int, tuple[str, str]]:
        """Readings the text contradicts (triage/contradiction.py): praise only the model read, on a text that
        condemns or is surely negative about a problem; a complaint leaning on a plain question. Changes the
        logits and `p` of those rows in place; returns, per changed row, the intent ruled out and a sentence."""
        out: dict[int, tuple[str, str]] = {}
        praise_i = self._intents.index("praise")
        complaint_col, praise_col = self._intent_col["complaint"], self._intent_col["praise"]
        question_col = self._intent_col["question"]
        negative = p["sentiment"][:, self._neg]
        best = p["intent"].argmax(axis=1)
        for row, reading in enumerate(read):
            hits, _, topics = readings[row]
            if _risk(hits):
                continue
            praised = any(rule.intent == "praise" for rule, _ in hits)
            sarcastic = reading.sarcasm is not None and reading.sarcasm.sarcastic
            read_as_praise = best[row] == praise_i
            # Only over how a message is put: the model's own reading of a risk or a department's intent stands.
            if (not praised and not sarcastic and self._intents[best[row]] in complaint_signal.MANNER_INTENTS
                    and (read_as_praise or contradiction.condemns(topics))):
                why = contradiction.praise_against(topics, float(negative[row]))
                if why:
                    if read_as_praise:
                        logits[row, praise_col] -= CONTRADICTED_PRAISE
                    logits[row, complaint_col] += CONTRADICTED_COMPLAINT
                    logits[row, self._negative_col] += CONTRADICTED_NEGATIVE
                    boosts[row] += CONTRADICTED_COMPLAINT
                    taken = f"-{CONTRADICTED_PRAISE:g} from praise, " if read_as_praise else ""
                    out[row] = ("praise", f"not praise: {why} ({taken}+{CONTRADICTED_COMPLAINT:g} toward complaint)")
            elif (reading.question is not None and reading.sarcasm is None and negative[row] < 0.5
                  and self._intents[best[row]] in _QUESTION_OVER):
                logits[row, question_col] += PLAIN_QUESTION
                logits[row, complaint_col] -= PLAIN_QUESTION_NOT_COMPLAINT
                boosts[row] -= PLAIN_QUESTION_NOT_COMPLAINT
                out[row] = ("complaint", f"a plain question ('{reading.question}'), no problem named "
                                         f"(+{PLAIN_QUESTION:g} toward question, -{PLAIN_QUESTION_NOT_COMPLAINT:g} "
                                         "from complaint)")
        if out:
            rows = np.fromiter(out, dtype=np.intp)
            again = self.heads.all_probabilities(logits[rows])
            for name, values in again.items():
                p[name][rows] = values
        return out

    def complaint_signals(self, items: list[TriageInput]) -> np.ndarray:
        """The calibration's input for each message (complaint.FEATURES); what training calibrates on."""
        with self._lock:
            return self._forward(items)["complaint_x"]

    def _triage_batch(self, items: list[TriageInput]) -> list[TriageResult]:
        f = self._forward(items)
        texts, token_lists, p = f["texts"], f["tokens"], f["p"]
        scale, ids, n_tok = f["scale"], f["ids"], f["n_tok"]
        # The two best intents per message, sorted once for the batch; then plain Python floats, which
        # are far cheaper to format and compare one message at a time than numpy scalars.
        order = (-p["intent"]).argsort(axis=1)[:, :2]
        words = self._top_words(token_lists, ids, n_tok, scale, order[:, 0] + self.heads.heads["intent"].start)
        complaint_p = self._calibration.probability(f["complaint_x"])
        complaint_words: list[list[str]] = [[] for _ in items]
        likely = np.flatnonzero(complaint_p >= complaint_signal.WORDS_FROM)
        if self._complaint_col is not None and len(likely):
            # The words behind the signal, for the messages where it matters (a third or so of a stream).
            if len(likely) == len(items):
                sub_ids = ids
            else:
                starts = np.cumsum(n_tok) - n_tok
                sub_ids = np.concatenate([ids[starts[i]:starts[i] + n_tok[i]] for i in likely])
            found = self._top_words([token_lists[i] for i in likely], sub_ids, n_tok[likely], scale[likely],
                                    np.full(len(likely), self._complaint_col))
            for i, words_i in zip(likely.tolist(), found, strict=True):
                complaint_words[i] = words_i
        langs = [r.language for r in f["read"]]
        plain = {name: v.tolist() for name, v in p.items()}
        # positive minus negative in float32, as the score has always been computed.
        plain["score"] = (p["sentiment"][:, self._pos] - p["sentiment"][:, self._neg]).tolist()
        plain["complaint_p"] = complaint_p.tolist()
        order_l = order.tolist()
        return [self._result(items[i], texts[i], f["lowered"][i], f["readings"][i], i, plain, order_l[i], words[i],
                             langs[i], f["vader"][i], complaint_words[i], f["matched"][i], f["read"][i].pii,
                             f["read"][i].sarcasm, f["contradicted"].get(i))
                for i in range(len(items))]

    def _top_words(self, token_lists, ids, n_tok, scale, cols) -> list[list[str]]:
        """Per message, the words whose features pushed hardest toward column `cols[message]` (an intent).

        Only tokens pulling more than 0.02 can be shown (about a quarter of them): numpy finds those,
        and Python visits only them, in order, keeping each word's first pull as before.
        """
        out: list[list[str]] = [[] for _ in token_lists]
        pulls = self._scorer.word_pull_array(ids, n_tok, scale, cols)
        # Compared in float64, as the Python floats were: the float32 value against 0.02 exactly.
        candidates = np.flatnonzero(pulls > np.float64(0.02))
        if not len(candidates):
            return out
        flat = list(chain.from_iterable(token_lists))
        if len(token_lists) == 1:
            owners = [0] * len(candidates)
        else:
            owners = n_tok.cumsum().searchsorted(candidates, side="right").tolist()
        current, best = -1, {}
        for j, owner, v in zip(candidates.tolist(), owners, pulls[candidates].tolist(), strict=True):
            if owner != current:
                if best:
                    out[current] = [w for w, _ in sorted(best.items(), key=_by_pull)[:3]]
                current, best = owner, {}
            w = flat[j]
            if w not in best and len(w) > 1 and w not in _FILLER:
                best[w] = v
        if best:
            out[current] = [w for w, _ in sorted(best.items(), key=_by_pull)[:3]]
        return out

    def _result(self, item: TriageInput, text: str, low: str, reading, i: int, p: dict, order, words, lang,
                vader, complaint_words, named, pii: list[str], irony: sarcasm.Reading | None,
                contradicted: tuple[str, str] | None = None) -> TriageResult:
        hits, threat, topics = reading
        explanation: list[str] = []
        flags: dict = {}
        language, lang_score = lang
        english = language in ("en", UNDETERMINED)

        s = p["sentiment"][i]
        best = max(s)
        sentiment = self._sentiments[s.index(best)]
        score = p["score"][i]
        explanation.append(f"sentiment {sentiment} ({score:+.2f}): model {best:.0%} sure, "
                           f"VADER lexicon {vader['compound']:+.2f}")

        probs = p["intent"][i]
        intent, conf = self._intents[order[0]], probs[order[0]]
        second, conf2 = self._intents[order[1]], probs[order[1]]
        runner_up = second if conf - conf2 < RUNNER_UP_GAP else None
        why = f"intent {intent} ({conf:.0%})"
        if words:
            why += ": words '" + "', '".join(words) + "'"
        explanation.append(why)
        if _risk(hits):
            irony = None
        sarcastic = irony is not None and irony.sarcastic
        counted = False
        for rule, matched in hits:
            if rule.intent == "praise" and sarcastic:
                explanation.append(f"sarcasm: '{matched}' beside {irony.marker} (+{SARCASM_BOOST:g} toward complaint)")
                counted = True
                continue
            explanation.append(f"rule {rule.name} matched '{matched}' (+{rule.boost:g} toward {rule.intent})")
        if irony is not None and not counted:
            explanation.append(f"sarcasm: positive words beside {irony.marker} (+{SARCASM_BOOST:g} toward complaint)"
                               if sarcastic else f"ironic marker {irony.marker} (+{IRONY_BOOST:g} toward complaint)")
        if contradicted:
            explanation.append(contradicted[1])
        if runner_up:
            explanation.append(f"runner-up {runner_up} ({conf2:.0%}) is close")

        complaint_p = p["complaint_p"][i]
        # A praise rule's words stand against a negative sentiment read ("admin killing it 💀").
        praised = any(r.intent == "praise" for r, _ in hits)
        rule = next((m for r, m in hits if r.intent in NEGATIVE_INTENTS), None)
        complaint_reasons, line = complaint_signal.describe(complaint_p, complaint_words, s[self._neg], rule,
                                                            "?" in text)
        explanation.append(line)
        dist = dict(zip(self._intents, probs, strict=True))
        new_intent, new_conf, complaint, why_changed = complaint_signal.reconcile(
            dist, complaint_p, intent, conf, sentiment == "negative" and not praised)
        if new_intent != intent:
            explanation.append(why_changed)
            runner_up, intent, conf = intent, new_intent, new_conf
        sentiment, score, why_negative = complaint_signal.sentiment_follows(complaint_p, sentiment, score)
        if why_negative:
            explanation.append(why_negative)

        if not english:
            explanation.append(f"language {language} ({lang_score:.0%}): the models were trained mostly on English")
            flags["needs_review"] = [f"language {language}"]
            if not hits and conf < FOREIGN_MIN_CONFIDENCE and not complaint:
                explanation.append(f"intent left as other for review: {intent} was only {conf:.0%} sure")
                runner_up, intent = intent, "other"

        kinds = list(pii)
        if kinds:
            flags["pii"] = kinds
            explanation.append("personal data in the text: " + ", ".join(kinds))
        slang = rules.slang_words(hits)
        scores = {"offensive": round(p["offensive"][i], 3), "hate": round(p["hate"][i], 3),
                  "crisis": round(p["crisis"][i], 3)}
        for name, threshold in THRESHOLDS.items():
            if scores[name] >= threshold:
                flags[name] = True
                explanation.append(f"{name} language/signal ({scores[name]:.0%})")
        emotion = p["emotion"][i]
        scores["emotion"] = dict(zip(self._emotions, map(round, emotion, repeat(3, len(emotion))), strict=True))
        if slang:
            # The second opinion (escalation) reads no rules, and its encoder and transformer read "fire" as a
            # disaster ("that drop was fire" became a critical safety risk): it reads the words put plainly.
            scores["slang"] = slang
        if contradicted:
            # What the text ruled out; a second opinion (escalation) does not bring it back.
            scores["ruled_out"] = [contradicted[0]]
        elif any(rule.intent == "complaint" for rule, _ in hits) and \
                sarcasm.letdown(text, topics, quotes=False) is not None:
            # A complaint the text states: a complaint rule beside a letdown ("been waiting 3 weeks for my
            # order", "nobody answered in 5 days"). The second opinion's encoder reads no rules and took such a
            # text put as a question for a question; it may not take the complaint signal below this one.
            scores["ruled_in"] = ["complaint"]
        if praised:
            # The second opinion reads no rules: it may not rule out praise beside a negative sentiment here.
            scores["ruled_in"] = [*scores.get("ruled_in", ()), "praise"]
        if threat:
            flags["threat"] = True
            explanation.append(f"threat: '{threat}'")

        entries = self.catalog.by_key
        products = [key for key, _ in named if entries[key].kind == "product"]
        if products:
            explanation.append("products: " + ", ".join(f"{k} ('{m}')" for k, m in named
                                                        if entries[k].kind == "product"))
        terms = [{"key": k, "kind": entries[k].kind, "intent": entries[k].intent, "team": entries[k].team}
                 for k, _ in named if entries[k].kind != "product" or entries[k].intent or entries[k].team]
        for k, m in named:
            e = entries[k]
            if e.kind != "product" or e.intent or e.team:
                risk = _risk(hits)
                leans = [(f"+{TERM_BOOST:g} toward {e.intent}" if not risk else f"not toward {e.intent}: a risk rule "
                          "fired") if e.intent in self._intent_col else "",
                         f"routes to {e.team}" if e.team else ""]
                explanation.append(f"vocabulary: {e.kind} {k} ('{m}')" + "".join(f"; {x}" for x in leans if x))

        urgency, reasons = urgency_for(intent, sentiment, score, flags, scores["emotion"].get("anger", 0.0),
                                       item.author_followers, item.prior_messages, topics)
        explanation.append(f"urgency {urgency}" + (": " + "; ".join(reasons) if reasons else ""))
        return TriageResult(
            sentiment=sentiment, sentiment_score=round(score, 4), intent=intent,
            intent_confidence=round(conf, 4), intent_runner_up=runner_up, urgency=urgency,
            language=language, flags=flags, products=products, topics=list(topics), explanation=explanation,
            model_version=self.model_version, scores=scores, complaint=complaint,
            complaint_probability=round(complaint_p, 4), complaint_reasons=complaint_reasons, terms=terms,
        )
