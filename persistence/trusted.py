"""Trusted documents: the documents a token limited to them may run, by sha256 (table
`trusted_documents`). The token lookup of each request (gql/auth.py) reads whether the document sent
is registered in the same statement; this module maps the entity for the unit of work."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, select

from domain.tokens import TrustedDocument
from persistence import tables
from persistence.mapping import register

register(TrustedDocument, tables.trusted_documents)


def registered_text(token_id: Any, sha256: str) -> ColumnElement[Any]:
    """A scalar subquery: the text of the document with `sha256` registered for the token `token_id`
    (a column or a value), or NULL."""
    docs = tables.trusted_documents
    return select(docs.c.document).where(and_(docs.c.token_id == token_id, docs.c.sha256 == sha256)).scalar_subquery()
