"""JSON routes: /api/v1/notifications, a person's subscriptions (the token's person) and the coordinator's SLA
alert thresholds; scopes notifications:read and notifications:write. The same services as /me/notifications."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from onevoice.auth.principal import Principal
from onevoice.notifications import service
from onevoice.notifications.schemas import SubscriptionsIn, SubscriptionsOut, ThresholdIn, ThresholdOut, Thresholds
from onevoice.web.deps import api_principal, get_read_session, get_session, require_scope
from onevoice.web.responses import AUTH_ERRORS, Problem

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])
READ, WRITE = Depends(require_scope("notifications:read")), Depends(require_scope("notifications:write"))
REFUSED = {422: {"model": Problem, "description": "an unknown team or figure, a threshold outside 0-100 or a "
                                                   "window outside 1-90 days, a field that does not exist"}}


@router.get("/subscriptions", response_model=SubscriptionsOut, responses=AUTH_ERRORS, dependencies=[READ])
def subscriptions(who: Principal = Depends(api_principal), session: Session = Depends(get_read_session)):
    """What the token's person is subscribed to, and what their role offers. A token without a person: 403."""
    return service.preferences(session, who)


@router.patch("/subscriptions", response_model=SubscriptionsOut, responses=AUTH_ERRORS, dependencies=[WRITE])
def change_subscriptions(body: SubscriptionsIn, who: Principal = Depends(api_principal),
                         session: Session = Depends(get_session)):
    """Subscribe or unsubscribe (the fields given; the others stay). A subscription the role does not offer: 403."""
    return service.save_preferences(session, who, **body.model_dump(exclude_none=True))


def _rule_setter(who: Principal = Depends(api_principal)) -> Principal:
    service.require_rule_setter(who)
    return who


@router.get("/thresholds", response_model=Thresholds, responses=AUTH_ERRORS, dependencies=[READ])
def thresholds(who: Principal = Depends(_rule_setter), session: Session = Depends(get_read_session)):
    """The SLA alert thresholds (coordinators and admins), with whether each is below now."""
    return Thresholds(items=service.list_rules(session))


@router.post("/thresholds", response_model=ThresholdOut, responses={**AUTH_ERRORS, **REFUSED},
             dependencies=[WRITE])
def set_threshold(body: ThresholdIn, who: Principal = Depends(_rule_setter), session: Session = Depends(get_session)):
    """Set the threshold on one figure (first response or resolution SLA attainment) for the organization or a
    team, replacing the one there was; a changed threshold starts afresh (docs/notifications.md)."""
    return service.set_rule(session, who, body.team or None, body.threshold_percent, body.days, body.enabled,
                            metric=body.metric)
