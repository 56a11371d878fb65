import os, sys, time
pid, secs = sys.argv[1], float(sys.argv[2])
def snap():
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            comm = open(f"/proc/{pid}/task/{tid}/comm").read().strip()
            run, wait, n = map(int, open(f"/proc/{pid}/task/{tid}/schedstat").read().split())
            st = open(f"/proc/{pid}/task/{tid}/status").read()
            vol = int(st.split("voluntary_ctxt_switches:")[1].split()[0]); inv = int(st.split("nonvoluntary_ctxt_switches:")[1].split()[0])
            out[tid] = (comm, run, wait, n, vol, inv)
        except (FileNotFoundError, ProcessLookupError, IndexError):
            pass
    return out
a = snap(); time.sleep(secs); b = snap()
rows = []
for tid, (comm, run, wait, n, vol, inv) in b.items():
    if tid in a:
        _, r0, w0, n0, v0, i0 = a[tid]
        rows.append((comm, tid, (run - r0) / 1e6 / secs, (wait - w0) / 1e6 / secs, (n - n0) / secs, (vol - v0) / secs, (inv - i0) / secs))
rows.sort(key=lambda r: -(r[2] + r[3]))
print(f"{'thread':24} {'cpu ms/s':>9} {'runq ms/s':>9} {'slices/s':>9} {'vol/s':>8} {'invol/s':>8} {'wait/slice us':>13}")
for r in rows:
    if r[2] + r[3] > 1:
        print(f"{r[0]:24} {r[2]:9.0f} {r[3]:9.0f} {r[4]:9.0f} {r[5]:8.0f} {r[6]:8.0f} {1000 * r[3] / max(r[4], 1e-9):13.0f}")
