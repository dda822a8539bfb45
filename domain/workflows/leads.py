"""Lead workflows: create, edit, assign, archive, add to an account, qualify, disqualify, rework,
anonymize; the lead processor (store, route by rules, split, prioritise); campaigns; routing rules
and lead splitters."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from domain.accounts import Account, Contact, ContactType
from domain.commands import UNSET, apply, changes, expect_version, given
from domain.enums import OPEN_STAGES, AccountKind, CampaignStatus, ContactKind, LeadStatus, Stage
from domain.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationError, ref
from domain.events import (
    AccountCreated,
    CampaignChanged,
    ContactCreated,
    DomainEvent,
    LeadChanged,
    LeadCreated,
    LeadDisqualified,
    LeadEvent,
    LeadQualified,
    LeadReworked,
    OpportunityCreated,
)
from domain.leads import PERSONAL_FIELDS, Campaign, Lead
from domain.money import Money
from domain.opportunities import Opportunity
from domain.people import Partner, User
from domain.routing import (
    Condition,
    LeadField,
    LeadRoutingRule,
    LeadSplitter,
    LeadSplitterShare,
    check_shares,
    first_matching,
    next_share,
)
from domain.uow import UnitOfWork
from domain.workflows.opportunities import DEFAULT_PROBABILITY
from domain.workflows.privacy import wipe_person_of_lead


@dataclass(frozen=True, kw_only=True)
class LeadRouted(LeadEvent):
    """The lead processor routed a lead (data: ruleId, splitterId, userId, partnerId, priority)."""


@dataclass(frozen=True, kw_only=True)
class LeadRoutingRuleChanged(DomainEvent):
    """A lead routing rule was created, changed or deleted (data: change, fields)."""

    entity_type: ClassVar[str] = "LeadRoutingRule"


@dataclass(frozen=True, kw_only=True)
class LeadSplitterChanged(DomainEvent):
    """A lead splitter or its shares were created, changed or deleted (data: change, fields)."""

    entity_type: ClassVar[str] = "LeadSplitter"


LEAD_FIELDS = (
    "first_name",
    "last_name",
    "company",
    "email",
    "phone",
    "country",
    "company_size",
    "campaign_id",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "priority",
)


def _staff_only(uow: UnitOfWork, what: str) -> None:
    if uow.actor.partner_id is not None:
        raise PermissionDenied(f"partners cannot {what}; ask your contact at the company")


def _may_work_on(uow: UnitOfWork, lead: Lead) -> None:
    """A partner works only on the leads assigned to it."""
    if uow.actor.partner_id is not None and lead.assigned_partner_id != uow.actor.partner_id:
        raise PermissionDenied(f"lead {ref(lead)} is not assigned to your partner organisation")


async def _lead(uow: UnitOfWork, id: int, version: int | None) -> Lead:
    lead = await uow.get(Lead, id)
    _may_work_on(uow, lead)
    expect_version(lead, version)
    return lead


async def _check_assignee(uow: UnitOfWork, user_id: int | None, partner_id: int | None) -> None:
    if user_id is not None and partner_id is not None:
        raise ValidationError("assignee", "assign a lead to a user or a partner, not both")
    if user_id is not None:
        await uow.get(User, user_id)
    if partner_id is not None:
        await uow.get(Partner, partner_id)


# The longest names the columns keep: campaigns, routing rules and splitters; an opportunity.
NAME_MAX = 200
OPPORTUNITY_NAME_MAX = 300
# Rules are ordered by position. Bounded so that "after the last rule" (the highest position + 1)
# can always be stored, and with room enough to leave gaps between rules.
MAX_POSITION = 1_000_000


def _fits(value: str | None, field: str, limit: int = NAME_MAX) -> None:
    """A text input no longer than its column (blank-trimmed, as it is stored)."""
    if isinstance(value, str) and len(value.strip()) > limit:
        raise ValidationError(field, f"is longer than {limit} characters")


# Campaign costs are kept with 4 decimals and 16 digits before the point.
COSTS_DECIMALS, COSTS_LIMIT = 4, Decimal(10) ** 16


def _costs(costs: Money | None) -> None:
    if costs is None:
        return
    if abs(costs.amount) >= COSTS_LIMIT:
        raise ValidationError("costs", f"is too large; at most {COSTS_LIMIT - 1:,} {costs.currency}")
    if costs.amount != costs.amount.quantize(Decimal(1).scaleb(-COSTS_DECIMALS)):
        raise ValidationError("costs", f"has more than {COSTS_DECIMALS} decimal places")


def _position(value: int) -> int:
    if not 0 <= value <= MAX_POSITION:
        raise ValidationError("position", f"is from 0 to {MAX_POSITION}, not {value}")
    return value


def _priority(value: int | None) -> int:
    if value is None:
        return 0
    if value < 0:
        raise ValidationError("priority", "cannot be negative")
    return value


# --- leads by hand ---


@dataclass(kw_only=True)
class NewLead:
    """One lead as a marketing tool sends it."""

    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    email: str | None = None
    phone: str | None = None
    country: str | None = None
    company_size: int | None = None
    campaign_id: int | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    priority: int | None = None


@dataclass(kw_only=True)
class CreateLead(NewLead):
    """A lead entered by hand, perhaps given to someone at once."""

    assigned_user_id: int | None = None
    assigned_partner_id: int | None = None


async def create_lead(cmd: CreateLead, uow: UnitOfWork) -> Lead:
    """A lead entered by hand, assigned to whom the command names (default: the caller)."""
    user_id, partner_id = cmd.assigned_user_id, cmd.assigned_partner_id
    if uow.actor.partner_id is not None:
        if user_id is not None or partner_id not in (None, uow.actor.partner_id):
            raise PermissionDenied("a partner creates leads for itself only")
        partner_id = uow.actor.partner_id
    elif user_id is None and partner_id is None:
        user_id = uow.actor.user_id
    lead = Lead(
        **{n: getattr(cmd, n) for n in LEAD_FIELDS if n != "priority"},
        priority=_priority(cmd.priority),
        assigned_user_id=user_id,
        assigned_partner_id=partner_id,
    )
    await _check_assignee(uow, user_id, partner_id)
    if lead.campaign_id is not None:
        await uow.get(Campaign, lead.campaign_id)
    lead = await uow.add(lead)
    uow.record(
        LeadCreated(
            entity_id=lead.id,
            data={
                "campaignId": lead.campaign_id,
                "userId": user_id,
                "partnerId": partner_id,
                "priority": lead.priority,
                "status": lead.status.value,
                "via": "manual",
            },
        )
    )
    await uow.commit()
    return lead


@dataclass(kw_only=True)
class UpdateLead:
    id: int
    version: int | None = None
    first_name: str | None = UNSET
    last_name: str | None = UNSET
    company: str | None = UNSET
    email: str | None = UNSET
    phone: str | None = UNSET
    country: str | None = UNSET
    company_size: int | None = UNSET
    campaign_id: int | None = UNSET
    utm_source: str | None = UNSET
    utm_medium: str | None = UNSET
    utm_campaign: str | None = UNSET
    priority: int = UNSET
    status: LeadStatus = UNSET


# Statuses an edit may set; the others have their own workflow (and its rules).
EDITABLE_STATUSES = {
    LeadStatus.OPEN: "",
    LeadStatus.CONTACTING: "",
    LeadStatus.QUALIFIED: "qualifyLead",
    LeadStatus.DISQUALIFIED: "disqualifyLead",
    LeadStatus.REWORK: "reworkLead",
}


async def update_lead(cmd: UpdateLead, uow: UnitOfWork) -> Lead:
    lead = await _lead(uow, cmd.id, cmd.version)
    lead.ensure_workable()
    values = changes(cmd, *LEAD_FIELDS, "status")
    if lead.anonymized and any(values[n] is not None for n in PERSONAL_FIELDS if n in values):
        raise Conflict(f"lead {ref(lead)} is anonymized; its personal data cannot be set again")
    if "priority" in values:
        if values["priority"] is None:
            raise ValidationError("priority", "cannot be null; 0 is the lowest")
        _priority(values["priority"])
    if "status" in values:
        if values["status"] is None:
            raise ValidationError("status", "cannot be null")
        status = LeadStatus(values["status"])
        if EDITABLE_STATUSES[status]:
            raise ValidationError("status", f"use {EDITABLE_STATUSES[status]} to make a lead {status.value}")
        if status is lead.status:
            del values["status"]
        else:
            lead.ensure_can_move_to(status)
            values["status"], values["disqualification_reason"] = status, None
    if values.get("campaign_id") is not None:
        await uow.get(Campaign, values["campaign_id"])
    updated = await uow.update(apply(lead, values))
    uow.record(LeadChanged(entity_id=updated.id, data={"fields": sorted(values), "status": updated.status.value}))
    await uow.commit()
    return updated


@dataclass(kw_only=True)
class AssignLead:
    id: int
    user_id: int | None = None
    partner_id: int | None = None
    version: int | None = None


async def assign_lead(cmd: AssignLead, uow: UnitOfWork) -> Lead:
    """Give a lead to a user or a partner (both None: nobody)."""
    _staff_only(uow, "reassign leads")
    lead = await _lead(uow, cmd.id, cmd.version)
    lead.ensure_workable()
    await _check_assignee(uow, cmd.user_id, cmd.partner_id)
    if (lead.assigned_user_id, lead.assigned_partner_id) == (cmd.user_id, cmd.partner_id):
        raise Conflict(f"lead {ref(lead)} is already assigned so")
    updated = await uow.update(apply(lead, {"assigned_user_id": cmd.user_id, "assigned_partner_id": cmd.partner_id}))
    uow.record(
        LeadChanged(
            entity_id=updated.id,
            data={
                "fields": ["assigned_partner_id", "assigned_user_id"],
                "userId": cmd.user_id,
                "partnerId": cmd.partner_id,
            },
        )
    )
    await uow.commit()
    return updated


@dataclass(kw_only=True)
class LeadRef:
    id: int
    version: int | None = None


async def archive_lead(cmd: LeadRef, uow: UnitOfWork) -> Lead:
    lead = await _lead(uow, cmd.id, cmd.version)
    if lead.archived:
        raise Conflict(f"lead {ref(lead)} is already archived")
    updated = await uow.update(apply(lead, {"archived": True}))
    uow.record(LeadChanged(entity_id=updated.id, data={"fields": ["archived"], "archived": True}))
    await uow.commit()
    return updated


async def unarchive_lead(cmd: LeadRef, uow: UnitOfWork) -> Lead:
    lead = await _lead(uow, cmd.id, cmd.version)
    if not lead.archived:
        raise Conflict(f"lead {ref(lead)} is not archived")
    updated = await uow.update(apply(lead, {"archived": False}))
    uow.record(LeadChanged(entity_id=updated.id, data={"fields": ["archived"], "archived": False}))
    await uow.commit()
    return updated


@dataclass(kw_only=True)
class AddLeadToAccount:
    id: int
    account_id: int
    version: int | None = None


async def add_lead_to_account(cmd: AddLeadToAccount, uow: UnitOfWork) -> Lead:
    """Note that the lead belongs to an existing account (qualifying it later uses that account)."""
    lead = await _lead(uow, cmd.id, cmd.version)
    lead.ensure_workable()
    await uow.get(Account, cmd.account_id)
    if lead.account_id == cmd.account_id:
        raise Conflict(f"lead {ref(lead)} already belongs to account {ref('Account', cmd.account_id)}")
    if lead.status is LeadStatus.QUALIFIED:
        raise Conflict(f"lead {ref(lead)} is qualified; its account is the one its opportunity was made on")
    updated = await uow.update(apply(lead, {"account_id": cmd.account_id}))
    uow.record(LeadChanged(entity_id=updated.id, data={"fields": ["account_id"], "accountId": cmd.account_id}))
    await uow.commit()
    return updated


# --- qualify, disqualify, rework, anonymize ---


@dataclass(kw_only=True)
class QualifyLead:
    id: int
    version: int | None = None
    account_id: int | None = None
    create_account: bool = False
    create_contact: bool = False
    opportunity_name: str | None = None
    owner_id: int | None = None
    stage: Stage = Stage.PROSPECTING
    estimated_revenue: Money | None = None
    expected_close_date: date | None = None


@dataclass
class Qualified:
    lead: Lead
    opportunity: Opportunity
    account: Account
    contact: Contact | None
    created_account: bool


def account_from_lead(lead: Lead, owner_id: int, created_by_id: int | None) -> Account:
    """A prospect account from the lead: an organization named after its company, else a person."""
    common: dict[str, Any] = {
        "email": lead.email,
        "phone": lead.phone,
        "country": lead.country,
        "manager_id": owner_id,
        "created_by_id": created_by_id,
        "partner_id": lead.assigned_partner_id,
    }
    if lead.company:
        return Account(kind=AccountKind.ORGANIZATION, name=lead.company, **common)
    if lead.first_name and lead.last_name:
        return Account(kind=AccountKind.PERSON, first_name=lead.first_name, last_name=lead.last_name, **common)
    raise ValidationError(
        "createAccount",
        "the lead has neither a company nor a first and last name to name an "
        "account after; name an existing account in accountId",
    )


async def qualify_lead(cmd: QualifyLead, uow: UnitOfWork) -> Qualified:
    """Turn a lead into an opportunity (and, where asked, a new account and contact) in one go; the
    lead becomes QUALIFIED and links to all of them."""
    _fits(cmd.opportunity_name, "opportunityName", OPPORTUNITY_NAME_MAX)
    lead = await _lead(uow, cmd.id, cmd.version)
    lead.ensure_workable()
    lead.ensure_can_move_to(LeadStatus.QUALIFIED)
    stage = Stage(cmd.stage)
    if stage not in OPEN_STAGES:
        raise ValidationError("stage", "the opportunity starts in an open stage")
    if lead.anonymized and (cmd.create_account or cmd.create_contact):
        raise Conflict(f"lead {ref(lead)} is anonymized: there is no data left to make an account or contact from")
    if cmd.create_account and cmd.account_id is not None:
        raise ValidationError("createAccount", "either name an existing account or ask for a new one, not both")
    owner_id = cmd.owner_id or lead.assigned_user_id or uow.actor.user_id
    if owner_id is None:
        raise ValidationError("ownerId", "name the user who will own the opportunity")
    await uow.get(User, owner_id)
    if cmd.create_contact and not (lead.first_name and lead.last_name):
        raise ValidationError("createContact", "a contact needs the lead's first and last name")

    created_account = False
    if cmd.account_id is not None:
        account = await uow.get(Account, cmd.account_id)
    elif cmd.create_account:
        account = await uow.add(account_from_lead(lead, owner_id, uow.actor.user_id))
        created_account = True
        uow.record(AccountCreated(entity_id=account.id, data={"fromLeadId": lead.id, "kind": account.kind.value}))
    elif lead.account_id is not None:
        account = await uow.get(Account, lead.account_id)
    else:
        raise ValidationError("accountId", "name the account to sell to, or ask for a new one with createAccount")

    contact = None
    if cmd.create_contact:
        employee_types = await uow.find(ContactType, kind=ContactKind.EMPLOYEE.value)
        if not employee_types:
            raise Conflict("there is no EMPLOYEE contact type to give the new contact")
        contact = await uow.add(
            Contact(
                first_name=lead.first_name or "",
                last_name=lead.last_name or "",
                contact_type_id=employee_types[0].id,
                account_id=account.id,
                email=lead.email,
                phone=lead.phone,
                lead_status=LeadStatus.QUALIFIED,
            )
        )
        uow.record(ContactCreated(entity_id=contact.id, data={"accountId": account.id, "fromLeadId": lead.id}))

    opportunity = await uow.add(
        Opportunity(
            name=cmd.opportunity_name or lead.display_name,
            account_id=account.id,
            owner_id=owner_id,
            stage=stage,
            probability=DEFAULT_PROBABILITY[stage],
            estimated_revenue=cmd.estimated_revenue,
            expected_close_date=cmd.expected_close_date,
            partner_id=lead.assigned_partner_id,
            campaign_id=lead.campaign_id,
            stage_changed_at=uow.now,
        )
    )
    uow.record(
        OpportunityCreated(
            entity_id=opportunity.id,
            data={"accountId": account.id, "ownerId": owner_id, "stage": stage.value, "fromLeadId": lead.id},
        )
    )

    qualified = await uow.update(
        apply(
            lead,
            {
                "status": LeadStatus.QUALIFIED,
                "disqualification_reason": None,
                "account_id": account.id,
                "contact_id": contact.id if contact else lead.contact_id,
                "opportunity_id": opportunity.id,
            },
        )
    )
    uow.record(
        LeadQualified(
            entity_id=qualified.id,
            data={
                "opportunityId": opportunity.id,
                "accountId": account.id,
                "contactId": qualified.contact_id,
                "campaignId": qualified.campaign_id,
                "createdAccount": created_account,
            },
        )
    )
    await uow.commit()
    return Qualified(qualified, opportunity, account, contact, created_account)


@dataclass(kw_only=True)
class DisqualifyLead:
    id: int
    reason: str | None = None
    status: LeadStatus = LeadStatus.DISQUALIFIED
    version: int | None = None


async def disqualify_lead(cmd: DisqualifyLead, uow: UnitOfWork) -> Lead:
    """Take a lead out of the funnel: DISQUALIFIED with a reason, or REWORK (not now) with an
    optional note."""
    lead = await _lead(uow, cmd.id, cmd.version)
    lead.ensure_workable()
    status = LeadStatus(cmd.status)
    if status not in (LeadStatus.DISQUALIFIED, LeadStatus.REWORK):
        raise ValidationError("status", "a lead is disqualified as DISQUALIFIED or put back as REWORK")
    reason = (cmd.reason or "").strip() or None
    if status is LeadStatus.DISQUALIFIED and reason is None:
        raise ValidationError("reason", "say why the lead is disqualified")
    if status is lead.status:
        raise Conflict(f"lead {ref(lead)} is already {status.value}")
    lead.ensure_can_move_to(status)
    updated = await uow.update(apply(lead, {"status": status, "disqualification_reason": reason}))
    event = LeadDisqualified if status is LeadStatus.DISQUALIFIED else LeadReworked
    uow.record(
        event(
            entity_id=updated.id, data={"reason": reason, "from": lead.status.value, "campaignId": updated.campaign_id}
        )
    )
    await uow.commit()
    return updated


@dataclass(kw_only=True)
class ReworkLead:
    id: int
    note: str | None = None
    version: int | None = None


async def rework_lead(cmd: ReworkLead, uow: UnitOfWork) -> Lead:
    """Put a lead back for a later follow-up (REWORK)."""
    return await disqualify_lead(
        DisqualifyLead(id=cmd.id, reason=cmd.note, status=LeadStatus.REWORK, version=cmd.version), uow
    )


async def anonymize_lead(cmd: LeadRef, uow: UnitOfWork) -> Lead:
    """GDPR: wipe the lead's personal data for good. What statistics need (status, campaign,
    country, company size, priority, links) stays, so counts and campaign figures still add up."""
    lead = await _lead(uow, cmd.id, cmd.version)
    if lead.anonymized:
        raise Conflict(f"lead {ref(lead)} is already anonymized")
    wiped = await wipe_person_of_lead(uow, lead)  # and the contact it was qualified into
    await uow.commit()
    return wiped


# --- the lead processor ---


@dataclass(kw_only=True)
class IngestLeads:
    leads: list[NewLead]
    # True for a batch: errors then name the lead, e.g. `leads[3].email`.
    batch: bool = False


@dataclass
class Ingested:
    lead: Lead
    rule_id: int | None = None
    splitter_id: int | None = None


MAX_BATCH = 500


def _at(cmd: IngestLeads, index: int, error: DomainError) -> DomainError:
    if cmd.batch and isinstance(error, ValidationError):
        return ValidationError(f"leads[{index}].{error.field}", error.reason)
    return error


@dataclass
class Router:
    """The routing rules and the splitters' shares of one ingestion, with the counters it moves."""

    rules: list[LeadRoutingRule]
    splitters: dict[int, LeadSplitter] = field(default_factory=dict)
    shares: dict[int, list[LeadSplitterShare]] = field(default_factory=dict)
    counted: dict[int, int] = field(default_factory=dict)  # share id → its count when read

    @classmethod
    async def load(cls, uow: UnitOfWork) -> Router:
        """The active rules, and the splitters they use with their shares. Each splitter is locked
        before its shares are read: concurrent ingestions through one splitter queue for it (each
        counts on from the numbers the previous one committed) instead of failing on a version
        check. Locks are taken in id order, so two ingestions never wait for each other in a cycle."""
        rules = await uow.find(LeadRoutingRule, order_by="position", active=True)
        router = cls(rules)
        for splitter_id in sorted({r.splitter_id for r in rules if r.splitter_id is not None}):
            await uow.lock(LeadSplitter, splitter_id)
            splitter = await uow.get(LeadSplitter, splitter_id)
            shares = await uow.find(LeadSplitterShare, splitter_id=splitter_id)
            if splitter.active and shares:
                router.splitters[splitter_id] = splitter
                router.shares[splitter_id] = shares
                router.counted.update({s.id: s.assigned for s in shares})
        # A rule whose splitter is switched off (or lost its last seller when that user or partner was
        # deleted) does not match: the lead falls through to the next rule.
        router.rules = [r for r in rules if r.splitter_id is None or r.splitter_id in router.splitters]
        return router

    def route(self, lead: Lead) -> tuple[LeadRoutingRule | None, int | None, int | None]:
        """(rule, user id, partner id) for the lead; counts a splitter's pick."""
        rule = first_matching(self.rules, lead)
        if rule is None:
            return None, None, None
        if rule.splitter_id is None:
            return rule, rule.user_id, rule.partner_id
        share = next_share(self.shares[rule.splitter_id])
        share.assigned += 1
        return rule, share.user_id, share.partner_id

    async def save(self, uow: UnitOfWork) -> None:
        for _splitter_id, shares in self.shares.items():
            moved = [s for s in shares if s.assigned != self.counted[s.id]]
            # Only the shares' counters move (each update checks its version, which catches a writer
            # that did not take the lock); the splitter's own version is its configuration's, so an
            # admin's edit made from what they read is not refused because leads arrived meanwhile.
            for share in moved:
                await uow.update(share)


async def ingest_leads(
    cmd: IngestLeads, uow: UnitOfWork, before_commit: Callable[[list[Ingested]], Awaitable[None]] | None = None
) -> list[Ingested]:
    """The lead processor: store every lead, route it by the first matching rule (to a user, a
    partner or a splitter's next seller), set the rule's priority. `before_commit` runs in the same
    transaction after the leads are written (to remember an idempotency key with the result)."""
    if not cmd.leads:
        raise ValidationError("leads", "send at least one lead")
    if len(cmd.leads) > MAX_BATCH:
        raise ValidationError("leads", f"send at most {MAX_BATCH} leads at a time, not {len(cmd.leads)}")
    drafts = []
    for index, new in enumerate(cmd.leads):
        try:
            drafts.append(
                Lead(**{n: getattr(new, n) for n in LEAD_FIELDS if n != "priority"}, priority=_priority(new.priority))
            )
        except ValidationError as error:
            raise _at(cmd, index, error) from None
    campaigns = {d.campaign_id for d in drafts if d.campaign_id is not None}
    for index, draft in enumerate(drafts):
        if draft.campaign_id in campaigns:
            try:
                await uow.get(Campaign, draft.campaign_id)
            except NotFound as error:
                raise _at(cmd, index, error) from None
            campaigns.discard(draft.campaign_id)

    router = await Router.load(uow)
    results = []
    for draft in drafts:
        rule, user_id, partner_id = router.route(draft)
        if rule is None and uow.actor.partner_id is not None:
            partner_id = uow.actor.partner_id
        draft.assigned_user_id, draft.assigned_partner_id = user_id, partner_id
        if rule is not None and rule.priority is not None:
            draft.priority = rule.priority
        lead = await uow.add(draft)
        routed = Ingested(lead, rule.id if rule else None, rule.splitter_id if rule else None)
        results.append(routed)
        uow.record(
            LeadCreated(
                entity_id=lead.id,
                data={
                    "campaignId": lead.campaign_id,
                    "userId": user_id,
                    "partnerId": partner_id,
                    "priority": lead.priority,
                    "status": lead.status.value,
                    "via": "processor",
                },
            )
        )
        uow.record(
            LeadRouted(
                entity_id=lead.id,
                data={
                    "ruleId": routed.rule_id,
                    "splitterId": routed.splitter_id,
                    "userId": lead.assigned_user_id,
                    "partnerId": lead.assigned_partner_id,
                    "priority": lead.priority,
                },
            )
        )
    await router.save(uow)
    if before_commit is not None:
        await before_commit(results)
    await uow.commit()
    return results


# --- campaigns ---


@dataclass(kw_only=True)
class CreateCampaign:
    name: str
    costs: Money | None = None
    starts_on: date | None = None
    ends_on: date | None = None


async def create_campaign(cmd: CreateCampaign, uow: UnitOfWork) -> Campaign:
    _staff_only(uow, "manage campaigns")
    _fits(cmd.name, "name")
    _costs(cmd.costs)
    campaign = await uow.add(Campaign(name=cmd.name, costs=cmd.costs, starts_on=cmd.starts_on, ends_on=cmd.ends_on))
    uow.record(CampaignChanged(entity_id=campaign.id, data={"change": "created"}))
    await uow.commit()
    return campaign


@dataclass(kw_only=True)
class UpdateCampaign:
    id: int
    version: int | None = None
    name: str = UNSET
    costs: Money | None = UNSET
    starts_on: date | None = UNSET
    ends_on: date | None = UNSET


async def update_campaign(cmd: UpdateCampaign, uow: UnitOfWork) -> Campaign:
    _staff_only(uow, "manage campaigns")
    campaign = await uow.get(Campaign, cmd.id)
    expect_version(campaign, cmd.version)
    values = changes(cmd, "name", "costs", "starts_on", "ends_on")
    _fits(values.get("name"), "name")
    _costs(values.get("costs"))
    updated = await uow.update(apply(campaign, values))
    uow.record(CampaignChanged(entity_id=updated.id, data={"change": "updated", "fields": sorted(values)}))
    await uow.commit()
    return updated


@dataclass(kw_only=True)
class CampaignRef:
    id: int
    version: int | None = None


async def _set_campaign_status(cmd: CampaignRef, uow: UnitOfWork, status: CampaignStatus) -> Campaign:
    _staff_only(uow, "manage campaigns")
    campaign = await uow.get(Campaign, cmd.id)
    expect_version(campaign, cmd.version)
    if campaign.status is status:
        raise Conflict(f"campaign {ref(campaign)} is already {status.value}")
    updated = await uow.update(apply(campaign, {"status": status}))
    uow.record(
        CampaignChanged(
            entity_id=updated.id, data={"change": "archived" if status is CampaignStatus.ARCHIVED else "unarchived"}
        )
    )
    await uow.commit()
    return updated


async def archive_campaign(cmd: CampaignRef, uow: UnitOfWork) -> Campaign:
    """Archive a campaign: it stays for statistics, and its leads and figures are kept."""
    return await _set_campaign_status(cmd, uow, CampaignStatus.ARCHIVED)


async def unarchive_campaign(cmd: CampaignRef, uow: UnitOfWork) -> Campaign:
    return await _set_campaign_status(cmd, uow, CampaignStatus.ACTIVE)


# --- routing rules ---


@dataclass(kw_only=True)
class Target:
    """Where a rule sends leads: exactly one of them."""

    user_id: int | None = None
    partner_id: int | None = None
    splitter_id: int | None = None


async def _check_target(uow: UnitOfWork, target: Target) -> None:
    if sum(v is not None for v in (target.user_id, target.partner_id, target.splitter_id)) != 1:
        raise ValidationError("target", "name exactly one of userId, partnerId and splitterId")
    if target.user_id is not None:
        await uow.get(User, target.user_id)
    if target.partner_id is not None:
        await uow.get(Partner, target.partner_id)
    if target.splitter_id is not None:
        await uow.get(LeadSplitter, target.splitter_id)


async def _check_conditions(uow: UnitOfWork, conditions: list[Condition]) -> None:
    for condition in conditions:
        if condition.field is LeadField.CAMPAIGN:
            for campaign_id in condition.values:
                await uow.get(Campaign, campaign_id)


@dataclass(kw_only=True)
class CreateRoutingRule:
    name: str
    target: Target
    conditions: list[Condition] = field(default_factory=list)
    position: int | None = None
    priority: int | None = None
    active: bool = True


async def create_lead_routing_rule(cmd: CreateRoutingRule, uow: UnitOfWork) -> LeadRoutingRule:
    """A new rule; without a position it comes after every other rule."""
    _staff_only(uow, "manage lead routing")
    _fits(cmd.name, "name")
    if cmd.position is not None:
        _position(cmd.position)
    await _check_target(uow, cmd.target)
    await _check_conditions(uow, cmd.conditions)
    position = cmd.position
    if position is None:
        # After the last rule; once the last position is taken, tied with it (ties go by id, so
        # still after). min() also keeps the new position in range when an older rule has a higher one.
        last = max((r.position for r in await uow.find(LeadRoutingRule)), default=0)
        position = min(last + 1, MAX_POSITION)
    rule = await uow.add(
        LeadRoutingRule(
            name=cmd.name,
            position=position,
            active=cmd.active,
            conditions=[c.to_dict() for c in cmd.conditions],
            user_id=cmd.target.user_id,
            partner_id=cmd.target.partner_id,
            splitter_id=cmd.target.splitter_id,
            priority=cmd.priority,
        )
    )
    uow.record(LeadRoutingRuleChanged(entity_id=rule.id, data={"change": "created", "position": rule.position}))
    await uow.commit()
    return rule


@dataclass(kw_only=True)
class UpdateRoutingRule:
    id: int
    version: int | None = None
    name: str = UNSET
    target: Target = UNSET
    conditions: list[Condition] = UNSET
    position: int = UNSET
    priority: int | None = UNSET
    active: bool = UNSET


async def update_lead_routing_rule(cmd: UpdateRoutingRule, uow: UnitOfWork) -> LeadRoutingRule:
    _staff_only(uow, "manage lead routing")
    rule = await uow.get(LeadRoutingRule, cmd.id)
    expect_version(rule, cmd.version)
    values = changes(cmd, "name", "position", "priority", "active")
    for name in ("position", "active"):
        if name in values and values[name] is None:
            raise ValidationError(name, "cannot be null")
    _fits(values.get("name"), "name")
    if "position" in values:
        _position(values["position"])
    if given(cmd.target):
        if cmd.target is None:
            raise ValidationError("target", "cannot be null; a rule always has a target")
        await _check_target(uow, cmd.target)
        values.update(user_id=cmd.target.user_id, partner_id=cmd.target.partner_id, splitter_id=cmd.target.splitter_id)
    if given(cmd.conditions):
        if cmd.conditions is None:
            raise ValidationError("conditions", "cannot be null; send [] for a rule that matches every lead")
        await _check_conditions(uow, cmd.conditions)
        values["conditions"] = [c.to_dict() for c in cmd.conditions]
    updated = await uow.update(apply(rule, values))
    uow.record(LeadRoutingRuleChanged(entity_id=updated.id, data={"change": "updated", "fields": sorted(values)}))
    await uow.commit()
    return updated


@dataclass(kw_only=True)
class RoutingRuleRef:
    id: int
    version: int | None = None


async def delete_lead_routing_rule(cmd: RoutingRuleRef, uow: UnitOfWork) -> int:
    _staff_only(uow, "manage lead routing")
    rule = await uow.get(LeadRoutingRule, cmd.id)
    expect_version(rule, cmd.version)
    await uow.delete(rule)
    uow.record(LeadRoutingRuleChanged(entity_id=rule.id, data={"change": "deleted"}))
    await uow.commit()
    return rule.id


# --- lead splitters ---


@dataclass(kw_only=True)
class ShareSpec:
    weight: int
    user_id: int | None = None
    partner_id: int | None = None


async def _shares(uow: UnitOfWork, splitter_id: int, specs: list[ShareSpec]) -> list[LeadSplitterShare]:
    shares = [
        LeadSplitterShare(splitter_id=splitter_id, weight=s.weight, user_id=s.user_id, partner_id=s.partner_id)
        for s in specs
    ]
    check_shares(shares)
    for share in shares:
        if share.user_id is not None:
            await uow.get(User, share.user_id)
        else:
            await uow.get(Partner, share.partner_id)  # type: ignore[arg-type]
    return shares


@dataclass(kw_only=True)
class CreateSplitter:
    name: str
    shares: list[ShareSpec]
    active: bool = True


async def create_lead_splitter(cmd: CreateSplitter, uow: UnitOfWork) -> LeadSplitter:
    _staff_only(uow, "manage lead splitters")
    _fits(cmd.name, "name")
    LeadSplitter(name=cmd.name)
    shares = await _shares(uow, 0, cmd.shares)
    if await uow.count(LeadSplitter, name=cmd.name.strip()):
        raise Conflict(f"a lead splitter named {cmd.name.strip()!r} exists already")
    splitter = await uow.add(LeadSplitter(name=cmd.name, active=cmd.active))
    for share in shares:
        share.splitter_id = splitter.id
        await uow.add(share)
    uow.record(
        LeadSplitterChanged(entity_id=splitter.id, data={"change": "created", "weights": [s.weight for s in shares]})
    )
    await uow.commit()
    return splitter


@dataclass(kw_only=True)
class UpdateSplitter:
    id: int
    version: int | None = None
    name: str = UNSET
    active: bool = UNSET
    shares: list[ShareSpec] = UNSET


async def update_lead_splitter(cmd: UpdateSplitter, uow: UnitOfWork) -> LeadSplitter:
    """Rename, switch on or off, or replace the shares. New shares start a new count: every seller
    starts from zero, so the new weights hold from the next lead on (no catching up on the past)."""
    _staff_only(uow, "manage lead splitters")
    # Wait for ingestions counting on this splitter to finish rather than fail on their counts.
    await uow.lock(LeadSplitter, cmd.id)
    splitter = await uow.get(LeadSplitter, cmd.id)
    expect_version(splitter, cmd.version)
    values = changes(cmd, "name", "active")
    if "active" in values and values["active"] is None:
        raise ValidationError("active", "cannot be null")
    _fits(values.get("name"), "name")
    if values.get("name") is not None and values["name"].strip() != splitter.name:
        if await uow.count(LeadSplitter, name=values["name"].strip()):
            raise Conflict(f"a lead splitter named {values['name'].strip()!r} exists already")
    if cmd.shares is None:
        raise ValidationError("shares", "cannot be null; a splitter always has shares")
    shares = await _shares(uow, splitter.id, cmd.shares) if given(cmd.shares) else None
    updated = await uow.update(apply(splitter, values))
    if shares is not None:
        if updated.version == splitter.version:
            updated = await uow.touch(updated)
        for old in await uow.find(LeadSplitterShare, splitter_id=splitter.id):
            await uow.delete(old)
        for share in shares:
            await uow.add(share)
    fields = sorted(values) + (["shares"] if shares is not None else [])
    uow.record(LeadSplitterChanged(entity_id=updated.id, data={"change": "updated", "fields": fields}))
    await uow.commit()
    return updated


@dataclass(kw_only=True)
class SplitterRef:
    id: int
    version: int | None = None


async def delete_lead_splitter(cmd: SplitterRef, uow: UnitOfWork) -> int:
    """Delete a splitter that no rule uses (retarget or delete those rules first)."""
    _staff_only(uow, "manage lead splitters")
    # Wait for ingestions counting on this splitter to finish rather than fail on their counts.
    await uow.lock(LeadSplitter, cmd.id)
    splitter = await uow.get(LeadSplitter, cmd.id)
    expect_version(splitter, cmd.version)
    users = await uow.find(LeadRoutingRule, splitter_id=splitter.id)
    if users:
        names = ", ".join(repr(r.name) for r in users)
        raise Conflict(
            f"lead splitter {ref(splitter)} is used by routing rule(s) {names}; retarget or delete them first"
        )
    for share in await uow.find(LeadSplitterShare, splitter_id=splitter.id):
        await uow.delete(share)
    await uow.delete(splitter)
    uow.record(LeadSplitterChanged(entity_id=splitter.id, data={"change": "deleted"}))
    await uow.commit()
    return splitter.id
