"""Is anything lost when a stream writer is closed without ``await writer.wait_closed()``?

A reader thread accepts one connection, sleeps 0.5 s (so the client's socket buffer fills),
then counts the bytes until EOF (or 5 s without data). The client, run by ``asyncio.run()``,
writes N bytes, calls ``writer.close()`` and then returns at once, keeps the loop running for
3 s, or awaits ``wait_closed()``. Prints what the reader got for each case.

    python benchmarks/wait_closed_loss.py
"""

from __future__ import annotations

import asyncio
import gc
import socket
import threading
import time


def _read(lsock: socket.socket, out: list[tuple[str, int]]) -> None:
    conn, _ = lsock.accept()
    time.sleep(0.5)
    got = 0
    conn.settimeout(5)
    with conn:
        while True:
            try:
                b = conn.recv(1 << 16)
            except ConnectionResetError:
                out.append(("reset", got))
                return
            except socket.timeout:
                out.append(("still open after 5 s", got))
                return
            if not b:
                break
            got += len(b)
    out.append(("eof", got))


async def _client(port: int, n: int, after: str) -> None:
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"x" * n)
    writer.close()
    if after == "wait_closed":
        await writer.wait_closed()
    elif after == "loop-goes-on":
        await asyncio.sleep(3)


def run(n: int, after: str) -> tuple[str, int]:
    with socket.create_server(("127.0.0.1", 0)) as lsock:
        out: list[tuple[str, int]] = []
        t = threading.Thread(target=_read, args=(lsock, out))
        t.start()
        asyncio.run(_client(lsock.getsockname()[1], n, after))
        gc.collect()
        t.join(15)
    return out[0] if out else ("no answer", 0)


if __name__ == "__main__":
    for n in (1024, 8 * 1024 * 1024):
        for after in ("return", "loop-goes-on", "wait_closed"):
            print(n, after, run(n, after))
