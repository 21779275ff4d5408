#!/usr/bin/env python3
"""A deliberately broken key-value node, for showing that `cluster-kv check` catches bugs.

It speaks enough of cluster-kv's HTTP API for the check (GET/PUT/DELETE /KEY, ETags) and
has one planted bug: every third GET of a key that was written twice or more answers the
value before the latest, as a node that serves a stale copy after its own write would.
With --lost-answers it has no bug, but every fifth PUT is stored and its connection closed
without an answer (as when a node dies between its commit and its reply): a checker must
not call reading that value a violation.
Usage: stale_node.py PORT [--lost-answers]
"""
import http.server
import sys
import time

store = {}  # key -> list of (etag, value, content_type, encoding); None value: deleted
gets = 0
puts = 0
lost_answers = "--lost-answers" in sys.argv[2:]


def next_etag():
    return '"%d.0@00000000000000ff"' % int(time.time() * 1e6)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        global gets
        versions = store.get(self.path, [])
        gets += 1
        if not versions:
            return self.answer(404)
        stale = not lost_answers and len(versions) >= 2 and gets % 3 == 0
        pick = versions[-2] if stale else versions[-1]
        etag, value, ctype, encoding = pick
        if value is None:
            return self.answer(404, headers=[("X-Cluster-KV-Version", etag)])
        headers = [("ETag", etag), ("Content-Type", ctype or "application/octet-stream")]
        if encoding:
            headers.append(("Content-Encoding", encoding))
        self.answer(200, value, headers)

    def do_PUT(self):
        global puts
        length = int(self.headers.get("Content-Length", "0"))
        value = self.rfile.read(length)
        etag = next_etag()
        store.setdefault(self.path, []).append(
            (etag, value, self.headers.get("Content-Type"), self.headers.get("Content-Encoding")))
        puts += 1
        if lost_answers and puts % 5 == 0:
            self.close_connection = True  # stored, never answered
            return
        self.answer(200, headers=[("ETag", etag)])

    def do_DELETE(self):
        if not store.get(self.path) or store[self.path][-1][1] is None:
            return self.answer(404)
        etag = next_etag()
        store[self.path].append((etag, None, None, None))
        self.answer(200, headers=[("ETag", etag)])


http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
