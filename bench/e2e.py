#!/usr/bin/env python3
"""End-to-end latency: a search request to nginx, until its record is
counted in the consumer's SQLite database.

    bench/e2e.py PORT PATH DB N PER_SEC

Sends N searches (GET PATH?id=e2e-RUN-SEQ, one hotel per page, a fresh hotel
id each) at PER_SEC on one keep-alive connection, and watches the database
(hotel_rate_hourly, read-only, every 2 ms) for each id. Prints
"E2E n=.. seen=.. p50_ms=.. p99_ms=.. max_ms=..". Stops by itself 30 s
after the last request at the latest.
"""
import http.client
import os
import sqlite3
import sys
import threading
import time

port, path, db = int(sys.argv[1]), sys.argv[2], sys.argv[3]
n, rate = int(sys.argv[4]), float(sys.argv[5])
run = "%x" % (os.getpid() ^ int(time.time()))
sent = {}
seen = {}
done = threading.Event()
errors = []


def sender():
    try:
        send()
    except Exception as e:  # noqa: BLE001 - any failure ends the run
        errors.append(str(e))
    done.set()


def send():
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    t0 = time.monotonic()
    for i in range(n):
        due = t0 + i / rate
        d = due - time.monotonic()
        if d > 0:
            time.sleep(d)
        hid = "e2e-%s-%05d" % (run, i)
        sent[hid] = time.monotonic()
        c.request("GET", path + "?id=" + hid)
        r = c.getresponse()
        r.read()
        if r.status != 200:
            raise RuntimeError("HTTP %d for %s" % (r.status, path))


t = threading.Thread(target=sender, daemon=True)
t.start()

con = None
deadline = None
hard_deadline = time.monotonic() + n / rate + 60
like = "e2e-%s-%%" % run
while True:
    now = time.monotonic()
    if con is None and os.path.exists(db):
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=1)
    if con is not None:
        try:
            rows = con.execute(
                "SELECT hotel_id FROM hotel_rate_hourly WHERE hotel_id LIKE ?",
                (like,)).fetchall()
        except sqlite3.OperationalError:
            rows = []
        now = time.monotonic()
        for (hid,) in rows:
            if hid not in seen and hid in sent:
                seen[hid] = now
    if done.is_set():
        if deadline is None:
            deadline = now + 30
        if len(seen) == n or now > deadline or errors:
            break
    if now > hard_deadline:
        errors.append("no end after %d s" % (n / rate + 60))
        break
    time.sleep(0.002)

lat = sorted((seen[h] - sent[h]) * 1000 for h in seen)


def pct(p):
    if not lat:
        return float("nan")
    return lat[min(len(lat) - 1, int(round(p / 100 * len(lat) + 0.5)) - 1)]


if errors:
    sys.stderr.write("e2e: %s\n" % errors[0])
print("E2E n=%d seen=%d p50_ms=%.0f p99_ms=%.0f max_ms=%.0f"
      % (n, len(lat), pct(50), pct(99), lat[-1] if lat else float("nan")))
