"""The world both facades serve: the neutral model, its indexes and orderings, the query engine,
and the ordered log of changes that makes it live (the fixture's world + every accepted change)."""
