"""Lead identity workflows: an incoming lead (ingestLead, POST /ingest/leads, createLead) is recognised as
a known lead, contact or account and linked to them, flagged, never silently duplicated; the matching
is configured (on or off, by which keys); two leads are merged into one (issue 18, item 2)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.activities import SalesActivity
from domain.commands import apply, expect_version
from domain.enums import LeadStatus, Role
from domain.errors import Conflict, NotFound, PermissionDenied, ValidationError, ref
from domain.events import LeadChanged, LeadMerged, TaskChanged
from domain.identity import SETTINGS_ID, Identity, LeadMatchingSettings, Matches
from domain.leads import PERSONAL_FIELDS, Lead
from domain.tasks import Task
from domain.uow import UnitOfWork
from domain.workflows.tasks import event_data as task_event_data


async def matching_settings(uow: UnitOfWork) -> LeadMatchingSettings:
    """The deployment's matching settings (the defaults, all on, when the row is missing)."""
    try:
        return await uow.get(LeadMatchingSettings, SETTINGS_ID, as_system=True)
    except NotFound:
        return LeadMatchingSettings()


async def recognise(uow: UnitOfWork, lead: Lead, settings: LeadMatchingSettings | None = None) -> Lead:
    """Link a lead about to be stored to the earliest known lead, contact and account it matches (as the
    system: a duplicate is one whoever sent it), with the keys why. Nothing when matching is off."""
    settings = settings or await matching_settings(uow)
    identity = Identity.of(settings.keys(), lead.email, lead.phone, lead.company)
    matches = Matches.of(await uow.known(identity, exclude_lead=lead.id)) if identity else Matches()
    lead.duplicate_of_id = matches.lead_id
    lead.matched_contact_id = matches.contact_id
    lead.matched_account_id = matches.account_id
    lead.match_reasons = matches.reasons or None
    return lead


def match_data(lead: Lead) -> dict[str, int | None]:
    """What LeadCreated carries of the lead's matches (the ids; the reasons stay on the row)."""
    return {
        "duplicateOfId": lead.duplicate_of_id,
        "matchedContactId": lead.matched_contact_id,
        "matchedAccountId": lead.matched_account_id,
    }


@dataclass(kw_only=True)
class UpdateLeadMatching:
    enabled: bool | None = None
    by_email: bool | None = None
    by_phone: bool | None = None
    by_company: bool | None = None
    version: int | None = None


async def update_lead_matching(cmd: UpdateLeadMatching, uow: UnitOfWork) -> LeadMatchingSettings:
    """Switch the matching of incoming leads on or off, or choose its keys (admins). Leads already stored keep
    their links."""
    if uow.actor.role is not Role.ADMIN:
        raise PermissionDenied("only an admin may change how incoming leads are matched")
    settings = await uow.get(LeadMatchingSettings, SETTINGS_ID, as_system=True)
    expect_version(settings, cmd.version)
    values = {
        name: getattr(cmd, name)
        for name in ("enabled", "by_email", "by_phone", "by_company")
        if getattr(cmd, name) is not None
    }
    if not values:
        raise ValidationError("enabled", "say what to change")
    updated = await uow.update(apply(settings, values))
    await uow.commit()
    return updated


@dataclass(kw_only=True)
class MergeLeads:
    target_id: int
    source_id: int
    target_version: int | None = None
    source_version: int | None = None


async def merge_leads(cmd: MergeLeads, uow: UnitOfWork) -> Lead:
    """Merge a lead into another (a duplicate into the original): the target keeps its values and takes the
    source's where it has none; the source's tasks and activities move to it; the source is archived and links
    to it (`mergedInto`). A qualified source, an anonymized or already merged lead is a ConflictError."""
    if cmd.target_id == cmd.source_id:
        raise ValidationError("sourceId", "a lead is not merged into itself")
    target = await uow.get(Lead, cmd.target_id)
    source = await uow.get(Lead, cmd.source_id)
    expect_version(target, cmd.target_version)
    expect_version(source, cmd.source_version)
    for lead in (target, source):
        if lead.merged_into_id is not None:
            raise Conflict(f"lead {ref(lead)} was merged into another lead already")
        if lead.anonymized:
            raise Conflict(f"lead {ref(lead)} is anonymized; there is nothing to merge")
    target.ensure_workable()
    if source.status is LeadStatus.QUALIFIED:
        raise Conflict(f"lead {ref(source)} is qualified (an opportunity now); merge the other lead into it instead")
    filled = {
        name: getattr(source, name)
        for name in (*PERSONAL_FIELDS, "country", "company_size", "campaign_id")
        if getattr(target, name) is None and getattr(source, name) is not None
    }
    merged = await uow.update(apply(target, filled)) if filled else target
    for task in await uow.find(Task, lead_id=source.id):
        moved = await uow.update(apply(task, {"lead_id": merged.id}))
        uow.record(TaskChanged(entity_id=moved.id, data=task_event_data(moved, fields=["lead_id"])))
    for activity in await uow.find(SalesActivity, lead_id=source.id):
        await uow.update(apply(activity, {"lead_id": merged.id}))
    for lead in await uow.find(Lead, duplicate_of_id=source.id):
        await uow.update(apply(lead, {"duplicate_of_id": merged.id}))
    gone = await uow.update(apply(source, {"merged_into_id": merged.id, "archived": True, "duplicate_of_id": None}))
    uow.record(
        LeadChanged(entity_id=gone.id, data={"fields": ["archived", "merged_into_id"], "status": gone.status.value})
    )
    uow.record(LeadMerged(entity_id=merged.id, data={"sourceId": gone.id, "fields": sorted(filled)}))
    await uow.commit()
    return merged
