#!/usr/bin/env python3
"""The service at its shipped defaults, next to LOG_LEVEL=warn, same run.

    python3 benches/defaults.py                 # 8 s per run, 2 rounds (docs/BENCHMARKS.md)
    python3 benches/defaults.py --short         # CI: 2 s, 1 round, judges nothing
    options: --seconds N  --rounds N  --concurrency N  --bin PATH  --json FILE

Cases (64 concurrent calls on one HTTP/2 connection, as a client pool
does): the health Check (the no-op), GeneratePassword stateless (the
defaults: nobody keeps a history, no Redis), GeneratePassword with the
history (Redis, encrypted, cap 10: anonymous callers get the `history`
scope, nothing else changes), GeneratePassphrase, and Connect JSON
GeneratePassword over h2c. gRPC cases are driven by ghz (through
reflection, on by default), Connect by h2load.

Each case runs at `info` (the default: one log line per call, written to a
file) and at `warn`, interleaved, each on a fresh server; rounds repeat the
whole set and the report keeps each figure's median. Per run: OK calls/s,
p50/p99, the server's CPU per call and Redis's (from /proc, plus Redis's
own `INFO commandstats` time), and the server's peak RSS (VmHWM). CPU per
call is the figure that stays stable on a noisy machine; calls/s and p99
move with whatever else runs (ghz itself takes about one of the 2 cores).

Starts its own redis-server and servers on free loopback ports, cleans up
on exit, and every client run is bounded in time. Needs: cargo (unless
--bin), go (installs ghz into benches/.tools), h2load (nghttp2-client),
redis-server, redis-cli.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GHZ_VERSION = "v0.120.0"
TICK = os.sysconf("SC_CLK_TCK")
SVC = "giropops.v1.PasswordService"
LEVELS = ("info", "warn")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ghz_binary():
    tools = HERE / ".tools" / "bin"
    ghz = tools / "ghz"
    stamp = tools / "ghz.version"
    if not ghz.exists() or not stamp.exists() or stamp.read_text().strip() != GHZ_VERSION:
        print(f"# installing ghz {GHZ_VERSION} into {tools} (about a minute)", flush=True)
        tools.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, GOBIN=str(tools))
        subprocess.run(["go", "install", f"github.com/bojand/ghz/cmd/ghz@{GHZ_VERSION}"], env=env, check=True)
        stamp.write_text(GHZ_VERSION + "\n")
    return str(ghz)


def ticks(pid):
    """User + system CPU ticks of a process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def commandstats(port):
    """Redis's own count of commands and microseconds spent in them."""
    out = subprocess.run(
        ["redis-cli", "-p", str(port), "info", "commandstats"], capture_output=True, text=True, check=True
    ).stdout
    calls = usec = 0
    for line in out.splitlines():
        if line.startswith("cmdstat_") and not line.startswith("cmdstat_info"):
            fields = dict(kv.split("=", 1) for kv in line.split(":", 1)[1].split(","))
            calls += int(fields["calls"])
            usec += int(fields["usec"])
    return calls, usec


class Server:
    def __init__(self, binary, work, level, extra):
        self.port = free_port()
        self.metrics_port = free_port()
        self.log = open(work / f"server-{self.port}.log", "wb")
        args = [binary, "--listen", f"127.0.0.1:{self.port}", "--metrics-listen", f"127.0.0.1:{self.metrics_port}"]
        args += ["--log-level", level, *extra]
        # Nothing from this shell's environment: the defaults are the binary's.
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log, env={"PATH": os.environ["PATH"]})
        self.binary = binary
        for _ in range(500):
            if self.proc.poll() is not None:
                sys.exit(f"server exited: {Path(self.log.name).read_text()[-2000:]}")
            ok = subprocess.run(
                [binary, "healthcheck", "--addr", f"http://127.0.0.1:{self.port}", "--timeout", "1s"],
                capture_output=True,
            )
            if ok.returncode == 0:
                return
            time.sleep(0.02)
        sys.exit("server never SERVING")

    def metric(self, name):
        import urllib.request

        body = urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).read().decode()
        return sum(float(line.split()[-1]) for line in body.splitlines() if line.startswith(name + " ") or line.startswith(name + "{"))

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def percentile(sorted_values, q):
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def run_ghz(ghz, port, method, data, concurrency, seconds, out):
    subprocess.run(
        [ghz, "--insecure", "--disable-template-data", "--count-errors", "--call", method, "-d", data,
         "-c", str(concurrency), "--connections", "1", "-z", f"{seconds}s", "--duration-stop", "wait",
         "-O", "json", "-o", str(out), f"127.0.0.1:{port}"],
        check=True, timeout=seconds + 120, stdout=subprocess.DEVNULL,
    )
    d = json.loads(out.read_text())
    codes = d.get("statusCodeDistribution") or {}
    ok = int(codes.get("OK", 0))
    latencies = {x["percentage"]: x["latency"] / 1e6 for x in d.get("latencyDistribution") or []}
    wall = d["total"] / 1e9
    return {"ok": ok, "calls_s": ok / wall, "p50_ms": latencies.get(50), "p99_ms": latencies.get(99),
            "errors": {k: v for k, v in codes.items() if k != "OK"}}


def run_h2load(port, path, body, concurrency, seconds, out):
    log = out.with_suffix(".log")
    log.unlink(missing_ok=True)
    t0 = time.monotonic()
    subprocess.run(
        ["h2load", "-c", "1", "-m", str(concurrency), "-D", str(seconds), "-d", str(body),
         "-H", "content-type: application/json", "--log-file", str(log), f"http://127.0.0.1:{port}{path}"],
        check=True, timeout=seconds + 120, stdout=out.open("w"),
    )
    wall = time.monotonic() - t0
    rows = [line.split("\t") for line in log.read_text().splitlines() if line]
    ok = [int(r[2]) / 1000 for r in rows if r[1] == "200"]
    ok.sort()
    errors = len(rows) - len(ok)
    return {"ok": len(ok), "calls_s": len(ok) / min(wall, seconds), "p50_ms": percentile(ok, 50),
            "p99_ms": percentile(ok, 99), "errors": {"non-200": errors} if errors else {}}


def measure(args, ghz, work, redis, case, level):
    name, tool, method, data, extra = case
    server = Server(args.bin, work, level, extra)
    try:
        out = work / f"{name}-{level}.json"
        # Warm-up: connections, allocator, the history's writer task.
        if tool == "ghz":
            subprocess.run([ghz, "--insecure", "--call", method, "-d", data, "-c", "16", "-z", "1s",
                            f"127.0.0.1:{server.port}"], check=True, timeout=60, stdout=subprocess.DEVNULL)
        else:
            subprocess.run(["h2load", "-c", "1", "-m", "16", "-D", "1", "-d", str(data), "-H",
                            "content-type: application/json", f"http://127.0.0.1:{server.port}/{method}"],
                           check=True, timeout=60, stdout=subprocess.DEVNULL)
        s0, r0, (c0, u0) = ticks(server.proc.pid), ticks(redis.pid), commandstats(args.redis_port)
        if tool == "ghz":
            row = run_ghz(ghz, server.port, method, data, args.concurrency, args.seconds, out)
        else:
            row = run_h2load(server.port, f"/{method}", data, args.concurrency, args.seconds, out)
        s1, r1, (c1, u1) = ticks(server.proc.pid), ticks(redis.pid), commandstats(args.redis_port)
        calls = max(row["ok"], 1)
        row.update(
            case=name, level=level,
            server_us=(s1 - s0) * 1e6 / TICK / calls,
            redis_us=(r1 - r0) * 1e6 / TICK / calls,
            redis_cmd_us=(u1 - u0) / calls,
            redis_cmds=(c1 - c0 - 1) / calls,  # less the INFO of the snapshot
            hwm_mib=status_kib(server.proc.pid, "VmHWM") / 1024,
            log_dropped=server.metric("giropops_log_lines_dropped_total"),
        )
        return row
    finally:
        server.stop()


def median_rows(rows):
    merged = {}
    for row in rows:
        merged.setdefault((row["case"], row["level"]), []).append(row)
    result = {}
    for key, group in merged.items():
        first = dict(group[0])
        for field in ("calls_s", "p50_ms", "p99_ms", "server_us", "redis_us", "redis_cmd_us", "redis_cmds", "hwm_mib", "log_dropped"):
            first[field] = statistics.median(r[field] for r in group)
        first["errors"] = {k: sum(r["errors"].get(k, 0) for r in group) for g in group for k in g["errors"]}
        first["runs"] = len(group)
        result[key] = first
    return result


def report(rows, args):
    m = median_rows(rows)
    print()
    print(f"| case | log | calls/s | p50 ms | p99 ms | server µs/call | Redis µs/call (process / commands) | Redis cmds/call | peak RSS MiB | errors |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for name, *_ in args.cases:
        for level in LEVELS:
            r = m[(name, level)]
            errors = ", ".join(f"{k} {v}" for k, v in r["errors"].items()) or "none"
            if r["log_dropped"]:
                errors += f"; {r['log_dropped']:.0f} log lines dropped"
            print(f"| {name} | {level} | {r['calls_s']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
                  f"{r['server_us']:.1f} | {r['redis_us']:.1f} / {r['redis_cmd_us']:.1f} | {r['redis_cmds']:.2f} | "
                  f"{r['hwm_mib']:.1f} | {errors} |")
    print()
    print("Against issue #23's goals (medians; ratios within one level):")
    for level in LEVELS:
        noop, stateless, history = m[("no-op", level)], m[("stateless", level)], m[("history", level)]
        checks = [
            ("history ≥ 0.85× stateless", history["calls_s"] / stateless["calls_s"], 0.85, "≥"),
            ("stateless ≥ 0.9× no-op", stateless["calls_s"] / noop["calls_s"], 0.9, "≥"),
            ("history p99 ≤ max(5 ms, 1.5× no-op p99) ms", history["p99_ms"], max(5.0, 1.5 * noop["p99_ms"]), "≤"),
            ("history − stateless server CPU ≤ 8 µs", history["server_us"] - stateless["server_us"], 8.0, "≤"),
            ("Redis CPU per entry ≤ 5 µs", history["redis_us"], 5.0, "≤"),
            ("peak RSS ≤ 25 MB", max(m[(n, level)]["hwm_mib"] for n, *_ in args.cases) * 1.048576, 25.0, "≤"),
        ]
        for label, value, goal, op in checks:
            met = value >= goal if op == "≥" else value <= goal
            print(f"- [{level}] {label}: {value:.2f} ({'met' if met else 'MISSED'}; goal {op} {goal:.2f})")
    print()
    print("The log line (info − warn, same case):")
    for name, *_ in args.cases:
        info, warn = m[(name, "info")], m[(name, "warn")]
        cost = info["server_us"] - warn["server_us"]
        loss = 1 - info["calls_s"] / warn["calls_s"]
        print(f"- {name}: {cost:+.1f} µs of server CPU per call, {loss:+.1%} calls/s "
              f"({'met' if cost <= 2 and loss <= 0.05 else 'MISSED'}; goal ≤ 2 µs and ≤ 5 %)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--bin")
    parser.add_argument("--json", help="also write every run's figures there")
    parser.add_argument("--short", action="store_true")
    args = parser.parse_args()
    if args.short:
        args.seconds, args.rounds = 2, 1
    for tool in ("h2load", "redis-server", "redis-cli"):
        if not shutil.which(tool):
            sys.exit(f"{tool} missing (h2load: apt-get install nghttp2-client)")
    ghz = ghz_binary()
    if not args.bin:
        subprocess.run(["cargo", "build", "--release", "--locked", "--quiet"], cwd=ROOT, check=True)
        args.bin = str(ROOT / "target" / "release" / "giropops-senhas")
    work = Path(tempfile.mkdtemp(prefix="giropops-defaults."))
    args.redis_port = free_port()
    redis = subprocess.Popen(
        ["redis-server", "--port", str(args.redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(work), "--logfile", str(work / "redis.log")]
    )
    try:
        for _ in range(100):
            if subprocess.run(["redis-cli", "-p", str(args.redis_port), "ping"], capture_output=True).returncode == 0:
                break
            time.sleep(0.05)
        keys = work / "history-keys"
        keys.write_text("bench " + __import__("base64").b64encode(os.urandom(32)).decode() + "\n")
        keys.chmod(0o600)
        history = ["--redis-url", f"redis://127.0.0.1:{args.redis_port}", "--history-keys-file", str(keys),
                   "--anonymous-scopes", "generate,check,history"]
        connect = work / "connect.json"
        connect.write_text('{"length": 16}')
        args.cases = [
            ("no-op", "ghz", "grpc.health.v1.Health/Check", "{}", []),
            ("stateless", "ghz", f"{SVC}/GeneratePassword", '{"length": 16}', []),
            ("history", "ghz", f"{SVC}/GeneratePassword", '{"length": 16}', history),
            ("passphrase", "ghz", f"{SVC}/GeneratePassphrase", "{}", []),
            ("Connect JSON", "h2load", f"{SVC}/GeneratePassword", connect, []),
        ]
        git = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True)
        print(f"# defaults benchmark: {args.seconds} s per run, {args.rounds} round(s), {args.concurrency} concurrent "
              f"on one connection; {os.cpu_count()} cores; server {args.bin} ({git.stdout.strip() or '?'}); "
              f"ghz {GHZ_VERSION}; load average {open('/proc/loadavg').read().split()[:3]}", flush=True)
        rows = []
        for round_ in range(1, args.rounds + 1):
            for case in args.cases:
                for level in LEVELS:
                    row = measure(args, ghz, work, redis, case, level)
                    row["round"] = round_
                    rows.append(row)
                    print(f"  round {round_} {row['case']:<13} {level:<4} {row['calls_s']:>8,.0f} calls/s  "
                          f"p50 {row['p50_ms']:.2f}  p99 {row['p99_ms']:.2f} ms  server {row['server_us']:.1f} µs  "
                          f"redis {row['redis_us']:.1f} µs  HWM {row['hwm_mib']:.1f} MiB  {row['errors'] or ''}",
                          flush=True)
        if args.json:
            Path(args.json).write_text(json.dumps(rows, indent=1))
        report(rows, args)
        if any(r["errors"] for r in rows):
            sys.exit("some calls failed (see errors above)")
    finally:
        redis.terminate()
        redis.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
