"""Small real inputs shared by the front-end tests (the CLI is the reference for each)."""

from __future__ import annotations

# A socket created and then abandoned on an early return: SKL101 at the return (the path
# that skips close()). The analyzer issue's own example.
LEAK = """\
import socket


def fetch(host, port):
    sock = socket.create_connection((host, port))
    greeting = sock.recv(1024)
    if not greeting:
        return None
    sock.close()
    return greeting
"""

# A socket that is never closed nor handed off: SKL103.
NEVER_CLOSED = """\
import socket


def probe(host):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.connect((host, 80))
    return True
"""

# The same function written correctly: nothing to report.
CLEAN = """\
import socket


def fetch(host, port):
    with socket.create_connection((host, port)) as sock:
        return sock.recv(1024)
"""

# No socket code at all: the prefilter skips it without parsing.
NO_SOCKETS = """\
def add(a, b):
    return a + b
"""
