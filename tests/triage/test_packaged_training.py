"""`onevoice model train` after a pip install: the redistributable public data ships in the package.

Without the shared data folder (no checkout beside it), training reads `triage/public_data/` (tweet acts,
CrisisLex, Bitext), keeps the TweetEval-only heads of the active model, and still switches a better model on.
"""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from onevoice.cli.main import app as cli
from onevoice.triage import datasets, service
from onevoice.triage.heads import Heads
from onevoice.triage.service import train_model

NOT_THERE = "/nonexistent/shared/data"


@pytest.fixture
def no_shared_data(monkeypatch, tmp_path):
    monkeypatch.setattr(datasets, "DEFAULT_DATA_DIR", tmp_path / "no-shared-data")


def test_the_package_carries_its_public_data_with_attribution():
    here = datasets.PACKAGED_DATA_DIR
    notice = (here / "NOTICE.md").read_text(encoding="utf-8")
    for name, license_file, words in (
            ("tweet_acts.csv.xz", "LICENSE-tweet-acts.txt", "BSD 2-Clause"),
            ("crisislex_t26.csv.xz", "LICENSE-crisislex.txt", "MIT License"),
            ("bitext_customer_support.csv.xz", "LICENSE-bitext-CDLA-Sharing-1.0.txt", "Community Data License")):
        assert name in notice and license_file in notice
        assert words in (here / license_file).read_text(encoding="utf-8")
        assert datasets._packed(name)  # readable rows
    assert "changed by the OneVoice project" in notice  # CDLA-Sharing 3.1(b): a prominent change notice
    assert not list(here.glob("*tweeteval*"))  # not redistributable: see NOTICE.md
    # Compact: the three sets together stay well under 2 MB.
    assert sum(p.stat().st_size for p in here.glob("*.xz")) < 2_000_000


def test_without_the_shared_folder_training_reads_the_packaged_data(no_shared_data):
    splits = datasets.load(limit=50, teacher=lambda texts: ["neutral"] * len(texts))
    assert {s.source for s in splits.values()} == {"packaged"}
    for head in datasets.TWEETEVAL_ONLY:
        assert not splits[head].train and not splits[head].seed  # nothing here teaches them
    assert splits["intent"].eval["tweet-acts"] and splits["crisis"].train and splits["complaint"].train
    assert sum(label == "neutral" for _, label in splits["sentiment"].train) >= 50  # the teacher's answers


def test_a_named_data_folder_must_exist():
    with pytest.raises(FileNotFoundError, match="ONEVOICE_TRAINING_DATA_DIR"):
        datasets.load(NOT_THERE)


def test_train_on_the_packaged_data_and_keep_the_tweeteval_heads(no_shared_data, session, settings):
    report = train_model(session, settings.model_dir, limit=80, tolerance=1.0)
    assert report.data_source == "packaged" and report.activated
    new, packaged = Heads.load(report.path), Heads.load()
    for head in datasets.TWEETEVAL_ONLY:
        a, b = new.heads[head], packaged.heads[head]
        assert np.array_equal(new.weights[:, a.start:a.end], packaged.weights[:, b.start:b.end])
        assert next(h for h in new.meta["heads"] if h["name"] == head)["carried_from"] == packaged.version
    assert "tweeteval-val-half" not in report.metrics["sentiment"]  # judged on what is here


def test_the_cli_says_how_to_enable_training(monkeypatch, settings):
    monkeypatch.setattr(service, "training_available", lambda: False)
    out = CliRunner().invoke(cli, ["model", "train", "--database-url", settings.database_url])
    assert out.exit_code == 1 and "pip install 'onevoice[train]'" in out.output
    monkeypatch.setattr(service, "training_available", lambda: True)
    out = CliRunner().invoke(cli, ["model", "train", "--data", NOT_THERE, "--database-url", settings.database_url])
    assert out.exit_code == 1 and "is not at /nonexistent/shared/data" in out.output
