"""proxy.py: a stand-in for a PostgreSQL server that is late, busy or counted.

  proxy.py LISTEN UPSTREAM [--delay S] [--count-file F] [--refuse-for S --refuse-as WHAT]

LISTEN and UPSTREAM are tcp:PORT (on 127.0.0.1) or unix:PATH. From --delay
seconds on (before then nothing listens: connection refused, as while a
server starts) it accepts connections and passes each on to UPSTREAM.
--count-file: writes how many connections it accepted (0 once it listens).
--refuse-for S: for the first S seconds after it listens, answers every
connection as PostgreSQL does while it cannot serve: FATAL 57P03 "the
database system is WHAT" (--refuse-as, default "starting up").
"""
import argparse
import os
import socket
import struct
import threading
import time

SSL_OR_GSS_REQUEST = (b"\x04\xd2\x16\x2f", b"\x04\xd2\x16\x30")


def endpoint(spec):
    kind, _, where = spec.partition(":")
    if kind == "tcp":
        return socket.AF_INET, ("127.0.0.1", int(where))
    if kind == "unix":
        return socket.AF_UNIX, where
    raise SystemExit("proxy.py: %s: not tcp:PORT or unix:PATH" % spec)


def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    finally:
        try:
            b.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def refuse(c, what):
    """Reads the startup packet (declining SSL and GSS), answers FATAL 57P03."""
    try:
        while True:
            head = c.recv(4)
            if len(head) < 4:
                return
            body = c.recv(struct.unpack("!I", head)[0] - 4)
            if body[:4] in SSL_OR_GSS_REQUEST:
                c.sendall(b"N")
                continue
            break
        msg = b"SFATAL\0VFATAL\0C57P03\0Mthe database system is " + what.encode() + b"\0\0"
        c.sendall(b"E" + struct.pack("!I", len(msg) + 4) + msg)
    except OSError:
        pass
    finally:
        c.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("listen")
    ap.add_argument("upstream")
    ap.add_argument("--delay", type=float, default=0)
    ap.add_argument("--count-file")
    ap.add_argument("--refuse-for", type=float, default=0)
    ap.add_argument("--refuse-as", default="starting up")
    a = ap.parse_args()
    family, address = endpoint(a.listen)
    up_family, up_address = endpoint(a.upstream)
    time.sleep(a.delay)
    srv = socket.socket(family)
    if family == socket.AF_INET:
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(address)
    if family == socket.AF_UNIX:
        os.chmod(address, 0o777)
    srv.listen(16)
    until = time.time() + a.refuse_for
    accepted = 0
    if a.count_file:
        with open(a.count_file, "w") as f:
            f.write("0")
    while True:
        c, _ = srv.accept()
        accepted += 1
        if a.count_file:
            with open(a.count_file, "w") as f:
                f.write(str(accepted))
        if time.time() < until:
            refuse(c, a.refuse_as)
            continue
        u = socket.socket(up_family)
        u.connect(up_address)
        threading.Thread(target=pipe, args=(c, u), daemon=True).start()
        threading.Thread(target=pipe, args=(u, c), daemon=True).start()


if __name__ == "__main__":
    main()
