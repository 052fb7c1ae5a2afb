"""A TCP proxy on loopback that can break its connections mid-stream, as a flaky network does.

Bytes are counted in one direction (client to server: "up", or back: "down");
once ``break_after(n)`` is armed and ``n`` more bytes went that way, every open
connection is reset (RST, towards the client and towards the server) and
``on_break`` runs. New connections are proxied as usual afterwards.

``down()`` makes the server unreachable until ``up()``: open connections are
reset, and new ones are accepted and reset at once.
"""

from __future__ import annotations

import socket
import struct
import threading
from typing import Callable, List, Optional, Tuple


class _Pair:
    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client = client
        self.upstream = upstream
        self.reset = False


class BreakingProxy:
    def __init__(self, target: Tuple[str, int]) -> None:
        self._target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._pairs: List[_Pair] = []
        self._budget: Optional[int] = None
        self._on_break: Optional[Callable[[], None]] = None
        self._direction = "up"
        self.breaks = 0
        self._closed = False
        self._down = False
        threading.Thread(target=self._accept, name="proxy-accept", daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def break_after(self, n: int, on_break: Optional[Callable[[], None]] = None, direction: str = "up") -> None:
        """Resets every connection once ``n`` more bytes have passed in ``direction``; then runs ``on_break``."""
        with self._lock:
            self._budget = n
            self._on_break = on_break
            self._direction = direction

    def down(self) -> None:
        """Resets every connection, and every new one until ``up()``: the server looks unreachable."""
        self._down = True
        self._reset_all()

    def up(self) -> None:
        """Proxies new connections again."""
        self._down = False

    def close(self) -> None:
        self._closed = True
        self._listener.close()
        self._reset_all()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._down:
                try:
                    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    client.close()
                except OSError:
                    pass
                continue
            try:
                upstream = socket.create_connection(self._target)
            except OSError:
                client.close()
                continue
            pair = _Pair(client, upstream)
            with self._lock:
                self._pairs.append(pair)
            threading.Thread(target=self._pump, args=(pair, client, upstream, "up"), daemon=True).start()
            threading.Thread(target=self._pump, args=(pair, upstream, client, "down"), daemon=True).start()

    def _pump(self, pair: _Pair, source: socket.socket, sink: socket.socket, direction: str) -> None:
        try:
            while True:
                data = source.recv(256 * 1024)
                if not data:
                    break
                sink.sendall(data)
                if self._spend(direction, len(data)):
                    return
        except OSError:
            return
        if not pair.reset:
            try:
                sink.shutdown(socket.SHUT_WR)  # pass an orderly end of stream on
            except OSError:
                pass

    def _spend(self, direction: str, n: int) -> bool:
        with self._lock:
            if self._budget is None or direction != self._direction:
                return False
            self._budget -= n
            if self._budget > 0:
                return False
            self._budget = None
            on_break, self._on_break = self._on_break, None
            self.breaks += 1
        self._reset_all()
        if on_break is not None:
            on_break()
        return True

    def _reset_all(self) -> None:
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            pair.reset = True
        sockets = [s for pair in pairs for s in (pair.client, pair.upstream)]
        for s in sockets:
            try:
                # Linger 0: closing sends RST, as a dropped connection does, not an orderly FIN.
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                # Wakes a pump blocked in recv on it without sending anything, so that
                # close below releases the socket (a socket in use is closed only when freed).
                s.shutdown(socket.SHUT_RD)
            except OSError:
                pass
        for s in sockets:
            try:
                s.close()
            except OSError:
                pass
