"""Scope enforcement before execution: an operation runs only when the caller's token holds the scope
of every kind of row it reads.

Every root field needs one scope (or none): `QUERY`, `SUBSCRIPTION`, `MUTATION`. A query or a
subscription also needs, below its root fields, the read scope of every kind of row it selects: each
object type that shows rows of an area has that area's read scope in `TYPES` (its connections, edges,
board columns and events follow it), a field that returns such a type needs the scope (whatever it
selects of it), and so does a fragment that narrows an abstract type (`node`, `nodes`, a union) to it
when it selects more than `__typename`. So `accounts { opportunities { name } }` needs
`opportunities:read` besides `accounts:read`, and `node(id:) { ... on Opportunity { name } }` needs it
too. The types every caller may read (the viewer, a row's owner or assignee as a person, teams, money,
paging) are `EVERYONE`; the parts of a row that only that row shows (its credit shares, custom
attributes, indicators …) are `PART` and need what their row needs. `FIELDS` are the exceptions that
a field makes: a sold opportunity's contracts and a row's history come with the row, a team's members
are the users directory. A mutation's payload is covered by the mutation's write scope and is not
walked.

The scopes an operation needs are worked out once per document and operation (`needed`, kept with the
cached parse in `limits.Checked`); each request then only tests them against its token's scopes
(`check`). Checked on the parsed document right after the token lookup, so a refused request runs no
SQL of its own: HTTP answers 403 `INSUFFICIENT_SCOPE` naming the path (`accounts.opportunities`) and the
scope, a WebSocket operation gets an `error` message with that code. Which rows of a kind a caller
sees is row visibility, applied where data is read. `tests/integration/test_scopes.py` fails when a
root field or a type the queries can reach has no entry."""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    OperationDefinitionNode,
    OperationType,
    get_named_type,
)
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
    "settings": NO_SCOPE,
    "latestEventId": NO_SCOPE,
    "accounts": S.ACCOUNTS_READ,
    "accountGroups": S.ACCOUNTS_READ,
    "contacts": S.CONTACTS_READ,
    "contactTypes": S.CONTACTS_READ,
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
    "opportunityBoardUpdated": S.OPPORTUNITIES_READ,
    "attachmentEvents": S.DOCUMENTS_READ,
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
    **_writes(S.USERS_WRITE, "setGoal", "changeUserRole", "createListValue", "updateListValue", "deleteListValue"),
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
    **_writes(S.SETTINGS_WRITE, "createCustomField", "updateCustomField", "deleteCustomField"),
}

ROOTS: dict[OperationType, dict[str, S | None]] = {
    OperationType.QUERY: QUERY,
    OperationType.MUTATION: MUTATION,
    OperationType.SUBSCRIPTION: SUBSCRIPTION,
}


# --- below the root fields: the read scope each kind of row needs ---

EVERYONE = "everyone"  # every caller may read it: who and what the rows are about, not rows of an area
PART = "part"  # a part of a row that only that row shows (never a Node, never in a union): needs what the row needs
COVERED = "covered"  # in FIELDS: the field's rows come with its parent's, needing nothing more
Need = S | frozenset[S] | str

# A row's history (`history`) is covered by the row; read by its own id, an entry needs the read scope
# of every kind of row that keeps a history, as it may be any of them.
HISTORY = frozenset({S.ACCOUNTS_READ, S.OPPORTUNITIES_READ, S.CONTRACTS_READ, S.ACTIVITIES_READ, S.CATALOG_READ})


def _kind(need: Need, *types: str) -> dict[str, Need]:
    return dict.fromkeys(types, need)


TYPES: dict[str, Need] = {
    **_kind(
        EVERYONE,
        "Query",
        "Subscription",
        "Viewer",
        "PageInfo",
        "Money",
        # Abstract: they show an id and a type name; a fragment on a member needs the member's scope.
        "Node",
        "MonitoredNode",
        "SelectionMember",
        # A person or partner as the owner, assignee or author of rows one may read, and one's team: the
        # lists of them (`users`, `teams`, `partners`) and a team's members need users:read / partners:read.
        "User",
        "UserConnection",
        "UserEdge",
        "Team",
        "Partner",
        "PartnerConnection",
        "PartnerEdge",
        # The configurable lists (stages, types, categories …): what the keys rows carry mean.
        "Settings",
        "ListValue",
        "OpportunityStage",
        "CustomFieldDefinition",
    ),
    **_kind(
        PART,
        "KeyValue",  # an account's custom attributes
        "CustomFieldValue",  # a row's custom field values
        "CreditShare",  # an opportunity's or a lead's credit split
        "StatusIndicator",  # the indicators set on an account, contact, opportunity or lead
        "LeadRoutingCondition",
        "LeadSplitterShare",
        "BundleComponent",
        "StatusMonitorScope",
        "StatusMonitorRule",
    ),
    **_kind(S.ACCOUNTS_READ, "Account", "AccountConnection", "AccountEdge", "AccountGroup"),
    **_kind(
        S.CONTACTS_READ,
        "Contact",
        "ContactConnection",
        "ContactEdge",
        "ContactColumn",
        "ContactType",
    ),
    **_kind(
        S.LEADS_READ,
        "Lead",
        "LeadConnection",
        "LeadEdge",
        "LeadColumn",
        "LeadRoutingRule",
        "LeadSplitter",
        "LeadStatisticsRow",
        "LeadMatchingSettings",
        "LeadMatch",
    ),
    **_kind(
        S.OPPORTUNITIES_READ,
        "Opportunity",
        "OpportunityConnection",
        "OpportunityEdge",
        "OpportunityColumn",
        "OpportunityEvent",
        "OpportunityBoard",
        "BusinessRole",
        "Quote",
        "QuoteItem",
    ),
    **_kind(S.CONTRACTS_READ, "Contract", "ContractConnection", "ContractEdge", "ContractEvent"),
    **_kind(
        S.ACTIVITIES_READ,
        "SalesActivity",
        "SalesActivityConnection",
        "SalesActivityEdge",
        "Task",
        "TaskConnection",
        "TaskEdge",
        "TaskEvent",
    ),
    **_kind(
        S.CATALOG_READ,
        "Product",
        "ProductConnection",
        "ProductEdge",
        "ProductUnit",
        "PriceBook",
        "PriceBookConnection",
        "PriceBookEdge",
        "PriceEntry",
        "Bundle",
        "ExchangeRate",
    ),
    **_kind(S.CAMPAIGNS_READ, "Campaign", "CampaignConnection", "CampaignEdge", "CampaignFigures"),
    **_kind(S.PARTNERS_READ, "PartnerComment"),
    **_kind(S.USERS_READ, "Goal"),
    **_kind(S.MONITORS_READ, "StatusMonitor", "StatusMonitorConnection", "StatusMonitorEdge", "StatusIndicatorChange"),
    **_kind(S.SCOREBOARD_READ, "Scoreboard", "ScoreboardRep", "ScoreboardRepConnection", "ScoreboardRepEdge"),
    **_kind(
        S.REPORTS_READ,
        "SalesReports",
        "SalesFunnel",
        "FunnelStage",
        "ReportFigure",
        "PersonRevenue",
        "ProductRevenue",
        "SalesForecast",
        "ForecastMonth",
        "RepForecast",
        "TeamForecast",
        "PartnerResult",
        "ChannelTime",
    ),
    **_kind(
        S.DOCUMENTS_READ, "DocumentTemplate", "QuoteDocument", "Attachment", "AttachmentVersion", "AttachmentEvent"
    ),
    **_kind(S.TOKENS_READ, "ApiToken"),
    **_kind(
        S.CONVERSATIONS_READ,
        "Conversation",
        "ConversationConnection",
        "ConversationEdge",
        "ConversationParticipant",
        "TranscriptSegment",
        "SegmentSentiment",
        "ConversationAnalysis",
        "Monologue",
        "CallSentiment",
        "TermMention",
        "MentionedName",
        "TrackedTerm",
        "ConversationAnalysisProgress",
        "ConversationInsights",
        "CustomerTalk",
        "BestSellers",
        "RecordingKpis",
        "InsightFigure",
        "InsightPoint",
        "TermInsight",
        "NewNameInsight",
        "SellerGroup",
        "BestPracticeTerm",
        "SellerInsight",
        "ContributingConversations",
    ),
    **_kind(
        S.SELECTIONS_READ,
        "Selection",
        "SelectionConnection",
        "SelectionEdge",
        "SelectionMemberConnection",
        "SelectionMemberEdge",
        "SavedView",
        "SavedViewConnection",
        "SavedViewEdge",
    ),
    **_kind(HISTORY, "AuditEntry", "AuditEntryConnection", "AuditEntryEdge"),
}

# Fields that need something else than the type they return: COVERED (nothing more than their parent;
# the rows below them of the same kind come with it) or a scope of their own.
FIELDS: dict[tuple[str, str], Need] = {
    # opportunities:read is "opportunities with their quotes and contracts": the contracts one sold.
    ("Opportunity", "contracts"): COVERED,
    # A row's history comes with the row.
    **{
        (holder, "history"): COVERED
        for holder in ("Account", "Opportunity", "Quote", "Contract", "Task", "PriceBook", "Partner")
    },
    # The users directory, a team at a time.
    ("Team", "members"): S.USERS_READ,
}

FREE = frozenset({EVERYONE, PART})


class _Walk:
    """The scopes an operation's selections need below its root fields, each with the path of its
    first use. A fragment is walked once per type it is spread in and per covered kind (remembered), so
    the work stays within the document's size times the number of scopes however often it is spread."""

    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.schema, self.fragments = schema, fragments
        self.memo: dict[tuple[str, str, frozenset[Any]], list[tuple[str, Need]]] = {}
        self.selecting: dict[str, bool] = {}  # whether a fragment selects more than `__typename`

    def selections(
        self, parent: Any, selection_set: SelectionSetNode, granted: frozenset[Any]
    ) -> list[tuple[str, Need]]:
        found: list[tuple[str, Need]] = []
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                found.extend(self.field(parent, selection, granted))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                kind = self.schema.get_type(condition.name.value) if condition is not None else parent
                found.extend(self.narrow(parent, kind, selection.selection_set, granted))
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is None:
                    continue
                key = (fragment.name.value, parent.name, granted)
                if key not in self.memo:
                    kind = self.schema.get_type(fragment.type_condition.name.value)
                    self.memo[key] = _first(self.narrow(parent, kind, fragment.selection_set, granted))
                found.extend(self.memo[key])
        return _first(found)

    def selects_fields(self, selection_set: SelectionSetNode) -> bool:
        """Whether a selection set selects any field but `__typename` (through its fragments, each
        looked at once)."""
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value != "__typename":
                    return True
            elif isinstance(selection, InlineFragmentNode):
                if self.selects_fields(selection.selection_set):
                    return True
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in self.selecting and name in self.fragments:
                    self.selecting[name] = False  # fragments have no cycles in a valid document
                    self.selecting[name] = self.selects_fields(self.fragments[name].selection_set)
                if self.selecting.get(name):
                    return True
        return False

    def field(self, parent: Any, node: FieldNode, granted: frozenset[Any]) -> list[tuple[str, Need]]:
        name = node.name.value
        definition = getattr(parent, "fields", {}).get(name)
        if name.startswith("__") or definition is None:
            return []  # __typename (and the introspection roots) are free; a document is valid by now
        returned = get_named_type(definition.type)
        if not isinstance(returned, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType):
            return []
        need = TYPES.get(returned.name, f"(none: `{returned.name}` has no scope yet)")
        special = FIELDS.get((parent.name, name))
        found: list[tuple[str, Need]] = []
        if special == COVERED:
            below = granted | {need}
        else:
            if special is not None:
                found.append((name, special))
            below = granted if need in granted else frozenset()
            if need not in FREE and need not in granted:
                found.append((name, need))
        if node.selection_set is not None:
            found.extend((_join(name, path), n) for path, n in self.selections(returned, node.selection_set, below))
        return found

    def narrow(
        self, parent: Any, kind: Any, selection_set: SelectionSetNode, granted: frozenset[Any]
    ) -> list[tuple[str, Need]]:
        """A fragment: on its parent's own type or an abstract one it adds nothing; narrowing to an
        object type needs that type's scope when it selects more than `__typename`."""
        if kind is None or kind is parent:
            return self.selections(parent, selection_set, granted)
        if not isinstance(kind, GraphQLObjectType):  # an interface or union: the parent's own type still applies
            return self.selections(parent if isinstance(parent, GraphQLObjectType) else kind, selection_set, granted)
        need = TYPES.get(kind.name, f"(none: `{kind.name}` has no scope yet)")
        label = f"(on {kind.name})"
        found: list[tuple[str, Need]] = []
        if need not in FREE and need not in granted and self.selects_fields(selection_set):
            found.append((label, need))
        below = granted if need in granted else frozenset()
        found.extend((_join(label, path), n) for path, n in self.selections(kind, selection_set, below))
        return found


def _join(head: str, tail: str) -> str:
    return head + tail if tail.startswith("(") else f"{head}.{tail}"


def _first(found: list[tuple[str, Need]]) -> list[tuple[str, Need]]:
    """Each need once, with the path of its first use."""
    seen: set[Any] = set()
    kept = []
    for path, need in found:
        if need not in seen:
            seen.add(need)
            kept.append((path, need))
    return kept


class InsufficientScope(Exception):
    """The token lacks the scope a field needs (HTTP 403, code INSUFFICIENT_SCOPE); `field` is its
    path (`accounts.opportunities`, `node(on Opportunity)`)."""

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


def needed(
    schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode
) -> tuple[tuple[str, str], ...]:
    """(path, scope) for each scope the operation needs, once each, with the path of its first use: the
    root fields' in document order, then (queries and subscriptions) those of the kinds of rows below
    them. Introspection fields (`__schema`, `__type`, `__typename`) need none; a root field or a type
    the tables do not know (a schema that grew without an entry, which the tests forbid) needs an
    impossible scope. Depends on the document alone: worked out once and kept with it."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    table = ROOTS[operation.operation]
    found: list[tuple[str, Need]] = []
    for name in _root_fields(operation.selection_set, fragments, set()):
        if name.startswith("__"):
            continue
        scope = table.get(name, f"(none: `{name}` has no scope yet)")
        if scope is not None:
            found.append((name, scope))
    if operation.operation is not OperationType.MUTATION:  # a payload is covered by the mutation's scope
        root = schema.get_root_type(operation.operation)
        found.extend(_Walk(schema, fragments).selections(root, operation.selection_set, frozenset()))
    scopes: dict[str, str] = {}
    for path, need in found:
        for scope in sorted(need) if isinstance(need, frozenset) else [need]:
            scopes.setdefault(scope.value if isinstance(scope, S) else scope, path)
    return tuple((path, scope) for scope, path in scopes.items())


def refused(principal: Principal, field: str, scope: str) -> InsufficientScope:
    """The refusal, suggesting a new token only when the token's owner may hold the scope."""
    holdable = {s.value for s in allowed(principal.role, principal.is_partner)}
    if scope in holdable:
        return InsufficientScope(field, scope)
    return InsufficientScope(field, scope, owner_kind(principal.role, principal.is_partner))


def check(principal: Principal | None, needs: tuple[tuple[str, str], ...]) -> None:
    """Raise InsufficientScope for the first of the operation's `needed` scopes the caller's token
    lacks (a subset test per request). A call with no principal (anonymous introspection) is left to
    the admission, which allows only that."""
    if principal is None:
        return
    held = principal.scopes
    for path, scope in needs:
        if scope not in held:
            raise refused(principal, path, scope)


def require(principal: Principal, scope: S, what: str) -> None:
    """For the endpoints outside GraphQL (`POST /ingest/leads`, `GET /documents/<id>`)."""
    if scope.value not in principal.scopes:
        raise refused(principal, what, scope.value)
