"""Lead workflows: create, edit, assign, archive, add to an account, qualify, disqualify, rework,
anonymize. The lead processor is in lead_processor.py; campaigns, routing rules and splitters each
have their own module."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from domain.accounts import Account, Contact, ContactType
from domain.commands import UNSET, apply, changes, expect_version, fits, given
from domain.criteria import CriteriaEntity
from domain.enums import AccountKind, ContactKind, LeadStatus
from domain.errors import Conflict, NotFound, PermissionDenied, ValidationError, ref
from domain.events import (
    AccountCreated,
    ContactCreated,
    LeadChanged,
    LeadCreated,
    LeadDisqualified,
    LeadQualified,
    LeadReworked,
    OpportunityCreated,
)
from domain.leads import PERSONAL_FIELDS, Campaign, Lead
from domain.money import Money
from domain.opportunities import Opportunity
from domain.people import Partner, User
from domain.stages import StageKind
from domain.uow import UnitOfWork
from domain.workflows.custom_fields import custom_values
from domain.workflows.lead_identity import match_data, recognise
from domain.workflows.privacy import wipe_person_of_lead

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


# The longest opportunity name the column keeps.
OPPORTUNITY_NAME_MAX = 300


def checked_priority(value: int | None) -> int:
    """A lead's priority as given (none: 0, the lowest)."""
    if value is None:
        return 0
    if value < 0:
        raise ValidationError("priority", "cannot be negative")
    return value


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
    custom_fields: dict[str, Any] = field(default_factory=dict)


@dataclass(kw_only=True)
class CreateLead(NewLead):
    """A lead entered by hand, perhaps given to someone at once."""

    assigned_user_id: int | None = None
    assigned_partner_id: int | None = None


async def create_lead(cmd: CreateLead, uow: UnitOfWork) -> Lead:
    """Create a lead by hand, assigned to the user or partner named (default: you)."""
    user_id, partner_id = cmd.assigned_user_id, cmd.assigned_partner_id
    if uow.actor.partner_id is not None:
        if user_id is not None or partner_id not in (None, uow.actor.partner_id):
            raise PermissionDenied("a partner creates leads for itself only")
        partner_id = uow.actor.partner_id
    elif user_id is None and partner_id is None:
        user_id = uow.actor.user_id
    lead = Lead(
        **{n: getattr(cmd, n) for n in LEAD_FIELDS if n != "priority"},
        priority=checked_priority(cmd.priority),
        assigned_user_id=user_id,
        assigned_partner_id=partner_id,
        custom_fields=await custom_values(uow, CriteriaEntity.LEAD, cmd.custom_fields),
    )
    await _check_assignee(uow, user_id, partner_id)
    if lead.campaign_id is not None:
        await uow.get(Campaign, lead.campaign_id)
    await recognise(uow, lead)
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
                **match_data(lead),
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
    custom_fields: dict[str, Any] = UNSET  # key by key; a null value removes one


# Statuses an edit may set; the others have their own workflow (and its rules).
EDITABLE_STATUSES = {
    LeadStatus.OPEN: "",
    LeadStatus.CONTACTING: "",
    LeadStatus.QUALIFIED: "qualifyLead",
    LeadStatus.DISQUALIFIED: "disqualifyLead",
    LeadStatus.REWORK: "reworkLead",
}


async def update_lead(cmd: UpdateLead, uow: UnitOfWork) -> Lead:
    """Change a lead's data, priority or working status (OPEN, CONTACTING)."""
    lead = await _lead(uow, cmd.id, cmd.version)
    lead.ensure_workable()
    values = changes(cmd, *LEAD_FIELDS, "status")
    if lead.anonymized and any(values[n] is not None for n in PERSONAL_FIELDS if n in values):
        raise Conflict(f"lead {ref(lead)} is anonymized; its personal data cannot be set again")
    if "priority" in values:
        if values["priority"] is None:
            raise ValidationError("priority", "cannot be null; 0 is the lowest")
        checked_priority(values["priority"])
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
            values["status"], values["disqualification_reason"], values["rework_note"] = status, None, None
            values["status_changed_at"] = uow.now
    if values.get("campaign_id") is not None:
        await uow.get(Campaign, values["campaign_id"])
    if given(cmd.custom_fields):
        values["custom_fields"] = await custom_values(uow, CriteriaEntity.LEAD, cmd.custom_fields, lead.custom_fields)
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
    """Give a lead to a user or a partner, or to nobody."""
    uow.actor.ensure_staff("reassign leads")
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
    """Archive a lead (hidden from the lead board, kept for statistics)."""
    lead = await _lead(uow, cmd.id, cmd.version)
    if lead.archived:
        raise Conflict(f"lead {ref(lead)} is already archived")
    updated = await uow.update(apply(lead, {"archived": True}))
    uow.record(LeadChanged(entity_id=updated.id, data={"fields": ["archived"], "archived": True}))
    await uow.commit()
    return updated


async def unarchive_lead(cmd: LeadRef, uow: UnitOfWork) -> Lead:
    """Bring an archived lead back."""
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
    """Note that a lead belongs to an existing account."""
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


async def _visible_account(uow: UnitOfWork, account_id: int) -> Account | None:
    """The account the lead was added to, if the caller may see it (None otherwise)."""
    try:
        return await uow.get(Account, account_id)
    except NotFound:
        return None


@dataclass(kw_only=True)
class QualifyLead:
    id: int
    version: int | None = None
    account_id: int | None = None
    create_account: bool = False
    create_contact: bool = False
    opportunity_name: str | None = None
    owner_id: int | None = None
    stage: str | None = None  # the first open stage when left out
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
    """Qualify a lead: create its opportunity (and, where asked, an account and a contact) in one transaction; the lead
    becomes QUALIFIED and links to them."""
    fits(cmd.opportunity_name, "opportunityName", OPPORTUNITY_NAME_MAX)
    lead = await _lead(uow, cmd.id, cmd.version)
    lead.ensure_workable()
    lead.ensure_can_move_to(LeadStatus.QUALIFIED)
    stages = await uow.stages()
    stage = stages.first(StageKind.OPEN) if cmd.stage is None else stages.usable(cmd.stage)
    if not stage.is_open:
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
    account: Account | None = None
    if cmd.account_id is not None:
        account = await uow.get(Account, cmd.account_id)
    elif cmd.create_account:
        account = await uow.add(account_from_lead(lead, owner_id, uow.actor.user_id))
        created_account = True
        uow.record(AccountCreated(entity_id=account.id, data={"fromLeadId": lead.id, "kind": account.kind}))
    elif lead.account_id is not None:
        account = await _visible_account(uow, lead.account_id)
    if account is None:
        # Also when the lead's account is one the caller may not see: the answer is the one for a lead
        # without an account, so it tells nothing of a hidden account (nor that there is one).
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
            stage=stage.key,
            probability=stage.probability,
            estimated_revenue=cmd.estimated_revenue,
            expected_close_date=cmd.expected_close_date,
            partner_id=lead.assigned_partner_id,
            campaign_id=lead.campaign_id,
            stage_changed_at=uow.now,
            credit_shares=lead.credit_shares,  # the lead's credit split carries over (domain/credit.py)
        )
    )
    uow.record(
        OpportunityCreated(
            entity_id=opportunity.id,
            data={"accountId": account.id, "ownerId": owner_id, "stage": stage.key, "fromLeadId": lead.id},
        )
    )

    qualified = await uow.update(
        apply(
            lead,
            {
                "status": LeadStatus.QUALIFIED,
                "status_changed_at": uow.now,
                "disqualification_reason": None,
                "rework_note": None,
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
    """Disqualify a lead with a reason (or put it back as REWORK, the reason then being its rework note)."""
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
    # A disqualification's reason and a rework's note each have their own field; the other one is cleared.
    reworked = status is LeadStatus.REWORK
    updated = await uow.update(
        apply(
            lead,
            {
                "status": status,
                "disqualification_reason": None if reworked else reason,
                "rework_note": reason if reworked else None,
                "status_changed_at": uow.now,
            },
        )
    )
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
    """Put a lead back for a later follow-up (REWORK), with a note on why (`reworkNote`; its disqualification
    reason is cleared)."""
    return await disqualify_lead(
        DisqualifyLead(id=cmd.id, reason=cmd.note, status=LeadStatus.REWORK, version=cmd.version), uow
    )


async def anonymize_lead(cmd: LeadRef, uow: UnitOfWork) -> Lead:
    """GDPR: wipe a lead's personal data (names, company, e-mail, phone, UTM data) for good. Its status, campaign and
    counts stay, so statistics still add up."""
    lead = await _lead(uow, cmd.id, cmd.version)
    if lead.anonymized:
        raise Conflict(f"lead {ref(lead)} is already anonymized")
    wiped = await wipe_person_of_lead(uow, lead)  # and the contact it was qualified into
    await uow.commit()
    return wiped
