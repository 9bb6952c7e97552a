"""Imports every feature's tables so that Base.metadata is complete (Alembic, tests)."""

from onevoice.advocacy.models import (  # noqa: F401
    AdvocacySetting,
    LinkedHandle,
    Share,
    ShareableItem,
    ShareClick,
    SharerProfile,
    VoiceSighting,
)
from onevoice.approvals.models import Approval  # noqa: F401
from onevoice.audit.models import AuditRecord  # noqa: F401
from onevoice.auth.models import ApiToken, User, UserSession, UserTeam  # noqa: F401
from onevoice.cases.models import Case, CaseTeam, Conversation, Incident  # noqa: F401
from onevoice.channels.models import Channel, InboundFailure  # noqa: F401
from onevoice.connect.models import ChannelConnect  # noqa: F401
from onevoice.contacts.models import Contact, ContactIdentity  # noqa: F401
from onevoice.events.models import Event  # noqa: F401
from onevoice.governance.models import ApprovalRule, GuardRule, PolicyVersion  # noqa: F401
from onevoice.inbox.models import Notification  # noqa: F401
from onevoice.library.models import Answer  # noqa: F401
from onevoice.messages.models import (
    Message,  # noqa: F401
)
from onevoice.notifications.models import Alert, AlertRule, MailMessage, NotificationPreference  # noqa: F401
from onevoice.outbox.models import OutboxJob  # noqa: F401
from onevoice.posts.models import Post, PostTarget  # noqa: F401
from onevoice.privacy.models import PrivacyRequest, RetentionRule, RetentionRun  # noqa: F401
from onevoice.reports.models import CaseFacts, Objective, ReportState, TeamFacts  # noqa: F401
from onevoice.routing.models import LearnedRoute, Playbook  # noqa: F401
from onevoice.teams.models import Team  # noqa: F401
from onevoice.triage.models import ModelVersion, Product, TriageCorrection  # noqa: F401
