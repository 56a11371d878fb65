#!/usr/bin/env python3
"""HTTP/2 floods from outside against berth's REST (h2c) and gRPC ports, each on its own connection.

  h2_floods.py --rest PORT --grpc PORT --pid PID --out RESULT.json

The known HTTP/2 denial-of-service shapes, written frame by frame (hpack encodes the header blocks):
rapid reset (open a stream and cancel it, CVE-2023-44487), an endless CONTINUATION chain (CVE-2024-27316's
family), streams opened and never given a body, PING and SETTINGS floods with nothing read back, empty
DATA frames. Checks: each abusive connection that berth promises to end is ended with GOAWAY before the
flood is over (docs/reliability.md names which); after every flood both ports still answer an ordinary
request within seconds; the process is alive and its resident memory stayed bounded.
"""
import argparse
import os
import socket
import struct
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)

import grpc  # noqa: E402
import hpack  # noqa: E402
import requests  # noqa: E402

import checklib  # noqa: E402
from checklib import expect  # noqa: E402

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, CONTINUATION = 0x0, 0x1, 0x3, 0x4, 0x6, 0x7, 0x9
END_STREAM, END_HEADERS = 0x1, 0x4
ERROR_NAMES = {0: "NO_ERROR", 1: "PROTOCOL_ERROR", 7: "REFUSED_STREAM", 8: "CANCEL", 11: "ENHANCE_YOUR_CALM",
               13: "HTTP_1_1_REQUIRED"}
REST_PATH = "/v2/models/fixed_batch/infer"
GRPC_PATH = "/inference.GRPCInferenceService/ModelInfer"
# growth of resident memory over the whole run that still counts as bounded. The test runs the server with a
# fixed heap resident from the start, so this is memory outside the Java heap: socket buffers, thread stacks
RSS_GROWTH_LIMIT_MIB = 128


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


class FloodConnection:
    """One raw HTTP/2 connection: writes frames as fast as the socket takes them and notes the GOAWAY."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.sendall(PREFACE + frame(SETTINGS, 0, 0))
        self.encoder = hpack.Encoder()
        self.pending = b""
        self.goaway = None
        self.closed = False

    def headers(self, stream, path, end_headers=True):
        block = self.encoder.encode([(":method", "POST"), (":scheme", "http"), (":authority", "127.0.0.1"),
                                     (":path", path), ("content-type", "application/grpc"), ("te", "trailers")])
        return frame(HEADERS, END_HEADERS if end_headers else 0, stream, block)

    def send(self, data):
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            self.closed = True
            return False

    def read(self, seconds):
        """Reads what the server sent for up to `seconds` (or what is there now, for 0)."""
        deadline = time.monotonic() + seconds
        self.sock.settimeout(max(seconds, 0.001))
        while not self.closed:
            try:
                data = self.sock.recv(1 << 16)
            except socket.timeout:
                if time.monotonic() >= deadline:
                    return
                continue
            except OSError:
                self.closed = True
                return
            if not data:
                self.closed = True
                return
            self.pending += data
            while len(self.pending) >= 9:
                length = int.from_bytes(self.pending[:3], "big")
                if len(self.pending) < 9 + length:
                    break
                if self.pending[3] == GOAWAY and self.goaway is None:
                    self.goaway = int.from_bytes(self.pending[13:17], "big")
                self.pending = self.pending[9 + length:]

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def flood(port, frames, total):
    """Sends the flood; returns (frames sent, GOAWAY code or None, closed) once the server ended it or it ran out."""
    conn = FloodConnection(port)
    sent = 0
    try:
        for chunk in frames(conn):
            if not conn.send(chunk):
                break
            sent += 1
            if sent % 100 == 0:
                conn.read(0)
                if conn.goaway is not None or conn.closed:
                    break
        conn.read(2.0)
        return sent, conn.goaway, conn.closed
    finally:
        conn.close()


def rapid_reset(path, n):
    def frames(conn):
        for i in range(n):
            stream = 1 + 2 * i
            yield conn.headers(stream, path) + frame(RST_STREAM, 0, stream, struct.pack(">I", 8))
    return frames


def continuation_chain(path, n):
    def frames(conn):
        yield conn.headers(1, path, end_headers=False)
        encoder = hpack.Encoder()
        for i in range(n):
            yield frame(CONTINUATION, 0, 1, encoder.encode([("x-flood-%d" % i, "v" * 100)]))
    return frames


def streams_without_body(path, n):
    def frames(conn):
        for i in range(n):
            yield conn.headers(1 + 2 * i, path)
    return frames


def pings(n):
    def frames(conn):
        for i in range(n):
            yield frame(PING, 0, 0, struct.pack(">Q", i))
    return frames


def settings(n):
    def frames(conn):
        for _ in range(n):
            yield frame(SETTINGS, 0, 0, struct.pack(">HI", 0x3, 100))
    return frames


def empty_data(path, n):
    def frames(conn):
        yield conn.headers(1, path)
        for _ in range(n):
            yield frame(DATA, 0, 1)
    return frames


class Suite:
    def __init__(self, rest, grpc_port, pid):
        self.rest = rest
        self.grpc = grpc_port
        self.pid = pid
        self.http = requests.Session()

    def rss_mib(self):
        with open("/proc/%d/status" % self.pid) as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) // 1024
        raise checklib.CheckFailed("no VmRSS for process %d" % self.pid)

    def still_served(self):
        """An ordinary client on a new connection is answered on both ports within 5 s."""
        r = self.http.get("http://127.0.0.1:%d/v2/health/live" % self.rest, timeout=5)
        expect(r.status_code == 200, "REST live answered %d" % r.status_code)
        with grpc.insecure_channel("127.0.0.1:%d" % self.grpc) as channel:
            live = channel.unary_unary("/inference.GRPCInferenceService/ServerLive",
                                       request_serializer=lambda b: b, response_deserializer=lambda b: b)
            expect(live(b"", timeout=5) == b"\x08\x01", "gRPC ServerLive is not live=true")

    def attack(self, port, frames, total, must_end):
        before = self.rss_mib()
        started = time.monotonic()
        sent, goaway, closed = flood(port, frames, total)
        took = time.monotonic() - started
        self.still_served()
        code = "none" if goaway is None else ERROR_NAMES.get(goaway, str(goaway))
        detail = "%d of %d frames sent in %.1f s, GOAWAY %s, connection %s; RSS %d -> %d MiB; both ports answered after" % (
            sent, total, took, code, "closed" if closed else "open", before, self.rss_mib())
        if must_end:
            # ended: GOAWAY, or the connection closed under the writer (a reset can overtake the GOAWAY)
            expect((goaway is not None or closed) and sent < total, "the flood was not ended: " + detail)
        return detail

    def run(self, report):
        start_rss = self.rss_mib()
        r = report.check
        n = 20000
        for label, port, path in (("rest", self.rest, REST_PATH), ("grpc", self.grpc, GRPC_PATH)):
            # ended by both servers: the attacks that cost the server work per frame sent
            r("%s.rapid-reset" % label, self.attack, port, rapid_reset(path, n), n, True)
            r("%s.continuation" % label, self.attack, port, continuation_chain(path, n), n + 1, True)
            # bounded, not necessarily ended: past the stream limit new streams are refused
            r("%s.streams-without-body" % label, self.attack, port, streams_without_body(path, n), n, False)
            r("%s.pings" % label, self.attack, port, pings(2 * n), 2 * n, False)
            r("%s.settings" % label, self.attack, port, settings(2 * n), 2 * n, False)
            r("%s.empty-data" % label, self.attack, port, empty_data(path, n), n + 1, False)

        def bounded():
            end = self.rss_mib()
            expect(end - start_rss <= RSS_GROWTH_LIMIT_MIB, "RSS %d -> %d MiB over the floods (limit +%d)" % (
                start_rss, end, RSS_GROWTH_LIMIT_MIB))
            return "RSS %d -> %d MiB over the floods (limit +%d)" % (start_rss, end, RSS_GROWTH_LIMIT_MIB)
        r("server.rss", bounded)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rest", type=int, required=True)
    ap.add_argument("--grpc", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    checklib.run(checklib.Report("h2-floods"), args.out, Suite(args.rest, args.grpc, args.pid).run)


if __name__ == "__main__":
    main()
