"""What of its caller a subscription's render reads, from its document alone: the part of the caller
that belongs in the key under which a rendered push is shared (gql/subscriptions/protocol.py).

A live board's state is one object for every viewer whose board is identical (equal figures from one
read, gql/subscriptions/scoreboards.py). Rendering that object with a document gives the same bytes
for every caller unless a field of the selection reads the caller: through `info` (the context: its
viewer, its loaders with their visibility rules, its scopes), a permission class or a field extension.
A field whose resolver takes no `info` (a plain attribute, or a method of the object alone) reads the
object only. So a document whose every field is of that kind renders once for all such viewers; one
with `viewerRep` (which reads the caller's user id and nothing else) once per user; any other once per
caller, as before. A field states what it reads, when its resolver takes `info` but reads less than
the whole caller, in its metadata under `RENDER_READS`."""

from __future__ import annotations

import weakref
from typing import Any

from graphql import DocumentNode, FieldNode, GraphQLSchema, TypeInfo, TypeInfoVisitor, Visitor, visit

RENDER_READS = "salesgraph.render_reads"  # a field's metadata: NOTHING or VIEWER_USER (see above)
NOTHING = "nothing"  # the object alone
VIEWER_USER = "viewer-user"  # the caller's user id
CALLER = "caller"  # anything of the caller

_RANK = {NOTHING: 0, VIEWER_USER: 1, CALLER: 2}
_FOUND: weakref.WeakKeyDictionary[DocumentNode, str] = weakref.WeakKeyDictionary()


def field_reads(field: Any) -> str:
    """What a GraphQL field's resolver reads of the caller (NOTHING, VIEWER_USER or CALLER)."""
    definition = (field.extensions or {}).get("strawberry-definition")
    if definition is None:
        return CALLER
    stated = (definition.metadata or {}).get(RENDER_READS)
    if stated is not None:
        return stated
    if definition.permission_classes or definition.extensions:
        return CALLER
    resolver = definition.base_resolver
    if resolver is not None and resolver.info_parameter is not None:
        return CALLER
    return NOTHING


class _Walk(Visitor):
    def __init__(self, schema: GraphQLSchema, info: TypeInfo) -> None:
        super().__init__()
        self.schema, self.info = schema, info
        self.reads = NOTHING

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        parent = self.info.get_parent_type()
        if parent is not None and parent is self.schema.subscription_type:
            return  # the root field: its resolver makes the stream; the event is the object rendered
        if node.name.value == "__typename":
            return
        field = self.info.get_field_def()
        reads = CALLER if field is None else field_reads(field)
        if _RANK[reads] > _RANK[self.reads]:
            self.reads = reads


def render_reads(schema: GraphQLSchema, document: DocumentNode) -> str:
    """What rendering a state with `document` reads of the caller: the most any of its fields reads (every
    operation and fragment of the document counts). Computed once per parsed document."""
    found = _FOUND.get(document)
    if found is None:
        info = TypeInfo(schema)
        walk = _Walk(schema, info)
        visit(document, TypeInfoVisitor(info, walk))
        found = _FOUND[document] = walk.reads
    return found


def caller_part(reads: str, principal: Any, user_id: int | None) -> Any:
    """The caller's part of a shared render's key, for a document that reads `reads`."""
    if reads == NOTHING:
        return None
    if reads == VIEWER_USER:
        return ("user", user_id)
    return principal
