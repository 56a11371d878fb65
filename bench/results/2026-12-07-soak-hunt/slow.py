import sys, collections
lines = open(sys.argv[1]).read().splitlines()
start = [float(l.split()[2]) for l in lines if l.startswith("# start_epoch_ms")]
rows = [tuple(map(float, l.split())) for l in lines if l and not l.startswith("#")]
t0 = float(sys.argv[2]) if len(sys.argv) > 2 else 0
thr = float(sys.argv[3]) if len(sys.argv) > 3 else 10
rows = sorted(r for r in rows if r[0] >= t0 and r[1] > thr)
print(f"slow (> {thr} ms) after {t0} ms: {len(rows)}")
# events: slow requests whose scheduled times lie within 20 ms of the previous one
events = []
for r in rows:
    if events and r[0] - events[-1][-1][0] < 20:
        events[-1].append(r)
    else:
        events.append([r])
sizes = collections.Counter(min(len(e), 50) // 5 * 5 for e in events)
print("events:", len(events), "size buckets (5s):", sorted(sizes.items()))
big = sorted(events, key=lambda e: -len(e))[:8]
for e in big:
    conns = len(set(int(r[2]) for r in e))
    print(f"  at {e[0][0]:.0f} ms: {len(e)} requests over {e[-1][0]-e[0][0]:.1f} ms, {conns} connections, worst {max(r[1] for r in e):.1f} ms")
for period in (2000, 1000, 5000):
    bins = collections.Counter(int(e[0][0] % period // (period / 10)) for e in events)
    print(f"event phase mod {period} ms (10 bins):", [bins.get(i, 0) for i in range(10)])
