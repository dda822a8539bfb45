"""Side doors of row visibility (issue 12), as a hostile partner tries them after ordinary admin activity:
what a mutation's payload or the webhook's answer carries (class 1), what error messages name (class 3) and
which rows a write may reference (class 6). A row the caller may not see must look exactly like one that
does not exist: an answer about a hidden id is the answer about a missing id, apart from the id."""

from __future__ import annotations

import io
import json

import docx
from sqlalchemy import func, select

from gql import ids
from persistence import tables

ERRORS = (
    "... on UserError { __typename code message } ... on ValidationError { field } ... on NotFoundError { entityType }"
)
MISSING = 999_999  # a key no row has


def mutation(name: str, input_type: str, payload: str, selection: str) -> str:
    return f"""mutation($input: {input_type}!) {{
  {name}(input: $input) {{ __typename ... on {payload} {{ {selection} }} {ERRORS} }}
}}"""


CREATE_RULE = mutation("createLeadRoutingRule", "CreateLeadRoutingRuleInput", "LeadRoutingRulePayload", "rule { id }")
CREATE_SPLITTER = mutation("createLeadSplitter", "CreateLeadSplitterInput", "LeadSplitterPayload", "splitter { id }")
INGEST = mutation("ingestLead", "IngestLeadInput", "IngestLeadPayload", "lead { id } routingRule { id name } replayed")
CREATE_LEAD = mutation("createLead", "CreateLeadInput", "LeadPayload", "lead { id }")
UPDATE_LEAD = mutation("updateLead", "UpdateLeadInput", "LeadPayload", "lead { id }")
ADD_TO_ACCOUNT = mutation("addLeadToAccount", "AddLeadToAccountInput", "LeadPayload", "lead { id }")
QUALIFY = mutation("qualifyLead", "QualifyLeadInput", "QualifyLeadPayload", "opportunity { id }")
CREATE_OPPORTUNITY = mutation("createOpportunity", "CreateOpportunityInput", "OpportunityPayload", "opportunity { id }")
UPDATE_OPPORTUNITY = mutation("updateOpportunity", "UpdateOpportunityInput", "OpportunityPayload", "opportunity { id }")
CREATE_CONTACT = mutation("createContact", "CreateContactInput", "ContactPayload", "contact { id }")
ADD_ROLE = mutation("addBusinessRole", "AddBusinessRoleInput", "BusinessRolePayload", "businessRole { id }")
CREATE_ACCOUNT = mutation("createAccount", "CreateAccountInput", "AccountPayload", "account { id }")
SET_PARENT = mutation(
    "setAccountParent", "SetAccountParentInput", "AccountPayload", "account { id parent { id parent { id } } }"
)
ADD_RELATED = mutation("addRelatedAccount", "RelatedAccountInput", "OpportunityPayload", "opportunity { id }")
REMOVE_RELATED = mutation("removeRelatedAccount", "RelatedAccountInput", "OpportunityPayload", "opportunity { id }")
GENERATE = mutation(
    "generateQuoteDocument", "GenerateQuoteDocumentInput", "QuoteDocumentPayload", "document { id } downloadUrl"
)


async def rows(engine, stmt) -> list:
    async with engine.connect() as conn:
        return list(await conn.execute(stmt))


async def first(engine, stmt) -> int:
    found = await rows(engine, stmt)
    assert found and found[0][0] is not None, f"the seed has no such row: {stmt}"
    return found[0][0]


def gid(type_name: str, pk: int) -> str:
    return ids.encode(type_name, pk)


def apart_from(answer: object, *global_ids: str) -> str:
    """The answer with the given ids blanked out, to compare answers that differ only in the id asked about."""
    text = json.dumps(answer, sort_keys=True)
    for global_id in global_ids:
        text = text.replace(global_id, "<id>")
    return text


async def run(api, document: str, input_: dict, token: str) -> dict:
    data = await api.data(document, {"input": input_}, token)
    return next(iter(data.values()))


async def other_partner(writable) -> int:
    return await first(
        writable.engine,
        select(func.min(tables.partners.c.id)).where(tables.partners.c.id != writable.summary.partner_id),
    )


async def hidden_account(writable) -> int:
    """A public account the test partner may not see (not its own, no opportunity of it), with contacts."""
    partner = writable.summary.partner_id
    accounts, opportunities = tables.accounts, tables.opportunities
    return await first(
        writable.engine,
        select(func.min(accounts.c.id)).where(
            accounts.c.is_private.is_(False),
            func.coalesce(accounts.c.partner_id, 0) != partner,
            accounts.c.id.not_in(select(opportunities.c.account_id).where(opportunities.c.partner_id == partner)),
            accounts.c.id.in_(select(tables.contacts.c.account_id)),
        ),
    )


async def partner_opportunity(writable) -> int:
    opportunities, accounts = tables.opportunities, tables.accounts
    return await first(
        writable.engine,
        select(func.min(opportunities.c.id))
        .join(accounts, accounts.c.id == opportunities.c.account_id)
        .where(
            opportunities.c.partner_id == writable.summary.partner_id,
            accounts.c.is_private.is_(False),
            opportunities.c.stage.not_in(["WON", "LOST"]),
        ),
    )


async def partner_quote_with_items(writable) -> tuple[int, int]:
    """(quote, opportunity): a quote with items on a public account's opportunity of the test partner,
    with no business role."""
    opportunities, accounts, quotes = tables.opportunities, tables.accounts, tables.quotes
    found = await rows(
        writable.engine,
        select(quotes.c.id, quotes.c.opportunity_id)
        .join(opportunities, opportunities.c.id == quotes.c.opportunity_id)
        .join(accounts, accounts.c.id == opportunities.c.account_id)
        .where(
            opportunities.c.partner_id == writable.summary.partner_id,
            accounts.c.is_private.is_(False),
            quotes.c.id.in_(select(tables.quote_items.c.quote_id)),
            # no business role yet: the one the test adds is the first the document looks at
            opportunities.c.id.not_in(select(tables.business_roles.c.opportunity_id)),
        )
        .order_by(quotes.c.id)
        .limit(1),
    )
    assert found, "the seed has no quote with items for the test partner"
    return found[0][0], found[0][1]


async def campaign(writable) -> int:
    return await first(writable.engine, select(func.min(tables.campaigns.c.id)))


async def partner_lead(api, writable, **fields) -> str:
    made = await run(api, CREATE_LEAD, {"lastName": "Side", "company": "Door AS", **fields}, writable.partner_token)
    assert made["__typename"] == "LeadPayload", made
    return made["lead"]["id"]


async def routed_to_another_partner(api, writable, source: str, through_splitter: bool) -> tuple[str, str | None]:
    """An admin's routing rule (through a splitter, if asked) that sends leads from `source` to another
    partner: (rule id, splitter id)."""
    other = gid("Partner", await other_partner(writable))
    splitter = None
    if through_splitter:
        made = await run(
            api,
            CREATE_SPLITTER,
            {"name": f"Split {source}", "shares": [{"weight": 1, "partnerId": other}]},
            writable.admin_token,
        )
        assert made["__typename"] == "LeadSplitterPayload", made
        splitter = made["splitter"]["id"]
    rule = await run(
        api,
        CREATE_RULE,
        {
            "name": f"Route {source}",
            "position": 0,
            "target": {"splitterId": splitter} if splitter else {"partnerId": other},
            "conditions": [{"field": "UTM_SOURCE", "values": [source]}],
        },
        writable.admin_token,
    )
    assert rule["__typename"] == "LeadRoutingRulePayload", rule
    return rule["rule"]["id"], splitter


async def post_leads(api, body: dict, token: str, key: str | None = None):
    headers = {"Authorization": f"Bearer {token}", **({"Idempotency-Key": key} if key else {})}
    return await api.http.post("/ingest/leads", json=body, headers=headers)


def only_global_ids(lead: dict) -> None:
    for name, value in lead.items():
        if name == "id" or name.endswith("Id"):
            assert value is None or isinstance(value, str) and ids.decode(value), (name, value)


# --- 1. answers built with the reader's rules ---


async def test_the_webhook_answer_names_no_routing_partner_or_splitter_a_partner_may_not_read(api, writable):
    other = gid("Partner", await other_partner(writable))
    for source, through_splitter in (("side-door-rule", False), ("side-door-split", True)):
        rule, splitter = await routed_to_another_partner(api, writable, source, through_splitter)
        body = {"lastName": "Routed", "utmSource": source}

        response = await post_leads(api, body, writable.partner_token, key=f"{source}-key")
        assert response.status_code == 201, response.text
        lead = response.json()["lead"]
        only_global_ids(lead)
        assert (lead["assignedPartnerId"], lead["routingRuleId"], lead["splitterId"]) == (None, None, None)
        (stored,) = await rows(
            writable.engine,
            select(tables.leads.c.assigned_partner_id).where(tables.leads.c.id == ids.decode(lead["id"])[1]),
        )
        assert gid("Partner", stored.assigned_partner_id) == other  # routed away, by a rule the partner cannot read
        replayed = await post_leads(api, body, writable.partner_token, key=f"{source}-key")
        assert replayed.headers["Idempotent-Replayed"] == "true" and replayed.json() == {"lead": lead}

        admin = (await post_leads(api, body, writable.admin_token)).json()["lead"]
        only_global_ids(admin)
        assert (admin["assignedPartnerId"], admin["routingRuleId"], admin["splitterId"]) == (other, rule, splitter)


async def test_ingest_lead_shows_the_partner_its_lead_but_not_the_rule_that_routed_it(api, writable):
    rule, _ = await routed_to_another_partner(api, writable, "side-door-mutation", through_splitter=False)
    lead = {"lastName": "Routed", "utmSource": "side-door-mutation", "idempotencyKey": "side-door-mutation-key"}

    as_partner = await run(api, INGEST, lead, writable.partner_token)
    assert as_partner["__typename"] == "IngestLeadPayload", as_partner
    # The lead it wrote stays visible to it (though routed to another partner); the rule does not.
    assert as_partner["lead"]["id"] and as_partner["routingRule"] is None and as_partner["replayed"] is False
    again = await run(api, INGEST, lead, writable.partner_token)
    assert again == {**as_partner, "replayed": True}
    assert (await api.data("query($id: ID!) { node(id: $id) { id } }", {"id": rule}, writable.partner_token)) == {
        "node": None
    }

    as_admin = await run(api, INGEST, {"lastName": "Routed", "utmSource": "side-door-mutation"}, writable.admin_token)
    assert as_admin["routingRule"] == {"id": rule, "name": "Route side-door-mutation"}


# --- 3. errors name only what the caller may see ---


async def test_qualifying_a_lead_whose_account_is_hidden_answers_as_for_a_lead_without_one(api, writable):
    account = gid("Account", await hidden_account(writable))
    owner = gid("User", writable.summary.admin_user_id)
    on_hidden = await partner_lead(api, writable)
    added = await run(api, ADD_TO_ACCOUNT, {"id": on_hidden, "accountId": account}, writable.admin_token)
    assert added["__typename"] == "LeadPayload", added
    without = await partner_lead(api, writable)

    hidden = await run(api, QUALIFY, {"id": on_hidden, "ownerId": owner}, writable.partner_token)
    plain = await run(api, QUALIFY, {"id": without, "ownerId": owner}, writable.partner_token)
    assert hidden == plain and hidden["__typename"] == "ValidationError" and hidden["field"] == "accountId"
    assert account not in json.dumps(hidden)

    missing = gid("Account", MISSING)
    named_hidden = await run(
        api, QUALIFY, {"id": without, "ownerId": owner, "accountId": account}, writable.partner_token
    )
    named_missing = await run(
        api, QUALIFY, {"id": without, "ownerId": owner, "accountId": missing}, writable.partner_token
    )
    assert named_hidden["__typename"] == "NotFoundError"
    assert apart_from(named_hidden, account) == apart_from(named_missing, missing)


async def test_a_partner_generates_its_quote_document_without_the_hidden_contact_of_a_business_role(api, writable):
    quote, opportunity = await partner_quote_with_items(writable)
    account = gid("Account", await hidden_account(writable))
    contact = await run(
        api,
        CREATE_CONTACT,
        {"accountId": account, "firstName": "Hilde", "lastName": "Skjultdottir", "email": "hilde@hidden.example"},
        writable.admin_token,
    )
    assert contact["__typename"] == "ContactPayload", contact
    hidden = contact["contact"]["id"]
    role = await run(
        api,
        ADD_ROLE,
        {"opportunityId": gid("Opportunity", opportunity), "contactId": hidden, "role": "Decision maker"},
        writable.admin_token,
    )
    assert role["__typename"] == "BusinessRolePayload", role

    generated = await run(api, GENERATE, {"quoteId": gid("Quote", quote)}, writable.partner_token)
    assert generated["__typename"] == "QuoteDocumentPayload", generated
    download = await api.http.get(
        generated["downloadUrl"], headers={"Authorization": f"Bearer {writable.partner_token}"}
    )
    assert download.status_code == 200
    words = docx.Document(io.BytesIO(download.content))
    text = "\n".join(
        [p.text for p in words.paragraphs] + [c.text for table in words.tables for row in table.rows for c in row.cells]
    )
    assert "Skjultdottir" not in text and "hilde@hidden.example" not in text

    missing = gid("Contact", MISSING)
    named_hidden = await run(
        api, GENERATE, {"quoteId": gid("Quote", quote), "contactId": hidden}, writable.partner_token
    )
    named_missing = await run(
        api, GENERATE, {"quoteId": gid("Quote", quote), "contactId": missing}, writable.partner_token
    )
    assert named_hidden["__typename"] == "NotFoundError"
    assert apart_from(named_hidden, hidden) == apart_from(named_missing, missing)


async def test_a_cycle_check_walks_ancestors_the_caller_may_not_see_without_naming_them(api, writable):
    partner = gid("Partner", writable.summary.partner_id)
    made = [
        await run(
            api,
            CREATE_ACCOUNT,
            {"kind": "ORGANIZATION", "name": f"Side door {n}", "partnerId": partner},
            writable.admin_token,
        )
        for n in (1, 2)
    ]
    assert all(m["__typename"] == "AccountPayload" for m in made), made
    child, parent = (m["account"]["id"] for m in made)
    hidden = gid("Account", await hidden_account(writable))
    moved = await run(api, SET_PARENT, {"id": parent, "parentId": hidden}, writable.admin_token)
    assert moved["__typename"] == "AccountPayload", moved

    made = await run(api, SET_PARENT, {"id": child, "parentId": parent}, writable.partner_token)
    assert made["__typename"] == "AccountPayload", made
    assert made["account"]["parent"] == {"id": parent, "parent": None}  # the hidden grandparent reads as none


async def test_a_partner_cannot_unlink_a_related_account_it_may_not_see(api, writable):
    opportunity = gid("Opportunity", await partner_opportunity(writable))
    hidden, missing = gid("Account", await hidden_account(writable)), gid("Account", MISSING)
    related = await run(api, ADD_RELATED, {"opportunityId": opportunity, "accountId": hidden}, writable.admin_token)
    assert related["__typename"] == "OpportunityPayload", related

    removed = await run(
        api, REMOVE_RELATED, {"opportunityId": opportunity, "accountId": hidden}, writable.partner_token
    )
    gone = await run(api, REMOVE_RELATED, {"opportunityId": opportunity, "accountId": missing}, writable.partner_token)
    assert removed["__typename"] == "NotFoundError"
    assert apart_from(removed, hidden) == apart_from(gone, missing)
    still = await rows(
        writable.engine,
        select(tables.opportunity_related_accounts.c.account_id).where(
            tables.opportunity_related_accounts.c.opportunity_id == ids.decode(opportunity)[1]
        ),
    )
    assert ids.decode(hidden)[1] in {row.account_id for row in still}


# --- 6. writes reference only rows the caller may read ---


async def test_a_partner_naming_an_internal_campaign_gets_the_not_found_of_a_missing_one(api, writable):
    internal, missing = gid("Campaign", await campaign(writable)), gid("Campaign", MISSING)
    owner = gid("User", writable.summary.admin_user_id)
    opportunity = gid("Opportunity", await partner_opportunity(writable))
    (account,) = await rows(
        writable.engine,
        select(tables.opportunities.c.account_id).where(tables.opportunities.c.id == ids.decode(opportunity)[1]),
    )
    lead = await partner_lead(api, writable)
    writes = {
        "createOpportunity": (
            CREATE_OPPORTUNITY,
            {"name": "Side door", "accountId": gid("Account", account[0]), "ownerId": owner},
        ),
        "updateOpportunity": (UPDATE_OPPORTUNITY, {"id": opportunity}),
        "updateLead": (UPDATE_LEAD, {"id": lead}),
        "ingestLead": (INGEST, {"lastName": "Side"}),
    }
    for name, (document, input_) in writes.items():
        hidden = await run(api, document, {**input_, "campaignId": internal}, writable.partner_token)
        gone = await run(api, document, {**input_, "campaignId": missing}, writable.partner_token)
        assert hidden["__typename"] == "NotFoundError", (name, hidden)
        assert apart_from(hidden, internal) == apart_from(gone, missing), name
        # The same reference is fine for a user, who may read the campaign.
        if name != "ingestLead":
            assert (await run(api, document, {**input_, "campaignId": internal}, writable.admin_token))[
                "__typename"
            ].endswith("Payload"), name

    before = await rows(writable.engine, select(func.count()).select_from(tables.leads))
    hidden = await post_leads(api, {"lastName": "Side", "campaignId": internal}, writable.partner_token)
    gone = await post_leads(api, {"lastName": "Side", "campaignId": missing}, writable.partner_token)
    assert hidden.status_code == gone.status_code == 422
    assert apart_from(hidden.json(), internal) == apart_from(gone.json(), missing)
    assert await rows(writable.engine, select(func.count()).select_from(tables.leads)) == before  # nothing written
