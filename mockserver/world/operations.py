"""The emulated APIs' operations, by API: each operationId and its method, in the order each
facade's router tries them.

Fault rules name operations and are read with the fixture, at the ground floor, so the names
live here rather than in the facades above; each facade's OpenAPI document describes the same
operations in full, and a test keeps the two in agreement.
"""

from __future__ import annotations

OPERATIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "metronome": (
        ("listInvoices", "GET"),
        ("listCustomers", "GET"),
        ("getCustomer", "GET"),
        ("invoiceBreakdowns", "GET"),
        ("getInvoice", "GET"),
        ("ingest", "POST"),
        ("previewEvents", "POST"),
        ("voidInvoice", "POST"),
        ("regenerateInvoice", "POST"),
        ("createCustomer", "POST"),
        ("archiveCustomer", "POST"),
        ("setIngestAliases", "POST"),
    ),
    "meteroid": (
        ("listInvoices", "GET"),
        ("getInvoice", "GET"),
        ("listCustomers", "GET"),
        ("getCustomer", "GET"),
        ("ingestEvents", "POST"),
        ("createCustomer", "POST"),
        ("replaceCustomer", "PUT"),
        ("patchCustomer", "PATCH"),
        ("archiveCustomer", "DELETE"),
        ("unarchiveCustomer", "POST"),
    ),
}
