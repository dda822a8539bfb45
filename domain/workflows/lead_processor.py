"""The lead processor: store the leads a marketing tool sends, route each by the first matching
rule (to a user, a partner or a splitter's next seller), set the rule's priority."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from domain.commands import apply
from domain.criteria import CriteriaEntity
from domain.custom_fields import check_values
from domain.enums import LeadStatus, Role
from domain.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationError, ref
from domain.events import LeadChanged, LeadCreated, LeadEvent
from domain.leads import Campaign, Lead
from domain.routing import (
    LeadRoutingRule,
    LeadSplitter,
    LeadSplitterShare,
    check_credit_shares,
    first_matching,
    lead_holder,
    next_share,
)
from domain.uow import UnitOfWork
from domain.workflows.custom_fields import definitions_of
from domain.workflows.lead_identity import match_data, matching_settings, recognise
from domain.workflows.leads import LEAD_FIELDS, NewLead, checked_priority


@dataclass(frozen=True, kw_only=True)
class LeadRouted(LeadEvent):
    """The lead processor routed a lead (data: ruleId, splitterId, userId, partnerId, priority)."""


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
        check. Locks are taken in id order, so two ingestions never wait for each other in a cycle.
        Rules and splitters are the company's own (a partner may not read them) and route every caller's
        leads: they are read as the system, and what routed a lead is shown only to who may read it."""
        rules = await uow.find(LeadRoutingRule, order_by="position", active=True)
        router = cls(rules)
        for splitter_id in sorted({r.splitter_id for r in rules if r.splitter_id is not None}):
            await uow.lock(LeadSplitter, splitter_id)
            splitter = await uow.get(LeadSplitter, splitter_id, as_system=True)
            shares = await uow.find(LeadSplitterShare, splitter_id=splitter_id)
            if splitter.active and shares:
                router.splitters[splitter_id] = splitter
                router.shares[splitter_id] = shares
                router.counted.update({s.id: s.assigned for s in shares})
        # A rule whose splitter is switched off (or lost its last seller when that user or partner was
        # deleted) does not match: the lead falls through to the next rule.
        router.rules = [r for r in rules if r.splitter_id is None or r.splitter_id in router.splitters]
        return router

    def route(self, lead: Lead) -> tuple[LeadRoutingRule | None, int | None, int | None, str | None]:
        """(rule, user id, partner id, credit shares) for the lead; counts a splitter's pick. A sharing splitter
        (mode SHARE) gives the lead to its largest share's user and shares its credit by the splitter's
        percentages (domain/credit.py); every other target leaves the credit as it is (None)."""
        rule = first_matching(self.rules, lead)
        if rule is None:
            return None, None, None, None
        if rule.splitter_id is None:
            return rule, rule.user_id, rule.partner_id, None
        shares = self.shares[rule.splitter_id]
        if self.splitters[rule.splitter_id].mode == "SHARE":
            return rule, lead_holder(shares).user_id, None, check_credit_shares(shares)
        share = next_share(shares)
        share.assigned += 1
        return rule, share.user_id, share.partner_id, None

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
    definitions = await definitions_of(uow, CriteriaEntity.LEAD)
    for index, new in enumerate(cmd.leads):
        try:
            drafts.append(
                Lead(
                    **{n: getattr(new, n) for n in LEAD_FIELDS if n != "priority"},
                    priority=checked_priority(new.priority),
                    custom_fields=check_values(definitions, new.custom_fields or {}),
                )
            )
        except ValidationError as error:
            raise _at(cmd, index, error) from None
    campaigns = {d.campaign_id for d in drafts if d.campaign_id is not None}
    for index, draft in enumerate(drafts):
        if draft.campaign_id in campaigns:
            try:
                # With the caller's rules: a partner's tool naming an internal campaign gets the NotFound
                # of a missing one, and cannot find out which campaigns exist.
                await uow.get(Campaign, draft.campaign_id)
            except NotFound as error:
                raise _at(cmd, index, error) from None
            campaigns.discard(draft.campaign_id)

    router = await Router.load(uow)
    settings = await matching_settings(uow)
    results = []
    for draft in drafts:
        await recognise(uow, draft, settings)
        rule, user_id, partner_id, shares = router.route(draft)
        if rule is None and uow.actor.partner_id is not None:
            partner_id = uow.actor.partner_id
        draft.assigned_user_id, draft.assigned_partner_id = user_id, partner_id
        if shares is not None:
            draft.credit_shares = shares
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
                    **match_data(lead),
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


# --- routing again, on demand ---

ROUTABLE = (LeadStatus.OPEN, LeadStatus.CONTACTING, LeadStatus.REWORK)
MAX_REROUTE = 1000


@dataclass(kw_only=True)
class RouteLeads:
    """Which leads to route again: these ids, or those matching the criteria (all given must hold)."""

    lead_ids: list[int] | None = None
    unassigned_only: bool = True
    status: LeadStatus | None = None
    campaign_id: int | None = None
    country: str | None = None


@dataclass
class Rerouted:
    leads: list[Lead]  # the leads a rule matched, as they are now
    unmatched: int  # the leads selected that no rule matched (left as they were)


async def route_leads(cmd: RouteLeads, uow: UnitOfWork) -> Rerouted:
    """Run the lead processor's routing again, with the rules and splitters as they are now, over a selection
    of leads (by default the unprocessed ones: assigned to nobody): each lead a rule matches goes to its user,
    partner or splitter's next seller, with the rule's priority. An admin or a sales director; at most 1,000
    leads at a time."""
    uow.actor.ensure_staff("route leads")
    if uow.actor.role not in (Role.ADMIN, Role.SALES_DIRECTOR):
        raise PermissionDenied("only an admin or a sales director may route leads again")
    if cmd.lead_ids is not None:
        if len(cmd.lead_ids) > MAX_REROUTE:
            raise ValidationError("leadIds", f"at most {MAX_REROUTE} leads at a time")
        selected = [await uow.get(Lead, lead_id) for lead_id in dict.fromkeys(cmd.lead_ids)]
    else:
        where: dict[str, object] = {"archived": False}
        if cmd.status is not None:
            where["status"] = LeadStatus(cmd.status).value
        if cmd.campaign_id is not None:
            await uow.get(Campaign, cmd.campaign_id)
            where["campaign_id"] = cmd.campaign_id
        if cmd.country is not None:
            where["country"] = cmd.country.strip().upper()
        found = await uow.find(Lead, order_by="id", **where)
        selected = [
            lead
            for lead in found
            if not cmd.unassigned_only or (lead.assigned_user_id is None and lead.assigned_partner_id is None)
        ]
        visible = []
        for lead in selected:  # only what the caller may see (a director: its team's and the unassigned)
            try:
                visible.append(await uow.get(Lead, lead.id))
            except NotFound:
                continue
            if len(visible) > MAX_REROUTE:
                raise ValidationError("filter", f"more than {MAX_REROUTE} leads match; narrow the selection")
        selected = visible
    router = await Router.load(uow)
    routed, unmatched = [], 0
    for lead in selected:
        if lead.archived or lead.merged_into_id is not None or lead.status not in ROUTABLE:
            raise Conflict(
                f"lead {ref(lead)} is {'archived' if lead.archived else lead.status.value}; not routed again"
            )
        rule, user_id, partner_id, shares = router.route(lead)
        if rule is None:
            unmatched += 1
            continue
        values: dict[str, object] = {"assigned_user_id": user_id, "assigned_partner_id": partner_id}
        if shares is not None:  # a sharing splitter's credit split
            values["credit_shares"] = shares
        if rule.priority is not None:
            values["priority"] = rule.priority
        updated = await uow.update(apply(lead, values))
        routed.append(updated)
        uow.record(LeadChanged(entity_id=updated.id, data={"fields": sorted(values), "status": updated.status.value}))
        uow.record(
            LeadRouted(
                entity_id=updated.id,
                data={
                    "ruleId": rule.id,
                    "splitterId": rule.splitter_id,
                    "userId": user_id,
                    "partnerId": partner_id,
                    "priority": updated.priority,
                    "again": True,
                },
            )
        )
    await router.save(uow)
    await uow.commit()
    return Rerouted(routed, unmatched)
