#!/usr/bin/env python3
"""The lab's web server: "example.com" on every address given, one log line per request.

Usage: web.py LABDIR ADDR [ADDR...]
Logs "CLIENT METHOD PATH" to LABDIR/web.log (so tests can tell whether a client was NATed),
writes its pid to LABDIR/web.pid and touches LABDIR/web.ready once every socket listens.
Pages: / (contains "Example Domain"), /bytes/N (N bytes, N <= 64 MiB); POST answers "got N".
"""
import http.server
import os
import socket
import sys
import threading

PAGE = b"""<!doctype html>
<html><head><title>Example Domain</title></head>
<body><h1>Example Domain</h1>
<p>This domain is for use in the nsrun lab of network namespaces.</p></body></html>
"""

labdir = sys.argv[1]
log_lock = threading.Lock()
log = open(os.path.join(labdir, "web.log"), "a", buffering=1)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def note(self):
        with log_lock:
            log.write(f"{self.client_address[0]} {self.command} {self.path}\n")

    def reply(self, body, head_only=False):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head_only:
            self.wfile.write(body)

    def body_for(self, path):
        if path.startswith("/bytes/"):
            n = int(path[len("/bytes/"):] or 0)
            return b"x" * max(0, min(n, 64 << 20))
        return PAGE

    def do_GET(self):
        self.note()
        self.reply(self.body_for(self.path))

    def do_HEAD(self):
        self.note()
        self.reply(self.body_for(self.path), head_only=True)

    def do_POST(self):
        self.note()
        left, got = int(self.headers.get("Content-Length", 0)), 0
        while left > 0:
            chunk = self.rfile.read(min(left, 65536))
            if not chunk:
                break
            left -= len(chunk)
            got += len(chunk)
        self.reply(f"got {got}\n".encode())


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


servers = []
for addr in sys.argv[2:]:
    cls = type("S", (Server,), {"address_family": socket.AF_INET6 if ":" in addr else socket.AF_INET})
    servers.append(cls((addr, 80), Handler))
with open(os.path.join(labdir, "web.pid"), "w") as f:
    f.write(f"{os.getpid()}\n")
for s in servers[1:]:
    threading.Thread(target=s.serve_forever, daemon=True).start()
open(os.path.join(labdir, "web.ready"), "w").close()
servers[0].serve_forever()
