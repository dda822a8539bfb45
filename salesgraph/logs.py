"""Logging for the server processes: no line carries a token.

A token can reach a log line through a URL (`/graphql?headers=…Bearer sg_…`, `?token=…`), through an
`Authorization` header quoted in a message, or through an exception's text. Every handler of a server
process filters its records through `Redact`, which rewrites them before any formatter sees them."""

from __future__ import annotations

import logging
import os
import re
from datetime import UTC, datetime
from typing import Any

import orjson

from domain.tokens import TOKEN_PREFIX

REDACTED = "[redacted]"
_SPACE = r"(?:\s|\+|%20)"
_VALUE = r"[^\s\"'&,;}%]+"
SECRETS = (
    # Our tokens wherever they appear: a path, a query string, URL-encoded JSON, a message.
    (re.compile(rf"{re.escape(TOKEN_PREFIX)}[A-Za-z0-9_\-]+"), REDACTED),
    # Anyone's: what follows `Bearer`, an `Authorization` key (`key: value`, `key=value`, `"key": "value"`,
    # also URL-encoded) and a `token` query parameter.
    (re.compile(rf"(?i)(bearer{_SPACE}+){_VALUE}"), rf"\1{REDACTED}"),
    (
        re.compile(
            rf"(?i)(authorization(?:\"|%22)?{_SPACE}*(?::|=|%3A|%3D){_SPACE}*(?:\"|%22)?)(?:[A-Za-z]+{_SPACE}+)?{_VALUE}"
        ),
        rf"\1{REDACTED}",
    ),
    (re.compile(r"(?i)([?&#;](?:access_)?token=)[^&\s\"']+"), rf"\1{REDACTED}"),
)


# Each pattern above needs one of these (the token prefix as it is, the others in any case): a text without
# any of them, such as nearly every access log line, is returned without running the patterns.
_CLUES = ("bearer", "authorization", "token=")


def redact(text: str) -> str:
    if TOKEN_PREFIX not in text:
        lowered = text.lower()
        if not any(clue in lowered for clue in _CLUES):
            return text
    for pattern, replacement in SECRETS:
        text = pattern.sub(replacement, text)
    return text


class Redact(logging.Filter):
    """Rewrites a record's message, arguments and exception text without its secrets. Plain arguments
    stay arguments (uvicorn's access formatter reads them one by one); anything else is formatted first,
    since its text is what would be written."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and all(isinstance(a, (str, int, float)) or a is None for a in args):
            record.msg = redact(str(record.msg))
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in args)
        else:
            record.msg, record.args = redact(record.getMessage()), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per line (SALESGRAPH_LOG_FORMAT=json): time, level, logger, message, the record's
    `fields` (an operation's figures, gql/observe.py) at the top level, and the exception's text."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update({k: redact(v) if isinstance(v, str) else v for k, v in fields.items() if v is not None})
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(self.formatException(record.exc_info))
        if record.exc_text:
            line["exception"] = record.exc_text
        return orjson.dumps(line, default=str).decode()


def json_logs() -> bool:
    """SALESGRAPH_LOG_FORMAT=json: every line of a server process as JSON; anything else: readable text."""
    return os.environ.get("SALESGRAPH_LOG_FORMAT", "text").strip().lower() == "json"


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration (it applies it in every worker process) with `Redact` on every
    handler, and the root logger (ours) written to stderr the same way."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = {
        **LOGGING_CONFIG,
        "filters": {"redact": {"()": "salesgraph.logs.Redact"}},
        "formatters": {**LOGGING_CONFIG["formatters"], "plain": {"format": FORMAT}},
    }
    if json_logs():
        config["formatters"] = {name: {"()": "salesgraph.logs.JsonFormatter"} for name in config["formatters"]}
    # Every log line on stderr (uvicorn writes its access log to stdout): stdout is what a command prints for
    # its user (the demo's URLs and tokens), stderr the logs, so the two can be sent to different places.
    config["handlers"] = {
        **{
            name: {**handler, "stream": "ext://sys.stderr", "filters": ["redact"]}
            for name, handler in LOGGING_CONFIG["handlers"].items()
        },
        "plain": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "stream": "ext://sys.stderr",
            "filters": ["redact"],
        },
    }
    config["root"] = {"handlers": ["plain"], "level": "INFO"}
    return config


def configure() -> None:
    """The command line's own logging (before uvicorn starts, and for the other commands)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if json_logs() else logging.Formatter(FORMAT))
    handler.addFilter(Redact())
    logging.basicConfig(level=logging.INFO, handlers=[handler])
