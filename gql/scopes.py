"""Scope enforcement before execution: every root field of the schema needs one scope (or none), and
an operation runs only when the caller's token holds the scope of each root field it selects.

Checked on the parsed document right after the token lookup, so a refused request runs no SQL of its
own: HTTP answers 403 `INSUFFICIENT_SCOPE`, a WebSocket operation gets an `error` message with that
code. Nested fields are covered by their root field's scope; which rows they show is row visibility,
applied where data is read. `tests/integration/test_scopes.py` fails when a root field has no entry."""

from __future__ import annotations

from graphql import DocumentNode, FragmentDefinitionNode, OperationDefinitionNode, OperationType
from graphql.language import FieldNode, FragmentSpreadNode, InlineFragmentNode, SelectionSetNode

from domain.access import Principal
from domain.scopes import Scope as S
from domain.scopes import allowed, owner_kind

NO_SCOPE = None
CODE = "INSUFFICIENT_SCOPE"

QUERY: dict[str, S | None] = {
    "node": NO_SCOPE,
    "nodes": NO_SCOPE,
    "viewer": NO_SCOPE,
    "latestEventId": NO_SCOPE,
    "settings": NO_SCOPE,
    "accounts": S.ACCOUNTS_READ,
    "accountGroups": S.ACCOUNTS_READ,
    "contacts": S.CONTACTS_READ,
    "contactTypes": S.CONTACTS_READ,
    "categorySettings": S.CONTACTS_READ,
    "contactBoard": S.CONTACTS_READ,
    "leads": S.LEADS_READ,
    "leadBoard": S.LEADS_READ,
    "leadRoutingRules": S.LEADS_READ,
    "leadSplitters": S.LEADS_READ,
    "opportunities": S.OPPORTUNITIES_READ,
    "contracts": S.CONTRACTS_READ,
    "salesActivities": S.ACTIVITIES_READ,
    "tasks": S.ACTIVITIES_READ,
    "priceBooks": S.CATALOG_READ,
    "products": S.CATALOG_READ,
    "exchangeRates": S.CATALOG_READ,
    "campaigns": S.CAMPAIGNS_READ,
    "partners": S.PARTNERS_READ,
    "users": S.USERS_READ,
    "teams": S.USERS_READ,
    "statusMonitors": S.MONITORS_READ,
    "scoreboard": S.SCOREBOARD_READ,
    "salesReports": S.REPORTS_READ,
    "opportunityBoard": S.OPPORTUNITIES_READ,
    "documentTemplates": S.DOCUMENTS_READ,
    "apiTokens": S.TOKENS_READ,
    "conversations": S.CONVERSATIONS_READ,
    "trackedTerms": S.CONVERSATIONS_READ,
    "leadMatching": S.LEADS_READ,
    "leadStatistics": S.LEADS_READ,
    "conversationAnalysis": S.CONVERSATIONS_READ,
    "conversationInsights": S.CONVERSATIONS_READ,
    "selections": S.SELECTIONS_READ,
    "savedViews": S.SELECTIONS_READ,
}

SUBSCRIPTION: dict[str, S | None] = {
    "scoreboardUpdated": S.SCOREBOARD_READ,
    "salesReportsUpdated": S.REPORTS_READ,
    "statusIndicatorsChanged": S.MONITORS_READ,
    "opportunityEvents": S.OPPORTUNITIES_READ,
    "taskEvents": S.ACTIVITIES_READ,
    "contractEvents": S.CONTRACTS_READ,
    "conversationInsightsUpdated": S.CONVERSATIONS_READ,
}


def _writes(scope: S, *fields: str) -> dict[str, S | None]:
    return dict.fromkeys(fields, scope)


MUTATION: dict[str, S | None] = {
    **_writes(
        S.ACCOUNTS_WRITE,
        "createAccount",
        "updateAccount",
        "deleteAccount",
        "addAccountToGroup",
        "removeAccountFromGroup",
        "addFavouriteAccount",
        "removeFavouriteAccount",
        "addRelatedAccount",
        "removeRelatedAccount",
        "assignAccountPartner",
        "createAccountGroup",
        "renameAccountGroup",
        "deleteAccountGroup",
        "linkAccounts",
        "unlinkAccounts",
        "setAccountParent",
        "importAccounts",
    ),
    **_writes(
        S.CONTACTS_WRITE,
        "importContacts",
        "createContact",
        "updateContact",
        "deleteContact",
        "anonymizeContact",
        "createConsultant",
        "createContactType",
        "updateContactType",
        "deleteContactType",
        "setContactLeadStatus",
        "setCategoryLeadStatus",
    ),
    **_writes(
        S.LEADS_WRITE,
        "createLead",
        "updateLead",
        "qualifyLead",
        "setLeadCreditShares",
        "disqualifyLead",
        "anonymizeLead",
        "archiveLead",
        "unarchiveLead",
        "assignLead",
        "reworkLead",
        "addLeadToAccount",
        "mergeLeads",
        "routeLeads",
        "updateLeadMatching",
        "createLeadRoutingRule",
        "updateLeadRoutingRule",
        "deleteLeadRoutingRule",
        "createLeadSplitter",
        "updateLeadSplitter",
        "deleteLeadSplitter",
    ),
    **_writes(S.LEADS_INGEST, "ingestLead"),
    **_writes(
        S.OPPORTUNITIES_WRITE,
        "createOpportunity",
        "updateOpportunity",
        "setOpportunityCreditShares",
        "deleteOpportunity",
        "changeOpportunityStage",
        "markOpportunitySold",
        "markOpportunityLost",
        "unlockOpportunity",
        "createUpsellOpportunity",
        "renewContract",
        "cancelContract",
        "removeContract",
        "copyOpportunity",
        "moveOpportunity",
        "assignOpportunityPartner",
        "addBusinessRole",
        "removeBusinessRole",
    ),
    **_writes(
        S.QUOTES_WRITE,
        "createQuote",
        "updateQuote",
        "addQuoteItems",
        "updateQuoteItem",
        "removeQuoteItem",
        "addRoundingItem",
        "makeQuoteActive",
        "changeQuoteCurrency",
        "duplicateQuote",
        "deleteQuote",
    ),
    **_writes(
        S.ACTIVITIES_WRITE,
        "createSalesActivity",
        "updateSalesActivity",
        "completeSalesActivity",
        "deleteSalesActivity",
        "createTask",
        "updateTask",
        "completeTask",
        "reopenTask",
        "deleteTask",
    ),
    **_writes(
        S.CATALOG_WRITE,
        "createProduct",
        "updateProduct",
        "deleteProduct",
        "importProducts",
        "addProductUnit",
        "updateProductUnit",
        "removeProductUnit",
        "createPriceBook",
        "updatePriceBook",
        "deletePriceBook",
        "linkPriceBookAccount",
        "unlinkPriceBookAccount",
        "copyProduct",
        "copyBundle",
        "moveBundle",
        "setPrice",
        "removePrice",
        "createBundle",
        "updateBundle",
        "deleteBundle",
        "setExchangeRate",
    ),
    **_writes(S.CAMPAIGNS_WRITE, "createCampaign", "updateCampaign", "archiveCampaign", "unarchiveCampaign"),
    **_writes(S.PARTNERS_WRITE, "createPartner", "updatePartner", "deletePartner"),
    **_writes(S.PARTNERS_COMMENT, "addPartnerComment", "deletePartnerComment"),
    **_writes(S.USERS_WRITE, "setGoal", "changeUserRole"),
    **_writes(S.MONITORS_WRITE, "createStatusMonitor", "updateStatusMonitor", "deleteStatusMonitor"),
    **_writes(
        S.SETTINGS_WRITE,
        "createOpportunityStage",
        "updateOpportunityStage",
        "reorderOpportunityStages",
        "deleteOpportunityStage",
    ),
    **_writes(
        S.DOCUMENTS_WRITE,
        "generateQuoteDocument",
        "uploadDocumentTemplate",
        "deleteDocumentTemplate",
        "setDefaultDocumentTemplate",
        "deleteAttachment",
    ),
    **_writes(S.TOKENS_WRITE, "createApiToken", "revokeApiToken", "registerTrustedDocuments"),
    **_writes(S.CONVERSATIONS_WRITE, "recordConversation", "deleteConversation"),
    **_writes(
        S.SELECTIONS_WRITE,
        "createSelection",
        "updateSelection",
        "copySelection",
        "convertSelectionToStatic",
        "deleteSelection",
        "addSelectionMembers",
        "removeSelectionMembers",
        "clearSelection",
        "createSavedView",
        "updateSavedView",
        "setDefaultView",
        "deleteSavedView",
    ),
    **_writes(S.TERMS_WRITE, "createTrackedTerm", "updateTrackedTerm", "deleteTrackedTerm"),
}

ROOTS: dict[OperationType, dict[str, S | None]] = {
    OperationType.QUERY: QUERY,
    OperationType.MUTATION: MUTATION,
    OperationType.SUBSCRIPTION: SUBSCRIPTION,
}


class InsufficientScope(Exception):
    """The token lacks the scope a root field needs (HTTP 403, code INSUFFICIENT_SCOPE)."""

    status, code = 403, CODE

    def __init__(self, field: str, scope: str, holder: str | None = None) -> None:
        """`holder`: who owns the token (`a partner`, `a SALES_REP`) when that owner can never hold the
        scope, so the message does not send them after a token they cannot get."""
        self.field, self.scope = field, scope
        if holder is None:
            self.message = (
                f"`{field}` needs the scope {scope}, which this token does not have: create a token "
                f"with it (`createApiToken` or `salesgraph create-token --scopes {scope}`)"
            )
        else:
            self.message = (
                f"`{field}` needs the scope {scope}, which {holder} cannot hold: it is not for {holder}'s tokens"
            )
        self.headers: dict[str, str] = {}
        super().__init__(self.message)


def _root_fields(
    selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode], seen: set[str]
) -> list[str]:
    """Every root field name, through fragment spreads and inline fragments (whatever @skip/@include say)."""
    names: list[str] = []
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            names.append(selection.name.value)
        elif isinstance(selection, InlineFragmentNode):
            names.extend(_root_fields(selection.selection_set, fragments, seen))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name not in seen and name in fragments:
                seen.add(name)
                names.extend(_root_fields(fragments[name].selection_set, fragments, seen))
    return names


def needed(document: DocumentNode, operation: OperationDefinitionNode) -> list[tuple[str, str]]:
    """(root field, scope) for each root field of the operation that needs a scope, in document order.
    Introspection fields (`__schema`, `__type`, `__typename`) need none; a field the table does not
    know (a schema that grew without an entry, which the tests forbid) needs an impossible scope."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    table = ROOTS[operation.operation]
    found = []
    for name in _root_fields(operation.selection_set, fragments, set()):
        if name.startswith("__"):
            continue
        scope = table.get(name, "unmapped")
        if scope is not None:
            found.append((name, scope.value if isinstance(scope, S) else f"(none: `{name}` has no scope yet)"))
    return found


def refused(principal: Principal, field: str, scope: str) -> InsufficientScope:
    """The refusal, suggesting a new token only when the token's owner may hold the scope."""
    holdable = {s.value for s in allowed(principal.role, principal.is_partner)}
    if scope in holdable:
        return InsufficientScope(field, scope)
    return InsufficientScope(field, scope, owner_kind(principal.role, principal.is_partner))


def check(principal: Principal | None, document: DocumentNode, operation: OperationDefinitionNode) -> None:
    """Raise InsufficientScope for the first root field whose scope the caller's token lacks. A call
    with no principal (anonymous introspection) is left to the admission, which allows only that."""
    if principal is None:
        return
    for field, scope in needed(document, operation):
        if scope not in principal.scopes:
            raise refused(principal, field, scope)


def require(principal: Principal, scope: S, what: str) -> None:
    """For the endpoints outside GraphQL (`POST /ingest/leads`, `GET /documents/<id>`)."""
    if scope.value not in principal.scopes:
        raise refused(principal, what, scope.value)
