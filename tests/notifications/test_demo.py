"""The demo seeds subscriptions and an SLA threshold, once: a second start changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from onevoice.db import unit_of_work
from onevoice.demo.seed import DEMO_DOMAIN, seed_demo
from onevoice.notifications.models import AlertRule, NotificationPreference
from onevoice.notifications.service import list_rules


def test_the_demo_subscribes_its_people_once(session_factory):
    for _ in range(2):
        with unit_of_work(session_factory) as s:
            seed_demo(s)
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(NotificationPreference)) == 3
        assert s.scalar(select(func.count(AlertRule.id))) == 1
        rule = list_rules(s)[0]
        assert (rule.team, rule.threshold_percent, rule.days, rule.set_by) == (None, 80.0, 7,
                                                                                   f"lead@{DEMO_DOMAIN}")
