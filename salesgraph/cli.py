from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from sqlalchemy import func, insert, select
from sqlalchemy.exc import DBAPIError

from domain.enums import Role
from persistence import tables
from persistence.db import create_engine, database_url
from persistence.migrate import upgrade
from salesgraph import logs

DEMO_ADMIN_EMAIL = "admin@salesgraph.example"
DEMO_PARTNER_EMAIL = "portal@nordicpartners.example"


def _fail(message: str, status: int = 2) -> None:
    print(f"salesgraph: {message}", file=sys.stderr)
    raise SystemExit(status)


NOT_READY = 1  # the exit status when the database is missing, unreachable or not migrated


def _require_migrated(url: str) -> None:
    """Refuse, in one line, a database that is missing or behind the migrations, before anything
    connects to it: connecting to a SQLite path that does not exist would create an empty file."""
    from sqlalchemy.engine import make_url

    from persistence.migrate import check_current

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        if not os.path.exists(parsed.database):
            _fail(f"the SQLite file {parsed.database} does not exist: `salesgraph migrate` creates it", NOT_READY)

    async def check() -> None:
        engine = create_engine(url)
        try:
            await check_current(engine)
        finally:
            await engine.dispose()

    try:
        asyncio.run(check())
    except RuntimeError as error:
        _fail(str(error), NOT_READY)
    except (OSError, DBAPIError) as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        _fail(f"cannot reach the database {_safe(url)}: {reason}", NOT_READY)


def cmd_migrate(args: argparse.Namespace) -> None:
    upgrade(database_url())
    print(f"migrated {_safe(database_url())} to the latest revision", file=sys.stderr)


def cmd_seed(args: argparse.Namespace) -> None:
    from persistence.seed import parse_size, seed

    try:
        size = parse_size(args.size)
    except ValueError as error:
        _fail(str(error))
    if args.conversations is not None and args.conversations < 0:
        _fail(f"--conversations {args.conversations}: give a number of conversations, 0 or more")

    async def run() -> None:
        engine = create_engine()
        try:
            summary = await seed(engine, size, progress=not args.quiet, conversations=args.conversations)
        finally:
            await engine.dispose()
        print(
            json.dumps(summary.counts if hasattr(summary, "counts") else summary.__dict__, default=str), file=sys.stderr
        )

    upgrade(database_url())
    asyncio.run(run())


def cmd_check_aggregates(args: argparse.Namespace) -> None:
    """Compare the scoreboard's buckets with a full recomputation from the deal table, and the conversation
    insights' buckets with one from the conversations; exit 1 on any difference (each printed on stdout),
    0 when they agree."""
    from persistence import aggregates, conversation_aggregates

    url = database_url()
    _require_migrated(url)

    def say(text: str) -> None:
        if not args.quiet:
            print(text, file=sys.stderr, flush=True)

    async def run() -> tuple[list[aggregates.Difference], list[conversation_aggregates.Difference]]:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                # One snapshot for both sides, so writes meanwhile cannot look like differences.
                if conn.dialect.name == "postgresql":
                    await conn.execution_options(isolation_level="REPEATABLE READ")
                    await conn.begin()
                else:
                    await conn.exec_driver_sql("BEGIN")
                try:
                    return (
                        await conn.run_sync(aggregates.differences, say),
                        await conn.run_sync(conversation_aggregates.differences, say),
                    )
                finally:
                    await conn.rollback()
        finally:
            await engine.dispose()

    found, talks = asyncio.run(run())
    for difference in found:
        key = difference.key
        table = {aggregates.Key: "scoreboard", aggregates.ReportKey: "report"}.get(type(key), "activity")
        when = key.starts_on if key.grain != aggregates.ALL else "all time"
        if table == "scoreboard":
            where = (
                f"{key.slice} {key.grain} {when} {key.kind} "
                f"owner={key.owner_id} currency={key.currency or '-'} manager={key.manager_id} "
                f"partner={key.partner_id} account_partner={key.account_partner_id} private={key.is_private} "
                f"creator={key.creator_id}"
            )
        else:
            where = f"{table} {key.grain} {when} " + " ".join(
                f"{name}={value}" for name, value in key._asdict().items() if name not in ("grain", "starts_on")
            )
        print(
            f"{where}: deal table {_figures(table, difference.expected)}, buckets {_figures(table, difference.found)}"
        )
    for talk in talks:
        print(conversation_aggregates.describe(talk))
    if found or talks:
        _fail(
            f"{len(found):,} scoreboard, report and activity buckets differ from the deal and activity tables, "
            f"{len(talks):,} conversation buckets from the conversations; `salesgraph rebuild-aggregates` rebuilds "
            "them",
            1,
        )
    print("the scoreboard, report and activity aggregates equal a full recomputation", file=sys.stderr)
    print("the conversation aggregates equal a full recomputation from the conversations", file=sys.stderr)


def _figures(table: str, figures: tuple[int, ...]) -> str:
    from persistence.aggregates import from_e4

    if table == "activity":
        activities, minutes = figures
        return f"{activities} activities, {minutes} minutes"
    if table == "scoreboard":  # credited deals in hundredths, amounts in millionths (shared deals)
        share, amount = figures
        return f"{Decimal(share).scaleb(-2)} deals credited, {Decimal(amount).scaleb(-6)}"
    deals, amount, *weighted = figures
    extra = f" (weighted {from_e4(weighted[0]).scaleb(-2)})" if weighted else ""
    return f"{deals} deals, {from_e4(amount)}{extra}"


def cmd_rebuild_aggregates(args: argparse.Namespace) -> None:
    from persistence import aggregates, conversation_aggregates

    url = database_url()
    _require_migrated(url)

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    async def run() -> tuple[int, int]:
        engine = create_engine(url)
        try:
            async with engine.begin() as conn:
                if conn.dialect.name == "postgresql":  # writers wait for the rebuild instead of racing it
                    for table in (
                        tables.scoreboard_buckets,
                        tables.report_buckets,
                        tables.activity_buckets,
                        tables.conversation_buckets,
                        tables.conversation_bucket_items,
                    ):
                        await conn.exec_driver_sql(f"LOCK TABLE {table.name} IN EXCLUSIVE MODE")
                return (
                    await conn.run_sync(aggregates.rebuild, say),
                    await conn.run_sync(conversation_aggregates.rebuild, say),
                )
        finally:
            await engine.dispose()

    built, talks = asyncio.run(run())
    print(f"rebuilt the scoreboard, report and activity aggregates: {built:,} buckets", file=sys.stderr)
    print(f"rebuilt the conversation aggregates: {talks:,} buckets", file=sys.stderr)


def possible_types() -> dict[str, list[str]]:
    """Every union and interface of the schema with its object types: Apollo Client's `possibleTypes`."""
    from graphql import GraphQLInterfaceType, GraphQLUnionType

    from gql.schema.schema import schema

    graphql_schema = schema._schema
    return {
        name: sorted(member.name for member in graphql_schema.get_possible_types(abstract))
        for name, abstract in sorted(graphql_schema.type_map.items())
        if isinstance(abstract, (GraphQLInterfaceType, GraphQLUnionType)) and not name.startswith("__")
    }


def cmd_possible_types(args: argparse.Namespace) -> None:
    sys.stdout.write(json.dumps(possible_types(), indent=2) + "\n")


def cmd_export_schema(args: argparse.Namespace) -> None:
    from gql.schema.schema import schema

    sys.stdout.write(schema.as_str() + "\n")


async def _create_token(
    email: str, scopes: list[str], expires_in: int | None, name: str, trusted_documents_only: bool = False
) -> str:
    from gql.auth import issue_token

    engine = create_engine()
    try:
        async with engine.connect() as conn:
            user = (
                await conn.execute(select(tables.users.c.id, tables.users.c.role).where(tables.users.c.email == email))
            ).first()
            user_id, partner_id = (user.id, None) if user is not None else (None, None)
            if user_id is None:
                partner_id = (
                    await conn.execute(select(tables.partners.c.id).where(tables.partners.c.email == email))
                ).scalar()
        if user_id is None and partner_id is None:
            _fail(f"no user or partner has the e-mail {email!r}")
        # The same rule as createApiToken: known scopes, within the owner's role (domain/scopes.py).
        from domain.enums import Role
        from domain.errors import DomainError
        from domain.scopes import grantable

        try:
            scopes = grantable(scopes, Role(user.role) if user is not None else None, partner_id is not None)
        except DomainError as error:
            _fail(f"--scopes {error.message}")
        return await issue_token(
            engine,
            name=name,
            user_id=user_id,
            partner_id=partner_id,
            scopes=scopes,
            expires_in_days=expires_in,
            trusted_documents_only=trusted_documents_only,
        )
    finally:
        await engine.dispose()


def cmd_create_token(args: argparse.Namespace) -> None:
    if args.expires_in is not None and args.expires_in <= 0:
        _fail("--expires-in takes a positive number of days")
    _require_migrated(database_url())
    print(
        asyncio.run(
            _create_token(args.email, args.scopes or [], args.expires_in, args.name, args.trusted_documents_only)
        )
    )


async def _create_user(email: str, name: str, role: str, expires_in: int | None) -> str:
    """A new user and its first token (every scope its role allows), in one transaction; returns the token."""
    from gql.auth import store_token
    from persistence.rows import to_row

    user = _new_user(email, name, role)
    engine = create_engine()
    try:
        async with engine.begin() as conn:
            taken = (
                await conn.execute(
                    select(tables.users.c.email).where(func.lower(tables.users.c.email) == user.email.lower())
                )
            ).scalar()
            if taken is not None:
                _fail(
                    f"a user with the e-mail {taken!r} exists: `salesgraph create-token --email {taken}` "
                    "makes a token for it"
                )
            user_id = (
                await conn.execute(insert(tables.users).values(**to_row(user)).returning(tables.users.c.id))
            ).scalar_one()
            return await store_token(
                conn, name="created with salesgraph create-user", user_id=user_id, expires_in_days=expires_in
            )
    finally:
        await engine.dispose()


def _new_user(email: str, name: str, role: str) -> Any:
    """The user the command would store, checked by the domain's rules (the e-mail, a name)."""
    from domain.errors import DomainError
    from domain.people import User

    try:
        return User(name=name, email=email, role=Role(role))
    except DomainError as error:
        _fail(error.message)


def cmd_create_user(args: argparse.Namespace) -> None:
    if args.expires_in is not None and args.expires_in <= 0:
        _fail("--expires-in takes a positive number of days")
    _new_user(args.email, args.name, args.role)  # bad input is refused before the database is looked at
    _require_migrated(database_url())
    print(asyncio.run(_create_user(args.email, args.name, args.role, args.expires_in)))


async def _register_documents(token: str, documents: list[tuple[str, str]]) -> list[str]:
    import persistence.trusted  # noqa: F401 - maps TrustedDocument for the unit of work
    from domain.errors import DomainError, ValidationError
    from domain.uow import Actor
    from domain.workflows.tokens import RegisterDocuments, register_trusted_documents
    from gql import ids
    from gql.admission import check_trusted_document
    from gql.schema.schema import schema
    from persistence.uow import SqlUnitOfWork

    try:
        token_id = int(token) if token.isdigit() else ids.decode_as(token, "ApiToken")
    except Exception:  # noqa: BLE001 - a GraphQLError for a bad global id
        _fail(f"--token-id {token!r} is neither a number nor an ApiToken id")
    engine = create_engine()
    try:
        for name, text in documents:
            try:
                check_trusted_document(schema._schema, text, name)
            except ValidationError as error:
                _fail(f"{name}: {error.message}")
        # The command line has the database's keys: it acts as an administrator.
        async with SqlUnitOfWork(engine, Actor(role=Role.ADMIN)) as uow:
            try:
                registered = await register_trusted_documents(
                    RegisterDocuments(token_id=token_id, documents=[text for _, text in documents]), uow
                )
            except DomainError as error:
                _fail(error.message)
        return registered.hashes
    finally:
        await engine.dispose()


def cmd_register_documents(args: argparse.Namespace) -> None:
    documents = []
    for path in args.files:
        try:
            with open(path, encoding="utf-8") as file:
                documents.append((path, file.read()))
        except OSError as error:
            _fail(f"{path}: {error.strerror}")
    _require_migrated(database_url())
    for (path, _), sha256 in zip(documents, asyncio.run(_register_documents(args.token_id, documents))):
        print(f"{sha256}  {path}")


async def _prepare_demo(size: str) -> tuple[str, str]:
    from persistence.seed import parse_size, seed

    engine = create_engine()
    try:
        async with engine.connect() as conn:
            empty = (await conn.execute(select(func.count()).select_from(tables.accounts))).scalar_one() == 0
        if empty:
            print(f"seeding demo data ({size}) …", file=sys.stderr)
            await seed(engine, parse_size(size), progress=True)
    finally:
        await engine.dispose()
    admin = await _create_token(DEMO_ADMIN_EMAIL, [], 30, "demo admin (serve --demo)")
    partner = await _create_token(DEMO_PARTNER_EMAIL, [], 30, "demo partner (serve --demo)")
    return admin, partner


def _grace_seconds() -> float:
    value = os.environ.get("SALESGRAPH_GRACE_SECONDS", "20")
    try:
        return float(value)
    except ValueError:
        _fail(f"SALESGRAPH_GRACE_SECONDS={value!r} is not a number")
        raise


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    if args.demo:
        upgrade(database_url())
        admin, partner = asyncio.run(_prepare_demo(args.size))
        shown_host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
        url = f"http://{shown_host}:{args.port}/graphql"
        # After `#`: a browser keeps the fragment to itself, so the token never reaches an access log.
        headers = quote(json.dumps({"Authorization": f"Bearer {admin}"}), safe="")
        print(
            "\nSalesgraph is starting with demo data\n"
            f"  database:       {_safe(database_url())}\n"
            f"  GraphiQL:       {url}\n"
            f"  admin token:    {admin}\n"
            f"  partner token:  {partner}\n"
            f"  GraphiQL signed in as the admin: {url}#headers={headers}\n"
            f"  live dashboard: http://{shown_host}:{args.port}/dashboard#token={admin}\n"
            "  (tokens expire in 30 days; paste one into GraphiQL's Headers tab as "
            '{"Authorization": "Bearer <token>"})\n',
            flush=True,
        )
    else:
        _require_migrated(database_url())
    if args.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each worker writes its metrics to files here; the one answering /metrics adds them up.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="salesgraph-metrics-")
    if args.workers > 1 and not os.environ.get("BROADCAST_URL", "memory://").startswith(("redis://", "rediss://")):
        # The workers could not tell each other of a revoked token: each reads every token instead.
        os.environ["SALESGRAPH_TOKEN_CACHE_SECONDS"] = "0"
    uvicorn.run(
        "gql.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="info",
        log_config=logs.log_config(),
        proxy_headers=True,
        # Compression would keep a deflate state of ~50 KiB per WebSocket and cost a third of
        # the CPU of a fan-out, for pushes of a few KiB (see docs/decisions.md).
        ws_per_message_deflate=False,
        # After SIGTERM (and SALESGRAPH_DRAIN_SECONDS of draining): the time requests under way get to finish.
        timeout_graceful_shutdown=_grace_seconds(),
    )


def cmd_dispatch(args: argparse.Namespace) -> None:
    """Publish the outbox on its own (for deployments that run `serve` with SALESGRAPH_DISPATCH=off)."""
    from gql.app import broadcast_url
    from persistence.bus import EventBus
    from persistence.migrate import check_current
    from persistence.outbox import OutboxDispatcher

    _require_migrated(database_url())

    async def run() -> None:
        engine = create_engine()
        await check_current(engine)
        bus = EventBus(broadcast_url())
        if not bus.shared:
            raise SystemExit("salesgraph dispatch publishes for other processes: set BROADCAST_URL=redis://…")
        try:
            from gql import tracing

            tracing.configure(engine)  # publications are spans when the OTEL_* variables ask for traces
            dispatcher = OutboxDispatcher(engine, bus, poll_seconds=args.poll, tracer=tracing.tracer())
            print(f"publishing the outbox of {_safe(database_url())} to {broadcast_url()}", flush=True)
            await dispatcher.run()
        finally:
            await bus.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main(argv: list[str] | None = None) -> None:
    logs.configure()
    parser = argparse.ArgumentParser(
        prog="salesgraph",
        description="A realtime GraphQL API for a B2B sales graph. "
        "DATABASE_URL selects the database (default: a SQLite file here).",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the API with uvicorn")
    serve.add_argument("--demo", action="store_true", help="migrate, seed demo data when empty, print tokens")
    serve.add_argument("--size", default="small", help="demo data size when seeding (small, medium, large or N)")
    serve.add_argument(
        "--host",
        default=os.environ.get("HOST", "127.0.0.1"),
        help="the address to listen on (default: $HOST or 127.0.0.1; 0.0.0.0 for every interface)",
    )
    serve.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("PORT", "8000")),
        help="the TCP port to listen on (default: $PORT or 8000)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes sharing the port (default: 1; with more, set BROADCAST_URL=redis://… so "
        "subscriptions see every process's events)",
    )
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help="apply the database migrations").set_defaults(func=cmd_migrate)

    seed = sub.add_parser("seed", help="fill an empty database with deterministic demo data")
    seed.add_argument("--size", default="small", help="small, medium, large or a number of opportunities")
    seed.add_argument("--quiet", action="store_true", help="no progress bar")
    seed.add_argument(
        "--conversations",
        type=int,
        default=None,
        help="recorded conversations to make (default: 1.5 per opportunity, at most 20,000)",
    )
    seed.set_defaults(func=cmd_seed)

    check = sub.add_parser(
        "check-aggregates",
        help="compare the scoreboard's aggregates with a full recomputation from the deal table, and the "
        "conversation insights' with one from the conversations; print each difference, exit 1 on any",
    )
    check.add_argument("--quiet", action="store_true", help="no progress lines")
    check.set_defaults(func=cmd_check_aggregates)
    sub.add_parser(
        "rebuild-aggregates",
        help="rebuild the scoreboard's aggregates from the deal table and the conversation insights' from the "
        "conversations",
    ).set_defaults(func=cmd_rebuild_aggregates)

    sub.add_parser("export-schema", help="print the GraphQL SDL").set_defaults(func=cmd_export_schema)
    sub.add_parser(
        "possible-types",
        help="print every union and interface with its types as JSON (Apollo Client's `possibleTypes`)",
    ).set_defaults(func=cmd_possible_types)

    token = sub.add_parser("create-token", help="create an API token and print it (alone) on stdout")
    token.add_argument("--email", required=True, help="the e-mail of the user or partner that owns the token")
    token.add_argument(
        "--scopes",
        nargs="*",
        help="scopes of the token, e.g. accounts:read leads:ingest (default: "
        "everything the owner's role allows); README: Scopes",
    )
    token.add_argument("--expires-in", type=int, default=None, metavar="DAYS", help="expire after DAYS days")
    token.add_argument("--name", default="created with salesgraph create-token", help="a name to recognise it by")
    token.add_argument(
        "--trusted-documents-only",
        action="store_true",
        help="let it run only the documents registered for it (salesgraph register-documents)",
    )
    token.set_defaults(func=cmd_create_token)

    user = sub.add_parser(
        "create-user",
        help="create a user (a deployment's first admin) and print a token for it (alone) on stdout, once",
    )
    user.add_argument("--email", required=True, help="the user's e-mail (unique; what create-token looks users up by)")
    user.add_argument("--name", required=True, help="the user's name as the API shows it")
    user.add_argument(
        "--role",
        default="ADMIN",
        choices=[role.value for role in Role],
        help="the user's role (default: ADMIN); the token gets every scope the role allows",
    )
    user.add_argument("--expires-in", type=int, default=None, metavar="DAYS", help="the token expires after DAYS days")
    user.set_defaults(func=cmd_create_user)

    documents = sub.add_parser(
        "register-documents",
        help="register the documents in FILEs (each file's exact text) as trusted for a token; prints each sha256",
    )
    documents.add_argument("--token-id", required=True, help="the token: its number or its ApiToken id")
    documents.add_argument("files", nargs="+", metavar="FILE", help="a GraphQL document, as the client sends it")
    documents.set_defaults(func=cmd_register_documents)

    dispatch = sub.add_parser(
        "dispatch",
        help="publish committed events from the outbox to BROADCAST_URL (when serve runs with SALESGRAPH_DISPATCH=off)",
    )
    dispatch.add_argument("--poll", type=float, default=0.5, help="seconds between looks at the outbox")
    dispatch.set_defaults(func=cmd_dispatch)

    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
