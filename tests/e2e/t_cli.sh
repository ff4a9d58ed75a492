#!/usr/bin/env bash
# The command line: help, usage errors, exit codes, organisations, and a
# database newer than the binary.
. "$(dirname "$0")/lib.sh"

out=$("$CAREBASE" help); check "help lists the commands" grep -q 'import' <<<"$out"
out=$("$CAREBASE" help import); check "help import shows its options" grep -q -- '--profile' <<<"$out"
"$CAREBASE" help nosuch 2>/dev/null && rc=0 || rc=$?; eq "help of an unknown command is a usage error" "$rc" 2
"$CAREBASE" nosuch 2>/dev/null && rc=0 || rc=$?; eq "unknown command exits 2" "$rc" 2
"$CAREBASE" 2>/dev/null && rc=0 || rc=$?; eq "no command exits 2" "$rc" 2
cb import 2>/dev/null && rc=0 || rc=$?; eq "import without files exits 2" "$rc" 2
cb import --encoding latin1 x.csv 2>/dev/null && rc=0 || rc=$?; eq "unknown encoding exits 2" "$rc" 2
cb import "$T/missing.csv" 2>"$T/err" && rc=0 || rc=$?
eq "a missing file fails with 1" "$rc" 1
check "and says which file" grep -q 'missing.csv' "$T/err"

# Organisations: consortium, region, hospital in both, levels.
cb org add consortium YLT01 某市医联体
cb org add region R01 某区
cb org add hospital 12345678-9 某市人民医院 --level 三级 --in YLT01
cb org join R01 12345678-9
cb org set hospital 12345678-9 --level 二级
eq "hospital level updated" "$(sql "SELECT level FROM hospital WHERE zzjgdm = '12345678-9'")" "二级"
eq "hospital in two groupings" "$(sql "SELECT count(*) FROM org_member")" 2
cb org add hospital X1 名 --level 四级 2>/dev/null && rc=0 || rc=$?
eq "an unknown level is refused" "$rc" 2
cb org join NOPE 12345678-9 2>/dev/null && rc=0 || rc=$?
eq "joining an unknown grouping fails" "$rc" 1
out=$(cb org list)
check "org list shows the consortium" grep -q 'YLT01' <<<"$out"
check "org list shows the hospital" grep -q '某市人民医院' <<<"$out"
out=$(cb status); check "status shows the schema version" grep -q 'schema version 11' <<<"$out"

# A database written by a newer Carebase is refused, not damaged.
sqlite3 "$T/new.db" 'PRAGMA user_version = 42; CREATE TABLE x(y);'
"$CAREBASE" --db "$T/new.db" status 2>"$T/err" && rc=0 || rc=$?
eq "a newer database is refused" "$rc" 1
check "with a message naming the versions" grep -q 'schema version 42, newer' "$T/err"
eq "and left untouched" "$(sqlite3 "$T/new.db" 'PRAGMA user_version')" 42

finish
