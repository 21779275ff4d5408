#!/usr/bin/env python3
"""Client side of tools/watch_bench.sh (standard library only).

  watch_probe.py latency WRITE_PORT WATCH_PORT SAMPLES
      Streams /_cluster/watch?prefix=lat/ from WATCH_PORT, POSTs lat/<i> to WRITE_PORT
      every 5 ms, and prints one JSON line: the time from just before each POST to its
      event's arrival (p50, p99, max, in ms).
  watch_probe.py slow PORT
      Opens a stream (/_cluster/watch?prefix=slow/) with a tiny receive buffer and reads
      nothing until a line arrives on stdin; then reads to the end and prints one JSON line:
      the events it got, the last one's kind, and whether the node closed the stream.
  watch_probe.py idle PORT CLIENTS SECONDS ETAG
      Opens CLIENTS connections to PORT, each a long-poll of the key "idle" (If-None-Match:
      ETAG, its current one; ?wait=10m), holds them SECONDS, and prints how many were
      answered meanwhile (none should be).
"""
import asyncio
import http.client
import json
import socket
import sys
import threading
import time


def latency(write_port, watch_port, samples):
    arrived = {}
    ready = threading.Event()

    def reader():
        sock = socket.create_connection(("127.0.0.1", watch_port))
        sock.sendall(b"GET /_cluster/watch?prefix=lat/ HTTP/1.1\r\nHost: x\r\n\r\n")
        buf = b""
        ready.set()
        while len(arrived) < samples:
            data = sock.recv(65536)
            if not data:
                break
            now = time.perf_counter()
            buf += data
            while b'"key":"lat/' in buf:
                start = buf.index(b'"key":"lat/') + len(b'"key":"lat/')
                end = buf.index(b'"', start)
                arrived.setdefault(int(buf[start:end]), now)
                buf = buf[end:]

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    ready.wait()
    time.sleep(0.5)
    conn = http.client.HTTPConnection("127.0.0.1", write_port)
    sent = {}
    for i in range(samples):
        sent[i] = time.perf_counter()
        conn.request("POST", "/lat/%d" % i, body=b"x")
        conn.getresponse().read()
        time.sleep(0.005)
    t.join(timeout=5)
    lat = sorted((arrived[i] - sent[i]) * 1000 for i in sent if i in arrived)
    if not lat:
        print(json.dumps({"error": "no events arrived"}))
        return 1
    pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
    print(json.dumps({"samples": samples, "arrived": len(lat), "p50_ms": round(pick(0.5), 3),
                      "p99_ms": round(pick(0.99), 3), "max_ms": round(lat[-1], 3)}))
    return 0 if len(lat) == samples else 1


async def idle(port, clients, seconds, etag):
    conns = []
    for i in range(clients):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(("GET /idle?wait=10m&n=%d HTTP/1.1\r\nHost: x\r\nIf-None-Match: %s\r\n\r\n"
                      % (i, etag)).encode())
        conns.append((reader, writer))
        if i % 500 == 499:
            await asyncio.sleep(0.05)
    await asyncio.sleep(seconds)
    answered = 0
    for reader, writer in conns:
        if reader.at_eof() or len(reader._buffer) > 0:  # noqa: SLF001 (a peek, no read)
            answered += 1
    print(json.dumps({"clients": clients, "answered_early": answered}))
    for _, writer in conns:
        writer.close()
    return 0


def slow(port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(b"GET /_cluster/watch?prefix=slow/ HTTP/1.1\r\nHost: x\r\n\r\n")
    print("connected", flush=True)
    sys.stdin.readline()  # the writes are done: read what the node kept for us
    sock.settimeout(5)  # (a stream kept open gives a keep-alive every 15 s: stop before)
    data = b""
    closed = False
    try:
        while True:
            chunk = sock.recv(1 << 16)
            if not chunk:
                closed = True
                break
            data += chunk
    except socket.timeout:
        pass
    kinds = [line[7:] for line in data.decode(errors="replace").split("\n")
             if line.startswith("event: ")]
    print(json.dumps({"events": len(kinds), "last": kinds[-1] if kinds else None,
                      "closed": closed, "bytes": len(data)}))
    return 0


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "slow":
        sys.exit(slow(int(sys.argv[2])))
    if mode == "latency":
        sys.exit(latency(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])))
    sys.exit(asyncio.run(idle(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5])))
