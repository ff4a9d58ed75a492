/*
 * store_encode.c - turning a checked record into the row the database
 * stores (struct cb_store_row). Pure: no SQLite here, so the importer runs
 * it on its parsing thread while the store thread writes.
 *
 * Layouts (documented in docs/architecture.md):
 *   data  every non-empty scalar item in layout V2 (store_items.c; SQL
 *         reads it as a JSON object with fp_data(data)); the content hash
 *         is over layout V1, written in the same pass
 *   dx    [[slot, code, name, poa],...]      slot 0 = principal (JBDM)
 *   px    [[slot, code, name, time, level, surgeon, assistant1, assistant2,
 *           incision, healing, anaesthesia, anaesthetist],...]
 */
#include <stdint.h>
#include <string.h>

#include "carebase/alloc.h"
#include "carebase/date.h"
#include "carebase/json.h"
#include "carebase/store.h"
#include "store_items.h"

struct cb_store_encoder {
    struct cb_buf    scratch;  /* JSON being built */
};

enum cb_err
cb_store_encoder_new(struct cb_store_encoder **out)
{
    struct cb_store_encoder *e = cb_calloc(1, sizeof(*e));

    *out = NULL;
    if (!e)
        return CB_ERR_NOMEM;
    cb_buf_init(&e->scratch, 16u << 20);
    *out = e;
    return CB_OK;
}

void
cb_store_encoder_free(struct cb_store_encoder *e)
{
    if (!e)
        return;
    cb_buf_release(&e->scratch);
    cb_free(e);
}

/*
 * Whether p[0..n) needs no JSON escape: a word (two overlapping ones for
 * the tail) at a time, bytes only below 4.
 */
static inline int
json_clean(const char *p, size_t n)
{
    uint64_t w;
    uint32_t lo, hi;
    size_t i;

    if (n >= 8) {
        for (i = 0; i + 8 < n; i += 8) {
            memcpy(&w, p + i, 8);
            if (cb_json_needs_escape8(w))
                return 0;
        }
        memcpy(&w, p + n - 8, 8);
        return !cb_json_needs_escape8(w);
    }
    if (n >= 4) {
        memcpy(&lo, p, 4);
        memcpy(&hi, p + n - 4, 4);
        return !cb_json_needs_escape8((uint64_t)lo | (uint64_t)hi << 32);
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c == '"' || c == '\\')
            return 0;
    }
    return 1;
}

/* The escaping loop of put_json_str, for values that need it. */
static unsigned char *
put_json_escaped(unsigned char *o, struct cb_str s)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];

        if (c >= 0x20 && c != '"' && c != '\\') {
            *o++ = c;
            continue;
        }
        *o++ = '\\';
        switch (c) {
        case '"':  *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        default:
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = (unsigned char)hex[c >> 4];
            *o++ = (unsigned char)hex[c & 15];
        }
    }
    return o;
}

/*
 * A field's value at o: null when empty, else a JSON string exactly as
 * cb_json_str writes it (\" \\ \n \r \t, other controls \u00xx, every
 * other byte as it is). Room: VALUE_ROOM(len). Returns the end.
 */
#define VALUE_ROOM(n) (6 * (size_t)(n) + 4)

static inline unsigned char *
put_value(unsigned char *o, const struct cb_fp *r, int f)
{
    struct cb_str s = r->v[f];

    if (!r->state[f]) {
        memcpy(o, "null", 4);
        return o + 4;
    }
    *o++ = '"';
    if (json_clean(s.ptr, s.len)) {
        cb__put_bytes(o, s.ptr, s.len);
        o += s.len;
    } else {
        o = put_json_escaped(o, s);
    }
    *o++ = '"';
    return o;
}

/* ",[n" (no comma if first; n a slot number, 0..99). Room: 4. */
static inline unsigned char *
put_slot(unsigned char *o, int n, int first)
{
    if (!first)
        *o++ = ',';
    *o++ = '[';
    if (n >= 10)
        *o++ = (unsigned char)('0' + n / 10 % 10);
    *o++ = (unsigned char)('0' + n % 10);
    return o;
}

/* Values of a dx and a px slot, in their order in the JSON. */
static const int dxf[] = { CB_DX_CODE, CB_DX_NAME, CB_DX_POA };
static const int pxf[] = { CB_PX_CODE, CB_PX_NAME, CB_PX_DATE, CB_PX_LEVEL,
                           CB_PX_SZ, CB_PX_YZ, CB_PX_EZ, CB_PX_QKDJ,
                           CB_PX_QKYHLB, CB_PX_MZFS, CB_PX_MZYS };
#define NDXF (sizeof(dxf) / sizeof(dxf[0]))
#define NPXF (sizeof(pxf) / sizeof(pxf[0]))
#define SLOT_ROOM 8  /* ",[nn" and "]", with a margin */

/* An upper bound of the bytes dx and px take (see put_dx, put_px). */
static size_t
dx_px_room(const struct cb_fp *r)
{
    size_t need = 4 + SLOT_ROOM + VALUE_ROOM(r->v[CB_F_JBDM].len) +
                  VALUE_ROOM(r->v[CB_F_ZYZD].len) + VALUE_ROOM(r->v[CB_F_RYBQ].len) + 3;
    size_t k;
    int n;

    for (n = 1; n <= r->ndx; n++)
        if (r->state[cb_fp_dx(n, CB_DX_CODE)]) {
            need += SLOT_ROOM;
            for (k = 0; k < NDXF; k++)
                need += VALUE_ROOM(r->v[cb_fp_dx(n, dxf[k])].len) + 1;
        }
    for (n = 1; n <= r->npx; n++)
        if (r->state[cb_fp_px(n, CB_PX_CODE)]) {
            need += SLOT_ROOM;
            for (k = 0; k < NPXF; k++)
                need += VALUE_ROOM(r->v[cb_fp_px(n, pxf[k])].len) + 1;
        }
    return need;
}

/* dx: [[slot, code, name, poa],...], slot 0 = the principal (JBDM). */
static unsigned char *
put_dx(unsigned char *o, const struct cb_fp *r)
{
    int n, first = 1;

    *o++ = '[';
    if (r->state[CB_F_JBDM]) {
        o = put_slot(o, 0, 1);
        *o++ = ',';
        o = put_value(o, r, CB_F_JBDM);
        *o++ = ',';
        o = put_value(o, r, CB_F_ZYZD);
        *o++ = ',';
        o = put_value(o, r, CB_F_RYBQ);
        *o++ = ']';
        first = 0;
    }
    for (n = 1; n <= r->ndx; n++) {
        if (!r->state[cb_fp_dx(n, CB_DX_CODE)])
            continue;
        o = put_slot(o, n, first);
        *o++ = ',';
        o = put_value(o, r, cb_fp_dx(n, CB_DX_CODE));
        *o++ = ',';
        o = put_value(o, r, cb_fp_dx(n, CB_DX_NAME));
        *o++ = ',';
        o = put_value(o, r, cb_fp_dx(n, CB_DX_POA));
        *o++ = ']';
        first = 0;
    }
    *o++ = ']';
    return o;
}

/*
 * px: [[slot, code, name, time, level, surgeon, assistant1, assistant2,
 * incision, healing, anaesthesia, anaesthetist],...].
 */
static unsigned char *
put_px(unsigned char *o, const struct cb_fp *r)
{
    int n, first = 1;
    size_t k;

    *o++ = '[';
    for (n = 1; n <= r->npx; n++) {
        if (!r->state[cb_fp_px(n, CB_PX_CODE)])
            continue;
        o = put_slot(o, n, first);
        for (k = 0; k < NPXF; k++) {
            *o++ = ',';
            o = put_value(o, r, cb_fp_px(n, pxf[k]));
        }
        *o++ = ']';
        first = 0;
    }
    *o++ = ']';
    return o;
}

/*
 * Builds dx then px in scratch (one reservation, then plain stores) and
 * copies both into the arena at once (each a view; px is NUL-terminated,
 * dx is not).
 */
static enum cb_err
json_dx_px(struct cb_store_row *row, const struct cb_fp *r, struct cb_arena *a,
           struct cb_buf *scratch)
{
    unsigned char *o, *dxend;
    enum cb_err rc;
    struct cb_str both;

    cb_buf_reset(scratch);
    if ((rc = cb_buf_reserve(scratch, dx_px_room(r))))
        return rc;
    o = (unsigned char *)scratch->ptr;
    dxend = put_dx(o, r);
    o = put_px(dxend, r);
    scratch->len = (size_t)((char *)o - scratch->ptr);
    both = cb_arena_dup(a, scratch->ptr, scratch->len);
    if (!both.ptr)
        return CB_ERR_NOMEM;
    row->dx = cb_str_make(both.ptr, (size_t)((char *)dxend - scratch->ptr));
    row->px = cb_str_make(both.ptr + row->dx.len, both.len - row->dx.len);
    return CB_OK;
}

/*
 * A column's text: borrowed when it lies inside keep (the row's raw text,
 * which outlives the row), else copied into the arena.
 */
static inline struct cb_str
dup(struct cb_arena *a, struct cb_str s, struct cb_str keep, int *oom)
{
    struct cb_str d;
    uintptr_t p = (uintptr_t)s.ptr, k = (uintptr_t)keep.ptr;

    if (!s.len)
        return CB_STR_NULL;
    if (p >= k && p - k <= keep.len && s.len <= keep.len - (p - k))
        return s;
    d = cb_arena_dup(a, s.ptr, s.len);
    if (!d.ptr)
        *oom = 1;
    return d;
}

enum cb_err
cb_store_row_encode(struct cb_store_row *row, const struct cb_fp *r,
                    const struct cb_qc *qc, const struct cb_qc_result *res,
                    struct cb_str raw, uint64_t line, struct cb_arena *a,
                    struct cb_store_encoder *enc)
{
    struct cb_buf *scratch = &enc->scratch;
    static const struct { int ic, f; } icols[] = {
        { CB_IC_ZYCS, CB_F_ZYCS }, { CB_IC_RYSJ, CB_F_RYSJ }, { CB_IC_CYSJ, CB_F_CYSJ },
        { CB_IC_NL, CB_F_NL }, { CB_IC_AGE_DAYS, CB_F_BZYZS_NL },
        { CB_IC_SJZYTS, CB_F_SJZYTS }, { CB_IC_ZFY, CB_F_ZFY },
        { CB_IC_BIRTH_WEIGHT, CB_F_XSECSTZ },
    };
    static const struct { int sc, f; } scols[] = {
        { CB_SC_ZZJGDM, CB_F_ZZJGDM }, { CB_SC_JGMC, CB_F_JGMC }, { CB_SC_BAH, CB_F_BAH },
        { CB_SC_ZYCS_TEXT, CB_F_ZYCS }, { CB_SC_RYKB, CB_F_RYKB }, { CB_SC_CYKB, CB_F_CYKB },
        { CB_SC_ZZYS, CB_F_ZZYS }, { CB_SC_XB, CB_F_XB }, { CB_SC_RYTJ, CB_F_RYTJ },
        { CB_SC_LYFS, CB_F_LYFS }, { CB_SC_JBDM, CB_F_JBDM }, { CB_SC_RYBQ, CB_F_RYBQ },
    };
    size_t k;
    int i, oom = 0;
    enum cb_err rc;
    uint64_t h;

    memset(row, 0, sizeof(*row));
    row->line = line;
    row->rejected = res->nerrors > 0;
    for (k = 0; k < sizeof(icols) / sizeof(icols[0]); k++) {
        if (r->state[icols[k].f] == CB_FS_OK)
            row->ival[icols[k].ic] = r->val[icols[k].f];
        else
            row->null_mask |= 1u << icols[k].ic;
    }
    if (r->state[CB_F_CYSJ] == CB_FS_OK)
        row->ival[CB_IC_CY_DAY] = cb_day_of(r->val[CB_F_CYSJ]);
    else
        row->null_mask |= 1u << CB_IC_CY_DAY;
    for (k = 0; k < sizeof(scols) / sizeof(scols[0]); k++)
        row->sval[scols[k].sc] = dup(a, r->v[scols[k].f], raw, &oom);

    /* Borrowed: a reject, or a duplicate the store turns into one, keeps it. */
    row->raw = raw;
    if (!row->rejected) {
        /*
         * The items in their stored layout, then the identity of the
         * content: a hash of the canonical items, not of the file bytes
         * (CB_STORE_HASH_V2).
         */
        struct cb_str items;

        cb_buf_reset(scratch);
        if ((rc = cb_buf_reserve(scratch, cb__items_room(r))))
            return rc;
        scratch->len = cb__items_put(r, (unsigned char *)scratch->ptr);
        items = cb_arena_dup(a, scratch->ptr, scratch->len);
        if (!items.ptr)
            return CB_ERR_NOMEM;
        row->data = items;
        if ((rc = json_dx_px(row, r, a, scratch)))
            return rc;
        h = cb_hash64_wide(row->data.ptr, row->data.len, 0);
        h = cb_hash64_wide(row->dx.ptr, row->dx.len, h);
        row->hash = cb_hash64_wide(row->px.ptr, row->px.len, h) | CB_STORE_HASH_V2;
        row->patient_hash = cb_store_patient_hash(row->sval[CB_SC_ZZJGDM],
                                                  row->sval[CB_SC_BAH]);
    }
    if (res->n) {
        row->issues = cb_arena_alloc(a, (size_t)res->n * sizeof(*row->issues));
        if (!row->issues)
            return CB_ERR_NOMEM;
        for (i = 0; i < res->n; i++) {
            const struct cb_qc_issue *is = &res->issue[i];
            struct cb_store_issue *o = &row->issues[i];
            o->rule = cb_qc_rule_id(qc, is->rule);
            o->severity = cb_qc_sev_name(is->sev);
            o->field = is->field >= 0 ? cb_fp_key_str(is->field) : NULL;
            o->value = dup(a, is->value, raw, &oom);
            o->detail = dup(a, cb_str_c(is->detail), CB_STR_NULL, &oom);
        }
        row->nissues = res->n;
    }
    return oom ? CB_ERR_NOMEM : CB_OK;
}
