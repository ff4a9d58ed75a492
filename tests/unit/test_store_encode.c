/*
 * test_store_encode.c - cb_store_row_encode writes exactly the bytes the
 * straightforward encoding does: the dx and px JSON (every escape, every
 * value length around the word boundaries of its fast paths), the items
 * (stored in layout V2, they give back exactly the plain V1 layout) and the
 * content hash over them (re-imports compare that hash, so it must never
 * change), and the columns, borrowed from raw or copied.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carebase/arena.h"
#include "carebase/json.h"
#include "carebase/store.h"
#include "store/store_items.h"
#include "testutil.h"

/* ---- the reference encoding, written the plain way ------------------------ */

static void
ref_value(struct cb_buf *b, const struct cb_fp *r, int f)
{
    if (!r->state[f])
        assert_int_equal(cb_buf_adds(b, "null"), CB_OK);
    else
        assert_int_equal(cb_json_str(b, r->v[f]), CB_OK);
}

static void
ref_dx(struct cb_buf *b, const struct cb_fp *r)
{
    int n, first = 1;

    assert_int_equal(cb_buf_adds(b, "["), CB_OK);
    if (r->state[CB_F_JBDM]) {
        assert_int_equal(cb_buf_adds(b, "[0,"), CB_OK);
        ref_value(b, r, CB_F_JBDM);
        assert_int_equal(cb_buf_adds(b, ","), CB_OK);
        ref_value(b, r, CB_F_ZYZD);
        assert_int_equal(cb_buf_adds(b, ","), CB_OK);
        ref_value(b, r, CB_F_RYBQ);
        assert_int_equal(cb_buf_adds(b, "]"), CB_OK);
        first = 0;
    }
    for (n = 1; n <= r->ndx; n++) {
        if (!r->state[cb_fp_dx(n, CB_DX_CODE)])
            continue;
        assert_int_equal(cb_buf_addf(b, "%s[%d,", first ? "" : ",", n), CB_OK);
        ref_value(b, r, cb_fp_dx(n, CB_DX_CODE));
        assert_int_equal(cb_buf_adds(b, ","), CB_OK);
        ref_value(b, r, cb_fp_dx(n, CB_DX_NAME));
        assert_int_equal(cb_buf_adds(b, ","), CB_OK);
        ref_value(b, r, cb_fp_dx(n, CB_DX_POA));
        assert_int_equal(cb_buf_adds(b, "]"), CB_OK);
        first = 0;
    }
    assert_int_equal(cb_buf_adds(b, "]"), CB_OK);
}

static void
ref_px(struct cb_buf *b, const struct cb_fp *r)
{
    static const int pxf[] = { CB_PX_CODE, CB_PX_NAME, CB_PX_DATE, CB_PX_LEVEL,
                               CB_PX_SZ, CB_PX_YZ, CB_PX_EZ, CB_PX_QKDJ,
                               CB_PX_QKYHLB, CB_PX_MZFS, CB_PX_MZYS };
    int n, first = 1;
    size_t k;

    assert_int_equal(cb_buf_adds(b, "["), CB_OK);
    for (n = 1; n <= r->npx; n++) {
        if (!r->state[cb_fp_px(n, CB_PX_CODE)])
            continue;
        assert_int_equal(cb_buf_addf(b, "%s[%d", first ? "" : ",", n), CB_OK);
        for (k = 0; k < sizeof(pxf) / sizeof(pxf[0]); k++) {
            assert_int_equal(cb_buf_adds(b, ","), CB_OK);
            ref_value(b, r, cb_fp_px(n, pxf[k]));
        }
        assert_int_equal(cb_buf_adds(b, "]"), CB_OK);
        first = 0;
    }
    assert_int_equal(cb_buf_adds(b, "]"), CB_OK);
}

/* Version byte, then per scalar up to the last non-empty: varint, bytes. */
static void
ref_items(struct cb_buf *b, const struct cb_fp *r)
{
    int f, last = -1;

    for (f = 0; f < CB_F__SCALARS; f++)
        if (r->state[f])
            last = f;
    assert_int_equal(cb_buf_add(b, "\x01", 1), CB_OK);
    for (f = 0; f <= last; f++) {
        uint64_t n = r->state[f] ? (uint64_t)r->v[f].len + 1 : 0;
        do {
            char c = (char)((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
            assert_int_equal(cb_buf_add(b, &c, 1), CB_OK);
            n >>= 7;
        } while (n);
        if (r->state[f])
            assert_int_equal(cb_buf_add(b, r->v[f].ptr, r->v[f].len), CB_OK);
    }
}

/* Encodes r and checks every byte against the reference. */
static void
check_encoding(const struct cb_fp *r, struct cb_str raw)
{
    struct cb_store_row row;
    struct cb_qc_result qres;
    struct cb_arena a;
    struct cb_store_encoder *enc;
    struct cb_buf dx = CB_BUF_INIT, px = CB_BUF_INIT, items = CB_BUF_INIT;
    struct cb_buf text = CB_BUF_INIT, v1 = CB_BUF_INIT;
    struct cb_str decoded[CB_F__SCALARS];
    uint64_t h;
    int k;

    memset(&qres, 0, sizeof(qres));
    cb_arena_init(&a, 4096);
    assert_int_equal(cb_store_encoder_new(&enc), CB_OK);
    /* Twice with the same encoder: its scratch is reused. */
    for (k = 0; k < 2; k++) {
        assert_int_equal(cb_store_row_encode(&row, r, NULL, &qres, raw, 7, &a, enc), CB_OK);
        cb_buf_reset(&dx);
        cb_buf_reset(&px);
        cb_buf_reset(&items);
        ref_dx(&dx, r);
        ref_px(&px, r);
        ref_items(&items, r);
        assert_int_equal(row.dx.len, dx.len);
        assert_memory_equal(row.dx.ptr, dx.ptr, dx.len);
        assert_int_equal(row.px.len, px.len);
        assert_memory_equal(row.px.ptr, px.ptr, px.len);
        /* The stored items (layout V2) are the items: V1 rebuilt from them
         * is the plain V1. */
        assert_true(row.data.len > 1 && row.data.ptr[0] == CB_STORE_ITEMS_V2);
        assert_int_equal(cb__items_decode((const unsigned char *)row.data.ptr,
                                          row.data.len, &text, decoded), CB_OK);
        assert_int_equal(cb__items_v1(decoded, &v1), CB_OK);
        assert_int_equal(v1.len, items.len);
        assert_memory_equal(v1.ptr, items.ptr, items.len);
        h = cb_hash64_wide(row.data.ptr, row.data.len, 0);
        h = cb_hash64_wide(dx.ptr, dx.len, h);
        assert_true(row.hash == (cb_hash64_wide(px.ptr, px.len, h) | CB_STORE_HASH_V2));
        assert_true(cb_str_eq(row.sval[CB_SC_BAH], r->v[CB_F_BAH]));
        assert_true(cb_str_eq(row.sval[CB_SC_JGMC], r->v[CB_F_JGMC]));
    }
    cb_store_encoder_free(enc);
    cb_arena_release(&a);
    cb_buf_release(&dx);
    cb_buf_release(&px);
    cb_buf_release(&items);
    cb_buf_release(&text);
    cb_buf_release(&v1);
}

/* Marks every non-empty field as text and counts the slots. */
static void
settle(struct cb_fp *r)
{
    int f, n;

    r->ndx = 0;
    r->npx = 0;
    for (f = 0; f < CB_FP_NFIELDS; f++)
        r->state[f] = r->v[f].ptr ? CB_FS_TEXT : CB_FS_EMPTY;
    for (n = 1; n <= CB_FP_MAX_DX; n++)
        if (r->state[cb_fp_dx(n, CB_DX_CODE)])
            r->ndx = (uint8_t)n;
    for (n = 1; n <= CB_FP_MAX_PX; n++)
        if (r->state[cb_fp_px(n, CB_PX_CODE)])
            r->npx = (uint8_t)n;
}

/*
 * Values of every length 0..40 with a byte to escape (or none) at every
 * position, in dx and px names, in the items, in columns; bytes >= 0x80
 * and 0x7f are copied as they are.
 */
static void
test_encoding_identical(void **state)
{
    static const char esc[] = { 0, '"', '\\', '\n', '\r', '\t', 0x01, 0x1f, 0x7f, (char)0xe5 };
    struct cb_fp *r = calloc(1, sizeof(*r));
    char *pool = malloc(1 << 16);
    size_t used = 0;
    int len, pos, e;

    (void)state;
    for (len = 0; len <= 40; len++) {
        for (pos = -1; pos < len; pos++) {
            for (e = 1; e < (int)sizeof(esc); e++) {
                char *v = pool + used;
                int i;

                if (pos < 0 && e > 1)
                    break;
                assert_true(used + 4 * (size_t)len + 64 < (1 << 16));
                memset(r, 0, sizeof(*r));
                for (i = 0; i < len; i++)
                    v[i] = (char)('a' + (i * 7 + len) % 26);
                if (pos >= 0)
                    v[pos] = esc[e];
                used += (size_t)len;
                r->v[CB_F_ZZJGDM] = cb_str_c("12345678-9");
                r->v[CB_F_BAH] = cb_str_make(v, (size_t)len);
                r->v[CB_F_JGMC] = cb_str_make(v, (size_t)len);
                r->v[CB_F_JBDM] = cb_str_c("I21.000");
                r->v[CB_F_ZYZD] = cb_str_make(v, (size_t)len);
                r->v[cb_fp_dx(1, CB_DX_CODE)] = cb_str_c("I10.x00");
                r->v[cb_fp_dx(1, CB_DX_NAME)] = cb_str_make(v, (size_t)len);
                r->v[cb_fp_dx(12, CB_DX_CODE)] = cb_str_make(v, (size_t)len);
                r->v[cb_fp_px(1, CB_PX_CODE)] = cb_str_c("36.0601");
                r->v[cb_fp_px(1, CB_PX_MZYS)] = cb_str_make(v, (size_t)len);
                r->v[cb_fp_px(10, CB_PX_CODE)] = cb_str_make(v, (size_t)len);
                settle(r);
                /* Borrowed from raw when inside it, copied when not. */
                check_encoding(r, cb_str_make(v, (size_t)len));
                check_encoding(r, CB_STR_NULL);
                if (used > (1 << 15))
                    used = 0;
            }
        }
    }
    free(pool);
    free(r);
}

/*
 * Long values (a varint of two bytes and more) and a record with every
 * scalar, every diagnosis and procedure slot filled: room grows as needed.
 */
static void
test_encoding_large(void **state)
{
    struct cb_fp *r = calloc(1, sizeof(*r));
    char *big = malloc(70000);
    int f;

    (void)state;
    for (f = 0; f < 70000; f++)
        big[f] = (f % 97 == 0) ? '"' : (char)('A' + f % 26);
    for (f = 0; f < CB_FP_NFIELDS; f++)
        r->v[f] = cb_str_make(big + f % 50, (size_t)(f % 300));
    r->v[CB_F_XM] = cb_str_make(big, 70000 - 64);
    settle(r);
    check_encoding(r, CB_STR_NULL);
    /* An empty value that is set still writes "" and a length of 1. */
    r->v[CB_F_XM] = cb_str_make(big, 0);
    check_encoding(r, cb_str_make(big, 70000));
    free(big);
    free(r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encoding_identical),
        cmocka_unit_test(test_encoding_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
