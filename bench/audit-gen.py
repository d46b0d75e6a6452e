#!/usr/bin/env python3
"""Write a synthetic national-size release for `pc6risk audit` to time.

Usage: bench/audit-gen.py OUTDIR [GROUPS] [SEED]

OUTDIR/disclosure/{groups.csv,figures.csv,policy.json} and OUTDIR/public.csv
(CBS-style exact buurt totals of inhabitants): 340 gemeenten, about 13,000
buurten and GROUPS groups (default 150,000), four count variables and one
score. Protection is a plain stand-in for protect: primary suppression below
the size and household rules, then a second group in every buurt with a lone
suppressed one; values rounded half up to the policy's base. SYNTHETIC: it
exists to time the audit, not to be a correct protection (the audit lists
what it leaves disclosive).
"""
import os
import random
import sys

out = sys.argv[1]
ngroups = int(sys.argv[2]) if len(sys.argv) > 2 else 150000
rnd = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
nbuurten = max(1, ngroups * 13000 // 150000)
ngem = max(1, min(340, nbuurten // 10))

BASE = {"person": 5, "dwelling": 5, "income": 100}
VARS = [("inhabitants", "person"), ("households", "person"), ("dwellings", "dwelling"),
        ("benefit_recipients", "income")]


def rnd_half_up(x, b):
    return (x + b // 2) // b * b


# the tree: buurten shared out over gemeenten (skewed sizes) and wijken
weights = [rnd.paretovariate(1.2) for _ in range(ngem)]
total_w = sum(weights)
buurten = []  # (code, wijk, gemeente)
for m in range(ngem):
    nb = max(1, round(nbuurten * weights[m] / total_w))
    nw = max(1, nb // 8)
    for b in range(nb):
        w = b * nw // nb
        buurten.append(("BU%04d%02d%02d" % (m, w, b % 100) + "%03d" % b, "WK%04d%02d" % (m, w), "GM%04d" % m))
# groups per buurt
per = [1] * len(buurten)
for _ in range(max(0, ngroups - len(buurten))):
    per[rnd.randrange(len(buurten))] += 1
groups = []  # (id, buurt index, true values)
pc = 0
for bi, n in enumerate(per):
    for g in range(n):
        inh = max(0, int(rnd.lognormvariate(4.3, 0.8)))
        hh = int(inh / 2.2)
        dw = int(hh * 1.05)
        ben = int(hh * rnd.uniform(0.0, 0.12))
        groups.append(("G%06d" % pc, bi, {"inhabitants": inh, "households": hh, "dwellings": dw,
                                           "benefit_recipients": ben}))
        pc += 1
groups.sort(key=lambda g: g[0])

# buurt units: every tenth buurt merged with the next of its wijk
unit_of = {}
units = []
i = 0
while i < len(buurten):
    if i + 1 < len(buurten) and buurten[i + 1][1] == buurten[i][1] and rnd.random() < 0.1:
        units.append([i, i + 1])
        i += 2
    else:
        units.append([i])
        i += 1
for u, members in enumerate(units):
    for b in members:
        unit_of[b] = u

os.makedirs(os.path.join(out, "disclosure"), exist_ok=True)
with open(os.path.join(out, "disclosure", "groups.csv"), "w") as f:
    f.write("group,buurt,wijk,gemeente,members\n")
    for gid, bi, _ in groups:
        code, w, m = buurten[bi]
        f.write("%s,%s,%s,%s,%s\n" % (gid, code, w, m, "P" + gid[1:]))

by_buurt = {}
for g in groups:
    by_buurt.setdefault(g[1], []).append(g)

rows = []


def emit(level, region, var, kind, value, publish, reason):
    b = BASE[kind]
    if publish:
        rows.append((level, region, var, kind, "published", str(rnd_half_up(value, b)), str(b), ""))
    else:
        rows.append((level, region, var, kind, "suppressed", "", str(b), reason))


for bi, gs in by_buurt.items():
    small = {g[0] for g in gs if g[2]["inhabitants"] < 10}
    if len(small) == 1 and len(gs) > 1:
        rest = sorted((g for g in gs if g[0] not in small), key=lambda g: g[2]["inhabitants"])
        second = rest[0][0]
    else:
        second = None
    for gid, _, v in gs:
        for var, kind in VARS:
            if gid in small:
                emit("group", gid, var, kind, v[var], False, "primary: fewer than 10 inhabitants")
            elif gid == second:
                emit("group", gid, var, kind, v[var], False, "secondary: protects another group")
            elif kind == "income" and v["households"] < 100:
                emit("group", gid, var, kind, v[var], False, "primary: fewer than 100 households")
            else:
                emit("group", gid, var, kind, v[var], True, "")
        if gid in small or gid == second:
            rows.append(("group", gid, "score:kinderarmoede-kern", "score", "suppressed", "", "", "primary: x"))
        else:
            rows.append(("group", gid, "score:kinderarmoede-kern", "score", "published", str(rnd.randint(1, 10)), "", ""))


def region_sum(bis, var):
    return sum(g[2][var] for b in bis for g in by_buurt.get(b, []))


for members in units:
    name = "+".join(sorted(buurten[b][0] for b in members))
    hh = region_sum(members, "households")
    for var, kind in VARS:
        v = region_sum(members, var)
        emit("buurt", name, var, kind, v, kind != "income" or (hh >= 100 and v >= 400),
             "primary: fewer than 100 households or 400 recipients")
wijken = {}
gemeenten = {}
for bi, (code, w, m) in enumerate(buurten):
    wijken.setdefault(w, []).append(bi)
    gemeenten.setdefault(m, []).append(bi)
for level, table in (("wijk", wijken), ("gemeente", gemeenten)):
    for name, bis in table.items():
        for var, kind in VARS:
            v = region_sum(bis, var)
            emit(level, name, var, kind, v, kind != "income" or v >= 400, "primary: fewer than 400 recipients")
order = {"group": 0, "buurt": 1, "wijk": 2, "gemeente": 3}
rows.sort(key=lambda r: (order[r[0]], r[1], r[2]))
with open(os.path.join(out, "disclosure", "figures.csv"), "w") as f:
    f.write("level,region,variable,kind,status,value,base,reason\n")
    for r in rows:
        f.write(",".join(r) + "\n")
with open(os.path.join(out, "disclosure", "policy.json"), "w") as f:
    f.write('{\n  "policy": "public",\n'
            '  "size": [{"variable": "inhabitants", "min": 5}, {"variable": "dwellings", "min": 5}],\n'
            '  "kinds": {\n    "person": {"base": 5, "k": 5},\n    "dwelling": {"base": 5, "k": 5},\n'
            '    "income": {"base": 100, "k": 100, "min_variable": "households", "min": 100, "dominance": 0.3}\n'
            '  },\n  "range": 0.5,\n  "bands": 10\n}\n')
with open(os.path.join(out, "public.csv"), "w") as f:
    f.write("level,code,variable,value,base\n")
    for bi, (code, _, _) in enumerate(buurten):
        f.write("buurt,%s,inhabitants,%d,1\n" % (code, region_sum([bi], "inhabitants")))
print("%s: %d groups, %d buurten, %d units, %d gemeenten, %d figures"
      % (out, len(groups), len(buurten), len(units), len(gemeenten), len(rows)), file=sys.stderr)
