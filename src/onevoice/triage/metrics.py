"""Classification scores in plain Python, so `triage eval` works without the training extra."""

from __future__ import annotations


def score(gold: list[str], pred: list[str], labels: list[str] | None = None) -> dict:
    """Accuracy, macro-F1, macro-recall, per-class precision/recall/F1/support and a confusion matrix.

    Macro averages run over the classes present in the gold labels, so a class nobody asked about
    (but the model may predict) does not drag the average down; its false positives still count.
    """
    if len(gold) != len(pred):
        raise ValueError("gold and predicted labels differ in length")
    labels = labels or sorted(set(gold) | set(pred))
    index = {lab: i for i, lab in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, pred, strict=True):
        matrix[index[g]][index[p]] += 1
    per_class = {}
    for lab, i in index.items():
        tp = matrix[i][i]
        support = sum(matrix[i])
        predicted = sum(row[i] for row in matrix)
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[lab] = {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
                          "support": support}
    present = [lab for lab in labels if per_class[lab]["support"]]
    n = len(gold)
    return {
        "n": n,
        "accuracy": round(sum(g == p for g, p in zip(gold, pred, strict=True)) / n, 4) if n else 0.0,
        "macro_f1": round(sum(per_class[c]["f1"] for c in present) / len(present), 4) if present else 0.0,
        "macro_recall": round(sum(per_class[c]["recall"] for c in present) / len(present), 4) if present else 0.0,
        "per_class": per_class,
        "labels": labels,
        "confusion": matrix,
    }
