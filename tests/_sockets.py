"""This process's TCP sockets to a port, read from ``/proc`` (Linux): for the leak checks.

A socket is this process's if its inode is one of the targets of ``/proc/self/fd``; its
remote port and state come from ``/proc/net/tcp`` and ``/proc/net/tcp6``.
"""

from __future__ import annotations

import contextlib
import os

#: Whether this system has what the functions here read.
HAVE_PROC = os.path.exists("/proc/self/fd") and os.path.exists("/proc/net/tcp")

#: The states of ``/proc/net/tcp`` (its hex codes) by name.
TCP_STATES = {
    "01": "ESTABLISHED",
    "02": "SYN_SENT",
    "03": "SYN_RECV",
    "04": "FIN_WAIT1",
    "05": "FIN_WAIT2",
    "06": "TIME_WAIT",
    "07": "CLOSE",
    "08": "CLOSE_WAIT",
    "09": "LAST_ACK",
    "0A": "LISTEN",
    "0B": "CLOSING",
}


def socket_inodes() -> set[int]:
    """The inodes of this process's sockets (``/proc/self/fd``)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # an fd closed meanwhile
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith("socket:["):
                inodes.add(int(target[8:-1]))
    return inodes


def tcp_sockets_to(port: int) -> dict[int, str]:
    """This process's TCP sockets whose remote port is `port`: their inodes, each with
    its state (``"ESTABLISHED"``, ``"TIME_WAIT"``..., see `TCP_STATES`)."""
    inodes = socket_inodes()
    found = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError), open(table) as lines:
            next(lines)  # the header
            for line in lines:
                fields = line.split()
                remote_port = int(fields[2].rsplit(":", 1)[1], 16)
                inode = int(fields[9])
                if remote_port == port and inode in inodes:
                    found[inode] = TCP_STATES.get(fields[3], fields[3])
    return found
