"""No log line carries a token, however the line spells it; a line with nothing like one is kept as it is."""

from __future__ import annotations

import pytest

from salesgraph.logs import REDACTED, redact

SECRET = "s3cr3t-value"


@pytest.mark.parametrize(
    "line",
    [
        f'127.0.0.1 - "GET /graphql?headers=%7B%22Authorization%22%3A%22BEARER%20{SECRET}%22%7D HTTP/1.1" 200',
        f"retrying with AUTHORIZATION: Basic {SECRET}",
        f'"GET /dashboard?Token={SECRET} HTTP/1.1" 200',
        f"token sg_{SECRET} refused",
        f"header bEaReR {SECRET}",
    ],
)
def test_a_secret_is_redacted_in_any_spelling(line):
    redacted = redact(line)
    assert SECRET not in redacted and REDACTED in redacted


def test_a_line_without_anything_like_a_token_is_kept_as_it_is():
    line = '127.0.0.1:51234 - "POST /graphql HTTP/1.1" 200'
    assert redact(line) == line
