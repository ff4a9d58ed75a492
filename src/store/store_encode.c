/*
 * store_encode.c - turning a checked record into the row the database
 * stores (struct cb_store_row). Pure: no SQLite here, so the importer runs
 * it on its parsing thread while the store thread writes.
 *
 * Layouts (documented in docs/architecture.md):
 *   data  every non-empty scalar item, in the binary layout of
 *         items_data() below, compressed here (store_codec.c: an LZ4
 *         frame, dictionary in src/store/dict; SQL reads it as a JSON
 *         object with fp_data(data))
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
#include "store_codec.h"

struct cb_store_encoder {
    struct cb_buf    scratch;  /* JSON being built */
    struct cb_codec *codec;    /* created on first use */
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
    cb__codec_free(e->codec);
    cb_free(e);
}

/* ---- plain stores into reserved room ---------------------------------------- */

/* Copies n bytes to o (room for n) without a libc call for short values. */
static inline void
put_bytes(unsigned char *o, const char *p, size_t n)
{
    uint64_t w, w2;
    uint32_t h, h2;
    size_t i;

    if (n >= 16) {
        for (i = 0; i + 16 < n; i += 16) {
            memcpy(&w, p + i, 8);
            memcpy(&w2, p + i + 8, 8);
            memcpy(o + i, &w, 8);
            memcpy(o + i + 8, &w2, 8);
        }
        memcpy(&w, p + n - 16, 8);
        memcpy(&w2, p + n - 8, 8);
        memcpy(o + n - 16, &w, 8);
        memcpy(o + n - 8, &w2, 8);
    } else if (n >= 8) {
        memcpy(&w, p, 8);
        memcpy(&w2, p + n - 8, 8);
        memcpy(o, &w, 8);
        memcpy(o + n - 8, &w2, 8);
    } else if (n >= 4) {
        memcpy(&h, p, 4);
        memcpy(&h2, p + n - 4, 4);
        memcpy(o, &h, 4);
        memcpy(o + n - 4, &h2, 4);
    } else if (n) {
        o[0] = (unsigned char)p[0];
        o[n / 2] = (unsigned char)p[n / 2];
        o[n - 1] = (unsigned char)p[n - 1];
    }
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
        put_bytes(o, s.ptr, s.len);
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
 * The items in their stored layout (before compression): version byte 1,
 * then for each scalar field in fields.def order a varint n (0 = empty,
 * else the value's length + 1) and the value's bytes; trailing empty fields
 * are left out. fields.def is append-only, so every version decodes.
 *
 * Room is reserved up front for every field to take up to ITEM_ROOM bytes
 * (a one-byte varint and a value of up to ITEM_ROOM - 1 bytes), so only a
 * longer value checks for room, enough for itself and ITEM_ROOM for each
 * field after it.
 */
#define ITEM_ROOM 64

static enum cb_err
items_data(struct cb_buf *b, const struct cb_fp *r)
{
    int f, last = CB_F__SCALARS - 1;
    unsigned char *o;
    enum cb_err rc;

    while (last >= 0 && !r->state[last])
        last--;
    if ((rc = cb_buf_reserve(b, 1 + (size_t)(last + 1) * ITEM_ROOM)))
        return rc;
    o = (unsigned char *)b->ptr + b->len;
    *o++ = (unsigned char)CB_STORE_ITEMS_V1;
    for (f = 0; f <= last; f++) {
        size_t len;
        uint64_t n;

        if (!r->state[f]) {
            *o++ = 0;
            continue;
        }
        len = r->v[f].len;
        if (len < ITEM_ROOM) {
            *o++ = (unsigned char)(len + 1);
        } else {
            b->len = (size_t)((char *)o - b->ptr);
            if ((rc = cb_buf_reserve(b, len + 10 + (size_t)(last - f) * ITEM_ROOM)))
                return rc;
            o = (unsigned char *)b->ptr + b->len;
            n = (uint64_t)len + 1;
            do {
                *o++ = (unsigned char)((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
                n >>= 7;
            } while (n);
        }
        put_bytes(o, r->v[f].ptr, len);
        o += len;
    }
    b->len = (size_t)((char *)o - b->ptr);
    b->ptr[b->len] = '\0';
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
         * Identity of the content: the canonical items, not the file bytes.
         * The items are compressed here, on the encoding thread, straight
         * from the scratch buffer into the arena.
         */
        char *z;
        size_t zn, zcap;

        cb_buf_reset(scratch);
        if ((rc = items_data(scratch, r)))
            return rc;
        h = cb_hash64(scratch->ptr, scratch->len, 0);
        if (!enc->codec && (rc = cb__codec_new(&enc->codec)))
            return rc;
        zcap = cb__codec_bound(scratch->len);
        if (!(z = cb_arena_alloc(a, zcap)))
            return CB_ERR_NOMEM;
        if ((rc = cb__codec_compress_to(enc->codec, scratch->ptr, scratch->len, z,
                                        zcap, &zn)))
            return rc;
        row->data = cb_str_make(z, zn);
        row->data_compressed = 1;
        if ((rc = json_dx_px(row, r, a, scratch)))
            return rc;
        h = cb_hash64(row->dx.ptr, row->dx.len, h);
        row->hash = cb_hash64(row->px.ptr, row->px.len, h) >> 1;
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
