/*
 * store_encode.c - turning a checked record into the row the database
 * stores (struct cb_store_row). Pure: no SQLite here, so the importer runs
 * it on its parsing thread while the store thread writes.
 *
 * Layouts (documented in docs/architecture.md):
 *   data  every non-empty scalar item, in the binary layout of
 *         items_data() below, compressed here (a zstd frame, dictionary in
 *         src/store/dict; SQL reads it as a JSON object with fp_data(data))
 *   dx    [[slot, code, name, poa],...]      slot 0 = principal (JBDM)
 *   px    [[slot, code, name, time, level, surgeon, assistant1, assistant2,
 *           incision, healing, anaesthesia, anaesthetist],...]
 */
#include <string.h>

#include "carebase/alloc.h"
#include "carebase/date.h"
#include "carebase/json.h"
#include "carebase/store.h"
#include "store_codec.h"

struct cb_store_encoder {
    struct cb_buf    scratch;  /* JSON being built */
    struct cb_buf    zbuf;     /* a compressed frame */
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
    cb_buf_init(&e->zbuf, 16u << 20);
    *out = e;
    return CB_OK;
}

void
cb_store_encoder_free(struct cb_store_encoder *e)
{
    if (!e)
        return;
    cb_buf_release(&e->scratch);
    cb_buf_release(&e->zbuf);
    cb__codec_free(e->codec);
    cb_free(e);
}

enum cb_err
cb_store_row_compress(struct cb_store_row *row, struct cb_store_encoder *enc,
                      struct cb_arena *a)
{
    enum cb_err rc;

    if (row->rejected || row->data_compressed)
        return CB_OK;
    if (!enc->codec && (rc = cb__codec_new(&enc->codec)))
        return rc;
    if ((rc = cb__codec_compress(enc->codec, row->data.ptr, row->data.len, &enc->zbuf)))
        return rc;
    row->data = cb_arena_dup(a, enc->zbuf.ptr, enc->zbuf.len);
    if (!row->data.ptr)
        return CB_ERR_NOMEM;
    row->data_compressed = 1;
    return CB_OK;
}

static enum cb_err
json_value(struct cb_buf *b, const struct cb_fp *r, int f)
{
    if (!r->state[f])
        return cb_buf_adds(b, "null");
    return cb_json_str(b, r->v[f]);
}

/* "[n" or "[n," without printf (n is a slot number, 1..99). */
static enum cb_err
add_slot(struct cb_buf *b, int n, int comma)
{
    char t[5];
    size_t k = 0;

    t[k++] = '[';
    if (n >= 10)
        t[k++] = (char)('0' + n / 10 % 10);
    t[k++] = (char)('0' + n % 10);
    if (comma)
        t[k++] = ',';
    return cb_buf_add(b, t, k);
}

/*
 * The items in their stored layout (before compression): version byte 1,
 * then for each scalar field in fields.def order a varint n (0 = empty,
 * else the value's length + 1) and the value's bytes; trailing empty fields
 * are left out. fields.def is append-only, so every version decodes.
 */
static enum cb_err
items_data(struct cb_buf *b, const struct cb_fp *r)
{
    int f, last = -1;
    size_t need = 1;
    unsigned char *o;
    enum cb_err rc;

    for (f = 0; f < CB_F__SCALARS; f++)
        if (r->state[f]) {
            last = f;
            need += r->v[f].len + 10;
        }
    need += (size_t)(last + 1);
    /* One reservation, then plain stores: no call per field. */
    if ((rc = cb_buf_reserve(b, need)))
        return rc;
    o = (unsigned char *)b->ptr + b->len;
    *o++ = (unsigned char)CB_STORE_ITEMS_V1;
    for (f = 0; f <= last; f++) {
        uint64_t n = r->state[f] ? (uint64_t)r->v[f].len + 1 : 0;

        do {
            *o++ = (unsigned char)((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
            n >>= 7;
        } while (n);
        if (r->state[f] && r->v[f].len) {
            memcpy(o, r->v[f].ptr, r->v[f].len);
            o += r->v[f].len;
        }
    }
    b->len = (size_t)((char *)o - b->ptr);
    b->ptr[b->len] = '\0';
    return CB_OK;
}

static enum cb_err
json_dx(struct cb_buf *b, const struct cb_fp *r)
{
    enum cb_err rc;
    int n, first = 1;

    if ((rc = cb_buf_addc(b, '[')))
        return rc;
    if (r->state[CB_F_JBDM]) {
        if ((rc = cb_buf_adds(b, "[0,")) || (rc = json_value(b, r, CB_F_JBDM)) ||
            (rc = cb_buf_addc(b, ',')) || (rc = json_value(b, r, CB_F_ZYZD)) ||
            (rc = cb_buf_addc(b, ',')) || (rc = json_value(b, r, CB_F_RYBQ)) ||
            (rc = cb_buf_addc(b, ']')))
            return rc;
        first = 0;
    }
    for (n = 1; n <= r->ndx; n++) {
        if (!r->state[cb_fp_dx(n, CB_DX_CODE)])
            continue;
        if ((!first && (rc = cb_buf_addc(b, ','))) ||
            (rc = add_slot(b, n, 1)) ||
            (rc = json_value(b, r, cb_fp_dx(n, CB_DX_CODE))) ||
            (rc = cb_buf_addc(b, ',')) ||
            (rc = json_value(b, r, cb_fp_dx(n, CB_DX_NAME))) ||
            (rc = cb_buf_addc(b, ',')) ||
            (rc = json_value(b, r, cb_fp_dx(n, CB_DX_POA))) ||
            (rc = cb_buf_addc(b, ']')))
            return rc;
        first = 0;
    }
    return cb_buf_addc(b, ']');
}

static enum cb_err
json_px(struct cb_buf *b, const struct cb_fp *r)
{
    static const int pxf[] = { CB_PX_CODE, CB_PX_NAME, CB_PX_DATE, CB_PX_LEVEL,
                               CB_PX_SZ, CB_PX_YZ, CB_PX_EZ, CB_PX_QKDJ,
                               CB_PX_QKYHLB, CB_PX_MZFS, CB_PX_MZYS };
    enum cb_err rc;
    int n, first = 1;
    size_t k;

    if ((rc = cb_buf_addc(b, '[')))
        return rc;
    for (n = 1; n <= r->npx; n++) {
        if (!r->state[cb_fp_px(n, CB_PX_CODE)])
            continue;
        if ((!first && (rc = cb_buf_addc(b, ','))) ||
            (rc = add_slot(b, n, 0)))
            return rc;
        for (k = 0; k < sizeof(pxf) / sizeof(pxf[0]); k++)
            if ((rc = cb_buf_addc(b, ',')) ||
                (rc = json_value(b, r, cb_fp_px(n, pxf[k]))))
                return rc;
        if ((rc = cb_buf_addc(b, ']')))
            return rc;
        first = 0;
    }
    return cb_buf_addc(b, ']');
}

/* Builds one JSON text with fn in scratch and copies it into the arena. */
static enum cb_err
json_into(struct cb_str *out, enum cb_err (*fn)(struct cb_buf *, const struct cb_fp *),
          const struct cb_fp *r, struct cb_arena *a, struct cb_buf *scratch)
{
    enum cb_err rc;

    cb_buf_reset(scratch);
    if ((rc = fn(scratch, r)))
        return rc;
    *out = cb_arena_dup(a, scratch->ptr, scratch->len);
    return out->ptr ? CB_OK : CB_ERR_NOMEM;
}

static struct cb_str
dup(struct cb_arena *a, struct cb_str s, int *oom)
{
    struct cb_str d;

    if (!s.len)
        return CB_STR_NULL;
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
        row->sval[scols[k].sc] = dup(a, r->v[scols[k].f], &oom);

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
        if ((rc = json_into(&row->dx, json_dx, r, a, scratch)) ||
            (rc = json_into(&row->px, json_px, r, a, scratch)))
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
            o->value = dup(a, is->value, &oom);
            o->detail = dup(a, cb_str_c(is->detail), &oom);
        }
        row->nissues = res->n;
    }
    return oom ? CB_ERR_NOMEM : CB_OK;
}
