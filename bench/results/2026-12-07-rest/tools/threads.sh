#!/usr/bin/env bash
# threads.sh PID SECS REQS_FILE: per-thread CPU over SECS, grouped by thread name
pid=$1; secs=$2
snap() { for t in /proc/$pid/task/*; do n=$(cat $t/comm); s=$(awk '{print $14+$15}' $t/stat); echo "$n	$s"; done; }
snap > /tmp/thr0.$$; sleep $secs; snap > /tmp/thr1.$$
paste /tmp/thr0.$$ /tmp/thr1.$$ | awk -F'\t' '{g=$1; gsub(/[0-9]+$/,"",g); d[g]+=$4-$2} END {for (k in d) if (d[k]>0) print d[k]*10 " ms\t" k}' | sort -rn
rm -f /tmp/thr0.$$ /tmp/thr1.$$
