"""The `salesgraph` command: serve, migrate, seed, export-schema, create-token."""
