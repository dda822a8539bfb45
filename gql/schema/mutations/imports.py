"""CSV imports of accounts and contacts: every row checked before anything is written (as `importProducts`), and
every bad row reported at once in an `ImportRejectedError`."""

from __future__ import annotations

import strawberry

from domain.errors import ImportRejected, PermissionDenied
from domain.workflows import imports as wf
from gql.resolvers.mutation import mutation, payload_type
from gql.schema.accounts import Account, Contact
from gql.schema.inputs import described
from gql.schema.mutations.common import WRITE

ERRORS = (*WRITE, PermissionDenied, ImportRejected)


@strawberry.input(description="A CSV file of accounts.")
class ImportAccountsInput:
    csv: str = described(
        "CSV with a header row naming its columns: kind (ORGANIZATION, the default, PERSON or LOGIN), name (or firstName "
        "and lastName for a PERSON), organization, email, phone, street, city, postalCode, country (ISO alpha-2), "
        "registrationNo, vatNo, industry, comment. One row per account. Every row is checked before anything is written."
    )


@strawberry.input(description="A CSV file of contacts (employees of accounts).")
class ImportContactsInput:
    csv: str = described(
        "CSV with a header row naming its columns: account (the name of an account you may see), firstName, lastName "
        "(required), title, email, phone, skype, contactType (an employee contact type's name; default: the first). "
        "One row per contact. Every row is checked before anything is written."
    )


ImportAccountsPayload = payload_type(
    "What an account import wrote.",
    created=(int, "How many accounts were created (every row of the file)."),
    accounts=(list[Account], "The accounts created, in the order of the file."),
)
ImportContactsPayload = payload_type(
    "What a contact import wrote.",
    created=(int, "How many contacts were created (every row of the file)."),
    contacts=(list[Contact], "The contacts created, in the order of the file."),
)
import_accounts = mutation(wf, ImportAccountsInput, ImportAccountsPayload, ERRORS)
import_contacts = mutation(wf, ImportContactsInput, ImportContactsPayload, ERRORS)
