"""GraphiQL with a sample nested query and an Authorization header ready for a token."""
from __future__ import annotations

import functools
import re

from strawberry.http.ides import get_graphql_ide_html

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


@functools.cache
def graphiql_html() -> str:
    html = get_graphql_ide_html("graphiql")
    sample = SAMPLE_QUERY.replace("`", "\\`")
    html = re.sub(r"const EXAMPLE_QUERY = `.*?`;", lambda _: f"const EXAMPLE_QUERY = `{sample}`;", html, flags=re.S)
    html = html.replace("React.useState(parameters.headers)",
                        'React.useState(parameters.headers || \'{"Authorization": "Bearer <paste your token>"}\')')
    return html.replace("<title>Strawberry GraphiQL</title>", "<title>Salesgraph GraphiQL</title>")
