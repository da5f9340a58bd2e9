"""Binding the port: one server per address, whatever the number of workers either uses."""

from __future__ import annotations

import socket
import sys

import pytest

from mockserver.shell.ports import Listener, PortError, listen

LINUX = sys.platform.startswith("linux")
IN_USE = r"port {} on 127\.0\.0\.1 is already in use; stop the other server or pick another port"


def close(listener: Listener) -> None:
    for sock in (listener.sock, listener.lock):
        if sock is not None:
            sock.close()


@pytest.mark.parametrize(("first", "second"), [(2, 2), (1, 2), (2, 1), (1, 1)])
def test_a_second_listener_on_a_served_port_is_refused(first: int, second: int) -> None:
    served = listen("127.0.0.1", 0, first)
    port = served.sock.getsockname()[1]
    try:
        with pytest.raises(PortError, match=IN_USE.format(port)):
            listen("127.0.0.1", port, second)
    finally:
        close(served)


def test_a_port_held_by_another_program_is_refused() -> None:
    with socket.create_server(("127.0.0.1", 0)) as other:
        port = other.getsockname()[1]
        for workers in (1, 2):
            with pytest.raises(PortError, match=IN_USE.format(port)):
                listen("127.0.0.1", port, workers)


@pytest.mark.skipif(not LINUX, reason="workers share one socket elsewhere")
def test_workers_may_join_their_own_server_only() -> None:
    """A worker binds a socket of its own to the address (SO_REUSEPORT) as the kernel allows;
    a second server is kept out even between its check and its bind, by the address's lock."""
    served = listen("127.0.0.1", 0, 2)
    address = served.sock.getsockname()
    worker = socket.create_server(address, reuse_port=True)
    worker.close()
    served.sock.close()  # the port is free again, but the first server still holds its lock
    try:
        with pytest.raises(PortError, match=IN_USE.format(address[1])):
            listen("127.0.0.1", address[1], 2)
    finally:
        assert served.lock is not None
        served.lock.close()
    close(listen("127.0.0.1", address[1], 2))  # once the lock is gone the port can be taken


def test_a_host_that_does_not_resolve_is_named() -> None:
    with pytest.raises(PortError, match=r"cannot listen on host 'no-such-host\.invalid'"):
        listen("no-such-host.invalid", 0, 1)


def test_the_url_names_the_host_as_given_and_the_port_bound() -> None:
    served = listen("localhost", 0, 1)
    try:
        assert served.url == f"http://localhost:{served.sock.getsockname()[1]}"
    finally:
        close(served)
