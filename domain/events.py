"""Domain events: facts that workflows record while they change the graph. The unit of work writes
them to the outbox in the same transaction; a dispatcher publishes them after commit."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """Something that happened to one entity. `type` names the kind of fact (`OpportunityWon`),
    `entity_type`/`entity_id` say what it happened to, `data` carries what a subscriber needs."""

    entity_type: ClassVar[str] = ""
    entity_id: int
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def type(self) -> str:
        return type(self).__name__

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "entityType": self.entity_type,
            "entityId": self.entity_id,
            "data": dataclasses.asdict(self)["data"],
        }


@dataclass(frozen=True, kw_only=True)
class LeadEvent(DomainEvent):
    entity_type: ClassVar[str] = "Lead"


class LeadCreated(LeadEvent):
    """A lead was created (by hand or by the lead processor)."""


class LeadChanged(LeadEvent):
    """A lead's data, assignee or archived flag changed."""


class LeadQualified(LeadEvent):
    """A lead was qualified into an opportunity (data: opportunityId, accountId, contactId)."""


class LeadDisqualified(LeadEvent):
    """A lead was disqualified (data: reason)."""


class LeadReworked(LeadEvent):
    """A lead was put back for a later follow-up."""


class LeadMerged(LeadEvent):
    """Another lead was merged into this one (data: sourceId, fields taken from it)."""


class LeadAnonymized(LeadEvent):
    """A lead's personal data was wiped."""


@dataclass(frozen=True, kw_only=True)
class AccountEvent(DomainEvent):
    entity_type: ClassVar[str] = "Account"


class AccountCreated(AccountEvent):
    """An account was created."""


class AccountChanged(AccountEvent):
    """An account's data or relations changed (data: fields)."""


class AccountDeleted(AccountEvent):
    """An account was deleted."""


@dataclass(frozen=True, kw_only=True)
class ContactEvent(DomainEvent):
    entity_type: ClassVar[str] = "Contact"


class ContactCreated(ContactEvent):
    """A contact was created."""


class ContactChanged(ContactEvent):
    """A contact changed (data: fields)."""


class ContactDeleted(ContactEvent):
    """A contact was deleted."""


class ContactAnonymized(ContactEvent):
    """A contact's personal data was wiped."""


@dataclass(frozen=True, kw_only=True)
class OpportunityEvent(DomainEvent):
    entity_type: ClassVar[str] = "Opportunity"


class OpportunityCreated(OpportunityEvent):
    """An opportunity was created."""


class OpportunityChanged(OpportunityEvent):
    """An opportunity's data changed (data: fields)."""


class OpportunityStageChanged(OpportunityEvent):
    """An opportunity moved between stages (data: from, to)."""


class OpportunityWon(OpportunityEvent):
    """An opportunity was sold (data: actualRevenue, currency, contractIds)."""


class OpportunityLost(OpportunityEvent):
    """An opportunity was lost (data: reason)."""


class OpportunityUnlocked(OpportunityEvent):
    """A sold opportunity was reopened for edits."""


class OpportunityDeleted(OpportunityEvent):
    """An opportunity was deleted."""


class QuoteActivated(OpportunityEvent):
    """A quote became the opportunity's active quote (data: quoteId)."""


class QuoteChanged(OpportunityEvent):
    """A quote of the opportunity or its items changed (data: quoteId)."""


@dataclass(frozen=True, kw_only=True)
class ContractEvent(DomainEvent):
    entity_type: ClassVar[str] = "Contract"


class ContractCreated(ContractEvent):
    """A contract was created from a sold item (data: opportunityId, accountId)."""


class ContractWithdrawn(ContractEvent):
    """A sale was undone (unlocked): its contract no longer exists (data: opportunityId)."""


class ContractRenewed(ContractEvent):
    """A time-based contract got a new period (data: previousEndsOn, endsOn, and what every contract event
    carries: opportunityId, accountId, kind, status, endsOn)."""


class ContractCancelled(ContractEvent):
    """A contract was cancelled now, or terminated as of a later date (data: effectiveOn, reason)."""


class ContractExpiring(ContractEvent):
    """A time-based contract ends within the notice period (data: endsOn, daysLeft); sent once per end date,
    by the scheduler."""


class ContractExpired(ContractEvent):
    """A contract's end passed and the scheduler ended it (data: status, EXPIRED, or CANCELLED for one
    terminated early)."""


class ContractRemoved(ContractEvent):
    """A contract was removed from its sold opportunity (data: reason)."""


@dataclass(frozen=True, kw_only=True)
class ActivityEvent(DomainEvent):
    entity_type: ClassVar[str] = "SalesActivity"


class ActivityLogged(ActivityEvent):
    """A sales activity was created (data: type, leadId/opportunityId/accountId/partnerId)."""


class ActivityChanged(ActivityEvent):
    """A sales activity changed or was completed."""


class ActivityDeleted(ActivityEvent):
    """A sales activity was deleted."""


@dataclass(frozen=True, kw_only=True)
class TaskEvent(DomainEvent):
    """Something that happened to a task. data: assigneeId, priority, dueAt, done and what it is attached
    to (one of accountId, contactId, opportunityId, leadId), plus what the kind says."""

    entity_type: ClassVar[str] = "Task"


class TaskCreated(TaskEvent):
    """A task was created."""


class TaskChanged(TaskEvent):
    """A task's title, notes, due time, priority or assignee changed (data: fields; previousAssigneeId when
    it was reassigned)."""


class TaskCompleted(TaskEvent):
    """A task was marked done (data: completedAt)."""


class TaskReopened(TaskEvent):
    """A done task was opened again."""


class TaskDeleted(TaskEvent):
    """A task was deleted."""


@dataclass(frozen=True, kw_only=True)
class AttachmentEvent(DomainEvent):
    """Something that happened to a file attached to an account, an opportunity or a price book. data: name,
    version (the newest), and the row it is on (one of accountId, opportunityId, priceBookId); an upload also
    fileName, contentType and size of that version."""

    entity_type: ClassVar[str] = "Attachment"


class AttachmentUploaded(AttachmentEvent):
    """A file was attached to a row (its version 1)."""


class AttachmentVersionAdded(AttachmentEvent):
    """A new version of an attached file was uploaded."""


class AttachmentDeleted(AttachmentEvent):
    """An attachment was deleted with every version of it."""


@dataclass(frozen=True, kw_only=True)
class CatalogEvent(DomainEvent):
    entity_type: ClassVar[str] = "Catalog"


class CatalogChanged(CatalogEvent):
    """Price books, products, units, prices, bundles or exchange rates changed (data: what)."""


@dataclass(frozen=True, kw_only=True)
class GoalEvent(DomainEvent):
    entity_type: ClassVar[str] = "Goal"


class GoalSet(GoalEvent):
    """A user's goal for a period was set (data: userId)."""


@dataclass(frozen=True, kw_only=True)
class CampaignEvent(DomainEvent):
    entity_type: ClassVar[str] = "Campaign"


class CampaignChanged(CampaignEvent):
    """A campaign was created, changed, archived or unarchived."""


@dataclass(frozen=True, kw_only=True)
class PartnerEvent(DomainEvent):
    entity_type: ClassVar[str] = "Partner"


class PartnerChanged(PartnerEvent):
    """A partner or its consultants changed."""


@dataclass(frozen=True, kw_only=True)
class UserEvent(DomainEvent):
    entity_type: ClassVar[str] = "User"


class UserRoleChanged(UserEvent):
    """A user's role changed (data: from, to): what the user's tokens may do changed with it."""


@dataclass(frozen=True, kw_only=True)
class ConversationEvent(DomainEvent):
    entity_type: ClassVar[str] = "Conversation"


class ConversationRecorded(ConversationEvent):
    """A call or meeting was recorded and analysed (data: ownerId, kind, language, startedAt)."""


class ConversationDeleted(ConversationEvent):
    """A recorded conversation was deleted."""


@dataclass(frozen=True, kw_only=True)
class TrackedTermEvent(DomainEvent):
    entity_type: ClassVar[str] = "TrackedTerm"


class TrackedTermChanged(TrackedTermEvent):
    """A tracked keyword or competitor was created, changed or deleted (data: change, termsRevision):
    past conversations are analysed again in the background."""


@dataclass(frozen=True, kw_only=True)
class AnalysisEvent(DomainEvent):
    entity_type: ClassVar[str] = "ConversationSettings"


class ConversationsReanalysed(AnalysisEvent):
    """A batch of past conversations was analysed again with the current terms (data: termsRevision,
    analysed, remaining)."""


def _frozen_subclasses(base: type) -> None:
    for sub in base.__subclasses__():
        if "__dataclass_fields__" not in sub.__dict__:
            dataclass(frozen=True, kw_only=True)(sub)
        _frozen_subclasses(sub)


_frozen_subclasses(DomainEvent)
