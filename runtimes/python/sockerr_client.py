"""sockerr's runtime client for Python: the `socket` module and `asyncio` streams.

Speaks the line protocol of runtimes/README.md: one JSON request per line in, one JSON
observation per line out. `stdio` serves one session on standard input and output, in this
process's network namespace; `serve PATH` listens on a Unix socket at PATH and serves one
session per connection, each on a thread of its own that first enters the namespace the
session names (setns(2) through ctypes), and exits when its standard input closes.
"""

import asyncio
import ctypes
import errno
import json
import os
import platform
import socket
import struct
import sys
import threading

# Every blocking call is bounded, like the harness's own calls (BLOCKING_CALL_LIMIT).
LIMIT_SECONDS = 10
CLONE_NEWNET = 0x40000000


class Unsupported(Exception):
    """A step the API cannot express; the message says why."""


def qualified(cls):
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def thrown(e):
    code = getattr(e, "errno", None) if isinstance(e, OSError) else None
    fields = {}
    if isinstance(e, OSError) and e.strerror is not None:
        fields["strerror"] = e.strerror
    if e.__cause__ is not None:
        fields["cause"] = f"{qualified(type(e.__cause__))}: {e.__cause__}"
    return {
        "outcome": "error",
        "type": qualified(type(e)),
        "message": str(e),
        "code": errno.errorcode.get(code) if isinstance(code, int) else None,
        "errno": code if isinstance(code, int) else None,
        "fields": fields,
    }


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


SHUT = {"read": socket.SHUT_RD, "write": socket.SHUT_WR, "both": socket.SHUT_RDWR}


class SocketApi:
    """socket.socket, blocking, its calls bounded by SO_RCVTIMEO and SO_SNDTIMEO (a timed-out
    call fails with EAGAIN, as in the harness) rather than settimeout(), which would make
    the socket non-blocking underneath."""

    name = "python.socket"

    def __init__(self):
        self.sock = None

    def fd(self):
        if self.sock is None or self.sock.fileno() < 0:
            return None
        return self.sock.fileno()

    def connect(self, req):
        self.sock = socket.socket(family(req["host"]), socket.SOCK_STREAM)
        limit = struct.pack("ll", LIMIT_SECONDS, 0)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, limit)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, limit)
        return self.sock.connect((req["host"], req["port"]))

    def read(self, req):
        return len(self.sock.recv(req["len"]))

    def write(self, req):
        return self.sock.send(b"x" * req["len"])

    def shutdown(self, req):
        return self.sock.shutdown(SHUT[req["how"]])

    def so_error(self, req):
        return self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)

    def getpeername(self, req):
        return str(self.sock.getpeername())

    def set_nodelay(self, req):
        return self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, int(req["on"]))

    def set_keepalive(self, req):
        return self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, int(req["on"]))

    def close(self, req):
        return self.sock.close()

    def end(self):
        if self.sock is not None:
            self.sock.close()


class AsyncioApi:
    """asyncio.open_connection's StreamReader and StreamWriter, on an event loop of the
    session's own that runs only during a step; every step is bounded by wait_for."""

    name = "python.asyncio"

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.reader = None
        self.writer = None

    def run(self, awaitable):
        return self.loop.run_until_complete(asyncio.wait_for(awaitable, LIMIT_SECONDS))

    def transport_socket(self):
        if self.writer is None:
            return None
        return self.writer.get_extra_info("socket")

    def fd(self):
        sock = self.transport_socket()
        if sock is None or self.writer.transport.is_closing() and sock.fileno() < 0:
            return None
        return sock.fileno() if sock.fileno() >= 0 else None

    def streams(self):
        if self.writer is None:
            raise Unsupported("no connection: connect first (asyncio.open_connection returns no streams before it succeeds)")
        return self.reader, self.writer

    def connect(self, req):
        self.reader, self.writer = self.run(asyncio.open_connection(req["host"], req["port"]))

    def read(self, req):
        return len(self.run(self.streams()[0].read(req["len"])))

    def write(self, req):
        _, writer = self.streams()
        writer.write(b"x" * req["len"])
        return self.run(writer.drain())

    def shutdown(self, req):
        if req["how"] != "write":
            raise Unsupported("asyncio.StreamWriter has write_eof() (SHUT_WR) only")
        return self.streams()[1].write_eof()

    def so_error(self, req):
        return self.streams()[1].get_extra_info("socket").getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)

    def getpeername(self, req):
        return str(self.streams()[1].get_extra_info("peername"))

    def set_nodelay(self, req):
        return self.streams()[1].get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, int(req["on"]))

    def set_keepalive(self, req):
        return self.streams()[1].get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, int(req["on"]))

    def close(self, req):
        _, writer = self.streams()
        writer.close()
        return self.run(writer.wait_closed())

    def end(self):
        if self.writer is not None:
            self.writer.close()
        self.loop.close()


APIS = {api.name: api for api in (SocketApi, AsyncioApi)}
OPS = {"connect", "read", "write", "shutdown", "so_error", "getpeername", "set_nodelay", "set_keepalive", "close"}


def enter_netns(path):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code), path)
    finally:
        os.close(fd)


def version():
    implementation = platform.python_implementation()
    name = "Python" if implementation == "CPython" else f"Python ({implementation})"
    return f"{name} {platform.python_version()}"


def answer(api, req):
    op = req.get("op")
    if op == "hello":
        if req.get("netns"):
            enter_netns(req["netns"])
        if req.get("api") not in APIS:
            raise Unsupported(f"no API {req.get('api')!r} here; this client serves {sorted(APIS)}")
        return APIS[req["api"]](), {"outcome": "ok", "runtime": version(), "pid": os.getpid()}
    if api is None:
        raise Unsupported("the session has not said hello")
    if op not in OPS:
        raise Unsupported(f"no step {op!r} in the protocol")
    return api, {"outcome": "ok", "value": getattr(api, op)(req)}


def session(lines, write):
    api = None
    for line in lines:
        req = json.loads(line)
        if req.get("op") == "bye":
            end(api)
            api = None
            write(json.dumps({"outcome": "ok", "fd": None}) + "\n")
            break
        try:
            api, observation = answer(api, req)
        except Unsupported as e:
            observation = {"outcome": "unsupported", "why": str(e)}
        except Exception as e:  # every exception is an observation, whatever its class
            observation = thrown(e)
        observation["fd"] = api.fd() if api is not None else None
        write(json.dumps(observation) + "\n")
    end(api)


def end(api):
    """Closes what the session left open, without a step."""
    if api is not None:
        try:
            api.end()
        except Exception:
            pass


def serve_connection(conn):
    with conn:
        stream = conn.makefile("rw", encoding="utf-8", newline="\n")

        def write(text):
            stream.write(text)
            stream.flush()

        session(stream, write)


def serve(path):
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)

    def exit_when_input_closes():
        sys.stdin.buffer.read()
        os._exit(0)

    threading.Thread(target=exit_when_input_closes, daemon=True).start()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve_connection, args=(conn,), daemon=True).start()


def main():
    if sys.argv[1:2] == ["serve"] and len(sys.argv) == 3:
        serve(sys.argv[2])
    elif sys.argv[1:] == ["stdio"]:

        def write(text):
            sys.stdout.write(text)
            sys.stdout.flush()

        session(sys.stdin, write)
    else:
        sys.exit("usage: sockerr_client.py stdio | serve PATH")


if __name__ == "__main__":
    main()
