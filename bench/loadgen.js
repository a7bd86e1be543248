#!/usr/bin/env node
'use strict';
/*
 * Copied unchanged (apart from this note) from the shared realtime-chat benchmark
 * harness's loadgen/loadgen.js, so that `make bench` and the side-by-side comparison
 * measure with the same generator. Adapters are looked up in ./adapters/ (ours: chat.js).
 *
 * Realtime chat load generator.
 *
 *   node loadgen.js --target socketio|ws|channels|./path/to/adapter.js --url URL
 *        --rooms R --members M --senders S --rate MSGS_PER_SEC_PER_SENDER
 *        --duration SECONDS --warmup SECONDS [--drain SECONDS] [--payload BYTES]
 *        [--connect-concurrency N] [--connect-timeout S] [--connect-phase-timeout S]
 *        [--header 'Name: value']... [--cookie 'k=v; k2=v2'] [--origin URL] [--run-id ID]
 *
 * R*M member connections are opened (the first S members of every room are also senders)
 * and each one joins its room through the target adapter. Senders then send open-loop at a
 * fixed rate (warmup messages are not counted), each message carrying a unique id and a
 * send timestamp from performance.now() of this same process, so latency has no clock skew.
 * Every receiving member records delivery latency. After the measured window the generator
 * waits up to --drain seconds for stragglers, then prints ONE JSON line on stdout.
 * Progress / diagnostics go to stderr. Exit code 0 on a completed run (even with errors),
 * 2 on bad arguments, 3 if the hard time limit fired.
 */
const path = require('path');
const { performance, monitorEventLoopDelay } = require('perf_hooks');

// ---------------------------------------------------------------- arguments
const NUMERIC = new Set([
  'rooms', 'members', 'senders', 'rate', 'duration', 'warmup', 'drain', 'payload',
  'connect-concurrency', 'connect-timeout', 'connect-phase-timeout', 'tick-ms',
]);
const DEFAULTS = {
  rooms: 1,
  members: 2,
  senders: 1,
  rate: 1,
  duration: 10,
  warmup: 2,
  drain: 5,
  payload: 32,
  'connect-concurrency': 50,
  'connect-timeout': 15,
  'connect-phase-timeout': 90,
  'tick-ms': 2,
  header: [],
};
const LIMITS = { duration: 60, warmup: 30, drain: 30, 'connect-phase-timeout': 180 };

function usage(msg) {
  if (msg) process.stderr.write(`loadgen: ${msg}\n`);
  process.stderr.write(
    'usage: node loadgen.js --target socketio|ws|channels|./adapter.js [--url URL] --rooms R ' +
      '--members M --senders S --rate MSGS_PER_SEC_PER_SENDER --duration S --warmup S ' +
      '[--drain S] [--payload BYTES] [--connect-concurrency N] [--header "K: V"] [--cookie C] ' +
      '[--origin URL] [--run-id ID]\n',
  );
  process.exit(2);
}

function parseArgs(argv) {
  const args = { ...DEFAULTS, header: [] };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    if (a === '-h' || a === '--help') usage();
    if (!a.startsWith('--')) usage(`unexpected argument ${a}`);
    a = a.slice(2);
    let val;
    const eq = a.indexOf('=');
    if (eq >= 0) {
      val = a.slice(eq + 1);
      a = a.slice(0, eq);
    } else {
      val = argv[++i];
      if (val === undefined) usage(`--${a} needs a value`);
    }
    if (NUMERIC.has(a)) {
      const n = Number(val);
      if (!Number.isFinite(n) || n < 0) usage(`--${a} must be a non-negative number`);
      args[a] = n;
    } else if (a === 'header') {
      args.header.push(val);
    } else {
      args[a] = val;
    }
  }
  if (!args.target) usage('--target is required');
  for (const [k, max] of Object.entries(LIMITS)) {
    if (args[k] > max) usage(`--${k} is capped at ${max}s to keep runs bounded`);
  }
  if (args.senders > args.members) usage('--senders cannot exceed --members');
  if (args.rooms < 1 || args.members < 1) usage('--rooms and --members must be >= 1');
  if (args.rooms * args.members > 20000) usage('rooms*members capped at 20000 connections');
  if (args.rate > 2000) usage('--rate capped at 2000 msgs/s per sender');
  args.headers = {};
  for (const h of args.header) {
    const c = h.indexOf(':');
    if (c <= 0) usage(`bad --header ${h}`);
    args.headers[h.slice(0, c).trim()] = h.slice(c + 1).trim();
  }
  if (args.cookie) args.headers.Cookie = args.cookie;
  return args;
}

function loadAdapter(target) {
  const file = /[/\\]|\.js$/.test(target)
    ? path.resolve(process.cwd(), target)
    : path.join(__dirname, 'adapters', `${target}.js`);
  let adapter;
  try {
    adapter = require(file);
  } catch (e) {
    usage(`cannot load adapter ${file}: ${e.message}`);
  }
  if (typeof adapter.connect !== 'function') usage(`adapter ${file} has no connect()`);
  return adapter;
}

// ---------------------------------------------------------------- stats helpers
class Samples {
  constructor() {
    this.buf = new Float64Array(1 << 16);
    this.n = 0;
  }
  push(v) {
    if (this.n === this.buf.length) {
      const nb = new Float64Array(this.buf.length * 2);
      nb.set(this.buf);
      this.buf = nb;
    }
    this.buf[this.n++] = v;
  }
  summary(digits = 3) {
    if (this.n === 0) return { count: 0, p50: null, p90: null, p99: null, max: null, mean: null };
    const a = this.buf.subarray(0, this.n).slice().sort();
    const q = (p) => a[Math.min(a.length - 1, Math.max(0, Math.ceil(p * a.length) - 1))];
    let sum = 0;
    for (let i = 0; i < a.length; i++) sum += a[i];
    const r = (x) => Number(x.toFixed(digits));
    return {
      count: a.length,
      p50: r(q(0.5)),
      p90: r(q(0.9)),
      p99: r(q(0.99)),
      max: r(a[a.length - 1]),
      mean: r(sum / a.length),
    };
  }
}

const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
const round = (x, d = 3) => (x == null || !Number.isFinite(x) ? x : Number(x.toFixed(d)));

function withTimeout(promise, ms, what) {
  let t;
  return Promise.race([
    promise,
    new Promise((_, rej) => {
      t = setTimeout(() => rej(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

// ---------------------------------------------------------------- main
async function main() {
  const args = parseArgs(process.argv.slice(2));
  const adapter = loadAdapter(args.target);
  const url = args.url || adapter.defaultUrl;
  if (!url) usage('--url is required for this adapter');
  const runId = args['run-id'] || Math.random().toString(36).slice(2, 8);

  const errors = Object.create(null);
  const err = (kind, detail) => {
    errors[kind] = (errors[kind] || 0) + 1;
    if (detail && errors[kind] <= 3) process.stderr.write(`loadgen: ${kind}: ${detail}\n`);
  };

  // Hard stop: never run longer than the configured phases plus a margin.
  const hardLimitS =
    args['connect-phase-timeout'] + args.warmup + args.duration + args.drain + 20;
  const hardTimer = setTimeout(() => {
    process.stderr.write(`loadgen: hard time limit ${hardLimitS}s reached, exiting\n`);
    process.stdout.write(JSON.stringify({ target: args.target, error: 'hard_timeout', errors }) + '\n');
    process.exit(3);
  }, hardLimitS * 1000);
  hardTimer.unref();

  const times = { start: Date.now() };
  const text = 'x'.repeat(Math.max(0, Math.floor(args.payload)));
  const tStart = performance.now();

  // Build member list.
  const members = [];
  const roomNames = [];
  for (let r = 0; r < args.rooms; r++) {
    roomNames.push(`b${runId}_r${r}`);
    for (let m = 0; m < args.members; m++) {
      members.push({ roomIdx: r, idx: m, sender: m < args.senders, conn: null, open: false });
    }
  }

  // Measurement state (filled in once the send schedule starts).
  let measureStart = Infinity; // performance.now() bounds of the measured window
  let measureEnd = Infinity;
  let lastMeasuredDelivery = 0;
  let deliveries = 0;
  let warmupDeliveries = 0;
  let lateDeliveries = 0; // measured-message deliveries arriving after the drain deadline
  let foreign = 0;
  let collecting = true;
  const latency = new Samples();
  // message id -> [deliveries seen, first-delivery latency, last-delivery latency] (ms)
  const recvStats = new Map();
  let closedDuringRun = 0;
  let running = false;

  let stray = 0; // frames on sockets that are not (or no longer) counted members
  const onMessageFor = (member) => (msg) => {
    const now = performance.now();
    if (!member.open) {
      stray++;
      return;
    }
    if (!msg || typeof msg.ts !== 'number' || msg.id == null) {
      foreign++;
      return;
    }
    if (msg.ts >= measureStart && msg.ts < measureEnd) {
      if (!collecting) {
        lateDeliveries++;
        return;
      }
      deliveries++;
      const lat = now - msg.ts;
      latency.push(lat);
      if (now > lastMeasuredDelivery) lastMeasuredDelivery = now;
      const st = recvStats.get(msg.id);
      if (st === undefined) recvStats.set(msg.id, [1, lat, lat]);
      else {
        st[0]++;
        st[2] = lat;
      }
    } else if (msg.ts < measureStart && msg.ts >= tStart) {
      warmupDeliveries++;
    } else {
      foreign++;
    }
  };

  // ------------------------------------------------ connect phase (bounded concurrency)
  const connectLat = new Samples();
  const connectDeadline = performance.now() + args['connect-phase-timeout'] * 1000;
  let next = 0;
  let ok = 0;
  const total = members.length;
  let lastProgress = performance.now();
  async function worker() {
    while (next < total) {
      const member = members[next++];
      if (performance.now() > connectDeadline) {
        err('connect_phase_timeout');
        continue;
      }
      const t0 = performance.now();
      try {
        member.conn = await withTimeout(
          adapter.connect({
            url,
            room: roomNames[member.roomIdx],
            roomIndex: member.roomIdx,
            memberIndex: member.idx,
            args,
            onMessage: onMessageFor(member),
            onClose: (info) => {
              if (member.open) {
                member.open = false;
                if (running) {
                  closedDuringRun++;
                  err('closed_during_run', info && JSON.stringify(info));
                }
              }
            },
            onError: (e) => err('socket_error', e && (e.message || String(e))),
          }),
          args['connect-timeout'] * 1000,
          'connect+join',
        );
        member.open = true;
        ok++;
        connectLat.push(performance.now() - t0);
      } catch (e) {
        err('connect_failed', e && (e.message || String(e)));
      }
      if (performance.now() - lastProgress > 2000) {
        lastProgress = performance.now();
        process.stderr.write(`loadgen: connected ${ok}/${total}\n`);
      }
    }
  }
  const nWorkers = Math.max(1, Math.min(args['connect-concurrency'], total));
  await Promise.all(Array.from({ length: nWorkers }, worker));
  const connectPhaseS = (performance.now() - tStart) / 1000;
  times.connected = Date.now();
  process.stderr.write(`loadgen: ${ok}/${total} connected in ${connectPhaseS.toFixed(2)}s\n`);

  // Members actually connected per room (expected receivers of each message).
  const roomOpen = new Array(args.rooms).fill(0);
  for (const m of members) if (m.open) roomOpen[m.roomIdx]++;
  const senders = members.filter((m) => m.sender && m.open);
  senders.forEach((s, i) => {
    s.sid = i;
    s.seq = 0;
    s.phase = Math.random() * (args.rate > 0 ? 1000 / args.rate : 0); // spread senders
  });

  // ------------------------------------------------ send phase (open loop)
  const ELD_RES_MS = 10;
  const eld = monitorEventLoopDelay({ resolution: ELD_RES_MS });
  let sent = 0;
  let warmupSent = 0;
  let expected = 0;
  const msgRoom = new Map(); // id -> roomIdx (measured messages only)
  running = true;
  const t0 = performance.now();
  measureStart = t0 + args.warmup * 1000;
  measureEnd = measureStart + args.duration * 1000;
  let cpuAtMeasure = null;
  let cpuAtEnd = null;
  let wallAtMeasure = 0;
  let wallAtEnd = 0;

  if (senders.length > 0 && args.rate > 0) {
    const intervalMs = 1000 / args.rate;
    await new Promise((resolve) => {
      const tick = () => {
        const now = performance.now();
        if (cpuAtMeasure === null && now >= measureStart) {
          cpuAtMeasure = process.cpuUsage();
          wallAtMeasure = now;
          times.measure_start = Date.now();
          eld.enable();
        }
        if (now >= measureEnd) {
          resolve();
          return;
        }
        for (const s of senders) {
          if (!s.open) continue;
          const due = Math.floor((now - t0 - s.phase) / intervalMs) + 1;
          while (s.seq < due) {
            const ts = performance.now();
            if (ts >= measureEnd) break;
            const id = s.sid * 1e6 + s.seq;
            s.seq++;
            try {
              s.conn.send({ id, ts, text, room: roomNames[s.roomIdx] });
            } catch (e) {
              err('send_failed', e && e.message);
              continue;
            }
            if (ts >= measureStart) {
              sent++;
              expected += roomOpen[s.roomIdx];
              msgRoom.set(id, s.roomIdx);
            } else {
              warmupSent++;
            }
          }
        }
        setTimeout(tick, args['tick-ms']);
      };
      tick();
    });
  } else {
    // Idle / hold mode: nobody sends; just keep the connections open.
    await sleep(args.warmup * 1000);
    cpuAtMeasure = process.cpuUsage();
    wallAtMeasure = performance.now();
    times.measure_start = Date.now();
    eld.enable();
    await sleep(args.duration * 1000);
  }
  cpuAtEnd = process.cpuUsage(cpuAtMeasure);
  wallAtEnd = performance.now();
  times.measure_end = Date.now();

  // ------------------------------------------------ drain
  const drainDeadline = performance.now() + args.drain * 1000;
  while (deliveries < expected && performance.now() < drainDeadline) await sleep(20);
  collecting = false;
  eld.disable();
  running = false;
  const drainS = (performance.now() - wallAtEnd) / 1000;

  // ------------------------------------------------ close
  for (const m of members) {
    if (m.conn) {
      m.open = false;
      try {
        m.conn.close();
      } catch (_) {
        /* ignore */
      }
    }
  }
  times.end = Date.now();

  // Duplicates / incomplete messages.
  // Per message: latency to its FIRST receiver (server + transport, little client-side
  // queueing) and to its LAST receiver (complete fan-out, for messages that reached everyone).
  let duplicates = 0;
  let incomplete = 0;
  const firstLat = new Samples();
  const fullLat = new Samples();
  for (const [id, room] of msgRoom) {
    const st = recvStats.get(id);
    const c = st ? st[0] : 0;
    if (c > roomOpen[room]) duplicates += c - roomOpen[room];
    if (c < roomOpen[room]) incomplete++;
    if (st) firstLat.push(st[1]);
    if (st && c >= roomOpen[room]) fullLat.push(st[2]);
  }
  if (duplicates) err('duplicates');
  if (foreign) errors.foreign_messages = foreign;
  if (stray) errors.stray_messages = stray;

  const measuredWallS = args.duration;
  const effWindowS =
    deliveries > 0 ? Math.max(measuredWallS, (lastMeasuredDelivery - measureStart) / 1000) : measuredWallS;
  const cpuUs = cpuAtEnd.user + cpuAtEnd.system;
  const errorTotal = Object.entries(errors)
    .filter(([k]) => k !== 'foreign_messages' && k !== 'stray_messages')
    .reduce((a, [, v]) => a + v, 0);
  // The histogram records whole timer intervals; subtract the sampling resolution to get lag.
  const ns = (x) => round(Math.max(0, x / 1e6 - ELD_RES_MS), 3);

  const out = {
    target: args.target,
    adapter: adapter.name || args.target,
    url,
    run_id: runId,
    params: {
      rooms: args.rooms,
      members: args.members,
      senders: args.senders,
      rate: args.rate,
      duration: args.duration,
      warmup: args.warmup,
      drain: args.drain,
      payload: args.payload,
      connect_concurrency: args['connect-concurrency'],
    },
    connections_attempted: total,
    connections_ok: ok,
    connect_phase_s: round(connectPhaseS, 3),
    connect_ms: connectLat.summary(1),
    offered_sends_per_sec: round(senders.length * args.rate, 1),
    offered_deliveries_per_sec: round(
      senders.reduce((a, s) => a + roomOpen[s.roomIdx], 0) * args.rate,
      1,
    ),
    sent,
    warmup_sent: warmupSent,
    expected_deliveries: expected,
    deliveries,
    delivery_ratio: expected > 0 ? round(deliveries / expected, 5) : null,
    deliveries_per_sec: round(deliveries / effWindowS, 1),
    delivery_window_s: round(effWindowS, 3),
    drain_s: round(drainS, 3),
    incomplete_messages: incomplete,
    late_deliveries: lateDeliveries,
    warmup_deliveries: warmupDeliveries,
    duplicates,
    latency_ms: latency.summary(3),
    first_delivery_latency_ms: firstLat.summary(3),
    full_fanout_latency_ms: fullLat.summary(3),
    errors: errorTotal,
    error_detail: errors,
    loadgen: {
      pid: process.pid,
      cpu_pct: round((100 * cpuUs) / 1000 / (wallAtEnd - wallAtMeasure), 1),
      // generator CPU spent per delivery+send during the measured window (client-side cost)
      cpu_us_per_delivery: deliveries > 0 ? round(cpuUs / deliveries, 2) : null,
      event_loop_lag_ms: eld.count
        ? { p50: ns(eld.percentile(50)), p99: ns(eld.percentile(99)), max: ns(eld.max) }
        : null,
      rss_mb: round(process.memoryUsage().rss / 1048576, 1),
    },
    times,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
  // Give sockets a moment to send close frames, then exit regardless.
  setTimeout(() => process.exit(0), 300).unref();
}

main().catch((e) => {
  process.stderr.write(`loadgen: fatal: ${e && e.stack}\n`);
  process.exit(1);
});
