"""The server's listening socket, bound so that no second server shares its port unnoticed.

On Linux several workers each listen on a socket of their own with SO_REUSEPORT, so that the
kernel spreads connections among them. The kernel lets any process of the same user join such
a group, so two servers started on one port would both come up and split the traffic between
their worlds. Before joining, a probe socket without SO_REUSEPORT binds the address: that fails
if anything at all is bound there. Between the probe and the bind another server could probe
too; a lock named after the address, an abstract Unix socket held while the server runs (the
kernel drops it with the last process holding it), settles that race. A single process binds
one plain socket, which the kernel refuses outright on a port in use.
"""

from __future__ import annotations

import errno
import socket
import sys
from dataclasses import dataclass

BACKLOG = 2048
# The kernel balances connections across SO_REUSEPORT listeners on Linux only.
BALANCED = sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


class PortError(Exception):
    """The address cannot be listened on; the message is the one line the user sees."""


@dataclass(frozen=True)
class Listener:
    """A bound, listening socket and, for a SO_REUSEPORT group, the lock that keeps it ours."""

    host: str  # as the user gave it, for the URLs announced
    sock: socket.socket
    lock: socket.socket | None

    @property
    def balanced(self) -> bool:
        """Whether workers listen on sockets of their own (SO_REUSEPORT) rather than share this one."""
        return self.lock is not None

    @property
    def url(self) -> str:
        host, port = self.host, self.sock.getsockname()[1]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def listen(host: str, port: int, workers: int) -> Listener:
    """Bind and listen on `host`:`port` (0: a free port), or raise PortError saying what to do.

    With several workers on Linux, each may later bind a socket of its own to the same
    address; nobody else can.
    """
    reuse_port = workers > 1 and BALANCED
    where = f"port {port} on {host}"
    try:
        family, _, _, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise PortError(f"mockserver: cannot listen on host {host!r}: {exc.strerror}") from None
    lock = None
    try:
        if reuse_port:
            with _plain_socket(family) as probe:
                probe.bind(address)
                address = probe.getsockname()  # the port the kernel picked for port 0
                where = f"port {address[1]} on {host}"
                lock = _lock(family, address)
            sock = socket.create_server(address, family=family, backlog=BACKLOG, reuse_port=True)
        else:
            sock = socket.create_server(address, family=family, backlog=BACKLOG)
    except OSError as exc:
        if lock is not None:
            lock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortError(
                f"mockserver: {where} is already in use; stop the other server or pick another "
                "port (--port 0 picks a free one)"
            ) from None
        if exc.errno == errno.EACCES:
            raise PortError(
                f"mockserver: no permission to listen on {where}; pick a port above 1023"
            ) from None
        raise PortError(f"mockserver: cannot listen on {where}: {exc.strerror}") from None
    return Listener(host, sock, lock)


def _plain_socket(family: int) -> socket.socket:
    """A socket that binds only where nothing else is bound (SO_REUSEADDR only skips the
    TIME_WAIT remains of a server that just stopped)."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    return sock


def _lock(family: int, address: tuple) -> socket.socket:
    """Held by one server per address: binding the same abstract name again fails."""
    lock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        lock.bind(f"\0mockserver/{family}/{address[0]}/{address[1]}")
    except OSError:
        lock.close()
        raise
    return lock
