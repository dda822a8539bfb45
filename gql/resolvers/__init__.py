"""Per-request loaders and the resolvers that use them."""
