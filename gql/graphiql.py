"""GraphiQL, served with its assets from this package (no CDN), with a sample nested query and an
Authorization header ready for a token."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from strawberry.http.ides import get_graphql_ide_html

ASSETS = Path(__file__).parent / "static" / "graphiql"
ASSETS_URL = "/graphiql/assets"
CDN_FILES = {
    "https://unpkg.com/react@18.2.0/umd/react.production.min.js": "react.production.min.js",
    "https://unpkg.com/react-dom@18.2.0/umd/react-dom.production.min.js": "react-dom.production.min.js",
    "https://unpkg.com/graphiql@3.8.3/graphiql.min.css": "graphiql.min.css",
    "https://unpkg.com/graphiql@3.8.3/graphiql.min.js": "graphiql.min.js",
    "https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/style.css": "plugin-explorer.css",
    "https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/index.umd.js": "plugin-explorer.umd.js",
}

SAMPLE_QUERY = """# Salesgraph: paste your token into the Headers tab below, then run (Ctrl-Enter).
# Every type and field is described in the Docs panel.
query Pipeline {
  accounts(first: 5, filter: {hasOpportunities: true}) {
    totalCount
    nodes {
      name
      country
      opportunities(first: 3, filter: {status: OPEN}) {
        nodes {
          name
          stage
          estimatedRevenue { amount currency }
          activeQuote {
            name
            total { amount currency }
            items { name quantity product { code } }
          }
        }
      }
    }
  }
}
"""


# Headers (a token) come after `#`: a browser never sends the fragment, so a signed-in link never
# reaches a server's access log; the page takes them out of the address bar once read, as /dashboard does.
HEADERS_FROM_FRAGMENT = """
      const fragment = new URLSearchParams(window.location.hash.slice(1));
      if (window.location.hash) {
        history.replaceState(null, null, window.location.pathname + window.location.search);
      }
"""
EDITS = (
    ("const parameters = {};\n", "const parameters = {};\n" + HEADERS_FROM_FRAGMENT),
    ('window.location.href.split("?")[0]', "window.location.href.split(/[?#]/)[0]"),
    (
        "React.useState(parameters.headers)",
        'React.useState(fragment.get("headers") || \'{"Authorization": "Bearer <paste your token>"}\')',
    ),
    ("<title>Strawberry GraphiQL</title>", "<title>Salesgraph GraphiQL</title>"),
)


@functools.cache
def graphiql_html() -> str:
    html = get_graphql_ide_html("graphiql")
    for url, name in CDN_FILES.items():
        if url not in html:
            raise RuntimeError(f"Strawberry's GraphiQL page no longer loads {url}: update gql/static/graphiql")
        html = html.replace(url, f"{ASSETS_URL}/{name}")
    html = re.sub(r'<script[^>]*\s+src="https://unpkg\.com/js-cookie[^"]*"[^>]*></script>', "", html, flags=re.S)
    html = html.replace('Cookies.get("csrftoken")', "null")
    if "https://" in re.sub(r"https://[^\"'\s]*w3\.org[^\"'\s]*", "", html):
        raise RuntimeError("the GraphiQL page still refers to an external resource")
    sample = SAMPLE_QUERY.replace("`", "\\`")
    html = re.sub(r"const EXAMPLE_QUERY = `.*?`;", lambda _: f"const EXAMPLE_QUERY = `{sample}`;", html, flags=re.S)
    for old, new in EDITS:
        if old not in html:
            raise RuntimeError(f"Strawberry's GraphiQL page changed: {old!r} is gone; update gql/graphiql.py")
        html = html.replace(old, new)
    return html
