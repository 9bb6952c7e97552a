"""The policy guard as a pure function: each kind of rule, where it points, and what it lets through."""

from __future__ import annotations

import pytest

from onevoice.governance.guard import RuleSpec, check_text, term_pattern
from onevoice.governance.guard_rules import DEFAULT_RULES

RULES = DEFAULT_RULES


def neutral(_text: str) -> float:
    return 0.0


def check(text, kind="mastodon", sponsored=False, tone=neutral, rules=RULES):
    return check_text(text, channel_kind=kind, rules=rules, sponsored=sponsored, tone=tone)


def by_rule(findings, rule):
    return [f for f in findings if f.rule == rule]


def test_routine_reply_has_no_findings():
    assert check("Hi Ana, thanks for letting us know. We've sent you a direct message with next steps.") == []


def test_banned_term_is_a_block_with_offsets_and_matched_text():
    text = "Honestly, what an idiot move from the courier."
    [f] = by_rule(check(text), "banned-terms")
    assert f.severity == "block"
    assert (f.start, f.end, f.match) == (text.index("idiot"), text.index("idiot") + 5, "idiot")
    assert "banned term" in f.message and "idiot" in f.message and str(f.start) in f.message


@pytest.mark.parametrize("text", ["IDIOT", "Id1ot", "i.d.i.o.t", "i d i o t", "iddiot", "1d10t", "id\u200biot"])
def test_terms_tolerate_case_and_simple_obfuscation(text):
    [f] = by_rule(check(f"you {text}!"), "banned-terms")
    assert f.match == text


@pytest.mark.parametrize("text", ["idiotic", "Idiotsyncrasy", "the scamper ran", "secure checkout", "procured"])
def test_terms_are_whole_words(text):
    assert by_rule(check(text), "banned-terms") == [] and by_rule(check(text), "unapproved-claims") == []


def test_phrases_match_across_separators():
    [f] = by_rule(check("This is totally risk free for you"), "unapproved-claims")
    assert f.match == "risk free" and f.severity == "approval"
    assert by_rule(check("a risk-free trial"), "unapproved-claims")[0].match == "risk-free"
    assert by_rule(check("results guaranteed."), "unapproved-claims")[0].match == "guaranteed"
    assert by_rule(check("It will cure your headache"), "unapproved-claims")[0].match == "cure"


def test_regulated_words_ask_for_approval():
    [f] = by_rule(check("This is not investment advice, but the APR is low"), "regulated-words")[:1]
    assert f.severity == "approval" and "regulated word" in f.message


def test_personal_data_email_phone_card_address():
    text = ("Write to jane.doe@gmail.com or call +44 7700 900123; card 4111 1111 1111 1111 "
            "ships to 221 Baker Street tomorrow")
    found = {f.match: f for f in by_rule(check(text), "personal-data")}
    assert set(found) == {"jane.doe@gmail.com", "+44 7700 900123", "4111 1111 1111 1111", "221 Baker Street"}
    assert all(f.severity == "block" for f in found.values())
    assert text[found["221 Baker Street"].start:found["221 Baker Street"].end] == "221 Baker Street"
    assert "card number" in found["4111 1111 1111 1111"].message


def test_card_numbers_need_luhn_and_own_addresses_are_allowed():
    assert by_rule(check("order 4111 1111 1111 1112 is on its way"), "personal-data") == []
    assert by_rule(check("Write to support@acme.example and we'll help"), "personal-data") == []


def test_sponsored_content_needs_disclosure():
    [f] = by_rule(check("Our new shoes are great", sponsored=True), "sponsored-disclosure")
    assert f.severity == "block" and "#ad" in f.message
    assert by_rule(check("Our new shoes are great #ad", sponsored=True), "sponsored-disclosure") == []
    assert by_rule(check("Our new shoes are great #Sponsored", sponsored=True), "sponsored-disclosure") == []
    assert by_rule(check("Our new shoes are great #adventure", sponsored=True), "sponsored-disclosure")
    assert by_rule(check("Our new shoes are great", sponsored=False), "sponsored-disclosure") == []


def test_length_limits_per_channel_kind():
    text = "a" * 290
    [f] = by_rule(check(text, kind="x"), "length-limits")
    assert (f.start, f.end) == (280, 290) and "280" in f.message and f.severity == "block"
    assert by_rule(check(text, kind="mastodon"), "length-limits") == []


def test_tone_uses_the_sentiment_and_finds_sarcasm():
    [f] = by_rule(check("That was a terrible, awful, horrible idea and we hate it", tone=None), "tone")
    assert f.severity == "approval" and "negative" in f.message
    [s] = by_rule(check("Oh great, another customer who can't read. Thanks a lot."), "tone")[:1]
    assert "sarcastic" in s.message and s.match.lower() == "oh great"
    assert by_rule(check("Thanks so much, we're glad you love it!", tone=None), "tone") == []


def test_disabled_rules_and_other_channel_kinds_are_skipped():
    rules = [RuleSpec("x-only", "terms", "block", terms=("foo",), channel_kinds=("x",)),
             RuleSpec("off", "terms", "block", terms=("bar",), enabled=False)]
    assert check("foo bar", kind="mastodon", rules=rules) == []
    assert [f.rule for f in check("foo bar", kind="x", rules=rules)] == ["x-only"]


def test_findings_are_ordered_most_severe_first():
    findings = check("guaranteed, you idiot. #fail but maybe a lawsuit")
    assert [f.severity for f in findings] == sorted([f.severity for f in findings],
                                                    key=["block", "approval", "warn"].index)


def test_hostile_terms_do_not_break_the_pattern():
    assert term_pattern("a.b*c(") and check("x", rules=[RuleSpec("r", "terms", "block", terms=("(?:", "[a-"))]) == []


@pytest.mark.parametrize("secret", ["Your temporary password: Xk7!pq29wz", "the password is hunter2!",
                                    "api_key=sk_live_4eC39HqLyjWDarjtT1zdp7dc", "AKIAIOSFODNN7EXAMPLE",
                                    "-----BEGIN OPENSSH PRIVATE KEY-----",
                                    "token: ghp_16C7e42F292c6912E7710c838347Ae178B4a",
                                    "use ov_AbCdEfGhIjKlMnOpQrStUvWx to call the API",
                                    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"])
def test_credentials_are_blocked(secret):
    [f] = by_rule(check(f"Hi Ana, {secret} — let us know"), "credentials")
    assert f.severity == "block" and f.message.startswith("a credential (password, key or token)")


def test_talking_about_passwords_is_not_a_credential():
    for text in ("To change your password: open Settings, then Security.", "Your password is safe with us.",
                 "Reset the PIN on the device", "Thanks for the token of appreciation!"):
        assert by_rule(check(text), "credentials") == [], text


def test_profanity_and_slurs_are_blocked_and_promises_of_compensation_held():
    [f] = by_rule(check("Sorry, that delivery was total bullsh1t."), "profanity")
    assert f.severity == "block" and f.match == "bullsh1t"
    [f] = by_rule(check("no need to be so r.e.t.a.r.d.e.d about it"), "slurs")
    assert f.severity == "block"
    for text, match in (("We'll refund you today.", "We'll refund"), ("Here is a voucher for your trouble", "voucher"),
                        ("We will send a free replacement", "free replacement")):
        [f] = by_rule(check(text), "compensation-promises")
        assert f.severity == "approval" and f.match == match and "promise of compensation" in f.message
    assert by_rule(check("Your refund was processed on Monday."), "compensation-promises") == []
    [f] = by_rule(check("It's completely safe for kids"), "unapproved-claims")
    assert f.severity == "approval"
