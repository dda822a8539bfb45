"""The read queries the benchmarks send (Salesgraph's documents; bench/compare_peers.py has each
peer's equivalent). A module of its own with no imports, so the raw asyncpg yardstick
(bench/raw_server.py) can answer the same texts without loading the application."""

from __future__ import annotations

# First 50 accounts → all their opportunities → quotes → items with product (~750 KiB of JSON at
# the default seed size).
NESTED = """query Nested {
  accounts(first: 50, orderBy: {field: CREATED_AT}) {
    nodes {
      id name
      opportunities(first: 100) {
        nodes {
          id name stage
          estimatedRevenue { amount currency }
          quotes {
            id name isActive
            items { id name quantity discountPercent unitPrice { amount currency } total { amount currency }
                    product { id code name } }
          }
        }
      }
    }
  }
}"""

# One account by id and its first 10 opportunities: the size of most requests an SPA sends.
SMALL = """query Small($id: ID!) {
  node(id: $id) { ... on Account { id name country opportunities(first: 10) { nodes { id name stage
    estimatedRevenue { amount currency } } } } }
}"""

FIRST_ACCOUNT = "{ accounts(first: 1, filter: {hasOpportunities: true}) { nodes { id } } }"
