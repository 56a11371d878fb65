#!/usr/bin/env bash
# prof.sh CHECKOUT OUT.jfr [conc] [warm] [secs]: berth churn JSON under wrk, JFR CPU-time sampling after warm-up
# env: CEILING=PREFIX (profile the bare route replaying PREFIX.body/.headers instead), RECORD=PREFIX (record berth's answer),
#      THREADS=FILE (per-thread CPU), STRACE=FILE (strace -c for 4 s), JOPTS, JFRSET
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); root=$(cd "$here/../../../.." && pwd)
dir=$(cd "$1" && pwd); out=$2; conc=${3:-16}; warm=${4:-20}; secs=${5:-15}
JAVA_HOME=$(bash "$root/.ci/find-jdk"); java=$JAVA_HOME/bin/java
bench_jar=$root/benchmarks/target/benchmarks.jar
work=$(mktemp -d /tmp/prof.XXXXXX)
cp -r $root/models $work/models
"$java" --enable-native-access=ALL-UNNAMED -cp "$bench_jar" dev.berth.bench.BenchTool payloads $work/p churn-json=churn:churn:1:json >/dev/null
read -r port gport <<<"$("$java" -cp "$bench_jar" dev.berth.bench.BenchTool free-ports 2 | tr '\n' ' ')"
if [ -n "${CEILING:-}" ]; then
  "$java" -XX:+UseSerialGC -cp "$bench_jar" dev.berth.bench.BenchTool ceiling-server --port "$port" /v2/models/churn/infer=$CEILING >$work/log 2>&1 &
else
ORT_DISABLE_TELEMETRY=1 "$java" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -XX:+UseSerialGC ${JOPTS:-} \
  -jar $dir/cli/target/berth.jar serve --models $work/models --host 127.0.0.1 --port $port --grpc-port $gport >$work/log 2>&1 &
fi
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf $work' EXIT
for i in $(seq 300); do curl -sf http://127.0.0.1:$port/v2/health/ready >/dev/null && break; sleep 0.1; done
url=http://127.0.0.1:$port/v2/models/churn/infer
w() { BENCH_BODY=$work/p/churn-json.body BENCH_HEADERS=$work/p/churn-json.headers wrk -t1 -c$1 -d${2}s -s $root/bench/post.lua $url | grep BENCH; }
[ -n "${RECORD:-}" ] && curl -s -o $RECORD.body -D $RECORD.headers -H "Content-Type: application/json" --data-binary @$work/p/churn-json.body $url >/dev/null
w $conc $warm >/dev/null
$JAVA_HOME/bin/jcmd $pid JFR.start name=p settings=${JFRSET:-$here/cpu.jfc} >/dev/null
t0=$(awk '{print $14+$15}' /proc/$pid/stat); l0=$(cut -d' ' -f1 /proc/loadavg)
( [ -n "${THREADS:-}" ] && sleep 2 && $here/threads.sh $pid $((secs-4)) > $THREADS ) &
( [ -n "${STRACE:-}" ] && sleep 2 && timeout 4 strace -c -f -p $pid -o $STRACE >/dev/null 2>&1 ) &
line=$(w $conc $secs)
wait $! || true
t1=$(awk '{print $14+$15}' /proc/$pid/stat)
$JAVA_HOME/bin/jcmd $pid JFR.dump name=p filename=$out >/dev/null
read -r _ req dur p50 p99 _ <<<"$line"
echo "c=$conc req/s=$(( req * 1000000 / dur )) p50=$p50 p99=$p99 cpu_us/req=$(awk -v t=$((t1-t0)) -v r=$req "BEGIN{printf \"%.1f\", t*10000/r}") load=$l0->$(cut -d' ' -f1 /proc/loadavg)"
