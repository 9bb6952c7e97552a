"""Triage and route stages: adapters from stored messages to the triage and routing seams.

The triage and routing features replace their insides (factories) without touching the pipeline.
"""

from __future__ import annotations

import logging

from onevoice.pipeline.normalize import author_key
from onevoice.routing.factory import build_router as make_router
from onevoice.routing.types import RouteInput, Router
from onevoice.triage.types import TriageInput, Triager, TriageResult

log = logging.getLogger(__name__)


def build_triager(settings) -> Triager:
    # Heavy: the triage models load only in a process that processes messages.
    from onevoice.triage.factory import build_triager as build

    return build(settings)


def build_router(settings, session_factory) -> Router:
    return make_router(settings, session_factory)


def triage_inputs(messages: list, contacts: dict, channel_keys: dict[int, str],
                  prior: dict[int, int]) -> list[TriageInput]:
    out = []
    for m in messages:
        contact = contacts[author_key(m)]
        out.append(TriageInput(
            text=m.text, kind=m.kind, channel=channel_keys[m.channel_id],
            author_followers=m.author.get("followers", 0) or 0, prior_messages=prior.get(contact.id, 0),
        ))
    return out


def route_input(message, triage: TriageResult, channel_key: str, contact, prior_messages: int) -> RouteInput:
    return RouteInput(
        text=message.text, kind=message.kind, channel=channel_key, created_at=message.created_at,
        triage=triage, author_followers=message.author.get("followers", 0) or 0,
        author_vip=bool(contact.vip), prior_messages=prior_messages,
        author_marks=tuple(contact.marks) + (("vip",) if contact.vip else ()),
    )
