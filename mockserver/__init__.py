"""A deterministic local mock of billing providers' invoice APIs."""

__version__ = "0.1.0"
