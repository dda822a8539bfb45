"""Partner workflows (partners and their consultants), users' roles and sales goals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.accounts import Account, Contact
from domain.activities import Goal, SalesActivity
from domain.commands import UNSET, apply, changes, expect_version
from domain.enums import ContactKind, LeadStatus, Role
from domain.errors import Conflict, PermissionDenied, ValidationError, ref
from domain.events import ActivityDeleted, ContactCreated, ContactDeleted, GoalSet, PartnerChanged, UserRoleChanged
from domain.leads import Lead
from domain.money import Money
from domain.opportunities import Opportunity
from domain.people import Partner, PartnerComment, User
from domain.uow import UnitOfWork
from domain.workflows.accounts import contact_type_of_kind, release_contact

# --- partners ---


@dataclass(kw_only=True)
class CreatePartner:
    name: str
    email: str | None = None
    phone: str | None = None
    country: str | None = None


async def create_partner(cmd: CreatePartner, uow: UnitOfWork) -> Partner:
    """Create a partner."""
    partner = await uow.add(Partner(name=cmd.name, email=cmd.email, phone=cmd.phone, country=cmd.country))
    uow.record(PartnerChanged(entity_id=partner.id, data={"change": "created", "name": partner.name}))
    await uow.commit()
    return partner


@dataclass(kw_only=True)
class UpdatePartner:
    id: int
    version: int | None = None
    name: str = UNSET
    email: str | None = UNSET
    phone: str | None = UNSET
    country: str | None = UNSET


async def update_partner(cmd: UpdatePartner, uow: UnitOfWork) -> Partner:
    """Change a partner's data."""
    partner = await uow.get(Partner, cmd.id)
    expect_version(partner, cmd.version)
    values = changes(cmd, "name", "email", "phone", "country")
    updated = await uow.update(apply(partner, values))
    uow.record(PartnerChanged(entity_id=updated.id, data={"change": "updated", "fields": sorted(values)}))
    await uow.commit()
    return updated


@dataclass(kw_only=True)
class DeletePartner:
    id: int
    version: int | None = None


async def delete_partner(cmd: DeletePartner, uow: UnitOfWork) -> int:
    """Delete a partner with its consultants and the activities about it. Refused while it still manages accounts or has
    leads or opportunities: take those back (assign them elsewhere) first, so nothing a partner was given silently loses
    its owner."""
    partner = await uow.get(Partner, cmd.id)
    expect_version(partner, cmd.version)
    held = [
        (what, rows)
        for what, rows in (
            ("accounts", await uow.find(Account, partner_id=partner.id)),
            ("leads", await uow.find(Lead, assigned_partner_id=partner.id)),
            ("opportunities", await uow.find(Opportunity, partner_id=partner.id)),
        )
        if rows
    ]
    if held:
        # Which ones is not said: some may be rows the caller may not see (another user's private account).
        listed = " and ".join(what for what, _rows in held)
        raise Conflict(f"partner {ref(partner)} still has {listed}; assign them elsewhere before deleting the partner")
    consultants = await uow.find(Contact, partner_id=partner.id)
    for consultant in consultants:
        await release_contact(uow, consultant)
        await uow.delete(consultant)
        uow.record(ContactDeleted(entity_id=consultant.id, data={"partnerId": partner.id}))
    for activity in await uow.find(SalesActivity, partner_id=partner.id):
        await uow.delete(activity)
        uow.record(
            ActivityDeleted(
                entity_id=activity.id,
                data={"type": activity.type, "partnerId": partner.id, "reason": "partner deleted"},
            )
        )
    await uow.delete(partner)
    uow.record(
        PartnerChanged(
            entity_id=partner.id,
            data={"change": "deleted", "name": partner.name, "consultantIds": [c.id for c in consultants]},
        )
    )
    await uow.commit()
    return partner.id


@dataclass(kw_only=True)
class CreateConsultant:
    partner_id: int
    first_name: str
    last_name: str
    contact_type_id: int | None = None
    title: str | None = None
    email: str | None = None
    phone: str | None = None
    skype: str | None = None


async def create_consultant(cmd: CreateConsultant, uow: UnitOfWork) -> Contact:
    """Create a consultant: a person working at a partner, as a contact of a CONSULTANT type (the first one unless
    named)."""
    partner = await uow.get(Partner, cmd.partner_id)
    contact_type = await contact_type_of_kind(uow, cmd.contact_type_id, ContactKind.CONSULTANT)
    consultant = await uow.add(
        Contact(
            partner_id=partner.id,
            first_name=cmd.first_name,
            last_name=cmd.last_name,
            contact_type_id=contact_type.id,
            title=cmd.title,
            email=cmd.email,
            phone=cmd.phone,
            skype=cmd.skype,
            lead_status=LeadStatus.OPEN,
        )
    )
    uow.record(
        ContactCreated(entity_id=consultant.id, data={"partnerId": partner.id, "contactTypeId": contact_type.id})
    )
    uow.record(PartnerChanged(entity_id=partner.id, data={"change": "consultant added", "contactId": consultant.id}))
    await uow.commit()
    return consultant


# --- users ---


@dataclass(kw_only=True)
class ChangeUserRole:
    id: int
    role: Role
    version: int | None = None


async def change_user_role(cmd: ChangeUserRole, uow: UnitOfWork) -> User:
    """Give a user another role (admins only). What the user sees, and what each of the user's tokens may do, follow the
    new role from the next request on, in every server process."""
    if not uow.actor.is_admin:
        raise PermissionDenied("only an admin changes users' roles")
    user = await uow.get(User, cmd.id)
    expect_version(user, cmd.version)
    if user.id == uow.actor.user_id:
        raise ValidationError("id", "an admin does not change their own role; another admin can")
    if user.role is cmd.role:
        await uow.commit()  # nothing to change
        return user
    before = user.role
    changed = await uow.update(apply(user, {"role": cmd.role}))
    uow.record(UserRoleChanged(entity_id=changed.id, data={"from": before.value, "to": changed.role.value}))
    await uow.commit()
    return changed


# --- goals ---


@dataclass(kw_only=True)
class SetGoal:
    user_id: int
    period_start: date
    period_end: date
    target_revenue: Money
    target_deals: int = 0


async def set_goal(cmd: SetGoal, uow: UnitOfWork) -> Goal:
    """Set a user's goal for a period (replaces the goal of exactly that period)."""
    await uow.get(User, cmd.user_id)
    wanted = Goal(
        user_id=cmd.user_id,
        period_start=cmd.period_start,
        period_end=cmd.period_end,
        target_revenue=cmd.target_revenue,
        target_deals=cmd.target_deals,
    )
    existing = await uow.find(Goal, user_id=cmd.user_id, period_start=cmd.period_start, period_end=cmd.period_end)
    if existing:
        goal = await uow.update(
            apply(existing[0], {"target_revenue": wanted.target_revenue, "target_deals": wanted.target_deals})
        )
    else:
        goal = await uow.add(wanted)
    uow.record(
        GoalSet(
            entity_id=goal.id,
            data={
                "userId": goal.user_id,
                "periodStart": goal.period_start.isoformat(),
                "periodEnd": goal.period_end.isoformat(),
                "targetRevenue": {"amount": str(goal.target_revenue.amount), "currency": goal.target_revenue.currency},
                "targetDeals": goal.target_deals,
                "replaced": bool(existing),
            },
        )
    )
    await uow.commit()
    return goal


@dataclass(kw_only=True)
class AddPartnerComment:
    partner_id: int
    body: str


async def add_partner_comment(cmd: AddPartnerComment, uow: UnitOfWork) -> PartnerComment:
    """Comment on a partner: a note of the company's users about it, read by every user (never by a partner)."""
    uow.actor.ensure_staff("comment on partners")
    partner = await uow.get(Partner, cmd.partner_id)
    actor = uow.actor
    comment = await uow.add(
        PartnerComment(
            partner_id=partner.id, body=cmd.body, author_user_id=actor.user_id, author_partner_id=actor.partner_id
        )
    )
    uow.record(PartnerChanged(entity_id=partner.id, data={"change": "commented", "commentId": comment.id}))
    await uow.commit()
    return comment


@dataclass(kw_only=True)
class DeletePartnerComment:
    id: int


async def delete_partner_comment(cmd: DeletePartnerComment, uow: UnitOfWork) -> int:
    """Delete a comment on a partner: its author's own, or any as an admin."""
    comment = await uow.get(PartnerComment, cmd.id)
    actor = uow.actor
    own = (actor.user_id is not None and comment.author_user_id == actor.user_id) or (
        actor.partner_id is not None and comment.author_partner_id == actor.partner_id
    )
    if not own and not actor.is_admin:
        raise PermissionDenied("only its author or an admin may delete a comment")
    await uow.delete(comment)
    uow.record(
        PartnerChanged(entity_id=comment.partner_id, data={"change": "comment deleted", "commentId": comment.id})
    )
    await uow.commit()
    return comment.id
