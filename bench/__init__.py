"""Benchmark of the mock server: throughput and latency per scenario, each compared with a
bare aiohttp server replaying the same bytes from memory (the ceiling on this stack), plus
startup time and peak memory."""
