"""The charts' geometry: bars scaled to the largest, labels that neither overlap nor leave the chart."""

from __future__ import annotations

from onevoice.reports.charts import LABEL_PX, WIDTH, bars, line


def _shown(chart) -> list[tuple[float, float]]:
    """(left, right) of each label drawn, centred on its tx."""
    return [(b["tx"] - len(b["label"]) * LABEL_PX / 2, b["tx"] + len(b["label"]) * LABEL_PX / 2)
            for b in chart["bars"] if b["tick"]]


def test_bars_scale_to_the_largest_and_link():
    chart = bars([("a", 10, "/a"), ("b", 5, "/b"), ("c", 0, "/c")])
    heights = [b["h"] for b in chart["bars"]]
    assert heights[0] == chart["baseline"] and heights[1] == heights[0] / 2 and heights[2] == 0
    assert [b["link"] for b in chart["bars"]] == ["/a", "/b", "/c"] and chart["top"] == 10


def test_long_labels_do_not_run_into_each_other_or_off_the_chart():
    intents = ["complaint", "question", "spam", "sales_lead", "praise", "job_inquiry", "suggestion", "partnership",
               "press_inquiry", "legal_risk", "safety_risk", "other", "hr_matter"]
    for labels in (intents, [f"12-{d:02d}" for d in range(1, 29)], ["a-very-long-product-name-indeed", "b"]):
        chart = bars([(label, i + 1, "#") for i, label in enumerate(labels)])
        shown = _shown(chart)
        assert shown and chart["bars"][0]["tick"]
        assert all(right <= left2 for (_, right), (left2, _) in zip(shown, shown[1:], strict=False)), labels
        assert all(left >= 0 and right <= WIDTH for left, right in shown), labels
    # few short labels: every one is shown
    assert all(b["tick"] for b in bars([("x", 1, "#"), ("y", 2, "#"), ("z", 3, "#")])["bars"])


def test_a_missing_day_breaks_the_line():
    chart = line([("1", 0.5, "#"), ("2", None, "#"), ("3", -0.5, "#")])
    assert chart["path"].count("M") == 2 and len(chart["dots"]) == 2
