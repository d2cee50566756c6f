# bench/s1_data.sh - sourced by the benchmarks that run S1 (the logistic
# model of bench/weights.txt over the JSON lines of bench/gen_s1.c): makes
# the generator and the input of $N records in $data when missing, and sets
#   s1in    the input file
#   linear  the model's linear part, w0 + (w1)*G1 + ... + (w10)*G10
# It reads $here (the bench directory), $data, $N, $PYTHON and CC.
if [ ! -x "$data/bin/gen_s1" ] || [ "$here/gen_s1.c" -nt "$data/bin/gen_s1" ]; then
  ${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -o "$data/bin/gen_s1" "$here/gen_s1.c"
fi
s1in=$data/s1-in-$N-seed1.jsonl
[ -s "$s1in" ] || { "$data/bin/gen_s1" -n "$N" -s 1 "$s1in.tmp" && mv "$s1in.tmp" "$s1in"; }
linear=$("$PYTHON" - "$here/weights.txt" <<'PY'
import re, sys
w = {}
for l in open(sys.argv[1]):
    m = re.match(r"w(\d+)\s+(\S+)", l)
    if m:
        w[int(m.group(1))] = m.group(2)
print(w[0] + "".join(" + (%s)*G%d" % (w[i], i) for i in range(1, 11)))
PY
)
