"""Request admission after the hostile-query limits: Automatic Persisted Queries (Apollo's
`persistedQuery` extension), trusted documents for tokens limited to them, and rate limits per token
(requests and cost per minute, in process memory or shared through Redis).

The operation pipeline (gql/pipeline.py), for HTTP and WebSocket alike, calls `resolve` first (which
document the request names: its text, or only a hash) and, once the document is valid and within the
limits, `admit` (the token, the trusted-documents check and the rate limit; one SQL statement at most
over HTTP, none once the process keeps the token's lookup (gql/token_cache.py), none for most operations
on a WebSocket, whose token was looked up once). Every refusal is an `AdmissionRefused` with the HTTP
status, a code and a message that says what to do."""

from __future__ import annotations

import logging
import math
import os
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from graphql import GraphQLSchema, OperationDefinitionNode
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.access import Principal
from domain.base import utcnow
from domain.errors import ValidationError
from domain.tokens import document_hash
from gql import ids
from gql.auth import TokenLookup, bearer_hash, lookup_token
from gql.errors import Refused
from gql.limits import LimitExceeded, Limits, check_document, check_shape
from gql.token_cache import TokenCache
from persistence import tables
from persistence.db import read_engine
from persistence.trusted import registered_text

log = logging.getLogger("salesgraph.admission")

HEX = frozenset("0123456789abcdef")


class AdmissionRefused(Refused):
    """A request refused by the admission: answered with `status`, one error with `code`, and `headers`."""


@dataclass(frozen=True)
class Settings:
    """Each field's environment variable is SALESGRAPH_ plus its name in capitals."""

    apq_cache_bytes: int = 32 << 20  # persisted query texts kept per process (0: APQ off)
    rate_requests_per_minute: int = 600  # per token (0: no limit)
    # Requests without a token (introspection only) per client address (0: no limit): GraphiQL asks
    # once per page load, and each answer costs milliseconds of CPU that no token pays for.
    rate_anonymous_requests_per_minute: int = 60
    rate_cost_per_minute: int = 1_000_000  # per token, in gql/limits.py `cost` units (0: no limit)
    rate_limit_url: str = ""  # memory:// or redis://…; empty: BROADCAST_URL when it is redis
    # Parser tokens of documents not in the parse cache that one client address (a WebSocket: one
    # token) may have parsed and checked a minute, in each process (0: no limit).
    rate_new_document_tokens_per_minute: int = 100_000
    # How long each process may answer a token from its cache of lookups without reading it again (0: every
    # request reads its token). Changes through the API reach every cache at once (gql/token_cache.py);
    # this bounds how long a change made in the database by hand goes unseen.
    token_cache_seconds: int = 60

    @classmethod
    def from_env(cls) -> Settings:
        values: dict[str, Any] = {}
        for f in fields(cls):
            name = f"SALESGRAPH_{f.name.upper()}"
            raw = os.environ.get(name)
            if raw is None or raw == "":
                continue
            if f.type == "str":
                values[f.name] = raw
                continue
            try:
                values[f.name] = int(raw)
                if values[f.name] < 0:
                    raise ValueError(raw)
            except ValueError:
                raise SystemExit(f"{name}={raw!r} is not a whole number of 0 or more") from None
        settings = cls(**values)
        if not settings.rate_limit_url:
            broadcast = os.environ.get("BROADCAST_URL", "")
            shared = broadcast if broadcast.startswith(("redis://", "rediss://")) else "memory://"
            settings = cls(**{**values, "rate_limit_url": shared})
        if not settings.rate_limit_url.startswith(("memory://", "redis://", "rediss://")):
            raise SystemExit(
                f"SALESGRAPH_RATE_LIMIT_URL={settings.rate_limit_url!r}: use memory:// (one process) "
                "or redis://host:port (shared by several)"
            )
        return settings


# --- Automatic Persisted Queries ---


class PersistedQueries:
    """Query texts by sha256, least recently used first out, bounded by their total size. A cache: a
    client whose hash is not (or no longer) here is told so and sends the text again."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes, self.size = max_bytes, 0
        self._texts: OrderedDict[str, str] = OrderedDict()

    def get(self, sha256: str) -> str | None:
        text = self._texts.get(sha256)
        if text is not None:
            self._texts.move_to_end(sha256)
        return text

    def put(self, sha256: str, text: str) -> None:
        if sha256 in self._texts or len(text) > self.max_bytes:
            return
        self._texts[sha256] = text
        self.size += len(text)
        while self.size > self.max_bytes:
            _, dropped = self._texts.popitem(last=False)
            self.size -= len(dropped)


@dataclass
class Sent:
    """The document a request names: its text, its sha256, whether to remember it as a persisted
    query once admitted, and the token lookup if resolving the hash needed it already."""

    query: str
    sha256: str
    register: bool = False
    lookup: TokenLookup | None = None
    looked_up: bool = False


def check_trusted_document(schema: GraphQLSchema, document: str, field: str) -> None:
    """A document worth registering as trusted: it parses, is valid against the schema and within the
    limits on documents and on each operation's shape (a ValidationError on `field` otherwise)."""
    limits = Limits.from_env()
    try:
        checked, errors = check_document(schema, document, limits)
        if checked is None:
            raise ValidationError(field, "; ".join(e.message for e in errors[:3]))
        for definition in checked.document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                check_shape(checked.document, definition, limits)
    except LimitExceeded as error:
        raise ValidationError(field, error.message) from None


# --- rate limits ---


@dataclass(frozen=True)
class Budget:
    """The outcome of taking from a token's buckets: 0 seconds to wait when admitted."""

    wait_requests: float = 0.0
    wait_cost: float = 0.0

    @property
    def admitted(self) -> bool:
        return self.wait_requests <= 0 and self.wait_cost <= 0


def take(
    state: tuple[float, float, float] | None, now: float, per_minute: int, cost_per_minute: int, cost: int
) -> tuple[Budget, tuple[float, float, float] | None]:
    """Two token buckets, refilled continuously to a minute's worth: one request and `cost` (at most a
    full bucket) must both be there, or nothing is taken. Returns the outcome and the new state (None:
    unchanged). RedisRates runs the same arithmetic in Lua."""
    requests, spent = float(per_minute), float(cost_per_minute)
    if state is not None:
        elapsed = max(0.0, now - state[2])
        requests = min(per_minute, state[0] + elapsed * per_minute / 60)
        spent = min(cost_per_minute, state[1] + elapsed * cost_per_minute / 60)
    need = min(cost, cost_per_minute)
    wait_requests = (1 - requests) * 60 / per_minute if per_minute and requests < 1 else 0.0
    wait_cost = (need - spent) * 60 / cost_per_minute if cost_per_minute and spent < need else 0.0
    if wait_requests > 0 or wait_cost > 0:
        return Budget(wait_requests, wait_cost), None
    return Budget(), (requests - (1 if per_minute else 0), spent - (need if cost_per_minute else 0), now)


class MemoryRates:
    """Buckets in this process's memory: each process has its own budget per token."""

    MAX_BUCKETS = 100_000

    def __init__(self) -> None:
        # Least recently used first. Beyond MAX_BUCKETS the least recently used bucket is forgotten (it
        # starts full again): memory stays bounded and each request costs O(1), however many addresses
        # send requests within a minute.
        self._buckets: OrderedDict[str, tuple[float, float, float]] = OrderedDict()

    async def take(self, key: str, now: float, per_minute: int, cost_per_minute: int, cost: int) -> Budget:
        budget, state = take(self._buckets.get(key), now, per_minute, cost_per_minute, cost)
        if state is not None:
            self._buckets[key] = state
        if key in self._buckets:  # a refused request is use too: a busy sender is the last to be forgotten
            self._buckets.move_to_end(key)
            if len(self._buckets) > self.MAX_BUCKETS:
                self._buckets.popitem(last=False)
        return budget

    async def close(self) -> None:
        pass


TAKE_LUA = """
local per_minute, cost_per_minute = tonumber(ARGV[1]), tonumber(ARGV[2])
local cost, now = tonumber(ARGV[3]), tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'r', 'c', 't')
local requests, spent = per_minute, cost_per_minute
if state[3] then
  local elapsed = math.max(0, now - tonumber(state[3]))
  requests = math.min(per_minute, tonumber(state[1]) + elapsed * per_minute / 60)
  spent = math.min(cost_per_minute, tonumber(state[2]) + elapsed * cost_per_minute / 60)
end
local need = math.min(cost, cost_per_minute)
local wait_requests, wait_cost = 0, 0
if per_minute > 0 and requests < 1 then wait_requests = (1 - requests) * 60 / per_minute end
if cost_per_minute > 0 and spent < need then wait_cost = (need - spent) * 60 / cost_per_minute end
if wait_requests > 0 or wait_cost > 0 then
  return {tostring(wait_requests), tostring(wait_cost)}
end
if per_minute > 0 then requests = requests - 1 end
if cost_per_minute > 0 then spent = spent - need end
redis.call('HSET', KEYS[1], 'r', tostring(requests), 'c', tostring(spent), 't', ARGV[4])
redis.call('EXPIRE', KEYS[1], 120)
return {'0', '0'}
"""


class RedisRates:
    """Buckets in Redis, shared by every process using the same Redis: one atomic script per request.
    When Redis cannot be reached, requests are admitted (and a warning logged): the rate limit
    protects the service, and must not take it down with it."""

    def __init__(self, url: str) -> None:
        from redis import asyncio as redis

        self.client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self.script = self.client.register_script(TAKE_LUA)
        self._warned_at = 0.0

    async def take(self, key: str, now: float, per_minute: int, cost_per_minute: int, cost: int) -> Budget:
        try:
            waits = await self.script(
                keys=[f"salesgraph:rate:{key}"], args=[per_minute, cost_per_minute, cost, repr(now)]
            )
        except Exception as error:  # redis' ConnectionError/TimeoutError are not OSErrors
            if not type(error).__module__.startswith("redis") and not isinstance(error, OSError):
                raise
            if time.monotonic() - self._warned_at > 10:
                self._warned_at = time.monotonic()
                log.warning("rate limits not applied: Redis unreachable (%r)", error)
            return Budget()
        return Budget(float(waits[0]), float(waits[1]))

    async def close(self) -> None:
        await self.client.aclose()


# --- the admission ---


class Admission:
    def __init__(
        self,
        engine: AsyncEngine,
        settings: Settings | None = None,
        clock: Callable[[], datetime] = utcnow,
        tokens: TokenCache | None = None,
    ) -> None:
        self.engine, self.clock = engine, clock
        self.reads = read_engine(engine)  # the token lookups run alone, in autocommit
        self.settings = settings or Settings.from_env()
        # Token lookups (None: every request reads its token). The app passes one that hears the other
        # processes' changes through the event bus.
        self.tokens = tokens
        self.persisted = PersistedQueries(self.settings.apq_cache_bytes)
        url = self.settings.rate_limit_url or "memory://"
        self.rates: MemoryRates | RedisRates = RedisRates(url) if url.startswith("redis") else MemoryRates()
        # In this process's memory even with Redis: it guards this process's CPU, and must cost no round trip.
        self.new_documents = MemoryRates()
        self._trusted_flags: dict[int, bool] = {}  # token id: runs only trusted documents
        self._trusted_seen: set[tuple[int, str]] = set()  # (token id, sha256) registered

    async def resolve(self, query: str | None, extensions: dict[str, Any] | None, authorization: str | None) -> Sent:
        """The document the request names: its `query`, or the persisted query its hash names."""
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            if not isinstance(query, str) or not query.strip():
                raise AdmissionRefused(400, "the request has no `query` string", "BAD_REQUEST")
            return Sent(query, document_hash(query))
        if self.settings.apq_cache_bytes == 0:
            raise AdmissionRefused(200, "PersistedQueryNotSupported", "PERSISTED_QUERY_NOT_SUPPORTED")
        if not isinstance(persisted, dict) or persisted.get("version") != 1:
            raise AdmissionRefused(
                400,
                'Unsupported persisted query version: send `{"persistedQuery": {"version": 1, "sha256Hash": …}}`',
                "PERSISTED_QUERY_VERSION_NOT_SUPPORTED",
            )
        sha256 = persisted.get("sha256Hash")
        if not isinstance(sha256, str) or len(sha256) != 64 or not HEX.issuperset(sha256.lower()):
            raise AdmissionRefused(
                400, "`persistedQuery.sha256Hash` must be the 64 hex digits of the query's sha256", "BAD_REQUEST"
            )
        sha256 = sha256.lower()
        if isinstance(query, str) and query.strip():
            if document_hash(query) != sha256:
                raise AdmissionRefused(
                    400,
                    "provided sha does not match query: `sha256Hash` must be the sha256 "
                    "of the query's exact text (UTF-8)",
                    "PERSISTED_QUERY_HASH_MISMATCH",
                )
            return Sent(query, sha256, register=True)
        text = self.persisted.get(sha256)
        if text is not None:
            return Sent(text, sha256)
        # Not in this process's cache: perhaps a trusted document of the caller's token.
        lookup = await self.lookup(authorization, sha256, need_document=True) if authorization else None
        if lookup is not None and lookup.trusted_document is not None:
            return Sent(lookup.trusted_document, sha256, lookup=lookup, looked_up=True)
        raise AdmissionRefused(200, "PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")

    async def admit(
        self,
        sent: Sent,
        authorization: str | None,
        client: str | None,
        anonymous_ok: bool,
        cost: int,
        principal: Principal | None = None,
    ) -> Principal | None:
        """The caller, once its token, the trusted-documents rule and its rate limit admit the
        request; None for an anonymous request that may run (introspection only). `principal` is a
        caller already authenticated for the connection (a WebSocket's `connection_init`): its token
        is not looked up again."""
        if principal is None:
            lookup = sent.lookup if sent.looked_up else await self.lookup(authorization, sent.sha256)
            if lookup is None:
                if not anonymous_ok:
                    raise AdmissionRefused(
                        401,
                        "a valid token is required: send `Authorization: Bearer <token>` "
                        "(create one with `salesgraph create-token`)",
                        "UNAUTHENTICATED",
                        {"WWW-Authenticate": 'Bearer realm="salesgraph"'},
                    )
                # No token, no budget of its own: anonymous introspection shares one per client address.
                await self.limit(
                    f"anonymous:{client or 'unknown'}", cost, self.settings.rate_anonymous_requests_per_minute
                )
                return None
            if (
                lookup.trusted_documents_only
                and lookup.trusted_document is None
                and (lookup.principal.token_id, sent.sha256) not in self._trusted_seen
            ):
                raise AdmissionRefused(
                    403, _not_trusted(sent.sha256, lookup.principal.token_id), "DOCUMENT_NOT_TRUSTED"
                )
            principal = lookup.principal
        elif not (
            sent.lookup is not None
            and sent.lookup.trusted_document is not None
            and sent.lookup.principal.token_id == principal.token_id
        ):
            await self._check_trusted(principal.token_id, sent.sha256)
        await self.limit(f"token:{principal.token_id}", cost)
        if sent.register:
            self.persisted.put(sent.sha256, sent.query)
        return principal

    async def lookup(self, authorization: str | None, sha256: str, need_document: bool = False) -> TokenLookup | None:
        """The token's lookup: from the cache when it holds the token (and, for a token limited to trusted
        documents, the document is known to be registered for it and its text is not needed), else one
        statement, whose answer the cache keeps."""
        token_hash = bearer_hash(authorization)
        if token_hash is None:
            return None
        now = self.clock()
        tokens = self.tokens
        if tokens is not None:
            cached = tokens.get(token_hash, now)
            if cached is not None and (
                not cached.trusted_documents_only
                or (not need_document and (cached.principal.token_id, sha256) in self._trusted_seen)
            ):
                return cached
            generation = tokens.generation  # before the statement: a clearing meanwhile voids its answer
        lookup = await lookup_token(self.reads, authorization, sha256, now)
        if lookup is None:
            return None
        if lookup.trusted_document is not None:
            self._remember_trusted(lookup.principal.token_id, sha256)
        if tokens is not None:
            tokens.put(token_hash, lookup, generation, now)
        return lookup

    def _remember_trusted(self, token_id: int, sha256: str) -> None:
        if len(self._trusted_seen) > 100_000:
            self._trusted_seen.clear()
        self._trusted_seen.add((token_id, sha256))

    async def _check_trusted(self, token_id: int, sha256: str) -> None:
        """The trusted-documents rule for a token looked up earlier (a WebSocket's). A token's flag
        never changes and a registration is never withdrawn, so both are remembered: after its first
        operation, a token that is not limited to trusted documents costs no statement, and a limited
        one one per document it has not run yet."""
        if self._trusted_flags.get(token_id) is False or (token_id, sha256) in self._trusted_seen:
            return
        tokens = tables.api_tokens
        async with self.reads.connect() as conn:
            row = (
                await conn.execute(
                    select(
                        tokens.c.trusted_documents_only, registered_text(tokens.c.id, sha256).label("trusted")
                    ).where(tokens.c.id == token_id)
                )
            ).first()
        if len(self._trusted_seen) > 100_000 or len(self._trusted_flags) > 100_000:
            self._trusted_seen.clear()
            self._trusted_flags.clear()
        if row is None:
            return
        self._trusted_flags[token_id] = bool(row.trusted_documents_only)
        if row.trusted is not None:
            self._trusted_seen.add((token_id, sha256))
        elif row.trusted_documents_only:
            raise AdmissionRefused(403, _not_trusted(sha256, token_id), "DOCUMENT_NOT_TRUSTED")

    async def limit(self, key: str, cost: int, per_minute: int | None = None) -> None:
        """Take one request and `cost` from the key's budget (of `per_minute` requests; default: a
        token's), or refuse with 429 and Retry-After."""
        if per_minute is None:
            per_minute = self.settings.rate_requests_per_minute
        cost_per_minute = self.settings.rate_cost_per_minute
        if not per_minute and not cost_per_minute:
            return
        budget = await self.rates.take(key, self.clock().timestamp(), per_minute, cost_per_minute, cost)
        if budget.admitted:
            return
        wait = max(budget.wait_requests, budget.wait_cost)
        retry = max(1, math.ceil(wait - 1e-9))
        if budget.wait_requests >= budget.wait_cost:
            whose, setting = (
                ("per token", "SALESGRAPH_RATE_REQUESTS_PER_MINUTE")
                if key.startswith("token:")
                else ("per client address without a token", "SALESGRAPH_RATE_ANONYMOUS_REQUESTS_PER_MINUTE")
            )
            message = f"rate limit: at most {per_minute} requests a minute {whose} ({setting}); retry in {retry} s"
        else:
            message = (
                f"rate limit: this query costs {cost} and the token's budget of {cost_per_minute} a minute "
                f"(SALESGRAPH_RATE_COST_PER_MINUTE) has less left; retry in {retry} s, or ask for less"
            )
        raise AdmissionRefused(429, message, "RATE_LIMITED", {"Retry-After": str(retry)})

    async def check_new_document(self, key: str, tokens: int) -> None:
        """Take a document's parser tokens from the key's budget of new documents (ones not in the parse
        cache), or refuse with 429 and Retry-After. `key` names a client address, or a WebSocket's token."""
        per_minute = self.settings.rate_new_document_tokens_per_minute
        if not per_minute:
            return
        budget = await self.new_documents.take(key, self.clock().timestamp(), 0, per_minute, tokens)
        if budget.admitted:
            return
        retry = max(1, math.ceil(budget.wait_cost - 1e-9))
        whose = "token" if key.startswith("token:") else "client address"
        raise AdmissionRefused(
            429,
            f"rate limit: documents the server has not seen are parsed and checked up to {per_minute} parser "
            f"tokens a minute per {whose} (SALESGRAPH_RATE_NEW_DOCUMENT_TOKENS_PER_MINUTE); retry in "
            f"{retry} s, or send documents that were run before (or their persisted query hashes)",
            "RATE_LIMITED",
            {"Retry-After": str(retry)},
        )

    async def close(self) -> None:
        await self.rates.close()


def _not_trusted(sha256: str, token_id: int) -> str:
    return (
        f"this token runs only documents registered for it, and the document with sha256 {sha256} is not one "
        "of them: an admin registers documents with the `registerTrustedDocuments` mutation or "
        f"`salesgraph register-documents --token-id {ids.encode('ApiToken', token_id)} FILE…`, and the client sends their exact text "
        "or their `persistedQuery` hash"
    )
