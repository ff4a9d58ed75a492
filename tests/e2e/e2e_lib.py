"""Helpers for the Python parts of the end-to-end tests (standard library only).

A check script is run by lib.sh's `py` function: it prints "ok - ..." and
"not ok - ..." lines, which the shell counts like its own checks.
"""
import csv
import os
import json
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


def cb_sql(path, query):
    """Rows of `carebase sql --format json` (values as text; fp_data() works)."""
    import os
    import subprocess
    out = subprocess.run([os.environ["CAREBASE"], "--db", path, "sql", "--format", "json",
                          query], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def items(path, table="record"):
    """id -> the record's items (decoded record.data) for a table with data."""
    return {int(r["id"]): json.loads(r["data"])
            for r in cb_sql(path, "SELECT id, fp_data(data) AS data FROM %s" % table)}


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


def _colname(i):
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def csv_to_xlsx(rows, dst):
    """Writes rows (lists of strings, the first the header) as the first
    worksheet of a minimal .xlsx workbook, with the zipfile module only.
    Non-ASCII text goes to the shared-string table (t="s"), other text is an
    inline string (t="inlineStr"), integers without a leading zero are plain
    numeric cells; empty cells are left out (gaps); on odd rows a cell that
    follows its neighbour has no r attribute."""
    import re
    import zipfile
    from xml.sax.saxutils import escape
    sst, sidx = [], {}
    out = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           '<sheetPr/><dimension ref="A1"/><sheetData>']
    for ri, row in enumerate(rows, 1):
        out.append('<row r="%d">' % ri)
        prev = -2
        for ci, v in enumerate(row):
            if v == "":
                continue
            ref = "" if (ri % 2 and ci == prev + 1) else ' r="%s%d"' % (_colname(ci), ri)
            prev = ci
            if re.fullmatch(r"[1-9][0-9]{0,8}", v):
                out.append('<c%s><v>%s</v></c>' % (ref, v))
            elif v.isascii():
                out.append('<c%s t="inlineStr"><is><t>%s</t></is></c>' % (ref, escape(v)))
            else:
                if v not in sidx:
                    sidx[v] = len(sst)
                    sst.append(v)
                out.append('<c%s t="s"><v>%d</v></c>' % (ref, sidx[v]))
        out.append('</row>')
    out.append('</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75"'
               ' header="0.3" footer="0.3"/></worksheet>')
    ns = "http://schemas.openxmlformats.org/"
    xml = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml."
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", xml +
                   '<Types xmlns="%spackage/2006/content-types">'
                   '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   '<Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/xl/workbook.xml" ContentType="%ssheet.main+xml"/>'
                   '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="%sworksheet+xml"/>'
                   '<Override PartName="/xl/sharedStrings.xml" ContentType="%ssharedStrings+xml"/>'
                   '</Types>' % (ns, ct, ct, ct))
        z.writestr("_rels/.rels", xml +
                   '<Relationships xmlns="%spackage/2006/relationships">'
                   '<Relationship Id="rId1" Type="%sofficeDocument/2006/relationships/officeDocument"'
                   ' Target="xl/workbook.xml"/></Relationships>' % (ns, ns))
        z.writestr("xl/workbook.xml", xml +
                   '<workbook xmlns="%sspreadsheetml/2006/main" xmlns:r="%sofficeDocument/2006/relationships">'
                   '<sheets><sheet name="病案首页" sheetId="1" r:id="rId7"/></sheets></workbook>' % (ns, ns))
        z.writestr("xl/_rels/workbook.xml.rels", xml +
                   '<Relationships xmlns="%spackage/2006/relationships">'
                   '<Relationship Id="rId7" Type="%sofficeDocument/2006/relationships/worksheet"'
                   ' Target="worksheets/sheet1.xml"/>'
                   '<Relationship Id="rId8" Type="%sofficeDocument/2006/relationships/sharedStrings"'
                   ' Target="sharedStrings.xml"/></Relationships>' % (ns, ns, ns))
        z.writestr("xl/sharedStrings.xml", xml +
                   '<sst xmlns="%sspreadsheetml/2006/main" count="%d" uniqueCount="%d">%s</sst>'
                   % (ns, len(sst), len(sst), "".join("<si><t>%s</t></si>" % escape(s) for s in sst)))
        z.writestr("xl/worksheets/sheet1.xml", "".join(out))
