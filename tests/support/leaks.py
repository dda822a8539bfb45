"""Side-door scanning: what a caller may not learn (the facts of the rows it may not see, computed
in plain Python from the database), a scanner that reports every such fact an answer contains
(global ids, raw keys in id-like places, names, e-mails, amounts), a scanner for raw database keys
anywhere, and selections built from the schema so a probe asks for everything a type offers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
    get_named_type,
)

from domain import scopes as catalogue
from domain.enums import Role
from domain.money import in_minor_units
from domain.scopes import Scope
from gql import ids
from gql.schema.schema import schema
from gql.scopes import FIELDS, TYPES

# The table behind each node type whose rows some caller may not see.
TABLE_OF = {
    "Account": "accounts",
    "Opportunity": "opportunities",
    "Quote": "quotes",
    "QuoteItem": "quote_items",
    "Contract": "contracts",
    "Contact": "contacts",
    "Lead": "leads",
    "SalesActivity": "sales_activities",
    "Task": "tasks",
    "BusinessRole": "business_roles",
    "QuoteDocument": "quote_documents",
    "Partner": "partners",
    "Campaign": "campaigns",
    "LeadRoutingRule": "lead_routing_rules",
    "LeadSplitter": "lead_splitters",
    "DocumentTemplate": "document_templates",
    "Goal": "goals",
    "Conversation": "conversations",
    "TrackedTerm": "tracked_terms",
    "Selection": "selections",
    "SavedView": "saved_views",
    "Attachment": "attachments",
    "AttachmentVersion": "attachment_versions",
    "PartnerComment": "partner_comments",
    "PriceBook": "price_books",
    "PriceEntry": "price_entries",
    "Bundle": "bundles",
}
TYPE_OF_TABLE = {table: kind for kind, table in TABLE_OF.items()}

# Which row an id-like key or a history field points at. Users and the catalog are seen by everyone,
# so their keys matter only to the raw-key scan.
REFERENCES = {
    "account": "Account",
    "accountId": "Account",
    "parent": "Account",
    "parentId": "Account",
    "linkedAccountId": "Account",
    "linkedAccounts": "Account",
    "accounts": "Account",  # a price book's history: the accounts it is for
    "relatedAccounts": "Account",
    "opportunity": "Opportunity",
    "opportunityId": "Opportunity",
    "quote": "Quote",
    "quoteId": "Quote",
    "quoteItemId": "QuoteItem",
    "contract": "Contract",
    "contractId": "Contract",
    "contact": "Contact",
    "contactId": "Contact",
    "businessRoles": "Contact",
    "lead": "Lead",
    "leadId": "Lead",
    "partner": "Partner",
    "partnerId": "Partner",
    "assignedPartner": "Partner",
    "assignedPartnerId": "Partner",
    "campaign": "Campaign",
    "campaignId": "Campaign",
    "routingRule": "LeadRoutingRule",
    "routingRuleId": "LeadRoutingRule",
    "ruleId": "LeadRoutingRule",
    "splitter": "LeadSplitter",
    "splitterId": "LeadSplitter",
    "template": "DocumentTemplate",
    "templateId": "DocumentTemplate",
    "goalId": "Goal",
    "conversation": "Conversation",
    "conversationId": "Conversation",
    "term": "TrackedTerm",
    "termId": "TrackedTerm",
    "task": "Task",
    "taskId": "Task",
    "selection": "Selection",
    "selectionId": "Selection",
    "attachment": "Attachment",
    "attachmentId": "Attachment",
}
# History fields that point at other rows (besides every `…Id` field).
REFERENCE_HISTORY = {"linkedAccounts", "relatedAccounts", "businessRoles", "favouriteOf", "accounts"}
# Id-like keys that are no row's key: the public event position (a documented side channel), and a
# conversation's id in the recording system that sent it.
NOT_KEYS = {"eventId", "latestEventId", "sinceEventId", "externalId"}
TYPE_NAMES = sorted({*TABLE_OF, "User", "Team", "Product", "PriceBook", "ContactType"}, key=len, reverse=True)
NAMED_KEY = re.compile(r"\b(" + "|".join(TYPE_NAMES) + r")s?\s+(?:#|id\s+|ids?\s+)?\[?(\d+(?:\s*,\s*\d+)*)\]?")
IDS_KEY = re.compile(r"\bids?\b\s*[:=]?\s*\[?(\d+(?:\s*,\s*\d+)*)\]?", re.IGNORECASE)


def amount(name: str, value: Any, currency: str | None) -> str | None:
    """An amount as a fact: the field that shows it and the amount as the API shows it (minor units
    of its currency), `estimatedRevenue=4275.00 EUR`. Only a Money value under that field (or a
    history entry of it) matches: a computed figure elsewhere may equal it by chance."""
    if value is None or not currency:
        return None
    try:
        return f"{name}={in_minor_units(Decimal(str(value)), currency)} {currency}"
    except ArithmeticError:
        return None


def facts_of(table: str, row: Any) -> list[str]:
    """The names, e-mails and amounts of a row: what a caller that may not see it must not read."""
    r = row._mapping
    found: list[Any] = []
    if table == "accounts":
        found += [r["name"], r["email"], r["organization"], r["vat_no"], r["registration_no"]]
    elif table == "opportunities":
        found += [r["name"], amount("estimatedRevenue", r["estimated_revenue_amount"], r["estimated_revenue_currency"])]
        found.append(amount("actualRevenue", r["actual_revenue_amount"], r["actual_revenue_currency"]))
    elif table == "quotes":
        found.append(r["name"])
    elif table == "contracts":
        found += [r["name"], amount("value", r["value_amount"], r["value_currency"])]
    elif table in ("contacts", "leads"):
        found += [r["email"], f"{r['first_name']} {r['last_name']}" if r["first_name"] else None]
        found.append(r["company"] if table == "leads" else r["phone"])
    elif table in ("sales_activities", "tasks"):
        found += [r["subject" if table == "sales_activities" else "title"], r["notes"]]
    elif table == "partners":
        found += [r["name"], r["email"]]
    elif table == "campaigns":
        found += [r["name"], amount("costs", r["costs_amount"], r["costs_currency"])]
    elif table in ("lead_routing_rules", "lead_splitters"):
        found.append(r["name"])
    elif table == "document_templates":
        found += [r["name"], r["file_name"]]
    elif table == "goals":
        found.append(amount("targetRevenue", r["target_revenue_amount"], r["target_revenue_currency"]))
    elif table == "business_roles":
        found.append(r["role"])
    elif table == "conversations":
        found += [r["title"], r["external_id"]]
    elif table == "selections":
        found += [r["name"], r["description"]]
    elif table == "saved_views":
        found.append(r["name"])
    elif table == "attachments":
        found.append(r["name"])
    elif table == "attachment_versions":  # the file's name, and its text when it is text
        found += [r["file_name"], bytes(r["content"]).decode("utf-8", errors="ignore").strip() or None]
    elif table == "partner_comments":
        found.append(r["body"])
    elif table in ("price_books", "bundles"):  # an agreement book's own words (prices are plain numbers)
        found += [r["name"], r["description"]]
    # A tracked term's name is words people say: the transcripts a caller reads contain them whether or not
    # it may read the company's list of terms, so only the term's id is its secret.
    return [str(f) for f in found if f is not None and len(str(f)) >= 4]


def shown_values(table: str, row: Any) -> set[str]:
    """Every value of a row a caller may see, as text: a hidden row's fact equal to one of these is
    no secret (two accounts may share a name)."""
    values = {str(v) for v in row._mapping.values() if isinstance(v, str)}
    return values | set(facts_of(table, row))


@dataclass
class Secrets:
    """What one caller may not learn: the keys of the rows it may not see, per type, and their facts."""

    role: str
    hidden: dict[str, set[int]]
    facts: dict[str, str] = field(default_factory=dict)  # the exact text -> whose it is ("Account 38 name")
    global_ids: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.global_ids = {ids.encode(kind, pk): f"{kind} {pk}" for kind, pks in self.hidden.items() for pk in pks}
        # Facts with a space or an @ are specific enough to be looked for inside longer text.
        self.distinct = {text: whose for text, whose in self.facts.items() if " " in text or "@" in text}

    def is_hidden(self, kind: str | None, pk: int) -> bool:
        return kind is not None and pk in self.hidden.get(kind, ())


def secrets_for(role: str, tables: dict[str, list], hidden: dict[str, set[int]]) -> Secrets:
    """The secrets of a caller, from every row of `tables` and the keys it may not see per type;
    tables of no hidden type are seen by everyone."""
    shown: set[str] = set()
    facts: dict[str, str] = {}
    for table, rows in tables.items():
        kind = TYPE_OF_TABLE.get(table)
        for row in rows:
            pk = row._mapping.get("id")
            if kind is not None and pk in hidden.get(kind, ()):
                for fact in facts_of(table, row):
                    facts.setdefault(fact, f"{kind} {pk}")
            else:
                shown |= shown_values(table, row)
    return Secrets(role, hidden, {text: whose for text, whose in facts.items() if text not in shown})


def _key_type(key: str, parent: dict[str, Any]) -> str | None:
    if key == "entityId" and isinstance(parent.get("entityType"), str):
        return parent["entityType"].title().replace("_", "")
    return REFERENCES.get(key)


def _id_like(key: str) -> bool:
    return key not in NOT_KEYS and (key == "id" or key.endswith(("Id", "Ids")) or key in ("ids", "pk"))


def _numbers(value: Any) -> list[int]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, str) and not _is_global_id(value):
        return [int(n) for n in re.findall(r"\d+", value)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    if isinstance(value, dict):  # a stored history reference, {"ref": type, "id": key}, or what holds one
        return [value["id"]] if "ref" in value else [n for v in value.values() for n in _numbers(v)]
    return []


def _is_global_id(value: str) -> bool:
    if len(value) < 6:
        return False
    try:
        ids.decode(value)
    except Exception:  # noqa: BLE001 - most strings are not ids
        return False
    return True


def _history_entry(value: dict[str, Any]) -> str | None:
    """The reference field a history entry changed, or None when it is no entry or a plain field."""
    changed = value.get("field")
    if not isinstance(changed, str) or not ({"oldValue", "newValue"} & value.keys()):
        return None
    return changed if changed.endswith(("Id", "Ids")) or changed in REFERENCE_HISTORY else None


TOKEN = re.compile(r"[A-Za-z0-9_-]{6,}")


def _text_leaks(
    secrets: Secrets, text: str, where: str, given: frozenset[str] = frozenset(), named_keys: bool = True
) -> list[str]:
    """Hidden facts inside free text (a message, a document body): global ids (whole words), specific
    names and e-mails, and (in messages, not in documents, which print names such as "Quote 1") keys
    written next to their type (`Account 38`)."""
    words = set(TOKEN.findall(text)) - given
    found = [f"{where}: {secrets.global_ids[w]} (its id) in {text[:160]!r}" for w in words if w in secrets.global_ids]
    found += [
        f"{where}: {whose} ({fact!r}) in {text[:120]!r}" for fact, whose in secrets.distinct.items() if fact in text
    ]
    for kind, numbers in NAMED_KEY.findall(text) if named_keys else ():
        for n in re.findall(r"\d+", numbers):
            if secrets.is_hidden(kind, int(n)):
                found.append(f"{where}: raw key of {kind} {n} in {text[:120]!r}")
    return found


def leaks(secrets: Secrets, answer: Any, where: str = "", given: tuple[str, ...] = ()) -> list[str]:
    """Every fact of a row the caller may not see that `answer` (decoded JSON, or text) contains;
    the ids in `given` are the caller's own words (an error may repeat the id it was sent)."""
    found: list[str] = []
    told = frozenset(given)

    def walk(value: Any, path: str, key: str, parent: dict[str, Any]) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("amount"), str) and isinstance(value.get("currency"), str):
                shown_as = parent.get("field") if key in ("oldValue", "newValue") else key
                fact = f"{shown_as}={value['amount']} {value['currency']}"
                if fact in secrets.facts:
                    found.append(f"{path}: {secrets.facts[fact]} ({fact})")
            reference = _history_entry(value)
            if reference is not None:
                kind = REFERENCES.get(reference)
                for side in ("oldValue", "newValue"):
                    for n in _numbers(value.get(side)):
                        if secrets.is_hidden(kind, n):
                            found.append(f"{path}.{side}: raw key of {kind} {n} in history field {reference!r}")
            for k, v in value.items():
                walk(v, f"{path}.{k}", k, value)
        elif isinstance(value, list):
            for n, v in enumerate(value):
                walk(v, f"{path}[{n}]", key, parent)
        elif isinstance(value, str):
            if value in secrets.global_ids and value not in told:
                found.append(f"{path}: the id of {secrets.global_ids[value]}")
            elif value in secrets.facts:
                found.append(f"{path}: {secrets.facts[value]} ({value!r})")
            elif len(value) > 12:
                found.extend(_text_leaks(secrets, value, path, told))
            if _id_like(key) and value.isdigit() and secrets.is_hidden(_key_type(key, parent), int(value)):
                found.append(f"{path}: raw key of {_key_type(key, parent)} {value}")
        elif isinstance(value, int) and not isinstance(value, bool):
            if _id_like(key) and secrets.is_hidden(_key_type(key, parent), value):
                found.append(f"{path}: raw key of {_key_type(key, parent)} {value}")

    if isinstance(answer, str | bytes):
        text = answer.decode(errors="replace") if isinstance(answer, bytes) else answer
        found += _text_leaks(secrets, text, where or "text", told, named_keys=False)
        # Whole text runs equal to a name (amounts aside: a document prints many computed figures).
        found += [
            f"{where}: {whose} ({fact!r})"
            for fact, whose in secrets.facts.items()
            if f">{fact}<" in text and not _is_amount(fact)
        ]
    else:
        walk(answer, where, "", {})
    return found


def _is_amount(text: str) -> bool:
    return re.fullmatch(r"-?\d+(\.\d+)?", text) is not None


def raw_keys(answer: Any, where: str = "") -> list[str]:
    """Every raw database key in an answer, whoever's row it is: a number (or digits) where an id
    belongs, in a history entry of a reference field, or next to a type name or `ids` in text."""
    found: list[str] = []

    def walk(value: Any, path: str, key: str) -> None:
        if isinstance(value, dict):
            reference = _history_entry(value)
            if reference is not None:
                for side in ("oldValue", "newValue"):
                    if _numbers(value.get(side)):
                        found.append(f"{path}.{side}: {value.get(side)!r} in history field {reference!r}")
            for k, v in value.items():
                walk(v, f"{path}.{k}", k)
        elif isinstance(value, list):
            for n, v in enumerate(value):
                walk(v, f"{path}[{n}]", key)
        elif isinstance(value, bool) or value is None:
            return
        elif isinstance(value, int) and _id_like(key):
            found.append(f"{path}: {value}")
        elif isinstance(value, str):
            if _id_like(key) and value.isdigit():
                found.append(f"{path}: {value!r}")
            elif key == "message" and (NAMED_KEY.search(value) or IDS_KEY.search(value)):
                found.append(f"{path}: {value!r}")

    walk(answer, where, "")
    return found


# --- selections built from the schema ---

SKIPPED_FIELDS = {"history"}  # asked for separately (it is large), see `history_selection`


def readable(need: Any, scopes: frozenset[str] | None) -> bool:
    """Whether a token with `scopes` may read what needs `need` (a gql.scopes TYPES or FIELDS value);
    every need is readable when no scopes are given."""
    if scopes is None or not isinstance(need, frozenset | Scope):
        return True
    return all(s.value in scopes for s in (need if isinstance(need, frozenset) else {need}))


def selection(type_: Any, depth: int, skip: set[str] = SKIPPED_FIELDS, scopes: frozenset[str] | None = None) -> str:
    """Every field of `type_` that needs no argument, nested `depth` levels deep (unions and
    interfaces through a fragment per member); `id` and `__typename` everywhere. With `scopes`, only
    the kinds of rows a token with those scopes may read (gql/scopes.py), so the document is answered."""
    named = get_named_type(type_)
    if isinstance(named, GraphQLScalarType | GraphQLEnumType):
        return ""
    if isinstance(named, GraphQLUnionType):
        members = [
            f"... on {m.name} {{ {selection(m, depth, skip, scopes)} }}"
            for m in named.types
            if readable(TYPES.get(m.name), scopes)
        ]
        return "__typename " + " ".join(members)
    parts = ["__typename"]
    assert isinstance(named, GraphQLObjectType | GraphQLInterfaceType)
    for name, child in named.fields.items():
        if name in skip or any(
            isinstance(a.type, GraphQLNonNull) and a.default_value is None for a in child.args.values()
        ):
            continue
        inner = get_named_type(child.type)
        if isinstance(inner, GraphQLScalarType | GraphQLEnumType):
            parts.append(name)
        elif depth > 0 and readable(FIELDS.get((named.name, name), TYPES.get(inner.name)), scopes):
            sub = selection(inner, depth - 1, skip, scopes)
            if sub:
                parts.append(f"{name} {{ {sub} }}")
    return " ".join(parts)


def history_selection(scopes: frozenset[str] | None = None) -> str:
    """A `history` connection with every field of its entries (whatever shape an entry takes), within
    `scopes` when given."""
    audit = schema._schema.get_type("AuditEntry")
    return f"history(first: 100) {{ nodes {{ {selection(audit, 2, set(), scopes)} }} }}"


def scopes_of(role: str) -> frozenset[str]:
    """Every scope a token of `role` (ADMIN, SALES_DIRECTOR, SALES_REP, PARTNER) may hold: what the
    scene's tokens, made without a scope list, have."""
    held = catalogue.PARTNER if role == "PARTNER" else catalogue.ROLES[Role(role)]
    return frozenset(s.value for s in held)
