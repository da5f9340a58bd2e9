"""From a fixture file to a generated world: validation, the seeded generator, invoice bodies."""
