#!/usr/bin/env python3
"""Range requests for library songs under many listeners: starts
`melodora serve` on a library of the Wesnoth soundtrack (Debian's
wesnoth-1.16-music), then N listeners (threads, one keep-alive connection
each) ask for 64 KiB ranges at random offsets of random tracks, as <audio>
elements do while playing and seeking, each every --interval seconds (0.1:
sixteen times what playing a 320 kbit/s file needs), for a few seconds. Prints the
answers' latency percentiles (request sent to last byte read) for
docs/PERFORMANCE.md.

    python3 bench/library_ranges.py [--listeners 50] [--seconds 10] [--melodora target/release/melodora]
"""
import argparse
import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

WESNOTH = os.environ.get("MELODORA_TEST_MUSIC", "/usr/share/games/wesnoth/1.16/data/core/music")
CHUNK = 64 * 1024


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listener(port, tracks, until, interval, latencies, errors, seed):
    rng = random.Random(seed)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    # Listeners start spread over one interval, as people do not press Play at once.
    next_at = time.perf_counter() + rng.random() * interval
    while time.perf_counter() < until:
        time.sleep(max(0.0, next_at - time.perf_counter()))
        next_at += interval
        song_id, size = rng.choice(tracks)
        start = rng.randrange(0, max(1, size - CHUNK))
        began = time.perf_counter()
        try:
            connection.request("GET", f"/api/library/tracks/{song_id}/audio",
                               headers={"Range": f"bytes={start}-{start + CHUNK - 1}"})
            response = connection.getresponse()
            body = response.read()
        except OSError as error:
            errors.append(str(error))
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            continue
        took = time.perf_counter() - began
        if response.status != 206 or len(body) != min(CHUNK, size - start):
            errors.append(f"{response.status} {len(body)}")
        latencies.append(took)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--listeners", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    # A browser playing a 320 kbit/s file asks for 64 KiB about every 1.6 s;
    # every 0.1 s is 16 times that, while seeking.
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between one listener's requests")
    parser.add_argument("--melodora", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release/melodora"))
    args = parser.parse_args()
    work = tempfile.mkdtemp()
    try:
        data = os.path.join(work, "data")
        env = dict(os.environ, MELODORA_LOG="warn")
        subprocess.run([args.melodora, "library", "add", WESNOTH, "--data-dir", data], check=True, env=env,
                       stdout=subprocess.DEVNULL)
        listed = subprocess.run([args.melodora, "library", "list", "--json", "--data-dir", data], check=True,
                                env=env, capture_output=True, text=True).stdout
        tracks = [(song["id"], os.path.getsize(song["path"])) for song in map(json.loads, listed.splitlines())]
        port = free_port()
        server = subprocess.Popen([args.melodora, "serve", "--addr", f"127.0.0.1:{port}", "--data-dir", data],
                                  env=env, stdout=subprocess.PIPE, text=True)
        try:
            for line in server.stdout:
                if "running at" in line:
                    break
            latencies, errors = [], []
            until = time.perf_counter() + args.seconds
            threads = [threading.Thread(target=listener, args=(port, tracks, until, args.interval, latencies, errors, i))
                       for i in range(args.listeners)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            server.terminate()
            server.wait()
        latencies.sort()
        pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
        print(f"{args.listeners} listeners, {len(tracks)} tracks, 64 KiB ranges every {args.interval} s each: {len(latencies)} answers in "
              f"{args.seconds:.0f} s ({len(latencies) / args.seconds:.0f}/s), {len(errors)} errors; "
              f"latency p50 {pick(0.5):.2f} ms, p90 {pick(0.9):.2f} ms, p99 {pick(0.99):.2f} ms, max {latencies[-1] * 1000:.2f} ms "
              f"({os.cpu_count()} cores, client and server on one machine)")
        if errors:
            print("errors:", errors[:5], file=sys.stderr)
            sys.exit(1)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
