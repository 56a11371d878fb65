import re, sys, collections
def load(f):
    h = collections.defaultdict(dict)
    for line in open(f):
        m = re.match(r'(berth_\w+)_bucket\{(.*)\} (\S+)', line)
        if not m: continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2)))
        le = labels.pop("le"); key = (m.group(1), labels.get("model",""), labels.get("outcome", labels.get("protocol","")))
        h[key][float(le)] = h[key].get(float(le), 0) + float(m.group(3))
    return h
a, b = load(sys.argv[1]), load(sys.argv[2])
for key in sorted(b):
    if "duration" not in key[0]: continue
    d = {le: b[key][le] - a.get(key, {}).get(le, 0) for le in b[key]}
    total = d.get(float("inf"), 0)
    if total < 100: continue
    def q(p):
        for le in sorted(d):
            if d[le] >= p * total: return le
    print(f"{key[0]:36} {key[1]:7} {key[2]:10} n={total:8.0f} p50<={q(.5)*1000:.3g}ms p99<={q(.99)*1000:.3g}ms p99.9<={q(.999)*1000:.3g}ms")
