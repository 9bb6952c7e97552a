"""A fine-tuned transformer for 3-class sentiment, run with onnxruntime on the messages escalation reads.

`sentiment_model/` holds all-MiniLM-L6-v2 (the sentence encoder the static escalation encoder was distilled
from) fine-tuned for negative / neutral / positive on tweets (scripts/build_sentiment_model.py), exported to
ONNX and quantized to int8. Its input is the same BERT uncased WordPiece the static encoder uses
(`encoder.WordPiece`, with the model's full vocabulary), wrapped in [CLS] ... [SEP]; its output is one logit
per class. It runs on one thread: a worker is one process per core.

onnxruntime is imported only when a model is loaded (the escalation layer loads lazily, on the first unsure
message), so neither the fast path nor the CLI pays for it.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from onevoice.triage.encoder import WordPiece

PACKAGED_SENTIMENT_DIR = Path(__file__).parent / "sentiment_model"
MODEL_FILE, META_FILE, VOCAB_FILE = "model.onnx", "meta.json", "vocab.txt"
# Answers kept per model input (its token ids), most recently used first: during a crisis many people post the
# same words (a copied complaint, a shared link's text), and one run costs ~3 ms of CPU against ~0.3 ms for a
# whole message's fast path. An entry is a few hundred bytes, so 20,000 stay under ~10 MB.
CACHE_SIZE = 20_000


class SentimentTransformer:
    """P(negative, neutral, positive) for a list of texts, from the packaged (or a given) ONNX model."""

    def __init__(self, path: Path | str | None = None, threads: int = 1, cache_size: int = CACHE_SIZE) -> None:
        # onnxruntime is a heavy import, needed only once a message is escalated.
        import onnxruntime as ort

        path = Path(path) if path else PACKAGED_SENTIMENT_DIR
        self.meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
        tokens = (path / VOCAB_FILE).read_text(encoding="utf-8").split("\n")
        if tokens and tokens[-1] == "":
            tokens.pop()
        vocab = {t: i for i, t in enumerate(tokens)}
        self.tokenizer = WordPiece(vocab)
        self.cls, self.sep, self.pad = vocab["[CLS]"], vocab["[SEP]"], vocab["[PAD]"]
        self.classes: list[str] = list(self.meta["classes"])
        self.max_tokens: int = int(self.meta["max_tokens"])
        self.bias = np.asarray(self.meta.get("class_bias", [0.0] * len(self.classes)), dtype=np.float32)
        self.id: str = self.meta["id"]
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(path / MODEL_FILE), options, providers=["CPUExecutionProvider"])
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[int, ...], np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()  # one model is shared by the process's triagers (escalation.py)
        self.runs = self.cache_hits = 0  # counted for the benchmarks: how many texts ran, how many were known

    @classmethod
    def exists(cls, path: Path | str | None = None) -> bool:
        path = Path(path) if path else PACKAGED_SENTIMENT_DIR
        return all((path / f).is_file() for f in (MODEL_FILE, META_FILE, VOCAB_FILE))

    def ids(self, text: str) -> list[int]:
        return [self.cls, *self.tokenizer.ids(text)[: self.max_tokens - 2], self.sep]

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """One row per text (columns in `classes` order).

        Each text runs alone: int8 dynamic quantization scales activations per run, so a text padded into a
        batch would get an answer that depends on its neighbours. Alone, a text always gets the same one
        (and needs no padding; batching saved ~12 % of CPU). That is also why an answer can be kept per input
        (the token ids, so texts differing only in case or accents, which the uncased WordPiece folds, share
        one): the cached answer is the one a run would give.
        """
        out = np.zeros((len(texts), len(self.classes)), dtype=np.float32)
        for row, text in enumerate(texts):
            key = tuple(self.ids(text))
            with self._cache_lock:
                known = self._cache.get(key)
                if known is not None:
                    self._cache.move_to_end(key)
                    self.cache_hits += 1
            if known is None:
                known = self._run(key)
                with self._cache_lock:
                    self.runs += 1
                    if self.cache_size > 0:
                        self._cache[key] = known
                        if len(self._cache) > self.cache_size:
                            self._cache.popitem(last=False)
            out[row] = known
        return out

    def _run(self, key: tuple[int, ...]) -> np.ndarray:
        ids = np.asarray([key], dtype=np.int64)
        logits = self.session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0][0] + self.bias
        e = np.exp(logits - logits.max())
        return (e / e.sum()).astype(np.float32)
