"""GDPR erasure of a person, who may be both a lead and the contact it was qualified into: wiping one
wipes the other in the same transaction (neither commits here)."""

from __future__ import annotations

from domain.accounts import Contact
from domain.commands import apply
from domain.events import ContactAnonymized, LeadAnonymized
from domain.leads import PERSONAL_FIELDS, Lead
from domain.uow import UnitOfWork

ANONYMIZED_FIRST_NAME, ANONYMIZED_LAST_NAME = "Anonymized", "contact"


async def wipe_lead(uow: UnitOfWork, lead: Lead) -> Lead:
    """Personal data gone; what statistics need (status, campaign, country, size, links) stays."""
    wiped = await uow.update(apply(lead, {**{n: None for n in PERSONAL_FIELDS}, "anonymized": True}))
    uow.record(LeadAnonymized(entity_id=wiped.id, data={"campaignId": wiped.campaign_id}))
    return wiped


async def wipe_contact(uow: UnitOfWork, contact: Contact) -> Contact:
    """The contact stays (as 'Anonymized contact') so roles, leads and statistics still add up."""
    wiped = await uow.update(
        apply(
            contact,
            {
                "first_name": ANONYMIZED_FIRST_NAME,
                "last_name": ANONYMIZED_LAST_NAME,
                "email": None,
                "phone": None,
                "skype": None,
                "title": None,
                "anonymized": True,
            },
        )
    )
    uow.record(
        ContactAnonymized(entity_id=wiped.id, data={"accountId": contact.account_id, "partnerId": contact.partner_id})
    )
    return wiped


async def wipe_person_of_lead(uow: UnitOfWork, lead: Lead) -> Lead:
    wiped = await wipe_lead(uow, lead)
    if lead.contact_id is not None:
        # As the system: erasing a person wipes every copy of them, also one the caller may not see
        # (the contact a colleague's qualification made); nothing of it is shown to the caller.
        contact = await uow.get(Contact, lead.contact_id, as_system=True)
        if not contact.anonymized:
            await wipe_contact(uow, contact)
    return wiped


async def wipe_person_of_contact(uow: UnitOfWork, contact: Contact) -> Contact:
    wiped = await wipe_contact(uow, contact)
    for lead in await uow.find(Lead, contact_id=contact.id):
        if not lead.anonymized:
            await wipe_lead(uow, lead)
    return wiped
