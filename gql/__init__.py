"""The GraphQL face of the sales graph: schema, resolvers, loaders, HTTP and WebSocket."""
