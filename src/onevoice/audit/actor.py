"""Who acts in a unit of work, for the audit records written during it (by `audit.log.record` callers and by
governance's row-change hook). Bound at the edge: `bind_actor(session, who, ip)`."""

from __future__ import annotations

from sqlalchemy.orm import Session

from onevoice.audit.log import actor_label
from onevoice.auth.principal import Principal


def bind_actor(session: Session, who: Principal | str | None, ip: str | None = None) -> None:
    """Say who is acting in this unit of work (and from where), for the records the hook writes."""
    session.info["audit_actor"] = actor_label(who)
    session.info["audit_ip"] = ip
