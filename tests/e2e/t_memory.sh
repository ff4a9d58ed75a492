#!/usr/bin/env bash
# Memory stays bounded: the peak resident set of importing (and checking) a
# 200,000-record file is not much above that of a 50,000-record file:
#   peak200 <= 1.3 x peak50 + 16 MB (+ for import, the page-cache allowance)
# The streaming reader keeps a sliding window and SQLite a capped page cache
# (PRAGMA cache_size in src/store/store.c, 128 MiB), so the peak must not
# grow with the file. The page cache legitimately fills up to its cap as the
# database grows: import is allowed the growth of min(database size, cap)
# between the two runs (a database smaller than the cap at 50k records
# would otherwise look like a leak). Under AddressSanitizer the RSS is
# inflated (shadow memory, and freed blocks held in quarantine, 256 MB by
# default): the quarantine is capped here so that it does not hide or fake
# a growth.
. "$(dirname "$0")/lib.sh"
export ASAN_OPTIONS="$ASAN_OPTIONS:quarantine_size_mb=16"

gen --records 200000 --seed 91 --out "$T/200k.csv"
head -n 50001 "$T/200k.csv" >"$T/50k.csv"

# peak CMD...: peak RSS (KB) of CMD (its output discarded), or failed:STATUS
peak() {
  python3 - "$@" <<'EOF'
import resource, subprocess, sys
rc = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss if rc == 0 else "failed:%d" % rc)
EOF
}

cache_kb=$(sed -n 's/.*cache_size = -\([0-9][0-9]*\).*/\1/p' "$CB_SOURCE/src/store/store.c" | head -1)
cache_kb=${cache_kb:-131072}
for n in 50k 200k; do
  eval "imp_$n=\$(peak \"\$CAREBASE\" --db \"\$T/\$n.db\" --quiet import \"\$T/\$n.csv\")"
  eval "chk_$n=\$(peak \"\$CAREBASE\" --quiet check --rules-only \"\$T/\$n.csv\")"
  kb=0
  for x in "$T/$n.db" "$T/$n.db-wal"; do
    if [ -e "$x" ]; then kb=$((kb + $(stat -c %s "$x") / 1024)); fi
  done
  eval "db_$n=$(( kb < cache_kb ? kb : cache_kb ))"
  rm -f "$T/$n.db" "$T/$n.db-wal" "$T/$n.db-shm"
done
allow=$((db_200k - db_50k))
echo "# peak RSS (KB): import 50k $imp_50k, 200k $imp_200k (page-cache allowance $allow); check 50k $chk_50k, 200k $chk_200k"
for v in "$imp_50k" "$imp_200k" "$chk_50k" "$chk_200k"; do
  check "the measured command succeeded ($v)" test "${v#failed}" = "$v"
done
# bounded PEAK50 PEAK200 ALLOWANCE
bounded() { [[ "$1" =~ ^[0-9]+$ && "$2" =~ ^[0-9]+$ ]] && [ "$2" -le $(( $1 * 13 / 10 + 16384 + $3 )) ]; }
check "import: peak RSS of 200k records <= 1.3 x that of 50k + 16 MB + page cache ($imp_200k vs $imp_50k KB)" \
  bounded "$imp_50k" "$imp_200k" "$allow"
check "check: peak RSS of 200k records <= 1.3 x that of 50k + 16 MB ($chk_200k vs $chk_50k KB)" \
  bounded "$chk_50k" "$chk_200k" 0

finish
