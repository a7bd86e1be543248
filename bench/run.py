"""The chat's benchmark: runs the site as production does and measures it.

    python bench/run.py            # everything (about 10 minutes)
    python bench/run.py --quick    # smoke run: a few clients, seconds per scenario
    python bench/run.py --scenarios light,history

What it starts, all on 127.0.0.1 and stopped by PID when it ends (even on Ctrl-C):
a throwaway Redis on a free port, a fresh SQLite database under a temporary directory
(migrated, static files collected, seeded by bench/seed.py through the service layer),
and daphne serving chatsite.asgi:application with REDIS_URL set, as `make run` does. On
a machine with two or more cores daphne is pinned to CPU 0 and Redis plus the load
generators to CPU 1 (taskset), so "one daphne process on one core" is what is measured.

Scenarios (bench/README.md and docs/performance.md say more):
  light     10 rooms x 20 members, 2 senders/room at 5 msg/s: 2,000 deliveries/s;
            send-to-receive latency p50/p99 (bench/loadgen.js + bench/adapters/chat.js)
  saturate  10 rooms x 50 members, 5 senders/room; the per-sender rate doubles until a
            step fails (delivery ratio < 0.99 or p99 > 1 s), then bisects twice; the
            highest deliveries/s of a passing step
  idle      N authenticated sockets in 100 rooms, nobody sends: daphne's RSS before and
            during the hold, per connection
  history   GET /api/rooms/history/messages and ?before=<seq> pages on a room of
            1,000,000 messages: latency p50/p99 (one client, keep-alive)
  storm     1,000 clients drop, miss messages, reconnect at once and resume: time until
            every one is caught up (bench/storm.js)
  scale     saturate against two daphne processes (one per core), members split
            between them; only meaningful with more than two cores, see the docs

Results: a table on stdout and bench-results/<timestamp>.json (+ latest.json).
Every run is bounded in connections and seconds; the whole run has a time limit too.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import json
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PYTHON = sys.executable

SAT_MIN_RATIO = 0.99
SAT_MAX_P99_MS = 1000.0

TARGETS = {
    "saturate_deliveries_per_s": (">=", 42_000),
    "light_p50_ms": ("<=", 1.0),
    "light_p99_ms": ("<=", 5.0),
    "idle_kb_per_connection": ("<=", 18.0),
    "history_p99_ms": ("<=", 10.0),
    "storm_all_caught_up_ms": ("<=", 5_000),
    "storm_errors": ("<=", 0),
    "scale_two_vs_one": (">=", 1.8),
}


def sizes(quick: bool) -> dict:
    if quick:
        return {
            "light": dict(rooms=2, members=5, senders=1, rate=5, duration=3, warmup=1),
            "saturate": dict(rooms=2, members=5, senders=2, duration=3, warmup=1),
            "saturate_rates": (4, 4, 4),  # first, lowest, highest per-sender rate
            "fanout": dict(rooms=1, members=10, senders=1, duration=3, warmup=1),
            "fanout_rates": (20, 20, 20),
            "idle_connections": 40,
            "history_messages": 2_000,
            "history_requests": 30,
            "storm": dict(rooms=2, members=10, gap=5),
        }
    return {
        "light": dict(rooms=10, members=20, senders=2, rate=5, duration=20, warmup=3),
        "saturate": dict(rooms=10, members=50, senders=5, duration=10, warmup=2),
        "saturate_rates": (1, 0.125, 64),
        "fanout": dict(rooms=1, members=500, senders=1, duration=10, warmup=2),
        "fanout_rates": (10, 1, 400),
        "idle_connections": 10_000,
        "history_messages": 1_000_000,
        "history_requests": 2_000,
        "storm": dict(rooms=20, members=50, gap=20),
    }


# --------------------------------------------------------------------------- processes
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"process exited with {process.returncode} before listening"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout} s")


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# Other tenants of the machine: CPU used by processes that are not this run's (the
# approach of the shared chat benchmark harness's compare.py). A run is only as good as
# the quiet around it, so every scenario records it and waits for quiet first.
CLK_TCK = os.sysconf("SC_CLK_TCK")


def _all_cpu() -> dict:
    """{pid: (start ticks, cpu seconds, parent pid)} for every process, plus 'now'."""
    with open("/proc/uptime") as f:
        out: dict = {"now": float(f.read().split()[0])}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK
        out[int(name)] = (int(fields[19]), cpu, int(fields[1]))
    return out


def _ours(snapshot: dict) -> set[int]:
    """This process and everything it started, from a snapshot's parent links."""
    ours, todo = set(), [os.getpid()]
    children: dict[int, list[int]] = {}
    for pid, value in snapshot.items():
        if pid != "now":
            children.setdefault(value[2], []).append(pid)
    while todo:
        pid = todo.pop()
        ours.add(pid)
        todo.extend(children.get(pid, []))
    return ours


def _other_cpu_s(prev: dict, cur: dict) -> float:
    ours = _ours(cur) | _ours(prev)
    total = 0.0
    for pid, value in cur.items():
        if pid == "now" or pid in ours:
            continue
        start, cpu, _ = value
        old = prev.get(pid)
        if old is not None and old[0] == start:
            total += max(0.0, cpu - old[1])
        elif start / CLK_TCK >= prev["now"] - 0.05:
            total += cpu
    return total


class OtherLoad:
    """Samples, in a thread, the CPU that processes not ours use during a window."""

    def __init__(self, period: float = 0.5) -> None:
        self.period = period
        self.total = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        prev = _all_cpu()
        while not self._stop.wait(self.period):
            cur = _all_cpu()
            self.total += _other_cpu_s(prev, cur)
            prev = cur

    def __enter__(self) -> OtherLoad:
        self.t0 = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.pct = round(100 * self.total / max(0.001, time.monotonic() - self.t0), 1)


def wait_for_quiet(max_wait: float, threshold_pct: float = 10.0) -> dict:
    """Waits (bounded) until other processes use < threshold_pct of one CPU."""
    t0 = time.monotonic()
    while True:
        with OtherLoad() as load:
            time.sleep(2)
        waited = time.monotonic() - t0
        if load.pct < threshold_pct or waited >= max_wait:
            return {
                "other_cpu_pct_before": load.pct,
                "waited_s": round(waited, 1),
                "quiet": load.pct < threshold_pct,
            }


class Sampler:
    """Samples (epoch ms, CPU seconds, RSS KB) of some processes every 0.25 s."""

    def __init__(self, pids: list[int], period: float = 0.25) -> None:
        self.pids = pids
        self.period = period
        self.samples: list[tuple[float, float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        with contextlib.suppress(OSError):
            self.samples.append(
                (
                    time.time() * 1000,
                    sum(cpu_seconds(p) for p in self.pids),
                    sum(rss_kb(p) for p in self.pids),
                )
            )

    def _run(self) -> None:
        self._sample()
        while not self._stop.wait(self.period):
            self._sample()

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def cpu_pct(
        self, t0: float | None, t1: float | None, cores: int = 1
    ) -> float | None:
        """Average CPU % (of one core per process) between two epoch-ms times."""
        window = [s for s in self.samples if t0 is not None and t1 and t0 <= s[0] <= t1]
        if len(window) < 2:
            return None
        (a, cpu_a, _), (b, cpu_b, _) = window[0], window[-1]
        return round(100 * (cpu_b - cpu_a) / ((b - a) / 1000) / cores, 1)

    def rss_between(self, t0: float, t1: float) -> list[int]:
        return [s[2] for s in self.samples if t0 <= s[0] <= t1]


class Processes:
    """Everything this run started, stopped by PID (SIGTERM, then SIGKILL)."""

    def __init__(self) -> None:
        self.running: list[subprocess.Popen] = []

    def start(self, cmd: list[str], **kwargs) -> subprocess.Popen:
        process = subprocess.Popen(cmd, **kwargs)
        self.running.append(process)
        return process

    def stop(self, process: subprocess.Popen, timeout: float = 10) -> None:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process in self.running:
            self.running.remove(process)

    def stop_all(self) -> None:
        for process in reversed(list(self.running)):
            self.stop(process)


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.quick = args.quick
        self.size = sizes(args.quick)
        self.procs = Processes()
        self.workdir = Path(tempfile.mkdtemp(prefix="chat-bench-"))
        self.pin = args.pin and (os.cpu_count() or 1) >= 2 and shutil.which("taskset")
        self.redis_port = free_port()
        self.daphnes: list[tuple[subprocess.Popen, int]] = []
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "chatsite.settings",
            "DATABASE_URL": f"sqlite:///{self.workdir / 'chat.sqlite3'}",
            "CHAT_VAR_DIR": str(self.workdir),
            "STATIC_ROOT": str(self.workdir / "static"),
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "SECRET_KEY": "bench-only-secret-key-" + "0" * 40,
            "DJANGO_DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOG_LEVEL": "WARNING",
            # A handful of bench connections send the traffic of many people, far
            # above one person's flood limit (burst 20, 1/s): lift the limit, not the
            # check (each send still takes its token, from Redis).
            "CHAT_SEND_BURST": "1000000",
            "CHAT_SEND_RATE": "1000000",
        }
        for item in args.env:
            key, _, value = item.partition("=")
            self.env[key] = value
        self.accounts = self.workdir / "accounts.json"
        self.results: dict = {}

    def log(self, text: str) -> None:
        print(f"bench: {text}", file=sys.stderr, flush=True)

    def taskset(self, cpu: str) -> list[str]:
        return ["taskset", "-c", cpu] if self.pin else []

    # ------------------------------------------------------------------ setup
    def setup(self, scenarios: list[str]) -> None:
        self.log(f"work dir {self.workdir}")
        if not (BENCH / "node_modules" / "ws").exists():
            self.log("installing the load side (npm ci in bench/)")
            subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=BENCH,
                check=True,
            )
        redis = shutil.which("redis-server")
        if redis is None:
            raise SystemExit(
                "redis-server is not installed (apt-get install redis-server)"
            )
        self.redis = self.procs.start(
            [
                *self.taskset("1"),
                redis,
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_for_port(self.redis_port, self.redis)
        self.manage("migrate", "--noinput")
        self.manage("collectstatic", "--noinput", "--verbosity", "0")
        size = self.size
        rooms = max(size["light"]["rooms"], size["saturate"]["rooms"])
        members = max(size["light"]["members"], size["saturate"]["members"])
        idle_rooms, idle_members = self.idle_shape()
        if "idle" in scenarios:
            rooms, members = max(rooms, idle_rooms), max(members, idle_members)
        seed = [
            PYTHON,
            str(BENCH / "seed.py"),
            "--out",
            str(self.workdir),
            "--rooms",
            str(rooms),
            "--members",
            str(members),
        ]
        if "fanout" in scenarios:
            seed += ["--room0-members", str(size["fanout"]["members"])]
        if "storm" in scenarios:
            storm = size["storm"]
            seed += [
                "--storm-rooms",
                str(storm["rooms"]),
                "--storm-members",
                str(storm["members"] + 1),
            ]
        if "history" in scenarios:
            seed += [
                "--history",
                str(self.args.history_messages or size["history_messages"]),
            ]
        self.log("seeding: " + " ".join(seed[2:]))
        subprocess.run(seed, cwd=ROOT, env=self.env, check=True)

    def idle_shape(self) -> tuple[int, int]:
        n = self.args.idle_connections or self.size["idle_connections"]
        rooms = 100 if n >= 1000 else 4
        return rooms, max(1, n // rooms)

    def manage(self, *args: str) -> None:
        subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def start_daphne(self, cpu: str = "0") -> tuple[subprocess.Popen, int]:
        port = free_port()
        endpoint = ["-b", "127.0.0.1", "-p", str(port)]
        if self.args.backlog:
            endpoint = [
                "-e",
                f"tcp:port={port}:interface=127.0.0.1:backlog={self.args.backlog}",
            ]
        endpoint += ["--websocket_connect_timeout", "10"]
        log = open(self.workdir / f"daphne-{port}.log", "ab")
        process = self.procs.start(
            [
                *self.taskset(cpu),
                PYTHON,
                "-m",
                "daphne",
                *endpoint,
                "chatsite.asgi:application",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(port, process)
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/healthz", timeout=10
        ) as r:
            assert r.status == 200
        self.daphnes.append((process, port))
        return process, port

    def stop_daphnes(self) -> None:
        for process, _ in self.daphnes:
            self.procs.stop(process)
        self.daphnes = []

    def server_log_problems(self) -> list[str]:
        """Log records with an error or a traceback, one line each: the record's first
        line and, for a traceback, its last (the exception)."""
        problems = []
        for path in sorted(self.workdir.glob("daphne-*.log")):
            records: list[list[str]] = []
            in_traceback = False
            for line in path.read_text(errors="replace").splitlines():
                if records and line.startswith("Traceback"):
                    records[-1].append(line)
                    in_traceback = True
                elif records and in_traceback:
                    records[-1].append(line)
                    # The exception line, unindented, ends the traceback.
                    in_traceback = line.startswith((" ", "\t")) or not line
                else:
                    records.append([line])
            for record in records:
                text = "\n".join(record).lower()
                if "traceback" in text or " error " in text or "exception" in text:
                    last = record[-1] if len(record) > 1 else ""
                    problems.append(f"{path.name}: {record[0][:200]} | {last[:200]}")
        return problems

    # ------------------------------------------------------------------ load generators
    def node(self, script: str, *args: str, timeout: float) -> dict:
        cmd = [*self.taskset("1"), "node", str(BENCH / script), *args]
        try:
            done = subprocess.run(
                cmd, cwd=BENCH, capture_output=True, text=True, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            return {"error": f"{script} exceeded {timeout:.0f} s"}
        for line in reversed(done.stdout.splitlines()):
            if line.startswith("{"):
                return json.loads(line)
        return {
            "error": f"{script} printed no result (exit {done.returncode})",
            "stderr": done.stderr[-2000:],
        }

    def loadgen(self, ports: list[int], **params) -> dict:
        urls = ",".join(f"ws://127.0.0.1:{p}" for p in ports)
        args = [
            "--target",
            "chat",
            "--url",
            urls.split(",")[0],
            "--urls",
            urls,
            "--accounts",
            str(self.accounts),
            "--drain",
            str(params.pop("drain", 5)),
        ]
        for key, value in params.items():
            args += [f"--{key.replace('_', '-')}", str(value)]
        limit = 200 + params.get("warmup", 0) + params.get("duration", 0)
        return self.node("loadgen.js", *args, timeout=limit)

    # ------------------------------------------------------------------ scenarios
    def scenario_login(self) -> dict:
        """One real login through the login form, to prove the cookie path works."""
        _, port = self.start_daphne()
        probe = (
            "const {cookieFor}=require('./adapters/chat');"
            f"cookieFor({{'login-url':'http://127.0.0.1:{port}/accounts/login/',"
            "password:'bench-password-not-secret'},'u0-0')"
            ".then(c=>console.log(JSON.stringify({ok:!!c})),"
            "e=>console.log(JSON.stringify({ok:false,error:e.message})))"
        )
        done = subprocess.run(
            ["node", "-e", probe], cwd=BENCH, capture_output=True, text=True, timeout=60
        )
        self.stop_daphnes()
        return json.loads(done.stdout.strip().splitlines()[-1])

    def sampled_load(self, ports: list[int], **params) -> dict:
        """Runs the load generator while sampling the servers' CPU and the machine's
        other load; a run disturbed by other processes (> 10 % of a CPU) is repeated,
        up to twice, after waiting for quiet."""
        pids = [p.pid for p, _ in self.daphnes]
        for attempt in range(3):
            sampler = Sampler(pids)
            with sampler, OtherLoad() as other:
                result = self.loadgen(ports, **dict(params))
            times = result.get("times") or {}
            t0, t1 = times.get("measure_start"), times.get("measure_end")
            result["server_cpu_pct"] = sampler.cpu_pct(t0, t1, len(pids))
            result["other_cpu_pct"] = other.pct
            result["disturbed"] = other.pct > 10
            result["attempt"] = attempt + 1
            if result["server_cpu_pct"] and result.get("deliveries_per_sec"):
                # Server CPU per delivery (sends included): steadier than the rate
                # itself on a machine shared with others.
                result["server_cpu_us_per_delivery"] = round(
                    1e4 * result["server_cpu_pct"] / result["deliveries_per_sec"], 1
                )
            if other.pct <= 10 or attempt == 2 or not self.args.quiet_wait:
                return result
            self.log(f"  disturbed (other processes {other.pct} % CPU), repeating")
            wait_for_quiet(self.args.quiet_wait)
        return result

    def scenario_light(self) -> dict:
        _, port = self.start_daphne()
        result = self.sampled_load([port], **self.size["light"])
        self.stop_daphnes()
        return result

    def saturate_step(self, rate: float, processes: int, shape: str) -> dict:
        ports = [self.start_daphne(cpu=str(i % 2))[1] for i in range(processes)]
        result = self.sampled_load(ports, rate=rate, **self.size[shape])
        self.stop_daphnes()
        lat = (result.get("latency_ms") or {}).get("p99")
        result["passed"] = (
            not result.get("error")
            and result.get("connections_ok") == result.get("connections_attempted")
            and (result.get("delivery_ratio") or 0) >= SAT_MIN_RATIO
            and lat is not None
            and lat <= SAT_MAX_P99_MS
        )
        r = result
        self.log(
            f"  rate {rate}/sender x{processes} proc: "
            f"{r.get('deliveries_per_sec')} deliv/s, "
            f"ratio {r.get('delivery_ratio')}, p99 {lat} ms, "
            f"server CPU {r['server_cpu_pct']} %, other {r['other_cpu_pct']} %, "
            f"passed={r['passed']}"
        )
        return result

    def scenario_saturate(self, processes: int = 1, shape: str = "saturate") -> dict:
        """Doubles the rate from the first step while steps pass (halves it while they
        fail), then bisects between the last passing and first failing rate."""
        first, lowest, highest = self.size[f"{shape}_rates"]
        steps, good, bad, rate = [], None, None, first
        while True:
            step = self.saturate_step(rate, processes, shape)
            steps.append(step)
            if step["passed"]:
                good = rate
                if bad is not None or rate * 2 > highest:
                    break
                rate *= 2
            else:
                bad = rate
                if good is not None or rate / 2 < lowest:
                    break
                rate /= 2
        for _ in range(0 if self.quick else 2):
            if good is None or bad is None or max(good, bad) / min(good, bad) <= 1.15:
                break
            rate = round((good * bad) ** 0.5, 2)
            step = self.saturate_step(rate, processes, shape)
            steps.append(step)
            if step["passed"]:
                good = rate
            else:
                bad = rate
        passing = [s for s in steps if s["passed"]]
        best = max(passing, key=lambda s: s["deliveries_per_sec"], default=None)
        failed = [s for s in steps if not s["passed"]]
        return {
            "processes": processes,
            "max_sustained_deliveries_per_sec": best["deliveries_per_sec"]
            if best
            else 0,
            "best_step": best,
            "steps": steps,
            "limit_reached": bad is not None,
            # A failing step that other processes disturbed may have failed for them.
            "disturbed": any(s.get("disturbed") for s in failed),
        }

    def scenario_idle(self) -> dict:
        process, port = self.start_daphne()
        # Warm up: one socket, so lazy imports are not counted per socket.
        self.loadgen(
            [port], rooms=1, members=1, senders=0, rate=0, duration=1, warmup=0, drain=0
        )
        time.sleep(1)
        before = rss_kb(process.pid)
        rooms, members = self.idle_shape()
        hold = 10 if not self.quick else 3
        with Sampler([process.pid]) as sampler, OtherLoad() as other:
            result = self.loadgen(
                [port],
                rooms=rooms,
                members=members,
                senders=0,
                rate=0,
                duration=hold,
                warmup=0,
                drain=0,
                connect_phase_timeout=180,
            )
        connected = result.get("connections_ok") or 0
        times = result.get("times") or {}
        # The hold: from 1 s after the last socket connected until they close.
        held = sampler.rss_between(
            times.get("connected", 0) + 1000, times.get("measure_end", 0)
        )
        during = statistics.median(held) if held else before
        self.stop_daphnes()
        return {
            "connections": connected,
            "attempted": result.get("connections_attempted"),
            "connect_phase_s": result.get("connect_phase_s"),
            "rss_before_kb": before,
            "rss_during_hold_kb": during,
            "rss_peak_kb": max((s[2] for s in sampler.samples), default=before),
            "kb_per_connection": round((during - before) / connected, 2)
            if connected
            else None,
            "connect_cpu_pct": sampler.cpu_pct(
                times.get("start"), times.get("connected")
            ),
            "other_cpu_pct": other.pct,
            "errors": result.get("errors"),
            "error_detail": result.get("error_detail"),
        }

    def scenario_history(self) -> dict:
        _, port = self.start_daphne()
        accounts = json.loads(self.accounts.read_text())
        cookie = accounts["accounts"]["u0-0"]["cookie"]
        total = self.args.history_messages or self.size["history_messages"]
        n = self.size["history_requests"]
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        headers = {"Cookie": cookie}
        rng = random.Random(1)

        def get(path: str) -> float:
            t0 = time.perf_counter()
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            body = response.read()
            elapsed = (time.perf_counter() - t0) * 1000
            if response.status != 200 or len(json.loads(body)["messages"]) != 50:
                raise RuntimeError(f"{path}: HTTP {response.status} {body[:200]!r}")
            return elapsed

        base = "/api/rooms/history/messages"
        for _ in range(min(50, n)):  # warm up
            get(base)
        latest = [get(base) for _ in range(n)]
        before = [get(f"{base}?before={rng.randint(51, total)}") for _ in range(n)]
        connection.close()
        self.stop_daphnes()
        return {
            "messages_in_room": total,
            "requests_each": n,
            "latest_page_ms": summary(latest),
            "before_page_ms": summary(before),
            "all_ms": summary(latest + before),
        }

    def scenario_storm(self) -> dict:
        """Also records the server's CPU time during the reconnects: close to the
        storm's length means the core was the limit, far below means waiting was."""
        process, port = self.start_daphne()
        storm = self.size["storm"]
        with Sampler([process.pid]) as sampler:
            result = self.node(
                "storm.js",
                "--url",
                f"ws://127.0.0.1:{port}",
                "--accounts",
                str(self.accounts),
                "--rooms",
                str(storm["rooms"]),
                "--members",
                str(storm["members"]),
                "--gap",
                str(storm["gap"]),
                "--timeout",
                "60",
                timeout=240,
            )
        if (start := result.get("storm_started_epoch_ms")) is not None:
            end = start + result["storm_window_ms"]
            before = [cpu for at, cpu, _ in sampler.samples if at <= start]
            during = [cpu for at, cpu, _ in sampler.samples if at <= end]
            if before and during:
                result["server_cpu_s"] = round(during[-1] - before[-1], 2)
        self.stop_daphnes()
        return result

    def scenario_fanout(self) -> dict:
        """The delivery path alone: one room of 500, one sender, so writes are few."""
        return self.scenario_saturate(1, "fanout")

    def scenario_scale(self) -> dict:
        one = self.results.get("saturate") or self.scenario_saturate(1)
        two = self.scenario_saturate(2)
        a, b = (
            one["max_sustained_deliveries_per_sec"],
            two["max_sustained_deliveries_per_sec"],
        )
        return {
            "cores": os.cpu_count(),
            "one_process": a,
            "two_processes": b,
            "ratio": round(b / a, 2) if a else None,
            "two": two,
        }


def summary(values: list[float]) -> dict:
    if not values:
        return {"count": 0}
    ordered = sorted(values)

    def q(p: float) -> float:
        return round(
            ordered[min(len(ordered) - 1, max(0, int(p * len(ordered) + 0.5) - 1))], 3
        )

    return {
        "count": len(ordered),
        "p50": q(0.5),
        "p90": q(0.9),
        "p99": q(0.99),
        "max": round(ordered[-1], 3),
        "mean": round(statistics.fmean(ordered), 3),
    }


# --------------------------------------------------------------------------- report
def headline(results: dict) -> dict:
    """The figures the targets are about, from the scenario results."""
    out: dict = {}
    if light := results.get("light"):
        lat = light.get("latency_ms") or {}
        out["light_deliveries_per_s"] = light.get("deliveries_per_sec")
        out["light_p50_ms"] = lat.get("p50")
        out["light_p99_ms"] = lat.get("p99")
        out["light_server_cpu_pct"] = light.get("server_cpu_pct")
        if light.get("disturbed"):
            out["light_note"] = f"disturbed: others used {light['other_cpu_pct']} % CPU"
    if sat := results.get("saturate"):
        out["saturate_deliveries_per_s"] = sat.get("max_sustained_deliveries_per_sec")
        if best := sat.get("best_step"):
            out["saturate_server_cpu_us_per_delivery"] = best.get(
                "server_cpu_us_per_delivery"
            )
        if sat.get("disturbed"):
            out["saturate_note"] = "a failing step was disturbed by other processes"
    if fan := results.get("fanout"):
        out["fanout_deliveries_per_s"] = fan.get("max_sustained_deliveries_per_sec")
        if best := fan.get("best_step"):
            out["fanout_server_cpu_us_per_delivery"] = best.get(
                "server_cpu_us_per_delivery"
            )
        if fan.get("disturbed"):
            out["fanout_note"] = "a failing step was disturbed by other processes"
    if idle := results.get("idle"):
        out["idle_connections"] = idle.get("connections")
        out["idle_kb_per_connection"] = idle.get("kb_per_connection")
    if hist := results.get("history"):
        out["history_p50_ms"] = hist["all_ms"].get("p50")
        out["history_p99_ms"] = hist["all_ms"].get("p99")
    if storm := results.get("storm"):
        out["storm_clients"] = storm.get("clients")
        out["storm_all_caught_up_ms"] = storm.get("all_caught_up_ms")
        out["storm_errors"] = storm.get("errors")
    if scale := results.get("scale"):
        out["scale_two_vs_one"] = scale.get("ratio")
    return out


def verdicts(figures: dict) -> dict:
    out = {}
    for key, (op, goal) in TARGETS.items():
        value = figures.get(key)
        if value is None:
            continue
        out[key] = {
            "value": value,
            "target": f"{op} {goal:,}",
            "met": value >= goal if op == ">=" else value <= goal,
        }
    return out


def print_table(figures: dict, checks: dict) -> None:
    rows = [("figure", "value", "target", "met")]
    for key, value in figures.items():
        check = checks.get(key)
        shown = f"{value:,}" if isinstance(value, int | float) else str(value)
        rows.append(
            (
                key,
                shown,
                check["target"] if check else "",
                ("yes" if check["met"] else "NO") if check else "",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for i, row in enumerate(rows):
        print(
            "| "
            + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))
            + " |"
        )
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


def environment(bench: Bench) -> dict:
    def version(module: str) -> str | None:
        with contextlib.suppress(Exception):
            from importlib.metadata import version as v

            return v(module)
        return None

    cpu = None
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        cpu = next(
            (
                line.split(":", 1)[1].strip()
                for line in f
                if line.startswith("model name")
            ),
            None,
        )
    node = subprocess.run(
        ["node", "--version"], capture_output=True, text=True
    ).stdout.strip()
    redis = subprocess.run(
        ["redis-server", "--version"], capture_output=True, text=True
    ).stdout.strip()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "node": node,
        "redis": redis,
        "packages": {
            m: version(m)
            for m in (
                "django",
                "channels",
                "channels-redis",
                "daphne",
                "twisted",
                "autobahn",
                "redis",
                "msgpack",
                "hiredis",
                "orjson",
            )
        },
        "pinning": (
            "daphne: taskset -c 0; redis + load generators: taskset -c 1"
            if bench.pin
            else "none"
        ),
        "daphne_backlog": bench.args.backlog or "daphne's default (50)",
        "extra_env": bench.args.env,
        "commit": commit,
    }


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--quick", action="store_true", help="smoke run: seconds, a few clients"
    )
    ap.add_argument(
        "--scenarios", default="login,light,saturate,fanout,idle,history,storm"
    )
    ap.add_argument("--out", type=Path, default=ROOT / "bench-results")
    ap.add_argument("--idle-connections", type=int, default=0)
    ap.add_argument("--history-messages", type=int, default=0)
    ap.add_argument(
        "--backlog",
        type=int,
        default=1024,
        help="daphne's listen backlog, as `make run` and the deployment unit set it "
        "(0: daphne's default, 50)",
    )
    ap.add_argument(
        "--no-pin", dest="pin", action="store_false", help="do not use taskset"
    )
    ap.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment for the site (e.g. DATABASE_CONN_MAX_AGE=60)",
    )
    ap.add_argument(
        "--quiet-wait",
        type=float,
        default=None,
        help="before each scenario wait up to this many seconds for other processes "
        "to use < 10%% CPU (0: do not wait; default 120, with --quick 0)",
    )
    ap.add_argument("--time-limit", type=float, default=3600, help="whole run, seconds")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    if args.quiet_wait is None:
        args.quiet_wait = 0 if args.quick else 120
    names = [s for s in args.scenarios.split(",") if s]
    known = {
        "login",
        "light",
        "saturate",
        "fanout",
        "idle",
        "history",
        "storm",
        "scale",
    }
    if unknown := set(names) - known:
        ap.error(f"unknown scenarios {sorted(unknown)}; known: {sorted(known)}")

    def interrupted(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGALRM, interrupted)
    signal.alarm(int(args.time_limit))

    bench = Bench(args)
    started = dt.datetime.now()
    try:
        bench.setup(names)
        for name in names:
            quiet = wait_for_quiet(args.quiet_wait) if args.quiet_wait else None
            bench.log(f"scenario {name}" + (f" (machine: {quiet})" if quiet else ""))
            t0 = time.monotonic()
            with OtherLoad() as load:
                result = getattr(bench, f"scenario_{name}")()
            result["scenario_s"] = round(time.monotonic() - t0, 1)
            result["other_cpu_pct"] = load.pct
            result["quiet_check"] = quiet
            bench.results[name] = result
            if load.pct > 10:
                bench.log(
                    f"  other processes used {load.pct} % CPU meanwhile: disturbed"
                )
    except KeyboardInterrupt as exc:
        bench.log(f"interrupted ({exc}); stopping what was started")
        bench.results["interrupted"] = str(exc)
    finally:
        signal.alarm(0)
        bench.procs.stop_all()

    figures = headline(bench.results)
    checks = verdicts(figures)
    report = {
        "started": started.isoformat(timespec="seconds"),
        "quick": args.quick,
        "environment": environment(bench),
        "figures": figures,
        "targets": checks,
        "server_log_problems": bench.server_log_problems()[:50],
        "scenarios": bench.results,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{started:%Y%m%dT%H%M%S}{'-quick' if args.quick else ''}.json"
    path.write_text(json.dumps(report, indent=1) + "\n")
    (args.out / "latest.json").write_text(json.dumps(report, indent=1) + "\n")
    print_table(figures, checks)
    print(f"results: {path}")
    if not args.keep:
        shutil.rmtree(bench.workdir, ignore_errors=True)
    return 1 if "interrupted" in bench.results else 0


if __name__ == "__main__":
    sys.exit(main())
