"""Account, contact, contact type, partner and goal mutations over HTTP: each workflow, its typed
errors, the database state it leaves, its history and its events."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from gql import ids
from gql.auth import issue_token
from persistence import tables

ERRORS = "... on UserError { code message } ... on ValidationError { field } ... on NotFoundError { entityType }"
ACCOUNT = (
    "account { id name kind version isPrivate isGlobal categoryGroup city isFavourite "
    "parent { id } partner { id } createdBy { id } linkedAccounts { id } groups { id } }"
)
CONTACT = "contact { id firstName lastName email title leadStatus category anonymized version contactType { kind } }"


def mutation(name: str, input_type: str, payload: str, selection: str) -> str:
    return f"""mutation($input: {input_type}!) {{
  {name}(input: $input) {{ __typename ... on {payload} {{ {selection} }} {ERRORS} }}
}}"""


CREATE_ACCOUNT = mutation("createAccount", "CreateAccountInput", "AccountPayload", ACCOUNT)
UPDATE_ACCOUNT = mutation("updateAccount", "UpdateAccountInput", "AccountPayload", ACCOUNT)
DELETE_ACCOUNT = mutation("deleteAccount", "DeleteAccountInput", "DeletedPayload", "deletedId")
SET_PARENT = mutation("setAccountParent", "SetAccountParentInput", "AccountPayload", ACCOUNT)
LINK = mutation(
    "linkAccounts",
    "AccountLinkInput",
    "LinkedAccountsPayload",
    "account { linkedAccounts { id } } linkedAccount { linkedAccounts { id } }",
)
UNLINK = mutation(
    "unlinkAccounts",
    "AccountLinkInput",
    "LinkedAccountsPayload",
    "account { linkedAccounts { id } } linkedAccount { linkedAccounts { id } }",
)
CREATE_GROUP = mutation("createAccountGroup", "CreateAccountGroupInput", "AccountGroupPayload", "group { id name }")
RENAME_GROUP = mutation("renameAccountGroup", "RenameAccountGroupInput", "AccountGroupPayload", "group { id name }")
DELETE_GROUP = mutation("deleteAccountGroup", "DeleteAccountGroupInput", "DeletedPayload", "deletedId")
JOIN_GROUP = mutation(
    "addAccountToGroup",
    "AccountGroupMembershipInput",
    "AccountGroupMembershipPayload",
    "group { accounts { id } } account { groups { id } }",
)
LEAVE_GROUP = mutation(
    "removeAccountFromGroup",
    "AccountGroupMembershipInput",
    "AccountGroupMembershipPayload",
    "group { accounts { id } } account { groups { id } }",
)
ADD_FAVOURITE = mutation("addFavouriteAccount", "FavouriteAccountInput", "AccountPayload", ACCOUNT)
REMOVE_FAVOURITE = mutation("removeFavouriteAccount", "FavouriteAccountInput", "AccountPayload", ACCOUNT)
ASSIGN_PARTNER = mutation("assignAccountPartner", "AssignAccountPartnerInput", "AccountPayload", ACCOUNT)
CREATE_CONTACT = mutation("createContact", "CreateContactInput", "ContactPayload", CONTACT)
UPDATE_CONTACT = mutation("updateContact", "UpdateContactInput", "ContactPayload", CONTACT)
DELETE_CONTACT = mutation("deleteContact", "ContactRefInput", "DeletedPayload", "deletedId")
ANONYMIZE_CONTACT = mutation("anonymizeContact", "ContactRefInput", "ContactPayload", CONTACT)
LEAD_STATUS = mutation("setContactLeadStatus", "SetContactLeadStatusInput", "ContactPayload", CONTACT)
CREATE_TYPE = mutation(
    "createContactType", "CreateContactTypeInput", "ContactTypePayload", "contactType { id name kind }"
)
UPDATE_TYPE = mutation(
    "updateContactType", "UpdateContactTypeInput", "ContactTypePayload", "contactType { id name kind }"
)
DELETE_TYPE = mutation("deleteContactType", "DeleteContactTypeInput", "DeletedPayload", "deletedId")
CREATE_PARTNER = mutation(
    "createPartner", "CreatePartnerInput", "PartnerPayload", "partner { id name email country consultants { id } }"
)
UPDATE_PARTNER = mutation(
    "updatePartner", "UpdatePartnerInput", "PartnerPayload", "partner { id name email country consultants { id } }"
)
DELETE_PARTNER = mutation("deletePartner", "DeletePartnerInput", "DeletedPayload", "deletedId")
CREATE_CONSULTANT = mutation(
    "createConsultant",
    "CreateConsultantInput",
    "ContactPayload",
    CONTACT.replace("contact {", "contact { partner { id }"),
)
LEAD_STATUS_OF = "query($id: ID!) { node(id: $id) { ... on Contact { leadStatus } } }"
SET_GOAL = mutation(
    "setGoal",
    "SetGoalInput",
    "GoalPayload",
    "goal { id periodStart periodEnd targetDeals targetRevenue { amount currency } user { id } }",
)


# --- reading the database ---


async def count(engine, table, *where) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(table).where(*where))).scalar_one()


async def row(engine, table, pk: int):
    async with engine.connect() as conn:
        return (await conn.execute(select(table).where(table.c.id == pk))).first()


# SQLite may give a new row the id of a deleted one, so tests compare the latest events and history entries.
async def events(engine, entity_type: str, entity_id: int) -> list[tuple[str, dict]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(tables.outbox_events.c.type, tables.outbox_events.c.data)
            .where(tables.outbox_events.c.entity_type == entity_type, tables.outbox_events.c.entity_id == entity_id)
            .order_by(tables.outbox_events.c.id)
        )
        return [(r.type, r.data) for r in rows]


async def history(engine, entity_id: int, entity_type: str = "Account") -> list[tuple[str, object, object]]:
    a = tables.audit_entries
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(a.c.field, a.c.old_value, a.c.new_value)
            .where(a.c.entity_type == entity_type, a.c.entity_id == entity_id)
            .order_by(a.c.id)
        )
        return [(r.field, r.old_value, r.new_value) for r in rows]


async def first_id(engine, column, *where) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(select(func.min(column)).where(*where))).scalar_one()


def pk(global_id: str) -> int:
    return ids.decode(global_id)[1]


# --- making things through the API ---


async def new_account(api, name: str = "Fjord Analytics AS", **extra) -> dict:
    data = await api.data(CREATE_ACCOUNT, {"input": {"kind": "ORGANIZATION", "name": name, **extra}})
    assert data["createAccount"]["__typename"] == "AccountPayload", data
    return data["createAccount"]["account"]


async def new_contact(api, account: dict, **extra) -> dict:
    data = await api.data(
        CREATE_CONTACT, {"input": {"accountId": account["id"], "firstName": "Kari", "lastName": "Nordmann", **extra}}
    )
    assert data["createContact"]["__typename"] == "ContactPayload", data
    return data["createContact"]["contact"]


async def new_partner(api, name: str = "Fjordpartner AS") -> dict:
    data = await api.data(CREATE_PARTNER, {"input": {"name": name, "country": "NO"}})
    assert data["createPartner"]["__typename"] == "PartnerPayload", data
    return data["createPartner"]["partner"]


async def another_users_token(writable) -> tuple[int, str]:
    user_id = await first_id(writable.engine, tables.users.c.id, tables.users.c.id != writable.summary.admin_user_id)
    return user_id, await issue_token(writable.engine, name="another user", user_id=user_id)


# --- accounts ---


async def test_create_account_stores_it_with_the_caller_as_creator_and_announces_it(api, writable):
    # The seeded accounts' custom fields (CHOICE), given through the older text input.
    account = await new_account(api, city="Bergen", customAttributes=[{"key": "segment", "value": "SMB"}])
    assert account["version"] == 1 and account["categoryGroup"] == "PROSPECT"
    assert account["createdBy"]["id"] == ids.encode("User", writable.summary.admin_user_id)
    stored = await row(writable.engine, tables.accounts, pk(account["id"]))
    assert (stored.city, stored.custom_fields, stored.created_by_id) == (
        "Bergen",
        {"segment": "SMB"},
        writable.summary.admin_user_id,
    )
    assert [e for e, _ in await events(writable.engine, "Account", pk(account["id"]))][-1:] == ["AccountCreated"]
    assert (await history(writable.engine, pk(account["id"])))[-1:] == [("created", None, "Fjord Analytics AS")]


async def test_create_account_with_bad_input_changes_nothing_and_names_the_field(api, writable):
    accounts, outbox = await count(writable.engine, tables.accounts), await count(writable.engine, tables.outbox_events)
    person = (await api.data(CREATE_ACCOUNT, {"input": {"kind": "PERSON", "firstName": "Ola"}}))["createAccount"]
    assert (person["__typename"], person["field"]) == ("ValidationError", "lastName")
    both = (
        await api.data(
            CREATE_ACCOUNT, {"input": {"kind": "ORGANIZATION", "name": "X", "isPrivate": True, "isGlobal": True}}
        )
    )["createAccount"]
    assert (both["__typename"], both["field"]) == ("ValidationError", "isGlobal")
    missing = (
        await api.data(
            CREATE_ACCOUNT, {"input": {"kind": "ORGANIZATION", "name": "X", "managerId": ids.encode("User", 999_999)}}
        )
    )["createAccount"]
    assert (missing["__typename"], missing["entityType"]) == ("NotFoundError", "User")
    twice = (
        await api.data(
            CREATE_ACCOUNT,
            {
                "input": {
                    "kind": "ORGANIZATION",
                    "name": "X",
                    "customAttributes": [{"key": "a", "value": "1"}, {"key": "a", "value": "2"}],
                }
            },
        )
    )["createAccount"]
    assert (twice["__typename"], twice["field"]) == ("ValidationError", "customAttributes")
    assert await count(writable.engine, tables.accounts) == accounts
    assert await count(writable.engine, tables.outbox_events) == outbox


async def test_update_account_writes_history_per_field_and_a_stale_version_is_a_conflict(api, writable):
    account = await new_account(api)
    updated = (
        await api.data(
            UPDATE_ACCOUNT,
            {"input": {"id": account["id"], "version": 1, "city": "Tromsø", "name": "Fjord Analytics ASA"}},
        )
    )["updateAccount"]
    assert (updated["account"]["city"], updated["account"]["version"]) == ("Tromsø", 2)
    stale = await api.data(UPDATE_ACCOUNT, {"input": {"id": account["id"], "version": 1, "city": "Oslo"}})
    assert stale["updateAccount"]["__typename"] == "ConflictError"
    assert (await row(writable.engine, tables.accounts, pk(account["id"]))).city == "Tromsø"
    assert (await history(writable.engine, pk(account["id"])))[-2:] == [
        ("name", "Fjord Analytics AS", "Fjord Analytics ASA"),
        ("city", None, "Tromsø"),
    ]
    assert (await events(writable.engine, "Account", pk(account["id"])))[-1] == (
        "AccountChanged",
        {"fields": ["city", "name"]},
    )


async def test_custom_attributes_are_replaced_whole_null_removes_them_and_a_flag_cannot_be_cleared(api, writable):
    account = await new_account(api, customAttributes=[{"key": "segment", "value": "SMB"}])

    async def update(**values) -> dict:
        return (await api.data(UPDATE_ACCOUNT, {"input": {"id": account["id"], **values}}))["updateAccount"]

    async def attributes() -> dict:
        return (await row(writable.engine, tables.accounts, pk(account["id"]))).custom_fields

    await update(customAttributes=[{"key": "source", "value": "web"}])
    assert await attributes() == {"source": "web"}
    await update(city="Bodø")  # left out: kept
    assert await attributes() == {"source": "web"}
    await update(customAttributes=None)
    assert await attributes() == {}
    await update(customAttributes=[{"key": "segment", "value": "Enterprise"}])
    await update(customAttributes=[])
    assert await attributes() == {}
    for field in ("keyAccount", "kind", "categoryGroup", "isGlobal"):
        refused = await update(**{field: None})
        assert (refused["__typename"], refused["field"]) == ("ValidationError", field)


async def test_only_the_creator_may_make_an_account_private_and_a_private_account_is_never_global(api, writable):
    other_user, other = await another_users_token(writable)
    # Managed by the other user, so they see it (and may change it), but did not create it.
    account = await new_account(api, managerId=ids.encode("User", other_user))
    refused = await api.data(UPDATE_ACCOUNT, {"input": {"id": account["id"], "isPrivate": True}}, token=other)
    assert refused["updateAccount"]["__typename"] == "PermissionDeniedError"
    by_partner = await api.data(
        UPDATE_ACCOUNT, {"input": {"id": account["id"], "isPrivate": True}}, token=writable.partner_token
    )
    assert by_partner["updateAccount"]["__typename"] == "NotFoundError"  # not the partner's: as if missing
    assert (await row(writable.engine, tables.accounts, pk(account["id"]))).is_private is False
    private = (await api.data(UPDATE_ACCOUNT, {"input": {"id": account["id"], "isPrivate": True}}))["updateAccount"]
    assert private["account"]["isPrivate"] is True
    made_global = await api.data(UPDATE_ACCOUNT, {"input": {"id": account["id"], "isGlobal": True}})
    assert (made_global["updateAccount"]["__typename"], made_global["updateAccount"]["field"]) == (
        "ValidationError",
        "isGlobal",
    )


async def test_entering_prospect_resets_contacts_lead_status_and_leaving_hides_but_keeps_it(api, writable):
    account = await new_account(api)
    contact = await new_contact(api, account)
    contacting = await api.data(LEAD_STATUS, {"input": {"id": contact["id"], "status": "CONTACTING"}})
    assert contacting["setContactLeadStatus"]["contact"]["leadStatus"] == "CONTACTING"

    await api.data(UPDATE_ACCOUNT, {"input": {"id": account["id"], "categoryGroup": "CUSTOMER"}})
    hidden = await api.data(LEAD_STATUS_OF, {"id": contact["id"]})
    assert hidden["node"]["leadStatus"] is None
    assert (await row(writable.engine, tables.contacts, pk(contact["id"]))).lead_status == "CONTACTING"
    refused = await api.data(LEAD_STATUS, {"input": {"id": contact["id"], "status": "QUALIFIED"}})
    assert refused["setContactLeadStatus"]["__typename"] == "ConflictError"

    await api.data(UPDATE_ACCOUNT, {"input": {"id": account["id"], "categoryGroup": "PROSPECT"}})
    shown = await api.data(LEAD_STATUS_OF, {"id": contact["id"]})
    assert shown["node"]["leadStatus"] == "OPEN"
    assert (await row(writable.engine, tables.contacts, pk(contact["id"]))).lead_status == "OPEN"
    assert (await events(writable.engine, "Contact", pk(contact["id"])))[-1][1]["reason"] == "account became a prospect"


async def test_a_contact_shows_its_accounts_category_and_has_no_input_to_set_its_own(api, writable):
    for key in ("HOSPITALS", "CLINICS"):  # contact categories are configured (issue 17, item 5)
        await api.data(
            "mutation($k: String!) { createListValue(input: {listName: CONTACT_CATEGORY, key: $k, label: $k}) "
            "{ __typename } }",
            {"k": key},
        )
    account = await new_account(api, category="HOSPITALS")
    contact = await new_contact(api, account)
    assert contact["category"] == "HOSPITALS"
    await api.data(UPDATE_ACCOUNT, {"input": {"id": account["id"], "category": "CLINICS"}})
    shown = await api.data("query($id: ID!) { node(id: $id) { ... on Contact { category } } }", {"id": contact["id"]})
    assert shown["node"]["category"] == "CLINICS"
    for input_type in ("CreateContactInput", "UpdateContactInput", "CreateConsultantInput"):
        fields = await api.data(
            "query($name: String!) { __type(name: $name) { inputFields { name } } }", {"name": input_type}
        )
        assert "category" not in {f["name"] for f in fields["__type"]["inputFields"]}


async def test_delete_account_is_refused_while_it_has_opportunities(api, writable):
    account_id = await first_id(writable.engine, tables.opportunities.c.account_id)
    refused = (await api.data(DELETE_ACCOUNT, {"input": {"id": ids.encode("Account", account_id)}}))["deleteAccount"]
    assert refused["__typename"] == "ConflictError"
    # It says what is in the way, not which rows: the caller may not see all of them.
    assert "still has opportunities" in refused["message"]
    assert await count(writable.engine, tables.accounts, tables.accounts.c.id == account_id) == 1


async def test_delete_account_takes_its_contacts_activities_and_links_and_detaches_sub_accounts(api, writable):
    account = await new_account(api)
    child = await new_account(api, "Fjord Analytics Sør", parentId=account["id"])
    neighbour = await new_account(api, "Neighbour AS")
    contact = await new_contact(api, account)
    await api.data(LINK, {"input": {"accountId": account["id"], "linkedAccountId": neighbour["id"]}})
    await api.data(ADD_FAVOURITE, {"input": {"accountId": account["id"]}})
    group = (await api.data(CREATE_GROUP, {"input": {"name": "Deleted-account group"}}))["createAccountGroup"]["group"]
    await api.data(JOIN_GROUP, {"input": {"groupId": group["id"], "accountId": account["id"]}})
    activity = await api.data(
        """mutation($input: CreateSalesActivityInput!) { createSalesActivity(input: $input) {
        ... on SalesActivityPayload { activity { id } } } }""",
        {"input": {"attachToId": account["id"], "type": "CALL", "subject": "Intro"}},
    )
    activity_id = pk(activity["createSalesActivity"]["activity"]["id"])

    deleted = (await api.data(DELETE_ACCOUNT, {"input": {"id": account["id"], "version": 1}}))["deleteAccount"]

    assert deleted == {"__typename": "DeletedPayload", "deletedId": account["id"]}
    account_pk = pk(account["id"])
    assert await count(writable.engine, tables.accounts, tables.accounts.c.id == account_pk) == 0
    assert await count(writable.engine, tables.contacts, tables.contacts.c.id == pk(contact["id"])) == 0
    assert await count(writable.engine, tables.sales_activities, tables.sales_activities.c.id == activity_id) == 0
    assert (
        await count(writable.engine, tables.account_links, tables.account_links.c.linked_account_id == account_pk) == 0
    )
    assert (
        await count(writable.engine, tables.account_favourites, tables.account_favourites.c.account_id == account_pk)
        == 0
    )
    assert (
        await count(
            writable.engine, tables.account_group_members, tables.account_group_members.c.account_id == account_pk
        )
        == 0
    )
    assert (await row(writable.engine, tables.accounts, pk(child["id"]))).parent_id is None
    assert (await events(writable.engine, "Account", account_pk))[-1][0] == "AccountDeleted"
    assert (await history(writable.engine, pk(child["id"])))[-1] == (
        "parentId",
        {"ref": "Account", "id": account_pk},
        None,
    )
    again = (await api.data(DELETE_ACCOUNT, {"input": {"id": account["id"]}}))["deleteAccount"]
    assert again["__typename"] == "NotFoundError"


async def test_set_account_parent_builds_a_tree_and_refuses_cycles(api, writable):
    top = await new_account(api, "Top AS")
    below = await new_account(api, "Below AS", parentId=top["id"])
    cycle = (await api.data(SET_PARENT, {"input": {"id": top["id"], "parentId": below["id"]}}))["setAccountParent"]
    assert (cycle["__typename"], cycle["field"]) == ("ValidationError", "parentId")
    assert (await row(writable.engine, tables.accounts, pk(top["id"]))).parent_id is None
    other = await new_account(api, "Other Top AS")
    moved = await api.data(SET_PARENT, {"input": {"id": below["id"], "parentId": other["id"], "version": 1}})
    assert moved["setAccountParent"]["account"]["parent"] == {"id": other["id"]}
    assert (await history(writable.engine, pk(below["id"])))[-1] == (
        "parentId",
        {"ref": "Account", "id": pk(top["id"])},
        {"ref": "Account", "id": pk(other["id"])},
    )
    top_level = (await api.data(SET_PARENT, {"input": {"id": below["id"], "parentId": None}}))["setAccountParent"]
    assert top_level["account"]["parent"] is None


async def test_linked_accounts_list_each_other_until_unlinked(api, writable):
    one, two = await new_account(api, "One AS"), await new_account(api, "Two AS")
    linked = (await api.data(LINK, {"input": {"accountId": one["id"], "linkedAccountId": two["id"]}}))["linkAccounts"]
    assert linked["account"]["linkedAccounts"] == [{"id": two["id"]}]
    assert linked["linkedAccount"]["linkedAccounts"] == [{"id": one["id"]}]
    again = (await api.data(LINK, {"input": {"accountId": two["id"], "linkedAccountId": one["id"]}}))["linkAccounts"]
    assert again["__typename"] == "ConflictError"
    itself = (await api.data(LINK, {"input": {"accountId": one["id"], "linkedAccountId": one["id"]}}))["linkAccounts"]
    assert (itself["__typename"], itself["field"]) == ("ValidationError", "linkedAccountId")
    assert (await history(writable.engine, pk(one["id"])))[-2:] == [
        ("created", None, "One AS"),
        ("linkedAccounts", None, {"ref": "Account", "id": pk(two["id"])}),
    ]

    unlinked = await api.data(UNLINK, {"input": {"accountId": two["id"], "linkedAccountId": one["id"]}})
    assert unlinked["unlinkAccounts"]["account"]["linkedAccounts"] == []
    assert (
        await count(
            writable.engine, tables.account_links, tables.account_links.c.account_id.in_([pk(one["id"]), pk(two["id"])])
        )
        == 0
    )
    gone = await api.data(UNLINK, {"input": {"accountId": two["id"], "linkedAccountId": one["id"]}})
    assert gone["unlinkAccounts"]["__typename"] == "ValidationError"


async def test_account_groups_are_created_renamed_joined_left_and_deleted(api, writable):
    group = (await api.data(CREATE_GROUP, {"input": {"name": "Hospitals"}}))["createAccountGroup"]["group"]
    duplicate = (await api.data(CREATE_GROUP, {"input": {"name": "Hospitals"}}))["createAccountGroup"]
    assert duplicate["__typename"] == "ConflictError"
    renamed = await api.data(RENAME_GROUP, {"input": {"id": group["id"], "name": "Hospitals (Norway)"}})
    assert renamed["renameAccountGroup"]["group"]["name"] == "Hospitals (Norway)"

    account = await new_account(api)
    joined = await api.data(JOIN_GROUP, {"input": {"groupId": group["id"], "accountId": account["id"]}})
    assert joined["addAccountToGroup"]["account"]["groups"] == [{"id": group["id"]}]
    twice = await api.data(JOIN_GROUP, {"input": {"groupId": group["id"], "accountId": account["id"]}})
    assert twice["addAccountToGroup"]["__typename"] == "ConflictError"
    left = await api.data(LEAVE_GROUP, {"input": {"groupId": group["id"], "accountId": account["id"]}})
    assert left["removeAccountFromGroup"]["group"]["accounts"] == []
    assert (await history(writable.engine, pk(account["id"])))[-2:] == [
        ("groups", None, "Hospitals (Norway)"),
        ("groups", "Hospitals (Norway)", None),
    ]

    await api.data(JOIN_GROUP, {"input": {"groupId": group["id"], "accountId": account["id"]}})
    deleted = (await api.data(DELETE_GROUP, {"input": {"id": group["id"]}}))["deleteAccountGroup"]
    assert deleted["deletedId"] == group["id"]
    assert await count(writable.engine, tables.account_groups, tables.account_groups.c.id == pk(group["id"])) == 0
    assert await count(writable.engine, tables.accounts, tables.accounts.c.id == pk(account["id"])) == 1
    assert [e for e, _ in await events(writable.engine, "AccountGroup", pk(group["id"]))][-3:] == [
        "AccountGroupChanged"
    ] * 3


async def test_favourites_are_per_user(api, writable):
    account = await new_account(api, isGlobal=True)  # global: every user sees it
    added = (await api.data(ADD_FAVOURITE, {"input": {"accountId": account["id"]}}))["addFavouriteAccount"]
    assert added["account"]["isFavourite"] is True
    other_user, other = await another_users_token(writable)
    seen_by_other = await api.data(
        "query($id: ID!) { node(id: $id) { ... on Account { isFavourite } } }", {"id": account["id"]}, token=other
    )
    assert seen_by_other["node"]["isFavourite"] is False
    twice = (await api.data(ADD_FAVOURITE, {"input": {"accountId": account["id"]}}))["addFavouriteAccount"]
    assert twice["__typename"] == "ConflictError"
    partner = await api.data(ADD_FAVOURITE, {"input": {"accountId": account["id"]}}, token=writable.partner_token)
    assert partner["addFavouriteAccount"]["__typename"] == "PermissionDeniedError"
    not_theirs = await api.data(REMOVE_FAVOURITE, {"input": {"accountId": account["id"]}}, token=other)
    assert not_theirs["removeFavouriteAccount"]["__typename"] == "ValidationError"
    removed = (await api.data(REMOVE_FAVOURITE, {"input": {"accountId": account["id"]}}))["removeFavouriteAccount"]
    assert removed["account"]["isFavourite"] is False
    favourites = tables.account_favourites
    assert await count(writable.engine, favourites, favourites.c.account_id == pk(account["id"])) == 0


async def test_assign_account_partner_gives_and_takes_back_the_account(api, writable):
    account = await new_account(api)
    partner = await new_partner(api, "Assigned Partner AS")
    assigned = await api.data(ASSIGN_PARTNER, {"input": {"id": account["id"], "partnerId": partner["id"]}})
    assert assigned["assignAccountPartner"]["account"]["partner"] == {"id": partner["id"]}
    missing = await api.data(
        ASSIGN_PARTNER, {"input": {"id": account["id"], "partnerId": ids.encode("Partner", 999_999)}}
    )
    assert missing["assignAccountPartner"]["__typename"] == "NotFoundError"
    back = await api.data(ASSIGN_PARTNER, {"input": {"id": account["id"], "partnerId": None, "version": 2}})
    assert back["assignAccountPartner"]["account"]["partner"] is None
    assert (await history(writable.engine, pk(account["id"])))[-2:] == [
        ("partnerId", None, {"ref": "Partner", "id": pk(partner["id"])}),
        ("partnerId", {"ref": "Partner", "id": pk(partner["id"])}, None),
    ]


# --- contacts ---


async def test_create_contact_makes_an_open_employee_and_refuses_bad_data(api, writable):
    account = await new_account(api)
    contact = await new_contact(api, account, email="kari@fjord.example", title="CTO")
    assert (contact["leadStatus"], contact["contactType"]["kind"]) == ("OPEN", "EMPLOYEE")
    assert [e for e, _ in await events(writable.engine, "Contact", pk(contact["id"]))][-1:] == ["ContactCreated"]
    contacts = await count(writable.engine, tables.contacts)
    bad = (
        await api.data(
            CREATE_CONTACT,
            {"input": {"accountId": account["id"], "firstName": "A", "lastName": "B", "email": "not-an-address"}},
        )
    )["createContact"]
    assert (bad["__typename"], bad["field"]) == ("ValidationError", "email")
    consultant_type = ids.encode(
        "ContactType",
        await first_id(writable.engine, tables.contact_types.c.id, tables.contact_types.c.kind == "CONSULTANT"),
    )
    wrong_type = await api.data(
        CREATE_CONTACT,
        {"input": {"accountId": account["id"], "firstName": "A", "lastName": "B", "contactTypeId": consultant_type}},
    )
    assert wrong_type["createContact"]["field"] == "contactTypeId"
    assert await count(writable.engine, tables.contacts) == contacts


async def test_update_contact_changes_it_and_checks_the_version(api, writable):
    contact = await new_contact(api, await new_account(api))
    updated = (
        await api.data(
            UPDATE_CONTACT, {"input": {"id": contact["id"], "version": 1, "title": "CEO", "phone": "+47 555"}}
        )
    )["updateContact"]
    assert (updated["contact"]["title"], updated["contact"]["version"]) == ("CEO", 2)
    stale = await api.data(UPDATE_CONTACT, {"input": {"id": contact["id"], "version": 1, "title": "CFO"}})
    assert stale["updateContact"]["__typename"] == "ConflictError"
    cleared = (await api.data(UPDATE_CONTACT, {"input": {"id": contact["id"], "lastName": None}}))["updateContact"]
    assert (cleared["__typename"], cleared["field"]) == ("ValidationError", "lastName")
    assert (await row(writable.engine, tables.contacts, pk(contact["id"]))).title == "CEO"
    assert (await events(writable.engine, "Contact", pk(contact["id"])))[-1] == (
        "ContactChanged",
        {"fields": ["phone", "title"]},
    )


async def test_anonymize_contact_wipes_personal_data_irreversibly(api, writable):
    contact = await new_contact(api, await new_account(api), email="kari@fjord.example", title="CTO")
    wiped = (await api.data(ANONYMIZE_CONTACT, {"input": {"id": contact["id"]}}))["anonymizeContact"]["contact"]
    assert wiped["anonymized"] is True and wiped["email"] is None and wiped["title"] is None
    stored = await row(writable.engine, tables.contacts, pk(contact["id"]))
    assert "Kari" not in (stored.first_name, stored.last_name) and stored.email is None and stored.anonymized
    assert (await events(writable.engine, "Contact", pk(contact["id"])))[-1][0] == "ContactAnonymized"
    again = (await api.data(ANONYMIZE_CONTACT, {"input": {"id": contact["id"]}}))["anonymizeContact"]
    assert again["__typename"] == "ConflictError"
    edit = (await api.data(UPDATE_CONTACT, {"input": {"id": contact["id"], "firstName": "Kari"}}))["updateContact"]
    assert edit["__typename"] == "ConflictError"


async def test_delete_contact_removes_it_and_its_business_roles(api, writable):
    role = await row(
        writable.engine, tables.business_roles, await first_id(writable.engine, tables.business_roles.c.id)
    )
    contact_id = ids.encode("Contact", role.contact_id)
    deleted = (await api.data(DELETE_CONTACT, {"input": {"id": contact_id}}))["deleteContact"]
    assert deleted == {"__typename": "DeletedPayload", "deletedId": contact_id}
    assert await count(writable.engine, tables.contacts, tables.contacts.c.id == role.contact_id) == 0
    assert (
        await count(writable.engine, tables.business_roles, tables.business_roles.c.contact_id == role.contact_id) == 0
    )
    assert await count(writable.engine, tables.leads, tables.leads.c.contact_id == role.contact_id) == 0
    stored_role = {"role": role.role, "contact": {"ref": "Contact", "id": role.contact_id}}
    assert ("businessRoles", stored_role, None) in await history(writable.engine, role.opportunity_id, "Opportunity")
    assert (await events(writable.engine, "Contact", role.contact_id))[-1][0] == "ContactDeleted"
    missing = (await api.data(DELETE_CONTACT, {"input": {"id": contact_id}}))["deleteContact"]
    assert missing["__typename"] == "NotFoundError"


# --- contact types ---


async def test_contact_types_are_created_renamed_and_deleted_only_when_unused(api, writable):
    created = (await api.data(CREATE_TYPE, {"input": {"name": "Champion", "kind": "EMPLOYEE"}}))["createContactType"]
    type_id = created["contactType"]["id"]
    assert created["contactType"]["kind"] == "EMPLOYEE"
    duplicate = await api.data(CREATE_TYPE, {"input": {"name": "Champion", "kind": "EMPLOYEE"}})
    assert duplicate["createContactType"]["__typename"] == "ConflictError"
    renamed = await api.data(UPDATE_TYPE, {"input": {"id": type_id, "name": "Internal champion"}})
    assert renamed["updateContactType"]["contactType"]["name"] == "Internal champion"

    contact = await new_contact(api, await new_account(api), contactTypeId=type_id)
    in_use = (await api.data(DELETE_TYPE, {"input": {"id": type_id}}))["deleteContactType"]
    assert in_use["__typename"] == "ConflictError" and "used by 1" in in_use["message"]
    await api.data(DELETE_CONTACT, {"input": {"id": contact["id"]}})
    deleted = (await api.data(DELETE_TYPE, {"input": {"id": type_id}}))["deleteContactType"]
    assert deleted["deletedId"] == type_id
    assert await count(writable.engine, tables.contact_types, tables.contact_types.c.id == pk(type_id)) == 0
    assert [d["change"] for _, d in await events(writable.engine, "ContactType", pk(type_id))][-3:] == [
        "created",
        "renamed",
        "deleted",
    ]


# --- partners and consultants ---


async def test_partners_are_created_and_edited_and_consultants_join_them(api, writable):
    partner = await new_partner(api)
    updated = await api.data(UPDATE_PARTNER, {"input": {"id": partner["id"], "email": "post@fjordpartner.example"}})
    assert updated["updatePartner"]["partner"]["email"] == "post@fjordpartner.example"
    blank = (await api.data(UPDATE_PARTNER, {"input": {"id": partner["id"], "name": " "}}))["updatePartner"]
    assert (blank["__typename"], blank["field"]) == ("ValidationError", "name")

    consultant = (
        await api.data(
            CREATE_CONSULTANT, {"input": {"partnerId": partner["id"], "firstName": "Per", "lastName": "Lie"}}
        )
    )["createConsultant"]["contact"]
    assert consultant["partner"] == {"id": partner["id"]} and consultant["contactType"]["kind"] == "CONSULTANT"
    assert consultant["leadStatus"] is None
    stored = await row(writable.engine, tables.contacts, pk(consultant["id"]))
    assert (stored.partner_id, stored.account_id) == (pk(partner["id"]), None)
    assert [d.get("change") for _, d in await events(writable.engine, "Partner", pk(partner["id"]))][-3:] == [
        "created",
        "updated",
        "consultant added",
    ]


async def test_a_partner_that_holds_accounts_cannot_be_deleted_and_one_that_holds_none_goes_with_its_consultants(
    api, writable
):
    held = await api.data(DELETE_PARTNER, {"input": {"id": ids.encode("Partner", writable.summary.partner_id)}})
    assert held["deletePartner"]["__typename"] == "ConflictError"
    assert "accounts" in held["deletePartner"]["message"]

    partner = await new_partner(api, "Short-lived Partner AS")
    consultant = (
        await api.data(
            CREATE_CONSULTANT, {"input": {"partnerId": partner["id"], "firstName": "Ola", "lastName": "Vik"}}
        )
    )["createConsultant"]["contact"]
    deleted = (await api.data(DELETE_PARTNER, {"input": {"id": partner["id"]}}))["deletePartner"]
    assert deleted == {"__typename": "DeletedPayload", "deletedId": partner["id"]}
    assert await count(writable.engine, tables.partners, tables.partners.c.id == pk(partner["id"])) == 0
    assert await count(writable.engine, tables.contacts, tables.contacts.c.id == pk(consultant["id"])) == 0


# --- goals ---


async def test_set_goal_creates_then_replaces_the_goal_of_the_same_period(api, writable):
    user = ids.encode("User", writable.summary.admin_user_id)
    goal = {
        "userId": user,
        "periodStart": "2027-01-01",
        "periodEnd": "2027-03-31",
        "targetRevenue": {"amount": "250000.00", "currency": "EUR"},
        "targetDeals": 6,
    }
    first = (await api.data(SET_GOAL, {"input": goal}))["setGoal"]["goal"]
    assert first["targetDeals"] == 6 and first["user"] == {"id": user}
    second = (await api.data(SET_GOAL, {"input": {**goal, "targetDeals": 9}}))["setGoal"]["goal"]
    assert second["id"] == first["id"] and second["targetDeals"] == 9
    assert (
        await count(
            writable.engine,
            tables.goals,
            tables.goals.c.user_id == writable.summary.admin_user_id,
            tables.goals.c.period_start == date(2027, 1, 1),
            tables.goals.c.period_end == date(2027, 3, 31),
        )
        == 1
    )
    stored = await row(writable.engine, tables.goals, pk(first["id"]))
    assert (stored.target_deals, stored.target_revenue_currency) == (9, "EUR")
    assert [d["replaced"] for _, d in await events(writable.engine, "Goal", pk(first["id"]))][-2:] == [False, True]


async def test_set_goal_refuses_a_backwards_period_a_bad_currency_and_an_unknown_user(api, writable):
    goals = await count(writable.engine, tables.goals)
    base = {
        "userId": ids.encode("User", writable.summary.admin_user_id),
        "periodStart": "2027-04-01",
        "periodEnd": "2027-06-30",
        "targetRevenue": {"amount": "1000", "currency": "EUR"},
    }
    backwards = (await api.data(SET_GOAL, {"input": {**base, "periodEnd": "2027-03-01"}}))["setGoal"]
    assert (backwards["__typename"], backwards["field"]) == ("ValidationError", "periodEnd")
    currency = await api.data(SET_GOAL, {"input": {**base, "targetRevenue": {"amount": "1", "currency": "euro"}}})
    assert currency["setGoal"]["__typename"] == "ValidationError"
    unknown = (await api.data(SET_GOAL, {"input": {**base, "userId": ids.encode("User", 999_999)}}))["setGoal"]
    assert (unknown["__typename"], unknown["entityType"]) == ("NotFoundError", "User")
    assert await count(writable.engine, tables.goals) == goals
