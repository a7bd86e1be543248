'use strict';
/*
 * Load-generator adapter for this chat's realtime protocol (docs/protocol.md,
 * rooms/protocol.py), in the shape of the shared chat benchmark harness's adapters
 * (loadgen/adapters/*.js: `connect(ctx)` resolves with `{send, close}`; modelled on its
 * example_json_auth.js). It works with bench/loadgen.js here and, copied into the
 * harness's loadgen/adapters/, with its compare.py.
 *
 *   connect: GET <url>/ws/ with the Django session cookie and an Origin header
 *   server -> client  {"type":"hello", ...}                 (groups joined: ready)
 *   client -> server  {"type":"send","room":SLUG,"body":"<id>|<ts>|<text>","client_id":UUID}
 *   server -> client  {"type":"message","room":SLUG,"message":{"seq":N,"body":...,...}}
 *   server -> client  {"type":"ack",...}                    (to the sender; not counted)
 *
 * The bench id and send timestamp travel inside the body ("<id>|<ts>|<text>"): the
 * server stores and echoes the body, nothing else the client chooses. Every send gets a
 * fresh client_id (a UUID), as the browser client does.
 *
 * Accounts: room r of the run is the chat room `--room-pattern` (default "bench-{r}");
 * member m of room r is user `--user-pattern` (default "u{r}-{m}"), who must be a member
 * of that room and of no other bench room (bench/seed.py makes them). The session cookie
 * comes from
 *   --accounts FILE   accounts.json written by bench/seed.py ({accounts: {name: {cookie}}}), or
 *   --login-url URL   the real login form (GET for the CSRF token, POST username+password;
 *                     --password PW). Slow on purpose: the password hash costs the server
 *                     ~0.3 s of CPU per login, so use it for a few accounts only.
 * Other options: --ws-path (default "/ws/"), --origin, --urls URL1,URL2 (member k of the
 * run connects to URL k mod n: several daphne processes), --header/--cookie as usual.
 */
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

let WebSocket;
try {
  WebSocket = require('ws');
} catch (_) {
  // Inside the harness the adapter sits next to _wsutil.js, which has `ws` in reach.
  WebSocket = require(path.join(__dirname, '_wsutil')).WebSocket;
}

const accountsCache = new Map();
function accountsFile(file) {
  if (!accountsCache.has(file)) {
    accountsCache.set(file, JSON.parse(fs.readFileSync(file, 'utf8')).accounts);
  }
  return accountsCache.get(file);
}

const loginCache = new Map();
function setCookies(res) {
  const list = res.headers.getSetCookie ? res.headers.getSetCookie() : [];
  return Object.fromEntries(
    list.map((c) => c.split(';')[0]).map((kv) => [kv.slice(0, kv.indexOf('=')), kv]),
  );
}

/** Logs in through the site's own login form, as a browser does; resolves the cookie. */
function login(args, username) {
  const key = `${args['login-url']}#${username}`;
  if (!loginCache.has(key)) {
    loginCache.set(
      key,
      (async () => {
        const url = args['login-url'];
        const form = await fetch(url, { redirect: 'manual' });
        const csrf = setCookies(form).csrftoken;
        const token = /name="csrfmiddlewaretoken" value="([^"]+)"/.exec(await form.text());
        if (!csrf || !token) throw new Error(`login page ${url}: no CSRF token`);
        const res = await fetch(url, {
          method: 'POST',
          redirect: 'manual',
          headers: {
            'Content-Type': 'application/x-www-form-urlencoded',
            Cookie: csrf,
            Origin: new URL(url).origin,
            Referer: url,
          },
          body: new URLSearchParams({
            csrfmiddlewaretoken: token[1],
            username,
            password: args.password || 'bench-password-not-secret',
          }).toString(),
        });
        const session = setCookies(res).sessionid;
        if (res.status !== 302 || !session) {
          throw new Error(`login ${username}: HTTP ${res.status}, no session`);
        }
        return session;
      })(),
    );
  }
  return loginCache.get(key);
}

async function cookieFor(args, username) {
  if (args.accounts) {
    const account = accountsFile(args.accounts)[username];
    if (!account) throw new Error(`no account ${username} in ${args.accounts}`);
    return account.cookie;
  }
  if (args['login-url']) return login(args, username);
  throw new Error('chat adapter: pass --accounts FILE or --login-url URL');
}

function fill(pattern, r, m) {
  return pattern.replace('{r}', String(r)).replace('{m}', String(m));
}

/** Frames of the protocol that are bench messages: {id, ts, seq}; anything else null. */
function decode(text) {
  const frame = JSON.parse(text);
  if (frame.type !== 'message') return null;
  const body = frame.message.body;
  const a = body.indexOf('|');
  const b = body.indexOf('|', a + 1);
  if (a < 0 || b < 0) return null;
  return { id: Number(body.slice(0, a)), ts: Number(body.slice(a + 1, b)), seq: frame.message.seq };
}

const PING_EVERY_MS = 30_000;

module.exports = {
  name: 'chat',
  defaultUrl: 'ws://127.0.0.1:8000',
  decode,
  cookieFor,
  async connect(ctx) {
    const { args } = ctx;
    const urls = (args.urls || ctx.url).split(',').map((u) => u.replace(/\/+$/, ''));
    const slot = ctx.roomIndex * 100003 + ctx.memberIndex;
    const base = urls[slot % urls.length];
    const room = fill(args['room-pattern'] || 'bench-{r}', ctx.roomIndex, ctx.memberIndex);
    const username = fill(args['user-pattern'] || 'u{r}-{m}', ctx.roomIndex, ctx.memberIndex);
    const cookie = await cookieFor(args, username);
    const headers = { ...(args.headers || {}) };
    headers.Cookie = headers.Cookie ? `${headers.Cookie}; ${cookie}` : cookie;
    const origin = args.origin || `http://${new URL(base).host}`;

    const ws = await new Promise((resolve, reject) => {
      const socket = new WebSocket(base + (args['ws-path'] || '/ws/'), {
        headers,
        origin,
        perMessageDeflate: false,
        handshakeTimeout: (args['connect-timeout'] || 15) * 1000,
      });
      let ready = false;
      socket.on('message', (data) => {
        const text = data.toString();
        if (!ready) {
          // The server says hello once the socket follows the user's rooms.
          if (text.startsWith('{"type":"hello"')) {
            ready = true;
            resolve(socket);
          }
          return;
        }
        let msg = null;
        try {
          msg = decode(text);
        } catch (_) {
          msg = null;
        }
        ctx.onMessage(msg);
      });
      socket.on('unexpected-response', (req, res) => {
        reject(new Error(`HTTP ${res.statusCode} on upgrade`));
        req.destroy();
      });
      socket.on('error', (e) => (ready ? ctx.onError(e) : reject(e)));
      socket.on('close', (code, reason) => {
        clearInterval(socket.keepalive);
        if (!ready) reject(new Error(`closed before hello (code ${code})`));
        else ctx.onClose({ code, reason: reason && reason.toString() });
      });
    });
    // As the browser client does: a socket that has sent nothing for 30 s pings, or the
    // server closes it as idle after CHAT_SOCKET_IDLE_SECONDS (docs/protocol.md).
    ws.keepalive = setInterval(() => ws.send('{"type":"ping"}'), PING_EVERY_MS);
    return {
      send(m) {
        ws.send(
          JSON.stringify({
            type: 'send',
            room,
            body: `${m.id}|${m.ts}|${m.text}`,
            client_id: crypto.randomUUID(),
          }),
        );
      },
      close() {
        clearInterval(ws.keepalive);
        ws.close();
      },
    };
  },
};
