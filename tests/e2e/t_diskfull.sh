#!/usr/bin/env bash
# A full disk in the middle of an import: the command fails with a clear
# message, the database stays sound and holds whole batches, and importing
# the file again once there is room completes it. Needs a small tmpfs
# (mount, as root); skipped where mounting is not allowed.
. "$(dirname "$0")/lib.sh"

MNT="$T/small"
mkdir -p "$MNT"
if ! mount -t tmpfs -o size=12m tmpfs "$MNT" 2>/dev/null; then
  echo "# skip: cannot mount a tmpfs here"
  finish
  exit 0
fi
trap 'umount "$MNT" 2>/dev/null; rm -rf "$T"' EXIT

gen --records 20000 --seed 5 --errors 0.02 --out "$T/g.csv"
DB="$MNT/carebase.db"
run cb import --batch 2000 "$T/g.csv" 2>"$T/err"
exit1 "a full disk fails the import with status 1" "$RC"
check "and says the disk is full" grep -q "disk is full" "$T/err"
eq "the database is sound" "$(sql 'PRAGMA integrity_check')" "ok"
kept=$(sql "SELECT (SELECT count(*) FROM record) + (SELECT count(*) FROM reject)")
check "it holds some whole batches ($kept rows)" test "$kept" -gt 0 -a $((kept % 2000)) -eq 0

first=$(sql "SELECT count(*) FROM record")
mount -o remount,size=300m "$MNT"
run cb import --json --batch 2000 "$T/g.csv" >"$T/sum.json"
eq "with room again, the same import completes" "$RC" 0
eq "every row is stored once" \
   "$(sql "SELECT (SELECT count(*) FROM record) + (SELECT count(*) FROM reject WHERE status = 'open')")" 20000
eq "the rows stored before the disk filled count as unchanged" \
   "$(summary "$T/sum.json" unchanged)" "$first"
eq "the database is still sound" "$(sql 'PRAGMA integrity_check')" "ok"
finish
