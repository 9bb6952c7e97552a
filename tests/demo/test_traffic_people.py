"""The demo's people are the same person whichever generator writes for them.

The history is seeded by one generator and each sandbox channel's live traffic by another, with other seeds;
`user-291` once had one name in the history and another live, so its case page showed a message by "Kofi
Singh" under a customer called "Hiro Brown"."""

from __future__ import annotations

from onevoice.connectors.sandbox.traffic import SandboxTraffic


def test_an_account_keeps_its_name_handle_and_reach_across_seeds():
    history, live, other = SandboxTraffic(11), SandboxTraffic(7), SandboxTraffic(12345)
    assert history.people == live.people == other.people
    assert len({p["handle"] for p in history.people}) == len(history.people)  # and no two share a handle


def test_messages_carry_the_account_as_the_generator_knows_it():
    traffic = SandboxTraffic(3)
    people = {p["external_id"]: p for p in traffic.people}
    for message in traffic.next_batch("sandbox-x", 50):
        author = message["author"]
        assert people[author["external_id"]]["name"] == author["name"]
