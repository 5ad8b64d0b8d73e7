"""An HTTP server on loopback that answers a valid empty Mem0 listing one byte every 20 ms.

Each receive is quick and the whole answer takes seconds, so only a deadline over the whole exchange
stops a client waiting for it. The Mem0 emulator has no such fault; the client's tests and the
transport benchmark (``loadtests/mem0_transport_benchmark.py``) both use this one.
"""

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

BODY = b'{"count":0,"next":null,"previous":null,"results":[]}'
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
    len(BODY),
    BODY,
)
SECONDS_PER_BYTE = 0.02


@contextmanager
def dripping_server() -> Iterator[str]:
    """The server's base URL (``http://127.0.0.1:<port>``) while the block runs; stopped after it."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def drip(connection: socket.socket) -> None:
        with connection:
            try:
                connection.recv(65536)
                for byte in ANSWER:
                    if stop.wait(SECONDS_PER_BYTE):
                        return
                    connection.sendall(bytes([byte]))
            except OSError:
                return

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=drip, args=(connection,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
