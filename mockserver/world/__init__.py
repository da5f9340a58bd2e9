"""The world both facades serve, the ground floor: the fixture's data model, the neutral model,
the generator and invoice bodies it makes its invoices with, its indexes and orderings, the
query engine, and the ordered log of changes that makes it live (the fixture's world + every
accepted change). It imports nothing from the floors above."""
