"""`POST /attachments`: upload a file onto an account, an opportunity or a price book, or a new version of an
attachment, as multipart/form-data (what a browser sends from `<form enctype=multipart/form-data>` or from
`fetch(url, {method: "POST", body: formData})`, with no GraphQL client library). Fields: `file` (the file),
and `on` (the global id of the account, opportunity or price book) or `attachmentId` (a new version of it).
Authenticated like /graphql; this module only speaks HTTP, the rules are `domain.workflows.attachments`.
Answers 201 with the attachment and its new version, or the error shape of /graphql with a status: 413 for a
file over the size limit, 415 for a type that is not accepted, 422 for other bad input, 404 for a row the caller
may not see (exactly as for one that does not exist), 403 for a change the caller may not make. Nothing is
stored unless the answer is 201."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from domain import errors
from domain.attachments import CONTENT_TYPES, MAX_ATTACHMENT_BYTES, content_type_of
from domain.base import utcnow
from domain.scopes import Scope
from domain.workflows.attachments import ATTACHABLE, UploadAttachment, upload_attachment
from gql import ids
from gql.auth import principal_for
from gql.context import actor_of
from gql.errors import ClientError
from gql.ingest import IngestError, _error_of
from gql.schema.attachments import download_url
from gql.scopes import InsufficientScope, require
from persistence.uow import SqlUnitOfWork

log = logging.getLogger("salesgraph.uploads")

FORM_OVERHEAD = 64 * 1024  # the multipart framing and the small fields around the file
FIELDS = ("file", "on", "attachmentId")


def _json(body: dict[str, Any], status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def _too_large() -> IngestError:
    return IngestError(
        413,
        "PAYLOAD_TOO_LARGE",
        f"a file is at most {MAX_ATTACHMENT_BYTES} bytes ({MAX_ATTACHMENT_BYTES // (1024 * 1024)} MiB); nothing was stored",
        field="file",
        limit=MAX_ATTACHMENT_BYTES,
    )


def _not_found(value: str) -> IngestError:
    return IngestError(404, "NOT_FOUND", f"{value!r} names nothing a file can be attached to", field="on")


async def _command(request: Request) -> UploadAttachment:
    media = content_type_of(request.headers.get("content-type"))
    if media != "multipart/form-data":
        raise IngestError(415, "UNSUPPORTED_MEDIA_TYPE", "send the file as multipart/form-data (fields: file, on)")
    length = request.headers.get("content-length")
    if length is None or not length.isdigit():
        raise IngestError(411, "LENGTH_REQUIRED", "send the request's Content-Length (browsers do for a FormData body)")
    if int(length) > MAX_ATTACHMENT_BYTES + FORM_OVERHEAD:
        raise _too_large()  # refused before a byte of the body is read
    try:
        form = await request.form(max_files=1, max_fields=len(FIELDS))
    except Exception as error:  # noqa: BLE001 - python-multipart and Starlette raise several kinds for a bad body
        raise IngestError(400, "BAD_REQUEST", f"the body is not readable multipart/form-data: {error}") from None
    try:
        unknown = sorted(set(form.keys()) - set(FIELDS))
        if unknown:
            raise errors.ValidationError(unknown[0], f"is not a field of an upload; the fields are {', '.join(FIELDS)}")
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise errors.ValidationError("file", "send the file in a form field named `file` (with a file name)")
        content = await upload.read(MAX_ATTACHMENT_BYTES + 1)
        if len(content) > MAX_ATTACHMENT_BYTES:
            raise _too_large()
        media = content_type_of(upload.content_type)
        if media not in CONTENT_TYPES:
            raise IngestError(
                415,
                "UNSUPPORTED_MEDIA_TYPE",
                f"files of type {media or 'unknown'!r} are not accepted; the types are {', '.join(sorted(CONTENT_TYPES))}",
                field="file",
            )
        on, attachment = form.get("on"), form.get("attachmentId")
        if (on is None) == (attachment is None):
            raise errors.ValidationError(
                "on", "send `on` (what to attach the file to) or `attachmentId` (a new version), one of them"
            )
        cmd = UploadAttachment(file_name=upload.filename or "", content_type=media, content=content)
        if attachment is not None:
            try:
                cmd.attachment_id = ids.decode_as(str(attachment), "Attachment")
            except ClientError:
                raise IngestError(404, "NOT_FOUND", f"{attachment!r} is no attachment", field="attachmentId") from None
        else:
            try:
                kind, pk = ids.decode(str(on))
            except ClientError:
                raise _not_found(str(on)) from None
            if kind not in ATTACHABLE:
                raise errors.ValidationError("on", f"files are attached to an {', an '.join(ATTACHABLE)}, not a {kind}")
            cmd.on_kind, cmd.on_id = kind, pk
        return cmd
    finally:
        await form.close()


def upload_endpoint(
    engine: AsyncEngine, events_committed: Callable[[], None] | None = None, clock: Callable[[], datetime] = utcnow
) -> Callable[[Request], Any]:
    """The `POST /attachments` handler on `engine`."""

    async def upload(request: Request) -> Response:
        try:
            principal = await principal_for(engine, request.headers.get("authorization"))
            if principal is None:
                raise IngestError(
                    401, "UNAUTHENTICATED", "a valid token is required: send `Authorization: Bearer <token>`"
                )
            try:
                require(principal, Scope.DOCUMENTS_WRITE, "POST /attachments")
            except InsufficientScope as error:
                raise IngestError(error.status, error.code, error.message) from None
            cmd = await _command(request)
            async with SqlUnitOfWork(engine, actor_of(principal), clock=clock, on_commit=events_committed) as uow:
                version = await upload_attachment(cmd, uow)
        except IngestError as error:
            headers = {"WWW-Authenticate": 'Bearer realm="salesgraph"'} if error.status == 401 else None
            return _json(error.body(), error.status, headers)
        except errors.NotFound as error:
            failure = _error_of(error)  # a hidden row, named as the caller named it: as a missing one
            return _json(failure.body(), 404)
        except errors.DomainError as error:
            failure = _error_of(error)
            return _json(failure.body(), failure.status)
        except Exception:
            log.exception("unexpected error while storing an upload")
            body = IngestError(500, "INTERNAL_SERVER_ERROR", "the file could not be stored; nothing was written").body()
            return _json(body, 500)
        return _json(
            {
                "attachment": {"id": ids.encode("Attachment", version.attachment_id), "latestVersion": version.number},
                "version": {
                    "id": ids.encode("AttachmentVersion", version.id),
                    "number": version.number,
                    "fileName": version.file_name,
                    "contentType": version.content_type,
                    "size": version.size,
                    "downloadUrl": download_url(version.id),
                },
            },
            201,
        )

    return upload
