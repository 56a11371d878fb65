"""A raw HTTP/1.x client for the fuzzer: bytes out exactly as the case wrote them, answers parsed
strictly, and every way a server can fail to answer told apart (refused, reset, closed without a
byte, silent past the timeout). Client libraries tidy requests up (they fix Content-Length, refuse
control characters, re-encode paths), which is exactly what a fuzzer must not have done to it.
"""
import socket
import time


LAST_SENT = b""  # what the last exchange sent, for failure messages


class Answer:
    """One HTTP answer, or why there was none (status None and `failure` saying what happened)."""

    def __init__(self, status=None, reason="", headers=None, body=b"", failure=None, version=""):
        self.status = status
        self.reason = reason
        self.headers = headers or []
        self.body = body
        self.failure = failure
        self.version = version

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def describe(self):
        if self.status is None:
            return "no answer (%s)" % self.failure
        return "%d %s" % (self.status, self.body[:200].decode("utf-8", "replace"))


class _Reader:
    def __init__(self, sock, deadline):
        self.sock = sock
        self.deadline = deadline
        self.buf = b""
        self.eof = False

    def _fill(self):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no complete answer in time")
        self.sock.settimeout(left)
        chunk = self.sock.recv(65536)
        if not chunk:
            self.eof = True
            raise EOFError("connection closed")
        self.buf += chunk

    def line(self, limit=1 << 16):
        while b"\r\n" not in self.buf:
            if len(self.buf) > limit:
                raise ValueError("answer line too long")
            self._fill()
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def exactly(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def until_eof(self):
        try:
            while True:
                self._fill()
        except EOFError:
            pass
        out, self.buf = self.buf, b""
        return out


def read_answer(reader, method="POST"):
    """One answer from reader (interim 1xx answers skipped); raises on a malformed or missing one."""
    while True:
        status_line = reader.line()
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise ValueError("malformed status line %r" % status_line[:100])
        status = int(parts[1])
        headers = []
        while True:
            line = reader.line()
            if not line:
                break
            k, _, v = line.partition(b":")
            headers.append((k.decode("latin-1").strip(), v.decode("latin-1").strip()))
        if 100 <= status < 200 and status != 101:
            continue
        answer = Answer(status, parts[2].decode("latin-1") if len(parts) > 2 else "", headers,
                        version=parts[0].decode("latin-1"))
        if method == "HEAD" or status in (204, 304):
            return answer
        te = (answer.header("transfer-encoding") or "").lower()
        cl = answer.header("content-length")
        if "chunked" in te:
            body = b""
            while True:
                size = int(reader.line().split(b";")[0].strip(), 16)
                if size == 0:
                    while reader.line():
                        pass
                    break
                body += reader.exactly(size)
                reader.exactly(2)
            answer.body = body
        elif cl is not None:
            answer.body = reader.exactly(int(cl))
        else:
            answer.body = reader.until_eof()
        return answer


def exchange(host, port, payload, timeout=10.0, answers=1, method="POST", pause_after=None):
    """Sends payload (bytes, or a list of byte chunks sent one by one) on a fresh connection and reads
    `answers` answers. Returns a list of Answer; the first missing one carries the failure and ends it."""
    global LAST_SENT
    LAST_SENT = b"".join(payload) if isinstance(payload, list) else payload
    out = []
    deadline = time.monotonic() + timeout
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as e:
        return [Answer(failure="connect: %s" % e)]
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        chunks = payload if isinstance(payload, list) else [payload]
        try:
            for c in chunks:
                sock.sendall(c)
                if pause_after:
                    time.sleep(pause_after)
        except OSError as e:
            # the server may answer and close before reading all of a body it refused: read what came
            pass
        reader = _Reader(sock, deadline)
        for _ in range(answers):
            try:
                out.append(read_answer(reader, method))
            except TimeoutError:
                out.append(Answer(failure="timeout after %.1f s" % timeout))
                break
            except EOFError:
                out.append(Answer(failure="closed without an answer" if not reader.buf else
                                  "closed mid-answer after %d bytes" % len(reader.buf)))
                break
            except ConnectionResetError:
                out.append(Answer(failure="connection reset"))
                break
            except (ValueError, OSError) as e:
                out.append(Answer(failure="%s: %s" % (type(e).__name__, e)))
                break
        return out
    finally:
        sock.close()


def request(method, path, body=b"", headers=(), version="HTTP/1.1", host_header=True, length=True):
    """The bytes of one request. headers: (name, value) pairs (str or bytes), sent as given."""
    def b(x):
        return x if isinstance(x, bytes) else x.encode("utf-8")
    lines = [b(method) + b" " + b(path) + b" " + b(version)]
    names = {b(k).lower() for k, _ in headers}
    if host_header and b"host" not in names:
        lines.append(b"Host: 127.0.0.1")
    if length and body is not None and b"content-length" not in names and b"transfer-encoding" not in names \
            and (body or method in ("POST", "PUT", "PATCH")):
        lines.append(b"Content-Length: %d" % len(body))
    for k, v in headers:
        lines.append(b(k) + b": " + b(v))
    return b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")
