"""`triage eval`: the scores on a small labelled file with known answers."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from onevoice.cli.triage import app
from onevoice.errors import InvalidInput
from onevoice.triage.evaluate import eval_file, parse_map
from onevoice.triage.metrics import score
from onevoice.triage.types import TriageResult


class ScriptedTriager:
    """Answers from a fixed table, so the expected scores can be worked out by hand."""

    model_version = "scripted"
    ANSWERS = {"a": ("complaint", "negative"), "b": ("complaint", "negative"), "c": ("question", "neutral"),
               "d": ("praise", "positive"), "e": ("question", "negative")}

    def triage_batch(self, items):
        return [TriageResult(sentiment=self.ANSWERS[i.text][1], sentiment_score=0.0, intent=self.ANSWERS[i.text][0],
                             intent_confidence=1.0, intent_runner_up=None, urgency="normal", language="en",
                             complaint=self.ANSWERS[i.text][0] == "complaint")
                for i in items]


@pytest.fixture
def labelled(tmp_path):
    path = tmp_path / "labelled.csv"
    path.write_text("body,tag,mood\na,complaint,neg\nb,question,neg\nc,question,neu\nd,praise,pos\n"
                    "e,complaint,neu\n", encoding="utf-8")
    return path


def test_intent_scores_by_hand(labelled):
    s = eval_file(ScriptedTriager(), labelled, "intent", "body", "tag")
    assert s["n"] == 5 and s["accuracy"] == 0.6
    # complaint: tp=1 (a), fp=1 (b), fn=1 (e) -> P=R=F1=0.5; question: tp=1, fp=1 (e), fn=1 (b) -> 0.5
    assert s["per_class"]["complaint"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert s["per_class"]["praise"]["f1"] == 1.0
    assert s["macro_f1"] == round((0.5 + 0.5 + 1.0) / 3, 4)
    assert s["labels"] == ["complaint", "praise", "question"]
    assert s["confusion"] == [[1, 0, 1], [0, 1, 0], [1, 0, 1]]


def test_sentiment_with_label_map(labelled):
    s = eval_file(ScriptedTriager(), labelled, "sentiment", "body", "mood",
                  parse_map("neg=negative,neu=neutral,pos=positive"))
    assert s["accuracy"] == 0.8  # e: neutral predicted negative
    assert s["per_class"]["negative"]["precision"] == round(2 / 3, 4)


def test_complaint_binary_task_and_skipping(labelled):
    s = eval_file(ScriptedTriager(), labelled, "complaint", "body", "tag", {"praise": ""})  # skip praise rows
    assert s["n"] == 4 and s["labels"] == ["complaint", "not_complaint"]
    assert s["accuracy"] == 0.5


def test_errors_are_clear(labelled):
    with pytest.raises(InvalidInput, match="no column"):
        eval_file(ScriptedTriager(), labelled, "intent", "text", "tag")
    with pytest.raises(InvalidInput, match="task must be"):
        eval_file(ScriptedTriager(), labelled, "topic", "body", "tag")
    with pytest.raises(InvalidInput):
        parse_map("nonsense")


def test_macro_averages_ignore_classes_absent_from_gold():
    s = score(["a", "a"], ["a", "b"])
    assert s["macro_f1"] == s["per_class"]["a"]["f1"] and s["macro_recall"] == 0.5


def test_cli_eval_and_classify_with_the_real_model(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('text,label\n"Are you hiring developers? I would like to apply",job_inquiry\n'
                    '"Win free followers, click the link in my bio",spam\n', encoding="utf-8")
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'none.db'}"
    out = runner.invoke(app, ["eval", str(path), "--task", "intent", "--json", "--database-url", db])
    assert out.exit_code == 0, out.output
    report = json.loads(out.output[out.output.index("{"):])
    assert report["accuracy"] == 1.0 and report["n"] == 2
    text = runner.invoke(app, ["eval", str(path), "--database-url", db])
    assert "macro-F1" in text.output and "confusion" in text.output
    one = runner.invoke(app, ["classify", "My lawyer will hear about this", "--database-url", db])
    assert one.exit_code == 0
    assert json.loads(one.output[one.output.index("{"):])["intent"] == "legal_risk"


def test_the_complaint_task_reads_the_complaint_signal(labelled):
    """A complaint asked as a question counts as a complaint: the task scores the signal, not the speech act."""

    class AsksButComplains(ScriptedTriager):
        def triage_batch(self, items):
            return [TriageResult(sentiment="negative", sentiment_score=-0.5, intent="question", intent_confidence=0.6,
                                 intent_runner_up=None, urgency="normal", language="en",
                                 complaint=i.text in ("a", "e"), complaint_probability=0.8)
                    for i in items]

    s = eval_file(AsksButComplains(), labelled, "complaint", "body", "tag")
    assert s["accuracy"] == 1.0 and s["per_class"]["complaint"]["recall"] == 1.0
    assert s["confusion"] == [[2, 0], [0, 3]]
