"""Testing with mockserver: a server process on a free port (`server`) and a pytest plugin
(`plugin`, registered through the `pytest11` entry point) built on it."""
