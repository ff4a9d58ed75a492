"""Helpers for the Python parts of the end-to-end tests (standard library only).

A check script is run by lib.sh's `py` function: it prints "ok - ..." and
"not ok - ..." lines, which the shell counts like its own checks.
"""
import csv
import io
import os
import sqlite3
import sys

SOURCE = os.environ.get("CB_SOURCE", ".")


def ok(desc, cond, detail=""):
    if cond:
        print("ok - " + desc)
    else:
        print("not ok - " + desc + (": " + str(detail) if detail else ""))
    return bool(cond)


def eq(desc, got, want):
    return ok(desc, got == want, "got %r, want %r" % (_short(got), _short(want)))


def _short(v, n=300):
    s = repr(v)
    return v if len(s) <= n else s[:n] + "..."


def db(path):
    """A read-only connection to a Carebase database."""
    return sqlite3.connect("file:%s?mode=ro" % path, uri=True)


def one(conn, query, *args):
    return conn.execute(query, args).fetchone()[0]


def severities():
    """Rule id -> E, W or off, from data/qc/rules.tsv."""
    sev = {}
    with open(os.path.join(SOURCE, "data", "qc", "rules.tsv"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or line.startswith("id\t") or not line.strip():
                continue
            p = line.rstrip("\n").split("\t")
            sev[p[0]] = p[1]
    return sev


def manifest(path):
    """The (line, rule, field) triples written by 'carebase generate --manifest'."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) >= 3 and p[0].isdigit():
                out.append((int(p[0]), p[1], p[2]))
    return out


def read_rows(path, encoding="utf-8", delimiter=","):
    """The header and the rows of a CSV file, with the line number of each
    row (the header is line 1; the generated files have no multi-line
    fields)."""
    with open(path, encoding=encoding, newline="") as f:
        rows = list(csv.reader(f, delimiter=delimiter))
    return rows[0], [(i + 2, r) for i, r in enumerate(rows[1:])]


def raw_lines(path, encoding="utf-8"):
    """Line number -> the text of that line without its line end."""
    with open(path, encoding=encoding, newline="") as f:
        text = f.read()
    if text.startswith("\ufeff"):
        text = text[1:]
    return {i + 1: l.rstrip("\r") for i, l in enumerate(text.split("\n"))}


def write_rows(path, header, rows, encoding="utf-8"):
    with open(path, "w", encoding=encoding, newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow(r)


def run_checks(fn):
    """Runs fn(); an exception counts as one failure (with its traceback)."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - report, do not hide
        import traceback
        traceback.print_exc(file=sys.stdout)
        print("not ok - python check raised %s: %s" % (type(e).__name__, e))
