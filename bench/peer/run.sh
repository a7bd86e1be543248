#!/usr/bin/env bash
# The chat as a peer of the shared chat benchmark harness (its compare.py):
#   bench/peer/run.sh PORT       serve the chat on 127.0.0.1:PORT in the foreground
#   bench/peer/run.sh --prepare  build the seeded template database first (~30 s)
# REDIS_PORT (from the harness) picks the Redis it runs against. Every start serves a
# fresh copy of one template database (migrated; 100 rooms x 50 members, bench-0 with
# 500; sessions for all of them in accounts.json), so runs do not see each other's
# messages. The template lives in $CHAT_BENCH_PEER_DIR (default /tmp/chat-bench-peer)
# and is rebuilt when the migrations change. See docs/performance.md.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PY="${CHAT_PYTHON:-$ROOT/.venv/bin/python}"
DIR="${CHAT_BENCH_PEER_DIR:-/tmp/chat-bench-peer}"
TEMPLATE="$DIR/template"
STAMP="$(cat "$ROOT"/*/migrations/0*.py | md5sum | cut -c1-12)"

site_env() {  # site_env DIR
  export DJANGO_SETTINGS_MODULE=chatsite.settings
  export DATABASE_URL="sqlite:///$1/chat.sqlite3" CHAT_VAR_DIR="$1" STATIC_ROOT="$DIR/static"
  export SECRET_KEY="bench-peer-only-secret-key-0000000000000000000000000000"
  export DJANGO_DEBUG=0 ALLOWED_HOSTS=127.0.0.1,localhost LOG_LEVEL="${LOG_LEVEL:-WARNING}"
  # The harness's few senders send for many people: lift the per-person flood limit
  # (the check itself still runs on every send).
  export CHAT_SEND_BURST=1000000 CHAT_SEND_RATE=1000000
}

prepare() {
  mkdir -p "$DIR"
  exec 9>"$DIR/.lock"
  flock 9
  if [ "$(cat "$TEMPLATE/stamp" 2>/dev/null)" != "$STAMP" ]; then
    rm -rf "$TEMPLATE" && mkdir -p "$TEMPLATE"
    site_env "$TEMPLATE"
    (cd "$ROOT" && REDIS_URL= "$PY" manage.py migrate --noinput >/dev/null \
      && REDIS_URL= "$PY" manage.py collectstatic --noinput --verbosity 0 \
      && REDIS_URL= "$PY" bench/seed.py --rooms 100 --members 50 --room0-members 500 \
           --out "$TEMPLATE")
    cp "$TEMPLATE/accounts.json" "$DIR/accounts.json"
    echo "$STAMP" > "$TEMPLATE/stamp"
  fi
  flock -u 9
  exec 9>&-
}

if [ "${1:-}" = "--prepare" ]; then
  prepare
  echo "peer template ready: $DIR (accounts: $DIR/accounts.json)"
  exit 0
fi
PORT="${1:?usage: run.sh PORT | --prepare}"
prepare

# A fresh copy per start; copies of servers that have exited are removed.
mkdir -p "$DIR/runs"
for old in "$DIR"/runs/*; do
  [ -e "$old" ] || continue
  kill -0 "$(basename "$old")" 2>/dev/null || rm -rf "$old"
done
RUN="$DIR/runs/$$"
mkdir -p "$RUN"
cp "$TEMPLATE/chat.sqlite3" "$RUN/"
site_env "$RUN"
export REDIS_URL="redis://127.0.0.1:${REDIS_PORT:-6379}/0"
cd "$ROOT"
exec "$PY" -m daphne -e "tcp:port=$PORT:interface=127.0.0.1:backlog=1024" \
  --websocket_connect_timeout 10 chatsite.asgi:application
