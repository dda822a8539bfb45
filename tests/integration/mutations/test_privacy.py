"""GDPR erasure of a person who is both a lead and the contact it was qualified into: anonymizing
either wipes both, in one transaction."""

from __future__ import annotations

from tests.integration.mutations.test_opportunities import ERRORS, an_account

CREATE_LEAD = f"""mutation($input: CreateLeadInput!) {{ createLead(input: $input) {{ __typename
  ... on LeadPayload {{ lead {{ id }} }} {ERRORS} }} }}"""
QUALIFY = f"""mutation($input: QualifyLeadInput!) {{ qualifyLead(input: $input) {{ __typename
  ... on QualifyLeadPayload {{ lead {{ id contact {{ id }} }} }} {ERRORS} }} }}"""
ANONYMIZE_LEAD = f"""mutation($input: LeadRefInput!) {{ anonymizeLead(input: $input) {{ __typename
  ... on LeadPayload {{ lead {{ anonymized email lastName }} }} {ERRORS} }} }}"""
ANONYMIZE_CONTACT = f"""mutation($input: ContactRefInput!) {{ anonymizeContact(input: $input) {{ __typename
  ... on ContactPayload {{ contact {{ anonymized email }} }} {ERRORS} }} }}"""
PERSON = """query($lead: ID!, $contact: ID!) {
  lead: node(id: $lead) { ... on Lead { anonymized firstName lastName email phone } }
  contact: node(id: $contact) { ... on Contact { anonymized firstName lastName email phone } }
}"""


async def qualified_person(api, writable) -> tuple[str, str]:
    lead = await api.data(
        CREATE_LEAD,
        {
            "input": {
                "firstName": "Ola",
                "lastName": "Nordmann",
                "email": "ola@example.no",
                "phone": "+47 22 00 00 00",
                "company": "Nordmann AS",
            }
        },
    )
    lead_id = lead["createLead"]["lead"]["id"]
    qualified = (
        await api.data(
            QUALIFY, {"input": {"id": lead_id, "accountId": await an_account(writable), "createContact": True}}
        )
    )["qualifyLead"]
    assert qualified["__typename"] == "QualifyLeadPayload", qualified
    return lead_id, qualified["lead"]["contact"]["id"]


def wiped(person: dict) -> bool:
    return (
        person["anonymized"]
        and person["email"] is None
        and person["phone"] is None
        and "Nordmann" not in (person["lastName"] or "")
        and "Ola" not in (person["firstName"] or "")
    )


async def test_anonymizing_a_qualified_lead_wipes_the_contact_it_became(api, writable):
    lead, contact = await qualified_person(api, writable)
    assert (await api.data(ANONYMIZE_LEAD, {"input": {"id": lead}}))["anonymizeLead"]["__typename"] == "LeadPayload"
    person = await api.data(PERSON, {"lead": lead, "contact": contact})
    assert wiped(person["lead"]) and wiped(person["contact"])


async def test_anonymizing_a_contact_wipes_the_lead_it_came_from(api, writable):
    lead, contact = await qualified_person(api, writable)
    done = (await api.data(ANONYMIZE_CONTACT, {"input": {"id": contact}}))["anonymizeContact"]
    assert done["__typename"] == "ContactPayload"
    person = await api.data(PERSON, {"lead": lead, "contact": contact})
    assert wiped(person["lead"]) and wiped(person["contact"])
    again = (await api.data(ANONYMIZE_LEAD, {"input": {"id": lead}}))["anonymizeLead"]
    assert again["__typename"] == "ConflictError"
