"""Loopback HTTP sink of bench/relay.sh: answers 200 to every POST (keep-alive, HTTP/1.1),
records when each envelope arrived; `GET /stats` returns JSON: count, distinct bodies,
first and last arrival (Unix s), end-to-end latency percentiles (arrival - envelope ts).
`GET /reset` forgets everything. Usage: python3 relay_sink.py PORT
"""
import asyncio
import json
import sys
import time

arrivals = []  # (arrival, ts)
bodies = set()


def stats():
    lat = sorted(a - t for a, t in arrivals)
    pick = lambda q: lat[round((len(lat) - 1) * q)] if lat else None
    return {
        "count": len(arrivals),
        "distinct": len(bodies),
        "first": min((a for a, _ in arrivals), default=None),
        "last": max((a for a, _ in arrivals), default=None),
        "p50_s": pick(0.5),
        "p99_s": pick(0.99),
    }


async def handle(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path = lines[0].split(" ")[:2]
            length = 0
            for line in lines[1:]:
                if line.lower().startswith("content-length:"):
                    length = int(line.split(":", 1)[1])
            body = await reader.readexactly(length) if length else b""
            out = b""
            if method == "POST":
                arrivals.append((time.time(), json.loads(body)["ts"]))
                bodies.add(body)
            elif path == "/stats":
                out = json.dumps(stats()).encode()
            elif path == "/reset":
                arrivals.clear()
                bodies.clear()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nContent-Type: application/json\r\n\r\n%s" % (len(out), out))
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(port):
    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


asyncio.run(main(int(sys.argv[1])))
