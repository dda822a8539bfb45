"""The sales graph's entities, value objects, rules and errors. Imports no framework."""
