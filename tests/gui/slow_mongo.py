"""A stand-in MongoDB server that is reachable but slow: it speaks just enough of the wire protocol for a store
to open (every collection empty), and answers each handshake (``hello``) only after ``hello_delay`` seconds —
how a server far away or under load looks to the driver."""
from __future__ import annotations

import datetime
import socket
import struct
import threading
import time

import bson

OP_REPLY, OP_QUERY, OP_MSG = 1, 2004, 2013
HELLO = {"hello", "ismaster", "isMaster"}


class SlowMongoServer:
    def __init__(self, hello_delay: float):
        self.hello_delay = hello_delay
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self._closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/hs"

    def close(self) -> None:
        self._closed.set()
        self._sock.close()

    def _accept(self):
        while not self._closed.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    @staticmethod
    def _read(conn, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def _serve(self, conn):
        with conn:
            try:
                while not self._closed.is_set():
                    length, request_id, _, op = struct.unpack("<iiii", self._read(conn, 16))
                    body = self._read(conn, length - 16)
                    if op == OP_QUERY:   # flags, collection name (C string), skip, limit, then the command
                        start = body.index(b"\0", 4) + 9
                    else:                # flags, section kind 0, then the command
                        start = 5
                    command = bson.decode(body[start:start + struct.unpack("<i", body[start:start + 4])[0]])
                    reply = self._answer(command)
                    if reply is None:
                        return
                    doc = bson.encode(reply)
                    if op == OP_QUERY:
                        out, code = struct.pack("<iqii", 0, 0, 0, 1) + doc, OP_REPLY
                    else:
                        out, code = struct.pack("<I", 0) + b"\0" + doc, OP_MSG
                    conn.sendall(struct.pack("<iiii", 16 + len(out), 0, request_id, code) + out)
            except (EOFError, OSError):
                return

    def _answer(self, command: dict) -> dict | None:
        name = next(iter(command))
        if name in HELLO:
            if "topologyVersion" in command:      # the monitor's streaming check: answer only when closing
                self._closed.wait()
                return None
            if self._closed.wait(self.hello_delay):
                return None
            return {"ok": 1.0, "isWritablePrimary": True, "ismaster": True, "maxWireVersion": 17,
                    "minWireVersion": 0, "maxBsonObjectSize": 16777216, "maxMessageSizeBytes": 48000000,
                    "maxWriteBatchSize": 100000, "connectionId": 1, "logicalSessionTimeoutMinutes": 30,
                    "localTime": datetime.datetime.now(datetime.timezone.utc)}
        ns = f"{command.get('$db', 'hs')}.{command[name]}"
        return {"ok": 1.0, "n": 0, "values": [], "cursor": {"id": 0, "ns": ns, "firstBatch": []}}
