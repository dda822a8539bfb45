"""`GET /documents/{id}`: the file of a generated quote document, for a caller with a valid token who
may see its opportunity, or of a version of an attached file, for one who may see the account, opportunity or
price book it is on. A row the caller may not see is answered exactly as one that does not exist."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from domain.scopes import Scope
from gql import ids
from gql.auth import principal_for
from gql.errors import ClientError
from gql.scopes import InsufficientScope, require
from persistence import reads, tables
from persistence.visibility import Viewer

# The files downloaded here, by the type of their global id: each table keeps the bytes, name and media type.
STORED = {"QuoteDocument": tables.quote_documents, "AttachmentVersion": tables.attachment_versions}


def _error(status: int, message: str, code: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status, headers=headers
    )


def content_disposition(file_name: str) -> str:
    """`attachment` with an ASCII fallback name and the exact name in RFC 5987 form."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in file_name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


def document_endpoint(engine: AsyncEngine) -> Callable[[Request], Awaitable[Response]]:
    async def download(request: Request) -> Response:
        principal = await principal_for(engine, request.headers.get("authorization"))
        if principal is None:
            return _error(
                401,
                "a valid token is required: send `Authorization: Bearer <token>`",
                "UNAUTHENTICATED",
                {"WWW-Authenticate": 'Bearer realm="salesgraph"'},
            )
        try:
            require(principal, Scope.DOCUMENTS_READ, "GET /documents/<id>")
        except InsufficientScope as error:
            return _error(error.status, error.message, error.code)
        not_found = _error(404, "no such document", "NOT_FOUND")
        try:
            kind, pk = ids.decode(request.path_params["global_id"])
        except ClientError:
            return not_found
        table = STORED.get(kind)
        if table is None:
            return not_found
        async with engine.connect() as conn:  # the same visibility rules as every read of the API
            [row] = await reads.rows_by_ids(conn, table, [pk], viewer=Viewer.of(principal))
        if row is None:
            return not_found
        return Response(
            bytes(row.content),
            media_type=row.content_type,
            headers={
                "Content-Disposition": content_disposition(row.file_name),
                "Cache-Control": "private, no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    return download
