#!/usr/bin/env node
'use strict';
/*
 * Reconnect storm: N clients drop their sockets, messages are posted while they are
 * away, then all N reconnect at the same moment and catch up with `resume` frames.
 *
 *   node storm.js --url ws://127.0.0.1:8000 --accounts accounts.json
 *                 --rooms R --members M [--before 3] [--gap 20] [--timeout 60]
 *
 * Room r is `storm-<r>`. Member 0 of each room (`s<r>-0`) is the sender and stays
 * connected; members 1..M (`s<r>-<m>`) are the storm. Phases:
 *   1. connect everybody (50 at a time), wait for hello;
 *   2. each sender posts --before messages; wait until every client has them;
 *   3. the storm clients close their sockets; each sender posts --gap more messages and
 *      waits for its acks, so the server has stored them (the target seq per room);
 *   4. t0: all storm clients reconnect at once (no concurrency limit) and, on hello,
 *      send {"type":"resume","rooms":{<slug>: <last seq seen>}}; a client is caught up
 *      once it holds every seq up to its room's target, from `messages` frames or live.
 * A failed (re)connect is retried after 250-750 ms, as the browser client backs off, and
 * counted in `connect_errors`. Prints one JSON line on stdout; progress on stderr.
 * Bounded: --timeout seconds for the whole storm phase (cap 120), hard exit after that.
 */
const crypto = require('crypto');
const { performance } = require('perf_hooks');
const WebSocket = require('ws');
const { cookieFor } = require('./adapters/chat');

function parseArgs(argv) {
  const args = { before: 3, gap: 20, timeout: 60, 'connect-concurrency': 50 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    const value = argv[i + 1];
    args[key] = /^\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  }
  for (const need of ['url', 'accounts', 'rooms', 'members']) {
    if (args[need] === undefined) {
      process.stderr.write(`storm: --${need} is required\n`);
      process.exit(2);
    }
  }
  args.timeout = Math.min(args.timeout, 120);
  return args;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (s) => process.stderr.write(`storm: ${s}\n`);

function percentile(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

class Client {
  constructor(args, room, username) {
    this.args = args;
    this.room = room;
    this.username = username;
    this.lastSeq = 0; // highest contiguous seq this client holds
    this.seen = new Set(); // seqs above lastSeq that arrived out of order
    this.ws = null;
    this.acks = 0;
    this.resyncs = 0;
    this.onProgress = null;
  }

  take(seq) {
    // The first message a client sees sets where its room's history starts for it
    // (the room may hold messages from earlier runs).
    if (this.lastSeq === 0 && this.seen.size === 0) this.lastSeq = seq - 1;
    if (seq <= this.lastSeq) return;
    this.seen.add(seq);
    while (this.seen.has(this.lastSeq + 1)) {
      this.seen.delete(this.lastSeq + 1);
      this.lastSeq += 1;
    }
  }

  /** Opens the socket; resolves on hello. With resume, sends the resume frame then. */
  async open(resume) {
    const cookie = await cookieFor(this.args, this.username);
    const url = this.args.url.replace(/\/+$/, '');
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${url}/ws/`, {
        headers: { Cookie: cookie },
        origin: `http://${new URL(url).host}`,
        perMessageDeflate: false,
        handshakeTimeout: 15000,
      });
      let ready = false;
      ws.on('message', (data) => {
        const frame = JSON.parse(data.toString());
        if (frame.type === 'hello') {
          ready = true;
          this.ws = ws;
          if (resume) {
            ws.send(JSON.stringify({ type: 'resume', rooms: { [this.room]: this.lastSeq } }));
          }
          resolve();
        } else if (frame.type === 'message' && frame.room === this.room) {
          this.take(frame.message.seq);
        } else if (frame.type === 'messages' && frame.room === this.room) {
          for (const m of frame.messages) this.take(m.seq);
        } else if (frame.type === 'resync' && frame.room === this.room) {
          // Too much missed to replay: a real client reloads the page of history.
          this.resyncs += 1;
          this.lastSeq = Math.max(this.lastSeq, frame.last_seq);
        } else if (frame.type === 'ack') {
          this.acks += 1;
          this.lastAck = frame.seq;
        }
        if (this.onProgress) this.onProgress(this);
      });
      ws.on('unexpected-response', (req, res) => {
        req.destroy();
        reject(new Error(`HTTP ${res.statusCode} on upgrade`));
      });
      ws.on('error', (e) => {
        if (!ready) reject(e);
      });
      ws.on('close', () => {
        if (!ready) reject(new Error('closed before hello'));
        if (this.ws === ws) this.ws = null;
      });
    });
  }

  send(body) {
    this.ws.send(JSON.stringify({ type: 'send', room: this.room, body, client_id: crypto.randomUUID() }));
  }

  close() {
    if (this.ws) this.ws.terminate(); // drop, as a lost network or a restart does
    this.ws = null;
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const hard = setTimeout(() => {
    process.stdout.write(JSON.stringify({ error: 'hard_timeout' }) + '\n');
    process.exit(3);
  }, (args.timeout + 120) * 1000);
  hard.unref();

  const senders = [];
  const storm = [];
  for (let r = 0; r < args.rooms; r++) {
    senders.push(new Client(args, `storm-${r}`, `s${r}-0`));
    for (let m = 1; m <= args.members; m++) storm.push(new Client(args, `storm-${r}`, `s${r}-${m}`));
  }
  const everyone = [...senders, ...storm];
  const errors = { connect_failed: 0 };

  // 1. connect, bounded concurrency as a page load would spread out
  let next = 0;
  const worker = async () => {
    while (next < everyone.length) {
      const c = everyone[next++];
      try {
        await c.open(false);
      } catch (e) {
        errors.connect_failed += 1;
        log(`initial connect ${c.username}: ${e.message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: args['connect-concurrency'] }, worker));
  log(`${everyone.filter((c) => c.ws).length}/${everyone.length} connected`);

  const waitFor = async (cond, seconds, what) => {
    const deadline = performance.now() + seconds * 1000;
    while (!cond()) {
      if (performance.now() > deadline) throw new Error(`${what}: timed out after ${seconds}s`);
      await sleep(10);
    }
  };

  // 2. a few messages everybody sees live
  for (const s of senders) for (let i = 0; i < args.before; i++) s.send(`before ${i}`);
  const perRoom = args.before;
  await waitFor(() => storm.every((c) => c.lastSeq >= perRoom), 30, 'live messages');

  // 3. drop the storm clients; post while they are away
  for (const c of storm) c.close();
  for (const s of senders) {
    s.acks = 0;
    for (let i = 0; i < args.gap; i++) s.send(`while away ${i}`);
  }
  await waitFor(() => senders.every((s) => s.acks >= args.gap), 60, 'acks of the gap messages');
  const target = Object.fromEntries(senders.map((s) => [s.room, s.lastAck]));
  await sleep(200);

  // 4. everybody back at once
  const t0 = performance.now();
  const startedEpochMs = Date.now();
  const caughtUp = new Array(storm.length).fill(null);
  const connectMs = new Array(storm.length).fill(null);
  let attempts = 0;
  let remaining = storm.length;
  const deadline = t0 + args.timeout * 1000;
  storm.forEach((c, i) => {
    c.onProgress = () => {
      if (caughtUp[i] === null && c.lastSeq >= target[c.room]) {
        caughtUp[i] = performance.now() - t0;
        remaining -= 1;
      }
    };
  });
  await Promise.all(
    storm.map(async (c, i) => {
      while (performance.now() < deadline) {
        attempts += 1;
        try {
          await c.open(true);
          connectMs[i] = performance.now() - t0;
          return;
        } catch (e) {
          errors.connect_failed += 1;
          if (errors.connect_failed <= 3) log(`reconnect ${c.username}: ${e.message}`);
          await sleep(250 + Math.random() * 500);
        }
      }
    }),
  );
  while (remaining > 0 && performance.now() < deadline) await sleep(5);
  const doneMs = performance.now() - t0;

  const caught = caughtUp.filter((x) => x !== null).sort((a, b) => a - b);
  const connected = connectMs.filter((x) => x !== null).sort((a, b) => a - b);
  const r = (x) => (x == null ? null : Number(x.toFixed(1)));
  const out = {
    clients: storm.length,
    senders: senders.length,
    missed_per_client: args.gap,
    reconnected: connected.length,
    caught_up: caught.length,
    all_caught_up: caught.length === storm.length,
    all_caught_up_ms: caught.length === storm.length ? r(caught[caught.length - 1]) : null,
    caught_up_ms: { p50: r(percentile(caught, 0.5)), p99: r(percentile(caught, 0.99)), max: r(caught[caught.length - 1]) },
    reconnect_ms: { p50: r(percentile(connected, 0.5)), p99: r(percentile(connected, 0.99)), max: r(connected[connected.length - 1]) },
    storm_window_ms: r(doneMs),
    storm_started_epoch_ms: startedEpochMs,
    connect_attempts: attempts,
    resyncs: storm.reduce((a, c) => a + c.resyncs, 0),
    errors: Object.values(errors).reduce((a, b) => a + b, 0),
    error_detail: errors,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
  for (const c of everyone) c.close();
  setTimeout(() => process.exit(0), 300).unref();
}

main().catch((e) => {
  process.stderr.write(`storm: fatal: ${e && e.stack}\n`);
  process.stdout.write(JSON.stringify({ error: String(e && e.message) }) + '\n');
  process.exit(1);
});
