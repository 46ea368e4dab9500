#!/usr/bin/env python3
"""Helper of benches/load.sh: turns one load run into one result row, and
all rows into the report. Standard library only.

  load_report.py ghz    ROWS CASE MODE CONC METRICS_URL METHOD JSON PID
  load_report.py h2load ROWS CASE MODE CONC METRICS_URL METHOD STDOUT LOG PID
  load_report.py baseline ROWS METRICS_URL METHOD PID
  load_report.py report ROWS SERVERS

baseline takes the server's counts now (health probes made while the
server started), so the first row counts only its own calls.
ROWS is a JSON-lines file each call appends one row to (and prints it, one
line); METHOD is the gRPC path whose server-side counts
(giropops_rpc_calls_total, the server's own view) are read from METRICS_URL
before ("-" to skip) and after: the row holds the difference. PID is the
server's: its VmHWM and VmRSS are read from /proc at the end of the run.
"""

import json
import os
import re
import sys
import urllib.request

CALLS = re.compile(r'^giropops_rpc_calls_total\{([^}]*)\}\s+([0-9.e+]+)\s*$', re.M)
LABEL = re.compile(r'(\w+)="([^"]*)"')


def server_codes(url, method):
    """The server's counts of calls to `method` (/pkg.Service/Method) by code."""
    if url == "-":
        return {}
    service, name = method.strip("/").split("/")
    try:
        text = urllib.request.urlopen(url, timeout=5).read().decode()
    except OSError:
        return {}
    counts = {}
    for labels, value in CALLS.findall(text):
        kv = dict(LABEL.findall(labels))
        if kv.get("service") == service and kv.get("method") == name:
            counts[kv.get("code", "?")] = int(float(value))
    return counts


def memory(pid):
    """VmHWM and VmRSS of `pid`, in KiB."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmHWM", "VmRSS"):
                    out[key] = int(value.split()[0])
    except OSError:
        pass
    return out.get("VmHWM"), out.get("VmRSS")


def state_delta(rows_path, pid, method, now):
    """Server counts since the previous row of the same server process."""
    state_path = f"{rows_path}.metrics.{pid}"
    before = {}
    if os.path.exists(state_path):
        with open(state_path) as f:
            before = json.load(f).get(method, {})
    with open(state_path, "w") as f:
        json.dump({method: now}, f)
    return {code: n - before.get(code, 0) for code, n in now.items() if n - before.get(code, 0)}


def cpu_split():
    """Cores used during the run (from load.sh's cpu_snapshot before and
    after, in CPU_BEFORE and CPU_AFTER): server, client, redis, other."""
    try:
        before = os.environ["CPU_BEFORE"].split()
        after = os.environ["CPU_AFTER"].split()
    except KeyError:
        return None
    hz = os.sysconf("SC_CLK_TCK")

    def clock(text):  # bash `times`: 1m2.345s
        minutes, _, rest = text.partition("m")
        return int(minutes) * 60 + float(rest.rstrip("s"))

    wall = (int(after[0]) - int(before[0])) / 1e9
    machine, server, redis = ((int(after[i]) - int(before[i])) / hz / wall for i in (1, 2, 3))
    client = (clock(after[4]) + clock(after[5]) - clock(before[4]) - clock(before[5])) / wall
    return {
        "server": server,
        "client": client,
        "redis": redis,
        "other": max(0.0, machine - server - client - redis),
    }


def percentile(sorted_values, p):
    """Nearest-rank percentile."""
    if not sorted_values:
        return None
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[int(rank) - 1]


def ms(ns):
    return None if ns is None else ns / 1e6


def from_ghz(path):
    with open(path) as f:
        r = json.load(f)
    dist = {d["percentage"]: d["latency"] for d in (r.get("latencyDistribution") or [])}
    codes = dict(r.get("statusCodeDistribution") or {})
    seconds = r["total"] / 1e9
    return {
        "tool": "ghz",
        "calls": r["count"],
        "seconds": seconds,
        "rps": r["rps"],
        "ok_rps": codes.get("OK", 0) / seconds if seconds else 0.0,
        "p50": ms(dist.get(50)),
        "p90": ms(dist.get(90)),
        "p99": ms(dist.get(99)),
        "max": ms(r.get("slowest")),
        "codes": codes,
        "errors": r.get("errorDistribution") or {},
    }


def from_h2load(stdout_path, log_path):
    with open(stdout_path) as f:
        text = f.read()
    finished = re.search(r"finished in ([0-9.]+)(m?s), ([0-9.]+) req/s", text)
    seconds = float(finished.group(1)) / (1000 if finished.group(2) == "ms" else 1)
    requests = re.search(
        r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout",
        text,
    )
    status = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", text)
    latencies = []
    http = {}
    with open(log_path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3:
                http[parts[1]] = http.get(parts[1], 0) + 1
                latencies.append(int(parts[2]) * 1000)  # µs → ns
    latencies.sort()
    done = int(requests.group(3))
    succeeded = int(requests.group(4))
    codes = {f"HTTP {k}": v for k, v in sorted(http.items())}
    for label, n in (("failed", 5), ("errored", 6), ("timeout", 7)):
        if int(requests.group(n)):
            codes[label] = int(requests.group(n))
    return {
        "tool": "h2load",
        "calls": done,
        "seconds": seconds,
        "rps": float(finished.group(3)),
        # h2load's req/s is over the measured duration (-D), not the whole run.
        "ok_rps": float(finished.group(3)) * succeeded / done if done else 0.0,
        "p50": ms(percentile(latencies, 50)),
        "p90": ms(percentile(latencies, 90)),
        "p99": ms(percentile(latencies, 99)),
        "max": ms(latencies[-1] if latencies else None),
        "codes": codes,
        "errors": {},
        "http_2xx": int(status.group(1)) if status else None,
    }


def fmt_codes(codes):
    return " ".join(f"{k}:{v}" for k, v in sorted(codes.items(), key=lambda kv: (kv[0] != "OK", kv[0]))) or "-"


def fmt(x, digits=2):
    return "-" if x is None else f"{x:.{digits}f}"


def fmt_cpu(cpu):
    if not cpu:
        return "-"
    return " ".join(f"{k} {v:.2f}" for k, v in cpu.items() if k != "redis" or v >= 0.005)


def cpu_cell(cpu):
    if not cpu:
        return "-"
    return " / ".join(f"{cpu[k]:.2f}" for k in ("server", "client", "redis", "other"))


def per_call(row):
    """Server CPU per answered call, in µs."""
    cpu = row.get("cpu")
    if not cpu or not row["rps"]:
        return "-"
    us = cpu["server"] / row["rps"] * 1e6
    return f"{us:.0f}" if us < 1000 else f"{us / 1000:.1f} ms"


def rate(x):
    return f"{x:.0f}" if x >= 100 else f"{x:.1f}"


def mib(kib):
    return "-" if kib is None else f"{kib / 1024:.1f}"


def add_row(kind, argv):
    rows, case, mode, conc, url, method = argv[:6]
    rest = argv[6:]
    if kind == "ghz":
        row = from_ghz(rest[0])
        pid = rest[1]
    else:
        row = from_h2load(rest[0], rest[1])
        pid = rest[2]
    row.update(case=case, mode=mode, conc=int(conc), method=method)
    row["server_codes"] = state_delta(rows, pid, method, server_codes(url, method))
    row["vmhwm_kib"], row["vmrss_kib"] = memory(pid)
    row["cpu"] = cpu_split()
    row["attempt"] = int(os.environ.get("ATTEMPT", "1"))
    limit = os.environ.get("MAX_OTHER")
    if limit and row["cpu"] and row["cpu"]["other"] > float(limit):
        print(
            f"  c={row['conc']:<3} {rate(row['ok_rps']):>7} OK/s, discarded: the rest of the machine took "
            f"{row['cpu']['other']:.2f} cores (over {limit})"
        )
        sys.exit(3)
    with open(rows, "a") as f:
        f.write(json.dumps(row) + "\n")
    print(
        f"  c={row['conc']:<3} {rate(row['rps']):>7} req/s  OK {rate(row['ok_rps']):>7}/s  "
        f"p50 {fmt(row['p50'])}  p90 {fmt(row['p90'])}  p99 {fmt(row['p99'])}  max {fmt(row['max'])} ms  "
        f"client {fmt_codes(row['codes'])}  server {fmt_codes(row['server_codes'])}  "
        f"VmHWM {mib(row['vmhwm_kib'])} MiB  {fmt_cpu(row['cpu'])}"
    )
    for err, n in row["errors"].items():
        print(f"        {n} x {err}")


def report(rows_path, servers_path):
    rows = [json.loads(l) for l in open(rows_path) if l.strip()]
    servers = [json.loads(l) for l in open(servers_path) if l.strip()]
    noop = {(r["mode"], r["conc"]): r["ok_rps"] for r in rows if r["case"] == "Health/Check" and r["tool"] == "ghz"}
    print("### Throughput and latency (ms)\n")
    print("req/s counts every answered call; OK/s only the OK ones; ratio is OK/s over")
    print("the no-op's (ghz Health/Check, same server mode, same concurrency). Codes are")
    print("as the client saw them (h2load sees HTTP statuses only) and as the server")
    print("counted them (giropops_rpc_calls_total). CPU: cores busy during the run")
    print("(server / load client / redis-server / everything else on the machine), and")
    print("the server's CPU time per answered call in µs.\n")
    print("| case | mode | conc | client | req/s | OK/s | p50 | p90 | p99 | max | codes (client) | codes (server) | ratio to no-op | CPU srv / cli / redis / other | srv µs/call |")
    print("| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | --- | ---: |")
    for r in rows:
        base = noop.get((r["mode"], r["conc"]))
        ratio = f"{r['ok_rps'] / base:.3g}" if base else "-"
        print(
            f"| {r['case']} | {r['mode']} | {r['conc']} | {r['tool']} | {rate(r['rps'])} | {rate(r['ok_rps'])} | "
            f"{fmt(r['p50'])} | {fmt(r['p90'])} | {fmt(r['p99'])} | {fmt(r['max'])} | "
            f"{fmt_codes(r['codes'])} | {fmt_codes(r['server_codes'])} | {ratio} | {cpu_cell(r.get('cpu'))} | {per_call(r)} |"
        )
    other = [r["cpu"]["other"] for r in rows if r.get("cpu")]
    if other:
        print(
            f"\nCPU taken by everything else on the machine during the runs (another build skews the figures):"
            f" mean {sum(other) / len(other):.2f} cores, max {max(other):.2f} (of {os.cpu_count()})."
        )
    again = [r for r in rows if r.get("attempt", 1) > 1]
    if again:
        print(
            f"{len(again)} of {len(rows)} runs were run again because the rest of the machine was busy: "
            + ", ".join(f"{r['case']} ({r['mode']}, c={r['conc']}, attempt {r['attempt']})" for r in again)
            + "."
        )
    errors = [(r, e, n) for r in rows for e, n in r["errors"].items()]
    if errors:
        print("\nError messages (ghz):\n")
        for r, e, n in errors:
            print(f"- {r['case']} ({r['mode']}, c={r['conc']}): {n} x `{e}`")
    print("\n### Server memory and start-up\n")
    print("One fresh server process per case. Idle RSS: VmRSS once SERVING, before any")
    print("load. Peak RSS: VmHWM at the end of the case (after its highest concurrency).\n")
    print("| case | mode | start → SERVING (ms) | idle RSS (MiB) | peak RSS (MiB) |")
    print("| --- | --- | ---: | ---: | ---: |")
    for s in servers:
        peak = [r["vmhwm_kib"] for r in rows if r["case"] == s["case"] and r["mode"] == s["mode"] and r["vmhwm_kib"]]
        print(f"| {s['case']} | {s['mode']} | {s['serving_ms']:.0f} | {mib(s['idle_rss_kib'])} | {mib(max(peak) if peak else None)} |")
    starts = sorted(s["serving_ms"] for s in servers)
    idles = sorted(s["idle_rss_kib"] for s in servers if s["idle_rss_kib"])
    peaks = [r["vmhwm_kib"] for r in rows if r["vmhwm_kib"]]
    print(
        f"\nStart → SERVING over {len(starts)} starts: median {starts[len(starts) // 2]:.0f} ms, "
        f"min {starts[0]:.0f} ms, max {starts[-1]:.0f} ms. Idle RSS: median {mib(idles[len(idles) // 2])} MiB. "
        f"Peak RSS over the run: {mib(max(peaks) if peaks else None)} MiB."
    )


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    kind = sys.argv[1]
    if kind in ("ghz", "h2load"):
        add_row(kind, sys.argv[2:])
    elif kind == "baseline":
        rows, url, method, pid = sys.argv[2:6]
        state_delta(rows, pid, method, server_codes(url, method))
    elif kind == "report":
        report(*sys.argv[2:4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
