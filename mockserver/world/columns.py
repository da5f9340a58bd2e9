"""The invoices as columns: one compact array per field, which filters, orderings and the
billing clock read and changes write; and the small codes their status, kind and payment status
are stored as."""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

from mockserver.world.spec import KINDS, PAYMENT_STATUSES, STATUSES

STATUS_CODE = {name: code for code, name in enumerate(STATUSES)}
KIND_CODE = {name: code for code, name in enumerate(KINDS)}
PAYMENT_CODE = {name: code for code, name in enumerate(PAYMENT_STATUSES)}


@dataclass
class InvoiceColumns:
    """Everything filters and orderings need, one compact array per field."""

    ids: list[str] = field(default_factory=list)
    customer: array = field(default_factory=lambda: array("l"))
    contract: array = field(default_factory=lambda: array("l"))
    seq: array = field(default_factory=lambda: array("l"))
    status: array = field(default_factory=lambda: array("b"))
    kind: array = field(default_factory=lambda: array("b"))
    currency: array = field(default_factory=lambda: array("h"))
    period_start: array = field(default_factory=lambda: array("q"))
    period_end: array = field(default_factory=lambda: array("q"))
    issued_at: array = field(default_factory=lambda: array("q"))
    created_at: array = field(default_factory=lambda: array("q"))
    subtotal: array = field(default_factory=lambda: array("q"))
    tax: array = field(default_factory=lambda: array("q"))
    credits: array = field(default_factory=lambda: array("q"))
    coupons: array = field(default_factory=lambda: array("q"))
    paid: array = field(default_factory=lambda: array("q"))
    payment_status: array = field(default_factory=lambda: array("b"))
    tax_exempt: array = field(default_factory=lambda: array("b"))
    # What the billing lifecycle needs to price a period again as time moves: the whole
    # period's subtotal, the coupon's percentage (0: none; -1: amounts fixed by the fixture)
    # and the credit grant drawn (0: none).
    planned: array = field(default_factory=lambda: array("q"))
    coupon_pct: array = field(default_factory=lambda: array("b"))
    credit_grant: array = field(default_factory=lambda: array("q"))

    def __len__(self) -> int:
        return len(self.ids)

    def copy(self) -> InvoiceColumns:
        """An independent copy: the live world writes to it and keeps the original for reset."""
        return InvoiceColumns(
            **{
                name: list(value) if name == "ids" else array(value.typecode, value)
                for name, value in self.__dict__.items()
            }
        )

    def total(self, i: int) -> int:
        return self.subtotal[i] + self.tax[i] - self.credits[i] - self.coupons[i]
