"""Accounts and contacts from CSV, with the rule of the product import: every row is checked before anything is
written. Either every row is valid and all are stored, or nothing is stored and every bad row is reported (its
line, the header being line 1, and its column) in one ImportRejected."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from domain.accounts import Account, Contact, ContactType
from domain.criteria import CriteriaEntity
from domain.custom_fields import TEXT_MAX, CustomFieldDefinition, check_values, from_text
from domain.enums import ContactKind, LeadStatus
from domain.errors import ImportRejected, RowProblem, ValidationError
from domain.events import AccountCreated, ContactCreated
from domain.lists import DEFAULTS, ListName, account_names
from domain.uow import UnitOfWork
from domain.workflows.custom_fields import definitions_of
from domain.workflows.lists import list_values

MAX_ROWS = 10_000
MAX_REPORTED = 200  # a file that is wrong everywhere is reported up to here, then counted

ACCOUNT_COLUMNS: dict[str, tuple[str, int]] = {  # CSV column -> (field, longest value)
    "kind": ("kind", 16),
    "name": ("name", 300),
    "firstName": ("first_name", 150),
    "lastName": ("last_name", 150),
    "organization": ("organization", 300),
    "email": ("email", 320),
    "phone": ("phone", 64),
    "street": ("street", 300),
    "city": ("city", 150),
    "postalCode": ("postal_code", 32),
    "country": ("country", 2),
    "registrationNo": ("registration_no", 64),
    "vatNo": ("vat_no", 64),
    "industry": ("industry", 100),
    "comment": ("comment", 10_000),
}
CONTACT_COLUMNS: dict[str, tuple[str, int]] = {
    "account": ("account", 300),
    "firstName": ("first_name", 150),
    "lastName": ("last_name", 150),
    "title": ("title", 150),
    "email": ("email", 320),
    "phone": ("phone", 64),
    "skype": ("skype", 100),
    "contactType": ("contact_type", 200),
}
FIELD_COLUMN = {"firstName": "firstName", "lastName": "lastName", "name": "name", "email": "email"}
CUSTOM = "custom."  # a custom field's column: `custom.KEY`, its value as text (numbers, dates, true/false)


def _with_custom(
    columns: dict[str, tuple[str, int]], definitions: list[CustomFieldDefinition]
) -> dict[str, tuple[str, int]]:
    return {**columns, **{f"{CUSTOM}{d.key}": (f"{CUSTOM}{d.key}", TEXT_MAX) for d in definitions}}


def _custom_values(
    line: int,
    values: dict[str, str | None],
    definitions: list[CustomFieldDefinition],
    problems: _Problems,
) -> dict[str, Any] | None:
    """The row's custom field values (its `custom.KEY` cells, taken out of `values`), checked as any write of
    them is (`domain.custom_fields.check_values`), or None after reporting the first problem."""
    cells = {name[len(CUSTOM) :]: values.pop(name) for name in list(values) if name.startswith(CUSTOM)}
    try:
        return check_values(definitions, from_text(definitions, {k: v for k, v in cells.items() if v}), None)
    except ValidationError as error:
        problems.add(line, CUSTOM + error.field.split(".", 1)[-1], error.reason)
        return None


@dataclass(kw_only=True)
class ImportAccounts:
    csv: str


@dataclass(kw_only=True)
class ImportContacts:
    csv: str


@dataclass(kw_only=True)
class ImportedAccounts:
    created: int
    account_ids: list[int]


@dataclass(kw_only=True)
class ImportedContacts:
    created: int
    contact_ids: list[int]


class _Problems:
    def __init__(self) -> None:
        self.found: list[RowProblem] = []
        self.more = 0

    def add(self, line: int, column: str, message: str) -> None:
        if len(self.found) < MAX_REPORTED:
            self.found.append(RowProblem(line, column, message))
        else:
            self.more += 1

    def reject_any(self) -> None:
        if self.found:
            raise ImportRejected(self.found, self.more)


def _rows(
    text: str, columns: dict[str, tuple[str, int]], required: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, cells) of every non-blank row; a header or file that cannot be read is rejected at once."""
    if not (text or "").strip():
        raise ValidationError("csv", "is empty; send a header row and at least one row")
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""), skipinitialspace=True, strict=True)
    try:
        header = [h.strip() for h in (reader.fieldnames or [])]
    except csv.Error as error:
        raise ImportRejected([RowProblem(1, "header", f"the header row cannot be read as CSV: {error}")]) from None
    reader.fieldnames = header
    problems = _Problems()
    for name in header:
        if name not in columns:
            problems.add(1, name, f"unknown column; the columns are {', '.join(columns)}")
    for name in required:
        if name not in header:
            problems.add(1, name, "is required in the header row")
    problems.reject_any()
    count = 0
    while True:
        before = reader.line_num
        try:
            raw = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            raise ImportRejected([RowProblem(before + 1, "row", f"the row cannot be read as CSV: {error}")]) from None
        if not any((v or "").strip() for v in raw.values() if isinstance(v, str)):
            continue
        count += 1
        if count > MAX_ROWS:
            raise ImportRejected(
                [RowProblem(reader.line_num, "row", f"an import holds at most {MAX_ROWS} rows; split the file")]
            )
        if None in raw:
            cells = {k: (v or "").strip() for k, v in raw.items() if k is not None}
            cells["\0extra"] = "1"
        else:
            cells = {k: (v or "").strip() for k, v in raw.items()}
        yield reader.line_num, cells
    if count == 0:
        raise ValidationError("csv", "has a header but no rows")


def _values(
    line: int, cells: dict[str, str], columns: dict[str, tuple[str, int]], problems: _Problems
) -> dict[str, str | None] | None:
    """The row's fields (blank cells as None), or None after reporting what is wrong with its cells."""
    ok = True
    if "\0extra" in cells:
        problems.add(line, "row", f"the row has more cells than the header's {len(columns)} columns at most")
        ok = False
    values: dict[str, str | None] = {}
    for column, (field_name, longest) in columns.items():
        value = cells.get(column) or None
        if value is not None and len(value) > longest:
            problems.add(line, column, f"is at most {longest} characters long")
            ok = False
        values[field_name] = value
    return values if ok else None


def _build(line: int, problems: _Problems, make: Callable[..., Any], *args: Any, **values: Any) -> Any:
    """`make(*args, **values)`, or None after reporting its ValidationError as the row's problem."""
    try:
        return make(*args, **values)
    except ValidationError as error:
        problems.add(line, FIELD_COLUMN.get(error.field, error.field), error.reason)
        return None


def _named(person_name: bool, **values: Any) -> Account:
    if person_name:
        values["name"] = account_names(True, None, values.get("first_name"), values.get("last_name"))
    return Account(**values)


def parse_accounts(
    text: str,
    creator: int | None,
    types: dict[str, bool] | None = None,
    definitions: list[CustomFieldDefinition] | None = None,
) -> list[Account]:
    """Every account of the CSV, or ImportRejected with every bad row. `types`: the active account types, each
    with whether it names its accounts by first and last name (the built-in ones when not given)."""
    types = types if types is not None else {key: bool(flag) for key, _, flag in DEFAULTS[ListName.ACCOUNT_TYPE]}
    problems = _Problems()
    accounts: list[Account] = []
    definitions = definitions or []
    columns = _with_custom(ACCOUNT_COLUMNS, definitions)
    for line, cells in _rows(text, columns, ()):
        values = _values(line, cells, columns, problems)
        if values is None:
            continue
        custom = _custom_values(line, values, definitions, problems)
        if custom is None:
            continue
        kind_text = (values.pop("kind") or "ORGANIZATION").upper()
        if kind_text not in types:
            problems.add(line, "kind", f"{kind_text!r} is not one of {', '.join(types)}")
            continue
        country = values.get("country")
        if country is not None and not (len(country) == 2 and country.isalpha()):
            problems.add(line, "country", f"{country!r} is not an ISO 3166 alpha-2 code such as NO")
            continue
        if country is not None:
            values["country"] = country.upper()
        account = _build(
            line,
            problems,
            _named,
            types[kind_text],
            kind=kind_text,
            created_by_id=creator,
            custom_fields=custom,
            **values,
        )
        if account is not None:
            accounts.append(account)
    problems.reject_any()
    return accounts


async def import_accounts(cmd: ImportAccounts, uow: UnitOfWork) -> ImportedAccounts:
    """Import accounts from CSV (columns: kind, name, firstName, lastName, organization, email, phone, street, city,
    postalCode, country, registrationNo, vatNo, industry, comment, and `custom.KEY` for a custom field). Every row is checked first: when any is bad,
    nothing is written and the ImportRejected error lists every bad row with its line and column. You are the
    creator of the accounts. Users only."""
    uow.actor.ensure_staff("import accounts")
    types = {v.key: bool(v.person_name) for v in await list_values(uow, ListName.ACCOUNT_TYPE) if v.active}
    definitions = await definitions_of(uow, CriteriaEntity.ACCOUNT)
    accounts = await uow.add_all(parse_accounts(cmd.csv, uow.actor.user_id, types, definitions))
    for account in accounts:
        uow.record(
            AccountCreated(
                entity_id=account.id,
                data={
                    "name": account.name,
                    "kind": account.kind,
                    "categoryGroup": account.category_group.value,
                    "managerId": None,
                    "parentId": None,
                    "partnerId": None,
                    "imported": True,
                },
            )
        )
    await uow.commit()
    return ImportedAccounts(created=len(accounts), account_ids=[a.id for a in accounts])


async def import_contacts(cmd: ImportContacts, uow: UnitOfWork) -> ImportedContacts:
    """Import contacts (employees of accounts) from CSV (columns: account, firstName, lastName, title, email, phone,
    skype, contactType, and `custom.KEY` for a custom field). `account` is the name of an account you may see (exactly one of that name);
    `contactType` the name of an employee contact type (default: the first). Every row is checked first: when any
    is bad, nothing is written and the ImportRejected error lists every bad row with its line and column. Users
    only."""
    uow.actor.ensure_staff("import contacts")
    definitions = await definitions_of(uow, CriteriaEntity.CONTACT)
    columns = _with_custom(CONTACT_COLUMNS, definitions)
    rows = list(_rows(cmd.csv, columns, ("account", "firstName", "lastName")))
    names = sorted({cells.get("account", "") for _, cells in rows} - {""})
    # Accounts by name that the caller may see: a hidden account is as unknown as a missing one.
    candidates = await uow.find(Account, name=names) if names else []
    visible = await uow.preload(Account, [a.id for a in candidates])
    by_name: dict[str, list[int]] = {}
    for account in visible:
        by_name.setdefault(account.name or "", []).append(account.id)
    types = {t.name: t for t in await uow.find(ContactType, kind=ContactKind.EMPLOYEE.value)}
    default_type = min(types.values(), key=lambda t: t.id or 0) if types else None
    problems = _Problems()
    contacts: list[Contact] = []
    for line, cells in rows:
        values = _values(line, cells, columns, problems)
        if values is None:
            continue
        custom = _custom_values(line, values, definitions, problems)
        if custom is None:
            continue
        name, type_name = values.pop("account"), values.pop("contact_type")
        found = by_name.get(name or "", [])
        if not name:
            problems.add(line, "account", "is required: the name of the contact's account")
            continue
        if not found:
            problems.add(line, "account", f"there is no account named {name!r} that you may see")
            continue
        if len(found) > 1:
            problems.add(
                line,
                "account",
                f"{len(found)} accounts are named {name!r}; rename one so the import can tell them apart",
            )
            continue
        contact_type = types.get(type_name) if type_name else default_type
        if contact_type is None:
            known = ", ".join(sorted(types)) or "none"
            problems.add(
                line, "contactType", f"{type_name or ''!r} is not an employee contact type; the types are {known}"
            )
            continue
        contact = _build(
            line,
            problems,
            Contact,
            account_id=found[0],
            contact_type_id=contact_type.id,
            lead_status=LeadStatus.OPEN,
            custom_fields=custom,
            **values,
        )
        if contact is not None:
            contacts.append(contact)
    problems.reject_any()
    contacts = await uow.add_all(contacts)
    for contact in contacts:
        uow.record(
            ContactCreated(
                entity_id=contact.id, data={"accountId": contact.account_id, "contactTypeId": contact.contact_type_id}
            )
        )
    await uow.commit()
    return ImportedContacts(created=len(contacts), contact_ids=[c.id for c in contacts])
