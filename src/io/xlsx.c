/*
 * xlsx.c - streaming reader for the first worksheet of an .xlsx workbook.
 *
 * Format accepted (ECMA-376 SpreadsheetML, transitional or strict; element
 * and attribute names are matched by local name, whatever their prefix):
 *
 *   An .xlsx file is a zip archive of XML parts. The workbook part is the
 *   target of the "officeDocument" relationship in _rels/.rels, or
 *   xl/workbook.xml when that is missing. Its first
 *     <workbook><sheets><sheet r:id="rId7" .../>
 *   names a relationship in <dir>/_rels/<workbook name>.rels:
 *     <Relationships><Relationship Id="rId7" Type=".../worksheet"
 *                                  Target="worksheets/sheet1.xml"/>
 *   Target is relative to the workbook's folder, or absolute if it starts
 *   with '/'. Without a workbook rels part the sheet is
 *   <dir>/worksheets/sheet1.xml. Shared strings come from the
 *   ".../sharedStrings" relationship, else <dir>/sharedStrings.xml if
 *   present:
 *     <sst><si><t>text</t></si>
 *          <si><r><t>rich </t></r><r><t>runs</t></r><rPh><t>ignored</t></rPh></si>
 *   A string is all its <t> text; phonetic runs (<rPh>) are left out.
 *
 *   The worksheet part is streamed 64 KiB at a time:
 *     <worksheet><sheetData>
 *       <row r="3"><c r="B3" t="s"><v>12</v></c> ... </row> ...
 *   Cell types (t): "s" shared-string index in <v>; "inlineStr" text in
 *   <is><t>..</t></is> (rich runs and <rPh> as in <si>); "b" boolean, 0 or
 *   1 (true/false accepted); "n" or none, "str", "e", "d" and any other:
 *   the text of <v> exactly as written. A cell without a value is empty.
 *   The column comes from the letters of r, or follows the previous cell
 *   when r is missing; gaps become empty fields and trailing empty cells
 *   are dropped, so a row with no value at all is not returned. A row's
 *   number is its r attribute, else the previous row's number plus one.
 *   <f> (formulas) and everything outside <sheetData> are ignored.
 *
 * Rejected with CB_ERR_PROTO: not a zip, missing parts, XML errors, a DTD,
 * cells out of column order in a row, bad cell references, shared-string
 * indexes out of range. Limits (CB_ERR_TOO_LARGE): a cell value of 1 MiB,
 * 16,384 columns, a row of 64 MiB of text, 512 MiB of shared strings, a
 * single XML token of 16 MiB, elements nested 256 deep.
 *
 * Memory: the shared-string table plus one row. The parser is suspended
 * (XML_StopParser, resumable) at the end of each non-empty row and resumed
 * by the next call, so no queue of rows is needed.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <expat.h>
#include <zip.h>

#include "carebase/alloc.h"
#include "carebase/buf.h"
#include "carebase/err.h"
#include "carebase/reader.h"
#include "carebase/str.h"

#define XLSX_CHUNK      ((size_t)64 << 10)  /* bytes read per zip_fread */
#define XLSX_CELL_MAX   ((size_t)1 << 20)   /* one cell's text */
#define XLSX_ROW_MAX    ((size_t)64 << 20)  /* one row's joined text */
#define XLSX_MAX_COLS   16384               /* Excel's limit, column XFD */
#define XLSX_SST_MAX    ((size_t)512 << 20) /* shared strings, with index */
#define XLSX_TOKEN_MAX  ((uint64_t)16 << 20) /* bytes without a parser event */
#define XLSX_DEPTH_MAX  256                 /* element nesting */
#define XLSX_NAME_MAX   1024                /* a part name */

/* Namespace URI and local name are joined by this in expat's names. */
#define NS_SEP ' '

/* One zip part being parsed with expat, a chunk at a time. */
struct xml_in {
    zip_file_t    *file;
    XML_Parser     parser;
    char          *part;       /* owned: the part's name, for messages */
    const char    *root;       /* expected local name of the root element */
    uint64_t       done;       /* uncompressed bytes fed to the parser */
    uint64_t       total;      /* uncompressed size of the part (0: unknown) */
    uint64_t       mark;       /* done at the last parser event */
    int            depth;      /* current element depth, root = 1 */
    bool           final;      /* the last buffer has been fed */
    bool           suspended;  /* a handler paused the parse on a row */
    enum cb_err    rc;         /* sticky: set when the parse failed */
    struct cb_buf *err;        /* the caller's, during a step */
};

/*
 * Where we are inside a text container (<si> or <is>); depths of the open
 * elements, 0 when outside.
 */
struct rich {
    int root;  /* <si> or <is> */
    int rph;   /* <rPh>, a phonetic run: its text is ignored */
    int t;     /* the <t> whose text is being collected */
};

enum cell_type {
    CELL_TEXT,    /* the text of <v> as written */
    CELL_SST,     /* <v> is a shared-string index */
    CELL_INLINE,  /* text in <is> (or, from some writers, in <v>) */
    CELL_BOOL     /* <v> is 0 or 1 */
};

struct span {
    size_t off;  /* into struct cb_xlsx.row */
    size_t len;
};

struct cb_xlsx {
    struct xml_in  in;          /* the worksheet part; must stay first */
    zip_t         *zip;
    /* Shared strings: string i is sst_text[sst_off[i] .. sst_off[i + 1]). */
    struct cb_buf  sst_text;
    size_t        *sst_off;
    size_t         nsst;
    size_t         sst_cap;     /* entries allocated in sst_off */
    /* Position in the sheet: depths of open elements, 0 when outside. */
    int            data_depth;  /* <sheetData> */
    int            row_depth;   /* <row> */
    int            cell_depth;  /* <c> */
    int            v_depth;     /* <v> */
    struct rich    is;          /* <is> of an inline-string cell */
    /* The cell being parsed. */
    enum cell_type ctype;
    size_t         ccol;        /* 0-based column */
    struct cb_buf  cell;        /* text of <v> or <is>, capped */
    /* The row being built; handed out when the parser is suspended. */
    uint64_t       line;        /* row number */
    size_t         next_col;    /* column of a following cell without r */
    struct cb_buf  row;         /* non-trailing fields joined with TABs */
    struct span   *spans;       /* the fields, as offsets into row */
    size_t         nspans;
    size_t         spans_cap;
    struct cb_str *fields;      /* row->fields of the last row returned */
    size_t         fields_cap;
};

/* Workbook part: the first sheet's relationship id. */
struct wb_ctx {
    struct xml_in in;  /* must stay first */
    char         *rid;
};

/* A rels part: one relationship by Id, and the first of a type. */
struct rels_ctx {
    struct xml_in in;           /* must stay first */
    const char   *want_id;      /* NULL: none wanted */
    const char   *want_type;    /* suffix of Type, e.g. "/sharedStrings" */
    char         *id_target;
    char         *id_type;
    bool          id_external;  /* TargetMode="External" */
    char         *type_target;
};

/* Shared-strings part being loaded into x. */
struct sst_ctx {
    struct xml_in   in;  /* must stay first */
    struct cb_xlsx *x;
    struct rich     rt;
    size_t          si_start;  /* offset of the current <si> in sst_text */
};

static const XML_Memory_Handling_Suite xml_mem = {
    cb_malloc, cb_realloc, cb_free
};

/* ---- small helpers ---- */

static const char *
local_name(const XML_Char *name)
{
    const char *p = strrchr(name, NS_SEP);

    return p ? p + 1 : name;
}

/* Value of the attribute with this local name and no namespace, or NULL. */
static const char *
attr(const XML_Char **atts, const char *name)
{
    size_t i;

    for (i = 0; atts[i]; i += 2)
        if (strcmp(atts[i], name) == 0)
            return atts[i + 1];
    return NULL;
}

/* Value of a namespaced attribute (such as r:id) with this local name. */
static const char *
attr_ns(const XML_Char **atts, const char *name)
{
    size_t i;

    for (i = 0; atts[i]; i += 2)
        if (strchr(atts[i], NS_SEP) && strcmp(local_name(atts[i]), name) == 0)
            return atts[i + 1];
    return NULL;
}

static bool
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* Column letters of a 0-based column below XLSX_MAX_COLS ("A".."XFD"). */
static const char *
col_name(size_t col, char buf[8])
{
    char tmp[8];
    size_t n = 0, i;

    col++;
    while (col && n < sizeof(tmp) - 1) {
        tmp[n++] = (char)('A' + (col - 1) % 26);
        col = (col - 1) / 26;
    }
    for (i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
    return buf;
}

/*
 * Column of a cell reference such as "B3" (letters, then optional digits):
 * CB_ERR_PROTO when malformed, CB_ERR_TOO_LARGE past XLSX_MAX_COLS.
 */
static enum cb_err
parse_col(const char *ref, size_t *col)
{
    const char *p = ref;
    size_t c = 0;

    for (; (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'); p++) {
        size_t d = (size_t)((*p | 0x20) - 'a') + 1;
        c = c > XLSX_MAX_COLS ? c : c * 26 + d;
    }
    if (p == ref)
        return CB_ERR_PROTO;
    while (*p >= '0' && *p <= '9')
        p++;
    if (*p)
        return CB_ERR_PROTO;
    if (c > XLSX_MAX_COLS)
        return CB_ERR_TOO_LARGE;
    *col = c - 1;
    return CB_OK;
}

/* Lower-case text for a libzip error code. */
static const char *
zip_reason(zip_error_t *ze)
{
    switch (zip_error_code_zip(ze)) {
    case ZIP_ER_NOZIP:           return "not a zip archive";
    case ZIP_ER_NOENT:           return "no such file";
    case ZIP_ER_OPEN:            return "cannot open file";
    case ZIP_ER_READ:            return "read error";
    case ZIP_ER_SEEK:            return "seek error";
    case ZIP_ER_CRC:             return "crc mismatch";
    case ZIP_ER_ZLIB:            return "invalid compressed data";
    case ZIP_ER_COMPRESSED_DATA: return "invalid compressed data";
    case ZIP_ER_INCONS:          return "inconsistent zip archive";
    case ZIP_ER_MULTIDISK:       return "multi-disk zip archives not supported";
    case ZIP_ER_COMPNOTSUPP:     return "compression method not supported";
    case ZIP_ER_ENCRNOTSUPP:     return "encrypted entry";
    case ZIP_ER_NOPASSWD:        return "encrypted entry";
    case ZIP_ER_EOF:             return "premature end of file";
    case ZIP_ER_MEMORY:          return "out of memory";
    default:                     return zip_error_strerror(ze);
    }
}

/* CB_ERR_PROTO for damaged data, CB_ERR_IO for the rest. */
static enum cb_err
zip_rc(zip_error_t *ze)
{
    switch (zip_error_code_zip(ze)) {
    case ZIP_ER_NOZIP:
    case ZIP_ER_CRC:
    case ZIP_ER_ZLIB:
    case ZIP_ER_COMPRESSED_DATA:
    case ZIP_ER_INCONS:
    case ZIP_ER_MULTIDISK:
    case ZIP_ER_COMPNOTSUPP:
    case ZIP_ER_ENCRNOTSUPP:
    case ZIP_ER_NOPASSWD:
    case ZIP_ER_EOF:
        return CB_ERR_PROTO;
    case ZIP_ER_MEMORY:
        return CB_ERR_NOMEM;
    default:
        return CB_ERR_IO;
    }
}

/*
 * Resolves a relationship target against dir (a folder ending in '/', or
 * ""): absolute targets start at the package root; "." and ".." segments
 * are applied. *out is owned by the caller.
 */
static enum cb_err
resolve_target(const char *dir, const char *target, char **out)
{
    struct cb_buf joined, path;
    const char *p, *end;
    enum cb_err rc;

    cb_buf_init(&joined, XLSX_NAME_MAX);
    cb_buf_init(&path, XLSX_NAME_MAX);
    *out = NULL;
    if (target[0] == '/')
        dir = "";
    rc = cb_buf_adds(&joined, dir);
    if (rc == CB_OK)
        rc = cb_buf_adds(&joined, target);
    if (rc)
        goto out;
    for (p = cb_buf_cstr(&joined); *p; p = *end ? end + 1 : end) {
        size_t n;

        end = strchr(p, '/');
        if (!end)
            end = p + strlen(p);
        n = (size_t)(end - p);
        if (n == 0 || (n == 1 && p[0] == '.'))
            continue;
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            char *slash;

            if (path.len == 0) {
                rc = CB_ERR_PROTO;
                goto out;
            }
            slash = strrchr(path.ptr, '/');
            path.len = slash ? (size_t)(slash - path.ptr) : 0;
            path.ptr[path.len] = '\0';
            continue;
        }
        if (path.len)
            rc = cb_buf_addc(&path, '/');
        if (rc == CB_OK)
            rc = cb_buf_add(&path, p, n);
        if (rc)
            goto out;
    }
    if (path.len == 0) {
        rc = CB_ERR_PROTO;
        goto out;
    }
    *out = cb_buf_detach(&path, NULL);
out:
    if (rc == CB_ERR_TOO_LARGE)
        rc = CB_ERR_PROTO;
    cb_buf_release(&joined);
    cb_buf_release(&path);
    return rc;
}

/* "xl/workbook.xml" -> "xl/"; "workbook.xml" -> "". Owned by the caller. */
static char *
dir_of(const char *name)
{
    const char *slash = strrchr(name, '/');

    return cb_strndup(name, slash ? (size_t)(slash - name) + 1 : 0);
}

/* ---- one XML part ---- */

/*
 * Records a failure found by a handler and aborts the parse. The message
 * names the part and the position of the current event.
 */
static void __attribute__((format(printf, 3, 4)))
in_fail(struct xml_in *in, enum cb_err rc, const char *fmt, ...)
{
    struct cb_buf msg = CB_BUF_INIT;
    va_list ap;

    if (in->rc)
        return;
    va_start(ap, fmt);
    (void)!cb_buf_vaddf(&msg, fmt, ap);
    va_end(ap);
    cb_errf(in->err, "'%s' line %llu, column %llu: %s", in->part,
            (unsigned long long)XML_GetCurrentLineNumber(in->parser),
            (unsigned long long)XML_GetCurrentColumnNumber(in->parser) + 1,
            cb_buf_cstr(&msg));
    cb_buf_release(&msg);
    in->rc = rc;
    (void)XML_StopParser(in->parser, XML_FALSE);
}

/*
 * Common start of every start-element handler: false when the handler must
 * do nothing (the parse has failed). Sets *ln to the local name and counts
 * the depth.
 */
static bool
in_enter(struct xml_in *in, const XML_Char *name, const char **ln)
{
    if (in->rc)
        return false;
    in->mark = in->done;
    *ln = local_name(name);
    if (++in->depth > XLSX_DEPTH_MAX) {
        in_fail(in, CB_ERR_TOO_LARGE, "elements nested over %d deep",
                XLSX_DEPTH_MAX);
        return false;
    }
    if (in->depth == 1 && strcmp(*ln, in->root) != 0) {
        in_fail(in, CB_ERR_PROTO, "root element is '%.64s', expected '%s'",
                *ln, in->root);
        return false;
    }
    return true;
}

/* Common start of every end-element handler; *depth is the element's. */
static bool
in_leave(struct xml_in *in, const XML_Char *name, const char **ln,
         int *depth)
{
    if (in->rc)
        return false;
    in->mark = in->done;
    *ln = local_name(name);
    *depth = in->depth--;
    return true;
}

static bool
in_text(struct xml_in *in)
{
    if (in->rc)
        return false;
    in->mark = in->done;
    return true;
}

static void XMLCALL
no_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
           const XML_Char *pubid, int has_internal_subset)
{
    (void)name;
    (void)sysid;
    (void)pubid;
    (void)has_internal_subset;
    in_fail(ud, CB_ERR_PROTO, "document type declarations are not allowed");
}

static void
in_close(struct xml_in *in)
{
    if (in->parser)
        XML_ParserFree(in->parser);
    if (in->file)
        (void)zip_fclose(in->file);
    cb_free(in->part);
    memset(in, 0, sizeof(*in));
}

/*
 * Opens part name of zip for parsing with handlers that receive ud (a
 * struct whose first member is in). CB_ERR_NOT_FOUND, with no message,
 * when the archive has no such part.
 */
static enum cb_err
in_open(struct xml_in *in, zip_t *zip, const char *name, const char *root,
        void *ud, XML_StartElementHandler start, XML_EndElementHandler end,
        XML_CharacterDataHandler text, struct cb_buf *err)
{
    static const XML_Char ns_sep[] = { NS_SEP, '\0' };
    zip_int64_t idx;
    zip_stat_t st;
    enum cb_err rc = CB_OK;

    memset(in, 0, sizeof(*in));
    in->root = root;
    idx = zip_name_locate(zip, name, 0);
    if (idx < 0)
        idx = zip_name_locate(zip, name, ZIP_FL_NOCASE);
    if (idx < 0)
        return CB_ERR_NOT_FOUND;
    in->part = cb_strdup(name);
    if (!in->part) {
        rc = CB_ERR_NOMEM;
        cb_errf(err, "out of memory opening '%s'", name);
        goto out;
    }
    zip_stat_init(&st);
    if (zip_stat_index(zip, (zip_uint64_t)idx, 0, &st) == 0 &&
        (st.valid & ZIP_STAT_SIZE))
        in->total = st.size;
    in->file = zip_fopen_index(zip, (zip_uint64_t)idx, 0);
    if (!in->file) {
        rc = zip_rc(zip_get_error(zip));
        cb_errf(err, "cannot open part '%s': %s", name,
                zip_reason(zip_get_error(zip)));
        goto out;
    }
    in->parser = XML_ParserCreate_MM(NULL, &xml_mem, ns_sep);
    if (!in->parser) {
        rc = CB_ERR_NOMEM;
        cb_errf(err, "out of memory opening '%s'", name);
        goto out;
    }
    XML_SetUserData(in->parser, ud);
    XML_SetElementHandler(in->parser, start, end);
    XML_SetCharacterDataHandler(in->parser, text);
    XML_SetStartDoctypeDeclHandler(in->parser, no_doctype);
out:
    if (rc)
        in_close(in);
    return rc;
}

static enum cb_err
in_read_error(struct xml_in *in, struct cb_buf *err)
{
    zip_error_t *ze = zip_file_get_error(in->file);

    in->rc = zip_rc(ze);
    cb_errf(err, "cannot read '%s' after %llu bytes: %s", in->part,
            (unsigned long long)in->done, zip_reason(ze));
    return in->rc;
}

static enum cb_err
in_xml_error(struct xml_in *in, struct cb_buf *err)
{
    enum XML_Error code = XML_GetErrorCode(in->parser);

    if (in->rc)  /* a handler stopped the parse and said why */
        return in->rc;
    if (code == XML_ERROR_NO_MEMORY) {
        in->rc = CB_ERR_NOMEM;
        cb_errf(err, "out of memory parsing '%s'", in->part);
        return in->rc;
    }
    in->rc = CB_ERR_PROTO;
    cb_errf(err, "'%s' line %llu, column %llu: xml error: %s", in->part,
            (unsigned long long)XML_GetCurrentLineNumber(in->parser),
            (unsigned long long)XML_GetCurrentColumnNumber(in->parser) + 1,
            XML_ErrorString(code));
    return in->rc;
}

/*
 * Feeds the parser until a handler suspends it (CB_OK), the part has been
 * parsed to its end (CB_EOF, again on every later call) or an error.
 */
static enum cb_err
in_step(struct xml_in *in, struct cb_buf *err)
{
    enum XML_Status st;

    if (in->rc) {
        cb_errf(err, "'%s': reading stopped at an earlier error", in->part);
        return in->rc;
    }
    in->err = err;
    for (;;) {
        if (in->suspended) {
            in->suspended = false;
            st = XML_ResumeParser(in->parser);
        } else if (in->final) {
            return CB_EOF;
        } else {
            void *buf = XML_GetBuffer(in->parser, (int)XLSX_CHUNK);
            zip_int64_t n;

            if (!buf) {
                in->rc = CB_ERR_NOMEM;
                cb_errf(err, "out of memory parsing '%s'", in->part);
                return in->rc;
            }
            n = zip_fread(in->file, buf, XLSX_CHUNK);
            if (n < 0)
                return in_read_error(in, err);
            in->done += (uint64_t)n;
            in->final = n == 0;
            st = XML_ParseBuffer(in->parser, (int)n, in->final);
        }
        if (st == XML_STATUS_SUSPENDED) {
            in->suspended = true;
            return CB_OK;
        }
        if (st == XML_STATUS_ERROR)
            return in_xml_error(in, err);
        if (in->done - in->mark > XLSX_TOKEN_MAX) {
            /* expat would keep buffering one endless tag or value */
            in->rc = CB_ERR_TOO_LARGE;
            cb_errf(err, "'%s' line %llu: xml token over %llu MiB", in->part,
                    (unsigned long long)XML_GetCurrentLineNumber(in->parser),
                    (unsigned long long)(XLSX_TOKEN_MAX >> 20));
            return in->rc;
        }
    }
}

/* Parses a whole part; CB_ERR_NOT_FOUND (no message) when it is missing. */
static enum cb_err
parse_part(struct xml_in *in, zip_t *zip, const char *name, const char *root,
           XML_StartElementHandler start, XML_EndElementHandler end,
           XML_CharacterDataHandler text, struct cb_buf *err)
{
    enum cb_err rc;

    /* in is the first member of the handlers' context */
    rc = in_open(in, zip, name, root, in, start, end, text, err);
    if (rc)
        return rc;
    do
        rc = in_step(in, err);
    while (rc == CB_OK);  /* these handlers never suspend */
    if (rc == CB_EOF)
        rc = CB_OK;
    in_close(in);
    return rc;
}

/* ---- rich text (<si> and <is>) ---- */

static void
rich_start(struct rich *rt, int depth, const char *ln)
{
    if (!rt->root || rt->rph || rt->t)
        return;
    if (strcmp(ln, "rPh") == 0)
        rt->rph = depth;
    else if (strcmp(ln, "t") == 0)
        rt->t = depth;
}

static void
rich_end(struct rich *rt, int depth)
{
    if (depth == rt->t)
        rt->t = 0;
    else if (depth == rt->rph)
        rt->rph = 0;
    else if (depth == rt->root)
        rt->root = 0;
}

static bool
rich_collecting(const struct rich *rt)
{
    return rt->t != 0;
}

/* ---- relationships and workbook ---- */

static enum cb_err
dup_attr(struct xml_in *in, char **dst, const char *val)
{
    if (*dst || !val)
        return CB_OK;
    *dst = cb_strdup(val);
    if (!*dst) {
        in_fail(in, CB_ERR_NOMEM, "out of memory");
        return CB_ERR_NOMEM;
    }
    return CB_OK;
}

static void XMLCALL
rels_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct rels_ctx *c = ud;
    const char *ln, *id, *type, *target, *mode;

    if (!in_enter(&c->in, name, &ln))
        return;
    if (c->in.depth != 2 || strcmp(ln, "Relationship") != 0)
        return;
    id = attr(atts, "Id");
    type = attr(atts, "Type");
    target = attr(atts, "Target");
    mode = attr(atts, "TargetMode");
    if (!id || !type || !target) {
        in_fail(&c->in, CB_ERR_PROTO,
                "relationship without Id, Type or Target");
        return;
    }
    if (c->want_id && !c->id_target && strcmp(id, c->want_id) == 0) {
        c->id_external = mode && strcmp(mode, "External") == 0;
        if (dup_attr(&c->in, &c->id_target, target) ||
            dup_attr(&c->in, &c->id_type, type))
            return;
    }
    if (c->want_type && ends_with(type, c->want_type) &&
        !(mode && strcmp(mode, "External") == 0))
        (void)dup_attr(&c->in, &c->type_target, target);
}

static void XMLCALL
plain_end(void *ud, const XML_Char *name)
{
    const char *ln;
    int depth;

    (void)in_leave(ud, name, &ln, &depth);
}

static void XMLCALL
no_text(void *ud, const XML_Char *s, int len)
{
    (void)s;
    (void)len;
    (void)in_text(ud);
}

static void
rels_release(struct rels_ctx *c)
{
    cb_free(c->id_target);
    cb_free(c->id_type);
    cb_free(c->type_target);
}

static void XMLCALL
wb_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct wb_ctx *c = ud;
    const char *ln, *rid;

    if (!in_enter(&c->in, name, &ln))
        return;
    if (c->rid || c->in.depth != 3 || strcmp(ln, "sheet") != 0)
        return;
    rid = attr_ns(atts, "id");
    if (!rid) {
        in_fail(&c->in, CB_ERR_PROTO, "first sheet has no r:id");
        return;
    }
    (void)dup_attr(&c->in, &c->rid, rid);
}

/*
 * Finds the workbook part: the officeDocument target in _rels/.rels, else
 * xl/workbook.xml.
 */
static enum cb_err
find_workbook(zip_t *zip, char **wb, struct cb_buf *err)
{
    struct rels_ctx c;
    enum cb_err rc;

    memset(&c, 0, sizeof(c));
    c.want_type = "/officeDocument";
    *wb = NULL;
    rc = parse_part(&c.in, zip, "_rels/.rels", "Relationships", rels_start,
                    plain_end, no_text, err);
    if (rc == CB_ERR_NOT_FOUND)
        rc = CB_OK;
    if (rc)
        goto out;
    if (c.type_target) {
        rc = resolve_target("", c.type_target, wb);
        if (rc)
            cb_errf(err, "bad workbook target '%.200s' in '_rels/.rels'",
                    c.type_target);
    } else {
        *wb = cb_strdup("xl/workbook.xml");
        if (!*wb) {
            rc = CB_ERR_NOMEM;
            cb_errf(err, "out of memory reading '_rels/.rels'");
        }
    }
out:
    rels_release(&c);
    return rc;
}

/*
 * Finds the first sheet (*sheet) and the shared strings (*sst, a part name
 * that need not exist) of workbook part wb; path is for messages.
 */
static enum cb_err
find_parts(zip_t *zip, const char *path, const char *wb, char **sheet,
           char **sst, struct cb_buf *err)
{
    struct wb_ctx w;
    struct rels_ctx r;
    struct cb_buf rels = CB_BUF_INIT;
    char *dir = NULL;
    enum cb_err rc;

    memset(&w, 0, sizeof(w));
    memset(&r, 0, sizeof(r));
    *sheet = NULL;
    *sst = NULL;
    rc = parse_part(&w.in, zip, wb, "workbook", wb_start, plain_end,
                    no_text, err);
    if (rc == CB_ERR_NOT_FOUND) {
        rc = CB_ERR_PROTO;
        cb_errf(err, "'%s' has no workbook part '%s': not an xlsx workbook",
                path, wb);
    }
    if (rc)
        goto out;
    if (!w.rid) {
        rc = CB_ERR_PROTO;
        cb_errf(err, "workbook '%s' lists no sheets", wb);
        goto out;
    }
    dir = dir_of(wb);
    if (!dir) {
        rc = CB_ERR_NOMEM;
        goto out;
    }
    rc = cb_buf_addf(&rels, "%s_rels/%s.rels", dir, wb + strlen(dir));
    if (rc)
        goto out;
    r.want_id = w.rid;
    r.want_type = "/sharedStrings";
    rc = parse_part(&r.in, zip, rels.ptr, "Relationships", rels_start,
                    plain_end, no_text, err);
    if (rc == CB_ERR_NOT_FOUND) {
        /* no relationships: the conventional names */
        rc = resolve_target(dir, "worksheets/sheet1.xml", sheet);
        if (rc == CB_OK)
            rc = resolve_target(dir, "sharedStrings.xml", sst);
        goto out;
    }
    if (rc)
        goto out;
    if (!r.id_target) {
        rc = CB_ERR_PROTO;
        cb_errf(err, "relationship '%.64s' of the first sheet is missing "
                "from '%s'", w.rid, rels.ptr);
        goto out;
    }
    if (r.id_external || !ends_with(r.id_type, "/worksheet")) {
        const char *kind = strrchr(r.id_type, '/');

        rc = CB_ERR_PROTO;
        cb_errf(err, "the first sheet is not a worksheet in the workbook "
                "(relationship type '%.64s'%s)", kind ? kind + 1 : r.id_type,
                r.id_external ? ", external" : "");
        goto out;
    }
    rc = resolve_target(dir, r.id_target, sheet);
    if (rc) {
        cb_errf(err, "bad sheet target '%.200s' in '%s'", r.id_target,
                rels.ptr);
        goto out;
    }
    rc = resolve_target(dir, r.type_target ? r.type_target
                                           : "sharedStrings.xml", sst);
    if (rc)
        cb_errf(err, "bad shared strings target '%.200s' in '%s'",
                r.type_target ? r.type_target : "", rels.ptr);
out:
    if (rc == CB_ERR_NOMEM)
        cb_errf(err, "out of memory reading '%s'", wb);
    if (rc) {
        cb_free(*sheet);
        cb_free(*sst);
        *sheet = NULL;
        *sst = NULL;
    }
    cb_free(w.rid);
    rels_release(&r);
    cb_buf_release(&rels);
    cb_free(dir);
    return rc;
}

/* ---- shared strings ---- */

static void XMLCALL
sst_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct sst_ctx *c = ud;
    const char *ln;

    (void)atts;
    if (!in_enter(&c->in, name, &ln))
        return;
    if (c->in.depth == 2 && strcmp(ln, "si") == 0) {
        c->rt.root = 2;
        c->si_start = c->x->sst_text.len;
        return;
    }
    rich_start(&c->rt, c->in.depth, ln);
}

static void XMLCALL
sst_end(void *ud, const XML_Char *name)
{
    struct sst_ctx *c = ud;
    struct cb_xlsx *x = c->x;
    const char *ln;
    int depth;

    if (!in_leave(&c->in, name, &ln, &depth))
        return;
    if (depth != 2 || c->rt.root != 2) {  /* not the end of an <si> */
        rich_end(&c->rt, depth);
        return;
    }
    c->rt.root = 0;
    /* one more string: sst_off needs nsst + 2 entries */
    if (x->nsst + 2 > x->sst_cap) {
        /* sst_text.len <= XLSX_SST_MAX: sst_text() checks it */
        size_t room = (XLSX_SST_MAX - x->sst_text.len) / sizeof(size_t);
        size_t cap = x->sst_cap ? x->sst_cap * 2 : 1024;
        size_t *p;

        if (cap > room)
            cap = room;
        if (cap < x->nsst + 2) {
            in_fail(&c->in, CB_ERR_TOO_LARGE, "shared strings over %zu MiB",
                    XLSX_SST_MAX >> 20);
            return;
        }
        p = cb_reallocarray(x->sst_off, cap, sizeof(*p));
        if (!p) {
            in_fail(&c->in, CB_ERR_NOMEM, "out of memory");
            return;
        }
        x->sst_off = p;
        x->sst_cap = cap;
        x->sst_off[0] = 0;
    }
    x->nsst++;
    x->sst_off[x->nsst] = x->sst_text.len;
}

static void XMLCALL
sst_text(void *ud, const XML_Char *s, int len)
{
    struct sst_ctx *c = ud;
    struct cb_xlsx *x = c->x;
    size_t n = (size_t)len;

    if (!in_text(&c->in) || !rich_collecting(&c->rt))
        return;
    if (x->sst_text.len - c->si_start + n > XLSX_CELL_MAX) {
        in_fail(&c->in, CB_ERR_TOO_LARGE, "shared string %zu is over %zu MiB",
                x->nsst, XLSX_CELL_MAX >> 20);
        return;
    }
    if (x->sst_text.len + n + x->sst_cap * sizeof(size_t) > XLSX_SST_MAX) {
        in_fail(&c->in, CB_ERR_TOO_LARGE, "shared strings over %zu MiB",
                XLSX_SST_MAX >> 20);
        return;
    }
    if (cb_buf_add(&x->sst_text, s, n) != CB_OK)
        in_fail(&c->in, CB_ERR_NOMEM, "out of memory");
}

/* Loads shared strings part name into x; a missing part is no error. */
static enum cb_err
load_sst(struct cb_xlsx *x, const char *name, struct cb_buf *err)
{
    struct sst_ctx c;
    enum cb_err rc;

    memset(&c, 0, sizeof(c));
    c.x = x;
    rc = parse_part(&c.in, x->zip, name, "sst", sst_start, sst_end, sst_text,
                    err);
    return rc == CB_ERR_NOT_FOUND ? CB_OK : rc;
}

/* ---- the worksheet ---- */

/* Appends v as the field in column col, padding any gap with empty fields. */
static void
row_put(struct cb_xlsx *x, size_t col, struct cb_str v)
{
    enum cb_err rc = CB_OK;

    if (col >= x->spans_cap) {
        size_t cap = x->spans_cap ? x->spans_cap : 16;
        struct span *p;

        while (cap <= col)
            cap *= 2;
        p = cb_reallocarray(x->spans, cap, sizeof(*p));
        if (!p) {
            in_fail(&x->in, CB_ERR_NOMEM, "out of memory");
            return;
        }
        x->spans = p;
        x->spans_cap = cap;
    }
    while (rc == CB_OK && x->nspans <= col) {
        if (x->nspans)
            rc = cb_buf_addc(&x->row, '\t');
        x->spans[x->nspans].off = x->row.len;
        x->spans[x->nspans].len = 0;
        x->nspans++;
    }
    if (rc == CB_OK)
        rc = cb_buf_add(&x->row, v.ptr, v.len);
    if (rc == CB_ERR_TOO_LARGE)
        in_fail(&x->in, rc, "row %llu is over %zu MiB",
                (unsigned long long)x->line, XLSX_ROW_MAX >> 20);
    else if (rc)
        in_fail(&x->in, rc, "out of memory");
    else
        x->spans[col].len = v.len;
}

static void
row_begin(struct cb_xlsx *x, const XML_Char **atts)
{
    const char *r = attr(atts, "r");

    if (r) {
        int64_t n;

        if (cb_parse_i64(cb_str_c(r), &n) != CB_OK || n < 1) {
            in_fail(&x->in, CB_ERR_PROTO, "bad row number '%.32s'", r);
            return;
        }
        x->line = (uint64_t)n;
    } else {
        x->line++;
    }
    x->row_depth = x->in.depth;
    x->next_col = 0;
    x->nspans = 0;
    cb_buf_reset(&x->row);
}

static void
row_end(struct cb_xlsx *x)
{
    x->row_depth = 0;
    if (x->nspans == 0)
        return;  /* nothing but empty cells */
    if (XML_StopParser(x->in.parser, XML_TRUE) != XML_STATUS_OK)
        in_fail(&x->in, CB_ERR_PROTO, "cannot pause the xml parser");
}

static void
cell_begin(struct cb_xlsx *x, const XML_Char **atts)
{
    const char *ref = attr(atts, "r"), *t = attr(atts, "t");
    size_t col = x->next_col;
    enum cb_err rc;

    if (ref) {
        rc = parse_col(ref, &col);
        if (rc == CB_ERR_PROTO) {
            in_fail(&x->in, rc, "bad cell reference '%.32s'", ref);
            return;
        }
        if (rc == CB_ERR_TOO_LARGE)
            col = XLSX_MAX_COLS;
        else if (col < x->next_col) {
            in_fail(&x->in, CB_ERR_PROTO,
                    "cell '%.32s' out of order in row %llu", ref,
                    (unsigned long long)x->line);
            return;
        }
    }
    if (col >= XLSX_MAX_COLS) {
        in_fail(&x->in, CB_ERR_TOO_LARGE, "row %llu has over %d columns",
                (unsigned long long)x->line, XLSX_MAX_COLS);
        return;
    }
    if (!t || strcmp(t, "n") == 0)
        x->ctype = CELL_TEXT;
    else if (strcmp(t, "s") == 0)
        x->ctype = CELL_SST;
    else if (strcmp(t, "inlineStr") == 0)
        x->ctype = CELL_INLINE;
    else if (strcmp(t, "b") == 0)
        x->ctype = CELL_BOOL;
    else
        x->ctype = CELL_TEXT;  /* str, e, d: as written */
    x->ccol = col;
    x->next_col = col + 1;
    x->cell_depth = x->in.depth;
    cb_buf_reset(&x->cell);
}

static void
cell_end(struct cb_xlsx *x)
{
    struct cb_str v = cb_buf_str(&x->cell);
    char name[8];
    int64_t i;

    x->cell_depth = 0;
    x->v_depth = 0;
    memset(&x->is, 0, sizeof(x->is));
    switch (x->ctype) {
    case CELL_SST:
        if (v.len == 0)
            break;
        if (cb_parse_i64(v, &i) != CB_OK || i < 0) {
            in_fail(&x->in, CB_ERR_PROTO,
                    "cell %s%llu: bad shared string index '%.32s'",
                    col_name(x->ccol, name), (unsigned long long)x->line,
                    cb_buf_cstr(&x->cell));
            return;
        }
        if ((uint64_t)i >= x->nsst) {
            in_fail(&x->in, CB_ERR_PROTO,
                    "cell %s%llu: shared string index %lld out of range "
                    "(%zu strings)", col_name(x->ccol, name),
                    (unsigned long long)x->line, (long long)i, x->nsst);
            return;
        }
        v = cb_str_make(cb_buf_cstr(&x->sst_text) + x->sst_off[i],
                        x->sst_off[i + 1] - x->sst_off[i]);
        break;
    case CELL_BOOL:
        if (v.len == 0)
            break;
        if (cb_str_eqz(v, "1") || cb_str_eqz(v, "true"))
            v = CB_STR_LIT("1");
        else if (cb_str_eqz(v, "0") || cb_str_eqz(v, "false"))
            v = CB_STR_LIT("0");
        else {
            in_fail(&x->in, CB_ERR_PROTO, "cell %s%llu: bad boolean '%.32s'",
                    col_name(x->ccol, name), (unsigned long long)x->line,
                    cb_buf_cstr(&x->cell));
            return;
        }
        break;
    case CELL_TEXT:
    case CELL_INLINE:
        break;
    }
    if (v.len)
        row_put(x, x->ccol, v);
}

static void XMLCALL
sheet_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct cb_xlsx *x = ud;
    const char *ln;
    int depth;

    if (!in_enter(&x->in, name, &ln))
        return;
    depth = x->in.depth;
    if (!x->data_depth) {
        if (depth == 2 && strcmp(ln, "sheetData") == 0)
            x->data_depth = depth;
    } else if (!x->row_depth) {
        if (depth == x->data_depth + 1 && strcmp(ln, "row") == 0)
            row_begin(x, atts);
    } else if (!x->cell_depth) {
        if (depth == x->row_depth + 1 && strcmp(ln, "c") == 0)
            cell_begin(x, atts);
    } else if (depth == x->cell_depth + 1) {
        if (strcmp(ln, "v") == 0)
            x->v_depth = depth;
        else if (strcmp(ln, "is") == 0)
            x->is.root = depth;
    } else {
        rich_start(&x->is, depth, ln);
    }
}

static void XMLCALL
sheet_end(void *ud, const XML_Char *name)
{
    struct cb_xlsx *x = ud;
    const char *ln;
    int depth;

    if (!in_leave(&x->in, name, &ln, &depth))
        return;
    if (depth == x->cell_depth)
        cell_end(x);
    else if (depth == x->row_depth)
        row_end(x);
    else if (depth == x->data_depth)
        x->data_depth = 0;
    else if (depth == x->v_depth)
        x->v_depth = 0;
    else if (x->cell_depth)
        rich_end(&x->is, depth);
}

static void XMLCALL
sheet_text(void *ud, const XML_Char *s, int len)
{
    struct cb_xlsx *x = ud;
    char name[8];
    enum cb_err rc;

    if (!in_text(&x->in) || !x->cell_depth)
        return;
    if (!x->v_depth && !rich_collecting(&x->is))
        return;  /* <f> and other children carry no value */
    rc = cb_buf_add(&x->cell, s, (size_t)len);
    if (rc == CB_ERR_TOO_LARGE)
        in_fail(&x->in, rc, "cell %s%llu is over %zu MiB",
                col_name(x->ccol, name), (unsigned long long)x->line,
                XLSX_CELL_MAX >> 20);
    else if (rc)
        in_fail(&x->in, rc, "out of memory");
}

/* ---- API ---- */

static enum cb_err
open_zip(zip_t **zip, const char *path, struct cb_buf *err)
{
    zip_error_t ze;
    int code = 0;
    enum cb_err rc = CB_OK;

    *zip = zip_open(path, ZIP_RDONLY, &code);
    if (*zip) {
        if (zip_get_num_entries(*zip, 0) > 0)
            return CB_OK;
        zip_discard(*zip);
        *zip = NULL;
        code = ZIP_ER_NOZIP;  /* libzip opens an empty file as a zip */
    }
    zip_error_init_with_code(&ze, code);
    rc = zip_rc(&ze);
    if (code == ZIP_ER_NOZIP)
        cb_errf(err, "'%s' is not an xlsx workbook: not a zip archive "
                "(legacy .xls and password-protected workbooks are not "
                "supported)", path);
    else
        cb_errf(err, "cannot open '%s': %s", path, zip_reason(&ze));
    zip_error_fini(&ze);
    return rc;
}

enum cb_err
cb_xlsx_open(struct cb_xlsx **out, const char *path, struct cb_buf *err)
{
    struct cb_xlsx *x;
    char *wb = NULL, *sheet = NULL, *sst = NULL;
    enum cb_err rc;

    *out = NULL;
    x = cb_calloc(1, sizeof(*x));
    if (!x) {
        cb_errf(err, "out of memory opening '%s'", path);
        return CB_ERR_NOMEM;
    }
    cb_buf_init(&x->sst_text, XLSX_SST_MAX);
    cb_buf_init(&x->cell, XLSX_CELL_MAX);
    cb_buf_init(&x->row, XLSX_ROW_MAX);
    rc = open_zip(&x->zip, path, err);
    if (rc)
        goto out;
    rc = find_workbook(x->zip, &wb, err);
    if (rc)
        goto out;
    rc = find_parts(x->zip, path, wb, &sheet, &sst, err);
    if (rc)
        goto out;
    rc = load_sst(x, sst, err);
    if (rc)
        goto out;
    rc = in_open(&x->in, x->zip, sheet, "worksheet", x, sheet_start,
                 sheet_end, sheet_text, err);
    if (rc == CB_ERR_NOT_FOUND) {
        rc = CB_ERR_PROTO;
        cb_errf(err, "'%s' has no sheet part '%s'", path, sheet);
    }
    if (rc)
        goto out;
    *out = x;
    x = NULL;
out:
    cb_xlsx_free(x);
    cb_free(wb);
    cb_free(sheet);
    cb_free(sst);
    return rc;
}

enum cb_err
cb_xlsx_next(struct cb_xlsx *x, struct cb_row *row, struct cb_buf *err)
{
    enum cb_err rc;
    size_t i;

    memset(row, 0, sizeof(*row));
    rc = in_step(&x->in, err);
    if (rc)
        return rc;
    /* suspended at the end of a row with at least one value */
    if (x->nspans > x->fields_cap) {
        struct cb_str *p = cb_reallocarray(x->fields, x->nspans, sizeof(*p));

        if (!p) {
            x->in.rc = CB_ERR_NOMEM;
            cb_errf(err, "out of memory reading row %llu of '%s'",
                    (unsigned long long)x->line, x->in.part);
            return CB_ERR_NOMEM;
        }
        x->fields = p;
        x->fields_cap = x->nspans;
    }
    for (i = 0; i < x->nspans; i++)
        x->fields[i] = cb_str_make(x->row.ptr + x->spans[i].off,
                                   x->spans[i].len);
    row->nfields = x->nspans;
    row->fields = x->fields;
    row->raw = cb_buf_str(&x->row);
    row->line = x->line;
    return CB_OK;
}

void
cb_xlsx_progress(const struct cb_xlsx *x, uint64_t *done, uint64_t *total)
{
    *done = x ? x->in.done : 0;
    *total = x ? x->in.total : 0;
}

void
cb_xlsx_free(struct cb_xlsx *x)
{
    if (!x)
        return;
    in_close(&x->in);
    if (x->zip)
        zip_discard(x->zip);
    cb_buf_release(&x->sst_text);
    cb_free(x->sst_off);
    cb_buf_release(&x->cell);
    cb_buf_release(&x->row);
    cb_free(x->spans);
    cb_free(x->fields);
    cb_free(x);
}
