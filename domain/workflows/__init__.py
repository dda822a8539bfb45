"""Use cases: each an `async def` taking a command and a unit of work, committing once."""
