#!/usr/bin/env bash
# bench/pgbench-compare.sh -- Warden against pgbouncer (session mode) and direct PostgreSQL, in ONE run.
#
# Targets (all on loopback, all logging in upstream as the same role):
#   direct     PostgreSQL itself                       127.0.0.1:$PG_PORT
#   pgbouncer  pgbouncer, pool_mode=session            127.0.0.1:$PGB_PORT   (started by this script)
#   warden     Warden from server/target/warden.jar    127.0.0.1:$WARDEN_PORT (started by this script,
#              fresh data directory, identity $BENCH_USER with the password in PGPASSWORD)
#
# Workloads (interleaved: rep -> workload -> targets in an order rotated every rep, so drift in a
# shared machine's load hits every target alike):
#   select-simple    pgbench -S -M simple       point select, simple query protocol
#   select-extended  pgbench -S -M extended     unnamed Parse/Bind/Describe/Execute/Sync each time
#   select-prepared  pgbench -S -M prepared     named prepared statement, Bind/Execute/Sync
#   wide             SELECT * FROM bench_wide   $WIDE_ROWS rows x 5 text columns of ~100 bytes
#   wide-masked      SELECT * FROM bench_people $WIDE_ROWS rows x 5 text columns, of which Warden
#                    masks 2 (email and phone, found by its data map with zero configuration);
#                    pgbouncer and PostgreSQL send them unmasked
#   connect          pgbench -S -C              a new connection (and login) per transaction
#
# Reported per workload: median TPS of each target; Warden/pgbouncer and Warden/direct as the
# median over reps of the ratio within the same rep (adjacent in time); the CPU time of the
# Warden and pgbouncer processes per transaction (utime+stime from /proc/PID/stat, delta around
# each pgbench run, divided by the transactions it made), in µs/tx, and their paired ratio.
# Only ratios within one run mean much on a shared machine; CPU/tx is the least noisy figure.
#
# Knobs (environment):
#   DURATION=5 REPS=3 CLIENTS=8 THREADS=2   pgbench -T/-c/-j; default ~5 minutes in all
#   WARMUP=30        seconds of unrecorded load on Warden (spread over the workloads) before
#                    rep 1, so that the JIT has compiled the relay; at least 10
#   QUICK=1          DURATION=2 REPS=1 WARMUP=10: a ~2 minute smoke run
#   WORKLOADS="select-simple select-extended select-prepared wide wide-masked connect"
#   TARGETS="direct pgbouncer warden"
#   SCALE=10 WIDE_ROWS=10000 BENCH_DB=warden_bench BENCH_USER=bench
#   PG_PORT=5432 PGB_PORT=16532 WARDEN_PORT=16533
#   PGB_AUTH=scram-sha-256   pgbouncer's client authentication: scram-sha-256 (like Warden, which
#                    always authenticates; matters for `connect`) or trust
#   WARDEN_JAR=server/target/warden.jar   built with mvn if missing (BUILD=0 to refuse)
#   WARDEN_REV=<commit>   what the jar was built from, for the report (default: HEAD of this checkout)
#   JAVA=<java 25+>  WARDEN_JAVA_OPTS="..."   (default: the JVM's defaults)
#   PGPASSWORD       password of the Warden identity (and of the role, if PostgreSQL does not
#                    trust it on loopback); default: a random one for this run
#   OUT_DIR=<dir>    raw results: results.csv, summary.md, pgbench outputs, Warden's and
#                    pgbouncer's logs (default: a new temporary directory)
#   KEEP_LOGS=1      keep pgbench's sampled per-transaction logs
#   REPORT_ONLY=<dir> re-print the tables of an earlier run from its OUT_DIR
#
# Needs root on Debian/Ubuntu with a local PostgreSQL (connected to as the `postgres` OS user).
# Installs pgbouncer with apt-get if missing. Writes no file under /etc: pgbouncer and Warden
# run from a temporary directory with their own configuration on loopback ports, and both are
# stopped on exit. Creates (once) the role $BENCH_USER and the database $BENCH_DB with pgbench's
# tables and bench_wide; drops nothing.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)

DURATION=${DURATION:-5}
REPS=${REPS:-3}
WARMUP=${WARMUP:-30}
if [[ "${QUICK:-0}" == 1 ]]; then DURATION=2; REPS=1; WARMUP=10; fi
CLIENTS=${CLIENTS:-8}
THREADS=${THREADS:-2}
WORKLOADS=${WORKLOADS:-"select-simple select-extended select-prepared wide wide-masked connect"}
TARGETS=${TARGETS:-"direct pgbouncer warden"}
SCALE=${SCALE:-10}
WIDE_ROWS=${WIDE_ROWS:-10000}
BENCH_DB=${BENCH_DB:-warden_bench}
BENCH_USER=${BENCH_USER:-bench}
PG_PORT=${PG_PORT:-5432}
PGB_PORT=${PGB_PORT:-16532}
WARDEN_PORT=${WARDEN_PORT:-16533}
PGB_AUTH=${PGB_AUTH:-scram-sha-256}
WARDEN_JAR=${WARDEN_JAR:-$ROOT/server/target/warden.jar}
WARDEN_JAVA_OPTS=${WARDEN_JAVA_OPTS:-}
WARDEN_REV=${WARDEN_REV:-$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')}
BUILD=${BUILD:-1}
KEEP_LOGS=${KEEP_LOGS:-0}
export PGSSLMODE=disable PGCONNECT_TIMEOUT=10
unset PGSERVICE PGHOST PGPORT PGUSER PGDATABASE PGOPTIONS

log() { printf '[pgbench-compare %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ----------------------------------------------------------------------------- report
report() {  # Markdown tables for $OUT_DIR/results.csv (columns: see CSV header below)
  # shellcheck disable=SC1091
  source "$OUT_DIR/meta.env"
  awk -F, -v wls="$WORKLOADS" -v targets="$TARGETS" -v wide_bytes="$WIDE_BYTES" '
    function median(s,   n, a, i, j, t) {
      n = split(s, a, " ")
      if (n == 0) return ""
      for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
      return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    # median over reps of x/y where both ran in the same rep
    function paired(col, w, x, y,   r, s) {
      s = ""
      for (r = 1; r <= maxrep; r++)
        if ((col, w, x, r) in v && (col, w, y, r) in v && v[col, w, y, r] > 0) s = s " " v[col, w, x, r] / v[col, w, y, r]
      return (s == "") ? "–" : sprintf("%.2f", median(s))
    }
    function med(col, w, t,   r, s) {
      s = ""
      for (r = 1; r <= maxrep; r++) if ((col, w, t, r) in v) s = s " " v[col, w, t, r]
      return median(s)
    }
    function fmt(x, f) { return (x == "") ? "–" : sprintf(f, x) }
    function tpscell(w, t,   m) {
      if (!((w, t) in has)) return "n/a"
      m = med("tps", w, t)
      return (m == "" ? "ERR" : sprintf("%.0f", m)) (fail[w, t] ? " (" fail[w, t] " failed)" : "")
    }
    NR > 1 {
      rep = $1; w = $2; t = $3; has[w, t] = 1; if (rep > maxrep) maxrep = rep
      if ($4 == "NA") { fail[w, t]++; next }
      v["tps", w, t, rep] = $4; v["lat", w, t, rep] = $5
      if ($6 != "NA") v["p99", w, t, rep] = $6
      if ($7 != "NA") v["cpu", w, t, rep] = $7
    }
    END {
      nw = split(wls, W, " ")
      print "| workload | direct TPS | pgbouncer TPS | Warden TPS | Warden/pgbouncer | Warden/direct | pgbouncer µs/tx | Warden µs/tx | CPU Warden/pgbouncer |"
      print "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
      for (i = 1; i <= nw; i++) {
        w = W[i]
        printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", w, tpscell(w, "direct"), tpscell(w, "pgbouncer"), tpscell(w, "warden"),
          paired("tps", w, "warden", "pgbouncer"), paired("tps", w, "warden", "direct"),
          fmt(med("cpu", w, "pgbouncer"), "%.1f"), fmt(med("cpu", w, "warden"), "%.1f"), paired("cpu", w, "warden", "pgbouncer")
      }
      print ""
      print "| workload | direct avg / p99 ms | pgbouncer avg / p99 ms | Warden avg / p99 ms | Warden MB/s | TPS per rep (direct; pgbouncer; Warden) |"
      print "|---|---:|---:|---:|---:|---|"
      for (i = 1; i <= nw; i++) {
        w = W[i]; runs = ""
        split("direct pgbouncer warden", T, " ")
        for (k = 1; k <= 3; k++) {
          s = ""
          for (r = 1; r <= maxrep; r++) s = s ((r > 1) ? "/" : "") ((("tps", w, T[k], r) in v) ? sprintf("%.0f", v["tps", w, T[k], r]) : "–")
          runs = runs ((k > 1) ? "; " : "") s
          cell[k] = fmt(med("lat", w, T[k]), "%.2f") " / " fmt(med("p99", w, T[k]), "%.2f")
        }
        mbs = (w == "wide" && med("tps", w, "warden") != "") ? sprintf("%.0f", med("tps", w, "warden") * wide_bytes / 1e6) : "–"
        printf "| %s | %s | %s | %s | %s | %s |\n", w, cell[1], cell[2], cell[3], mbs, runs
      }
    }' "$OUT_DIR/results.csv"
  echo
  echo "$HEADER; measured in ${ELAPSED}s, load average at the end $LOADAVG_END."
  echo "Ratios are medians over reps of the ratio within one rep; µs/tx is the proxy process's own CPU"
  echo "time (utime+stime) per transaction. connect: the latency column is pgbench's average connection time"
  echo "(TCP, startup, authentication, upstream login), no p99; TPS includes connecting."
  echo "wide: ~$(awk -v b="$WIDE_BYTES" 'BEGIN{printf "%.1f", b/1e6}') MB of DataRow messages per transaction. Raw: $OUT_DIR/results.csv"
}

if [[ -n "${REPORT_ONLY:-}" ]]; then OUT_DIR=$REPORT_ONLY; report; exit 0; fi

[[ $EUID -eq 0 ]] || die "needs root (installs pgbouncer if missing, runs psql as the postgres OS user)"
((WARMUP >= 10)) || die "WARMUP must be at least 10 seconds (JIT warm-up of Warden)"
for t in $TARGETS; do [[ $t == direct || $t == pgbouncer || $t == warden ]] || die "unknown target '$t'"; done
[[ " $TARGETS " == *" direct "* ]] || die "TARGETS must include direct"

OUT_DIR=${OUT_DIR:-$(mktemp -d -t pgbench-compare.XXXXXX)}
mkdir -p "$OUT_DIR/out" "$OUT_DIR/logs"
WORK=$(mktemp -d -t warden-bench.XXXXXX)   # pgbouncer's and Warden's files; removed on exit
chmod 711 "$WORK"
PGB_PID="" WARDEN_PID=""

cleanup() {
  local rc=$?
  if [[ -n "$WARDEN_PID" ]] && kill -0 "$WARDEN_PID" 2>/dev/null; then
    log "stopping Warden (pid $WARDEN_PID)"
    kill "$WARDEN_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$WARDEN_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$WARDEN_PID" 2>/dev/null || true
  fi
  if [[ -n "$PGB_PID" ]] && kill -0 "$PGB_PID" 2>/dev/null; then
    log "stopping pgbouncer (pid $PGB_PID)"
    kill "$PGB_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$PGB_PID" 2>/dev/null || break; sleep 0.1; done
  fi
  cp -f "$WORK/warden.log" "$WORK/pgbouncer/pgbouncer.log" "$OUT_DIR/" 2>/dev/null || true
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
set -E
trap 'log "ERROR: line $LINENO failed: $BASH_COMMAND"' ERR
trap 'exit 130' INT TERM

# ----------------------------------------------------------------------------- setup
psql_su() { runuser -u postgres -- psql -X -v ON_ERROR_STOP=1 -qAt -p "$PG_PORT" -d "${2:-postgres}" -c "$1"; }
psql_at() { psql -X -w -v ON_ERROR_STOP=1 -qAt -h 127.0.0.1 -p "$1" -U "$BENCH_USER" -d "$BENCH_DB" "${@:2}"; }
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

ensure_tools() {
  if ! command -v pgbouncer >/dev/null; then
    log "installing pgbouncer"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q pgbouncer >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null && apt-get install -y -q pgbouncer >/dev/null; } ||
      die "cannot install pgbouncer with apt-get"
    # the package starts a system pgbouncer from /etc; ours runs from $WORK and needs no other
  fi
  command -v pgbench >/dev/null || die "pgbench not found (Debian: it comes with postgresql-NN or postgresql-client-NN)"
  command -v psql >/dev/null || die "psql not found"
}

find_java() {
  local c v
  for c in "${JAVA:-}" "${JAVA_HOME:+$JAVA_HOME/bin/java}" /usr/lib/jvm/temurin-25*/bin/java "$(command -v java || true)"; do
    [[ -n "$c" && -x "$c" ]] || continue
    v=$("$c" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/{print $2; exit}')
    if [[ -n "$v" ]] && ((${v%%.*} >= 25)); then echo "$c"; return 0; fi
  done
  return 1
}

ensure_jar() {
  JAVA=$(find_java) || die "no Java 25 or later found (set JAVA=/path/to/java)"
  if [[ "$WARDEN_JAR" == "$ROOT/server/target/warden.jar" && "$BUILD" == 1 ]]; then
    # The launcher rebuilds the jar when it is missing or older than the sources, so a run never
    # measures a stale build by mistake.
    log "checking that $WARDEN_JAR matches the sources (./warden version)"
    "$ROOT/warden" version >&2 || die "build failed"
  elif [[ ! -f "$WARDEN_JAR" ]]; then
    die "$WARDEN_JAR is missing (build it: ./warden version, or mvn -pl server -am package)"
  fi
}

ensure_database() {
  psql_su "select 1" >/dev/null || die "cannot reach PostgreSQL on port $PG_PORT as the postgres OS user"
  [[ -n "$(psql_su "select 1 from pg_roles where rolname = '$BENCH_USER'")" ]] ||
    { log "creating role $BENCH_USER"; psql_su "create role \"$BENCH_USER\" login"; }
  [[ -n "$(psql_su "select 1 from pg_database where datname = '$BENCH_DB'")" ]] ||
    { log "creating database $BENCH_DB"; psql_su "create database \"$BENCH_DB\" owner \"$BENCH_USER\""; }
  # Does the cluster trust the role on loopback (pg_hba.conf is not ours to edit)? If not, the role
  # gets this run's password, which direct pgbench, pgbouncer and Warden then all present.
  if PGPASSWORD="" psql_at "$PG_PORT" -c "select 1" >/dev/null 2>&1; then
    UPSTREAM_TRUST=1
  else
    UPSTREAM_TRUST=0
    log "PostgreSQL does not trust $BENCH_USER on 127.0.0.1: setting the role's password to PGPASSWORD"
    psql_su "alter role \"$BENCH_USER\" password '${PGPASSWORD//\'/\'\'}'" >/dev/null
    psql_at "$PG_PORT" -c "select 1" >/dev/null || die "$BENCH_USER cannot log in to 127.0.0.1:$PG_PORT/$BENCH_DB"
  fi
  local n
  n=$(psql_at "$PG_PORT" -c "select count(*) from pgbench_branches" 2>/dev/null || echo 0)
  if [[ "$n" != "$SCALE" ]]; then
    log "pgbench -i -s $SCALE $BENCH_DB"
    pgbench -q -i -s "$SCALE" -h 127.0.0.1 -p "$PG_PORT" -U "$BENCH_USER" "$BENCH_DB" >"$OUT_DIR/out/init.txt" 2>&1 ||
      die "pgbench -i failed: $(tail -3 "$OUT_DIR/out/init.txt")"
  fi
  n=$(psql_at "$PG_PORT" -c "select count(*) from bench_wide where length(c1) = 100" 2>/dev/null || echo 0)
  if [[ "$n" != "$WIDE_ROWS" ]]; then
    log "creating bench_wide ($WIDE_ROWS rows x 5 text columns of 100 bytes)"
    psql_at "$PG_PORT" >/dev/null <<SQL
set client_min_messages = warning;
drop table if exists bench_wide;
create table bench_wide (id int primary key, c1 text, c2 text, c3 text, c4 text, c5 text);
insert into bench_wide
select i, left(repeat(md5(i || 'a'), 4), 100), left(repeat(md5(i || 'b'), 4), 100),
          left(repeat(md5(i || 'c'), 4), 100), left(repeat(md5(i || 'd'), 4), 100),
          left(repeat(md5(i || 'e'), 4), 100)
from generate_series(1, $WIDE_ROWS) i;
vacuum analyze bench_wide;
SQL
  fi
  n=$(psql_at "$PG_PORT" -c "select count(*) from bench_people where phone like '+1 %'" 2>/dev/null || echo 0)
  if [[ "$n" != "$WIDE_ROWS" ]]; then
    log "creating bench_people ($WIDE_ROWS rows x 5 text columns, e-mail and phone among them)"
    psql_at "$PG_PORT" <<SQL >/dev/null
drop table if exists bench_people;
create table bench_people (id int primary key, email text, phone text, c3 text, c4 text, c5 text);
insert into bench_people
select i, 'customer' || i || '@example.com', '+1 212 555 ' || lpad((i % 10000)::text, 4, '0'),
          left(repeat(md5(i || 'c'), 4), 100), left(repeat(md5(i || 'd'), 4), 100),
          left(repeat(md5(i || 'e'), 4), 100)
from generate_series(1, $WIDE_ROWS) i;
vacuum analyze bench_people;
SQL
  fi
  psql_at "$PG_PORT" -c "vacuum analyze pgbench_branches, pgbench_tellers, pgbench_accounts" >/dev/null 2>&1 || true
}

start_pgbouncer() {
  port_free "$PGB_PORT" || die "port $PGB_PORT is in use (set PGB_PORT)"
  local dir=$WORK/pgbouncer
  mkdir -p "$dir"
  # plain text password: pgbouncer then speaks SCRAM with clients and, if asked, with the server
  printf '"%s" "%s"\n' "$BENCH_USER" "${PGPASSWORD//\"/\"\"}" > "$dir/userlist.txt"
  cat > "$dir/pgbouncer.ini" <<INI
[databases]
$BENCH_DB = host=127.0.0.1 port=$PG_PORT dbname=$BENCH_DB

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGB_PORT
unix_socket_dir =
auth_type = $PGB_AUTH
auth_file = $dir/userlist.txt
pool_mode = session
default_pool_size = $((CLIENTS + 4))
max_client_conn = 1000
ignore_startup_parameters = extra_float_digits
log_connections = 0
log_disconnections = 0
log_stats = 0
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
  chown -R postgres:postgres "$dir"; chmod 700 "$dir"; chmod 600 "$dir/userlist.txt"
  runuser -u postgres -- pgbouncer -q -d "$dir/pgbouncer.ini" || die "pgbouncer did not start"
  for _ in $(seq 1 50); do [[ -s "$dir/pgbouncer.pid" ]] && break; sleep 0.1; done
  PGB_PID=$(cat "$dir/pgbouncer.pid" 2>/dev/null) || die "pgbouncer wrote no pid file"
  log "pgbouncer $(pgbouncer --version | awk '/PgBouncer/{print $2}') on 127.0.0.1:$PGB_PORT (pid $PGB_PID, auth $PGB_AUTH)"
}

start_warden() {
  port_free "$WARDEN_PORT" || die "port $WARDEN_PORT is in use (set WARDEN_PORT)"
  local data=$WORK/warden-data upstream="postgresql://$BENCH_USER@127.0.0.1:$PG_PORT"
  # Only when the cluster wants a password does it go into the URL (visible in ps; it is this
  # run's throwaway password of a benchmark-only role).
  if [[ "$UPSTREAM_TRUST" == 0 ]]; then
    upstream="postgresql://$BENCH_USER:$(printf '%s' "$PGPASSWORD" | od -An -tx1 | tr -d ' \n' | sed 's/../%&/g')@127.0.0.1:$PG_PORT"
  fi
  printf '%s\n' "$PGPASSWORD" | "$JAVA" -jar "$WARDEN_JAR" users add "$BENCH_USER" --data-dir "$data" >"$WORK/users-add.log" 2>&1 ||
    die "warden users add failed: $(cat "$WORK/users-add.log")"
  # shellcheck disable=SC2086
  "$JAVA" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow $WARDEN_JAVA_OPTS -jar "$WARDEN_JAR" serve --listen "127.0.0.1:$WARDEN_PORT" \
    --upstream "$upstream" --data-dir "$data" >"$WORK/warden.log" 2>&1 </dev/null &
  WARDEN_PID=$!
  local up=0
  for _ in $(seq 1 150); do
    kill -0 "$WARDEN_PID" 2>/dev/null || die "Warden exited: $(tail -5 "$WORK/warden.log")"
    psql_at "$WARDEN_PORT" -c "select 1" >/dev/null 2>&1 && { up=1; break; }
    sleep 0.2
  done
  ((up)) || die "Warden did not accept a login within 30 s: $(tail -5 "$WORK/warden.log")"
  local who
  who=$(psql_at "$WARDEN_PORT" -c "select current_setting('warden.identity', true)" 2>&1 || true)
  log "Warden $WARDEN_REV on 127.0.0.1:$WARDEN_PORT (pid $WARDEN_PID, identity seen upstream: '${who}')"
}

# ----------------------------------------------------------------------------- measuring
declare -A PORT=([direct]=$PG_PORT [pgbouncer]=$PGB_PORT [warden]=$WARDEN_PORT)
target_pid() { case $1 in pgbouncer) echo "$PGB_PID" ;; warden) echo "$WARDEN_PID" ;; *) echo "" ;; esac; }
# utime + stime of the whole process (all threads), in clock ticks; fields 14 and 15 of
# /proc/PID/stat, counted after the parenthesised command name, which may contain spaces.
proc_ticks() { [[ -n "$1" && -r /proc/$1/stat ]] && sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; return 0; }
CLK_TCK=$(getconf CLK_TCK)

workload_args() {  # workload -> pgbench arguments
  case $1 in
    select-simple)   echo "-S -M simple" ;;
    select-extended) echo "-S -M extended" ;;
    select-prepared) echo "-S -M prepared" ;;
    wide)            echo "-M simple -f $OUT_DIR/wide.sql" ;;
    wide-masked)     echo "-M simple -f $OUT_DIR/wide-masked.sql" ;;
    connect)         echo "-S -C -M simple" ;;
    *) die "unknown workload '$1'" ;;
  esac
}
sampling_rate() { case $1 in wide | wide-masked | connect) echo 1 ;; *) echo 0.05 ;; esac; }

CSV=$OUT_DIR/results.csv
run_one() {  # rep workload target
  local rep=$1 wl=$2 t=$3 tag="$1_$2_$3" out pid k0 k1 rc=0
  out=$OUT_DIR/out/$tag.txt
  pid=$(target_pid "$t")
  k0=$(proc_ticks "$pid")
  # shellcheck disable=SC2046
  pgbench -n -h 127.0.0.1 -p "${PORT[$t]}" -U "$BENCH_USER" -c "$CLIENTS" -j "$THREADS" -T "$DURATION" \
    $(workload_args "$wl") --log --sampling-rate="$(sampling_rate "$wl")" --log-prefix="$OUT_DIR/logs/$tag" \
    "$BENCH_DB" >"$out" 2>&1 || rc=$?
  k1=$(proc_ticks "$pid")
  local tps lat p99 ntx cpu=NA
  tps=$(awk '/^tps = /{print $3; exit}' "$out")
  lat=$(awk '/^latency average = /{print $4; exit}' "$out")
  # With -C pgbench connects synchronously, so a transaction's latency includes waiting for the
  # other clients' connections on the same pgbench thread: the figure that means something is the
  # average time to connect (and log in).
  [[ $wl == connect ]] && lat=$(awk '/^average connection time = /{print $5; exit}' "$out")
  ntx=$(awk -F': ' '/^number of transactions actually processed/{split($2, a, "/"); print a[1]; exit}' "$out")
  if [[ -n "$k0" && -n "$k1" && "${ntx:-0}" -gt 0 ]]; then
    cpu=$(awk -v a="$k0" -v b="$k1" -v n="$ntx" -v hz="$CLK_TCK" 'BEGIN{printf "%.2f", (b - a) * 1e6 / hz / n}')
  fi
  # pgbench's per-transaction log: field 3 is the latency in µs
  p99=NA
  if [[ $wl != connect ]] && compgen -G "$OUT_DIR/logs/$tag.*" >/dev/null; then
    p99=$(cat "$OUT_DIR"/logs/"$tag".* | awk '{print $3}' | sort -n |
          awk '{a[NR] = $1} END {if (NR) {i = int(NR * 0.99); if (i < 1) i = 1; printf "%.3f", a[i] / 1000} else print "NA"}')
  fi
  [[ "$KEEP_LOGS" == 1 ]] || rm -f "$OUT_DIR"/logs/"$tag".*
  if [[ -z "$tps" || $rc -ne 0 ]]; then   # a run where a client aborted is no measurement
    log "run $tag FAILED (rc=$rc): $(grep -m1 -iE 'error|fatal|abort' "$out" || tail -1 "$out")"
    tps=NA
  fi
  echo "$rep,$wl,$t,${tps:-NA},${lat:-NA},${p99:-NA},$cpu,${ntx:-0},$rc" >> "$CSV"
  printf '  %-16s %-10s tps=%-10s lat=%-7s p99=%-7s proc_us/tx=%s\n' "$wl" "$t" "$tps" "${lat:-NA}" "$p99" "$cpu" >&2
}

# ----------------------------------------------------------------------------- main
ensure_tools
WARDEN_DESC="not measured"
if [[ " $TARGETS " == *" warden "* ]]; then
  ensure_jar
  WARDEN_DESC="$WARDEN_REV on Java $("$JAVA" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.runtime.version/{print $2}')"
fi
if [[ -z "${PGPASSWORD:-}" ]]; then PGPASSWORD="bench-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')"; fi
export PGPASSWORD
ensure_database
echo 'SELECT * FROM bench_wide;' > "$OUT_DIR/wide.sql"
echo 'SELECT * FROM bench_people;' > "$OUT_DIR/wide-masked.sql"
# wire bytes of one wide result: DataRow = type 1 + length 4 + count 2 + per column 4 + data
WIDE_BYTES=$(psql_at "$PG_PORT" -c "select sum(7 + 6 * 4 + length(id::text) + octet_length(c1) + octet_length(c2)
  + octet_length(c3) + octet_length(c4) + octet_length(c5)) from bench_wide")
[[ " $TARGETS " == *" pgbouncer "* ]] && start_pgbouncer
[[ " $TARGETS " == *" warden "* ]] && start_warden
for t in $TARGETS; do
  n=$(psql_at "${PORT[$t]}" -c "select count(*) from bench_wide" 2>&1) || die "target $t: $n"
  [[ "$n" == "$WIDE_ROWS" ]] || die "target $t sees $n rows in bench_wide, expected $WIDE_ROWS"
done
if [[ " $TARGETS " == *" warden "* && " $WORKLOADS " == *" wide-masked "* ]]; then
  # The measurement means something only if Warden really masks: check a row it sends.
  row=$(psql_at "$WARDEN_PORT" -c "select email, phone from bench_people where id = 1" 2>&1) || die "warden: $row"
  [[ "$row" != *customer1@* && "$row" != *"555 0001"* ]] || die "Warden did not mask bench_people: $row"
  log "Warden masks bench_people: $row"
fi

read -r -a ORDER <<<"$TARGETS"
nt=${#ORDER[@]}
nw=$(wc -w <<<"$WORKLOADS")
{
  printf 'HEADER=%q\n' "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, PostgreSQL $(psql_at "$PG_PORT" -c 'show server_version' | awk '{print $1}'), pgbouncer $(pgbouncer --version | awk '/PgBouncer/{print $2}') (auth $PGB_AUTH), Warden $WARDEN_DESC; pgbench -c $CLIENTS -j $THREADS -T $DURATION x $REPS reps, interleaved, ${WARMUP}s Warden warm-up"
  printf 'WORKLOADS=%q\nTARGETS=%q\nWIDE_BYTES=%q\n' "$WORKLOADS" "$TARGETS" "$WIDE_BYTES"
} > "$OUT_DIR/meta.env"
echo "rep,workload,target,tps,lat_avg_ms,p99_ms,proc_cpu_us_per_tx,transactions,rc" > "$CSV"
log "targets: ${ORDER[*]}; workloads: $WORKLOADS"
log "~$(( (WARMUP + nt * 2 + REPS * nw * nt * (DURATION + 1)) / 60 + 1 )) min; raw results in $OUT_DIR"
START=$(date +%s)

# Unrecorded load: Warden gets WARMUP seconds over all workloads (JIT); the others a short touch.
per=$(( (WARMUP + nw - 1) / nw )); ((per >= 2)) || per=2
for t in "${ORDER[@]}"; do
  for wl in $WORKLOADS; do
    s=$per; [[ $t == warden ]] || s=1
    # shellcheck disable=SC2046
    pgbench -n -h 127.0.0.1 -p "${PORT[$t]}" -U "$BENCH_USER" -c "$CLIENTS" -j "$THREADS" -T "$s" \
      $(workload_args "$wl") "$BENCH_DB" >>"$OUT_DIR/out/warmup_$t.txt" 2>&1 ||
      log "warm-up $wl on $t failed (see out/warmup_$t.txt)"
  done
done
log "warm-up done"

for rep in $(seq 1 "$REPS"); do
  log "rep $rep/$REPS"
  for wl in $WORKLOADS; do
    for ((k = 0; k < nt; k++)); do
      run_one "$rep" "$wl" "${ORDER[$(((k + rep - 1) % nt))]}"
    done
  done
done
printf 'ELAPSED=%q\nLOADAVG_END=%q\n' "$(($(date +%s) - START))" "$(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT_DIR/meta.env"
report | tee "$OUT_DIR/summary.md"
