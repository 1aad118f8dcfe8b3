"""Pure domain: entities, value objects and rules. Imports no framework and does no I/O."""
