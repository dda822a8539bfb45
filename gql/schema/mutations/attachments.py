"""Mutations of attachments: deleting one with its versions. Uploads are `POST /attachments` (gql/uploads.py):
a file is sent as multipart/form-data, which any browser sends from a form or `fetch` with `FormData`."""

from __future__ import annotations

from domain.errors import PermissionDenied
from domain.workflows import attachments as wf
from gql.resolvers.mutation import Deleted, mutation
from gql.schema.inputs import ref
from gql.schema.mutations.common import WRITE

DeleteAttachmentInput = ref("Attachment", "Identifies an attachment to delete, with all its versions.", version=None)
delete_attachment = mutation(wf, DeleteAttachmentInput, Deleted("Attachment"), (*WRITE, PermissionDenied))
