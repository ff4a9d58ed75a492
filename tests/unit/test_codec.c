/*
 * test_codec.c - the compressed record payloads of databases before schema
 * v11 (src/store/store_codec.c, which only reads them): LZ4 frames with
 * the fp-2 dictionary, as v8 to v10 wrote them, and zstd frames, older
 * still, decode; damaged frames are rejected; plain payloads pass.
 *
 * All payloads here are synthetic (made-up names and identifiers).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lz4.h>
#include <zdict.h>
#include <zstd.h>

#include "carebase/buf.h"
#include "carebase/store.h"
#include "store/store_codec.h"
#include "testutil.h"

/* The dictionary the library embeds (src/store/dict/fp-2.zdict). */
extern const unsigned char cb__fp_zdict[];
extern const size_t cb__fp_zdict_size;

#define LZ4_TAG 0xC0

/* ------------------------------------------------------------ payloads */

static void
add_item(struct cb_buf *b, const char *v)
{
    size_t n = v ? strlen(v) + 1 : 0, len = n;

    do {
        assert_int_equal(cb_buf_addc(b, (char)((n & 0x7f) | (n > 0x7f ? 0x80 : 0))),
                         CB_OK);
        n >>= 7;
    } while (n);
    if (len > 1)
        assert_int_equal(cb_buf_add(b, v, len - 1), CB_OK);
}

/*
 * A front page in the stored layout (version byte, then a varint length + 1
 * and the bytes of each item), like store_encode.c's items_data; seed
 * varies the values.
 */
static void
make_items(struct cb_buf *b, unsigned seed)
{
    static const char *const names[] = { "张伟", "王芳", "李娜", "刘洋", "陈静" };
    static const char *const depts[] = { "心血管内科", "普通外科", "呼吸内科" };
    char tmp[64];
    int i;

    cb_buf_reset(b);
    assert_int_equal(cb_buf_addc(b, (char)CB_STORE_ITEMS_V1), CB_OK);
    add_item(b, "12421402597473379T");
    add_item(b, "永阳市中心医院");
    snprintf(tmp, sizeof(tmp), "%08u", 12500000u + seed * 7919u % 100000u);
    add_item(b, tmp);
    snprintf(tmp, sizeof(tmp), "%u", 1 + seed % 4);
    add_item(b, tmp);
    add_item(b, NULL);
    add_item(b, "1.1");
    add_item(b, names[seed % 5]);
    add_item(b, seed % 2 ? "1" : "2");
    snprintf(tmp, sizeof(tmp), "19%02u-%02u-%02u", 30 + seed % 60, 1 + seed % 12,
             1 + seed % 28);
    add_item(b, tmp);
    add_item(b, "中国");
    for (i = 0; i < 40; i++) {
        snprintf(tmp, sizeof(tmp), "%s %u.%u", depts[(seed + (unsigned)i) % 3],
                 seed % 97, (unsigned)i * 13u % 100u);
        add_item(b, i % 5 == 4 ? NULL : tmp);
    }
}

/*
 * An LZ4 frame as schema v8 to v10 wrote it: the tag, dictionary id 2, the
 * length as a varint, one LZ4 block made with the dictionary (the fp-2
 * zdict after its zstd header).
 */
static void
lz4_frame(const void *src, size_t n, struct cb_buf *out)
{
    size_t head = ZDICT_getDictHeaderSize(cb__fp_zdict, cb__fp_zdict_size), v = n;
    LZ4_stream_t *s = LZ4_createStream();
    int k;

    assert_false(ZDICT_isError(head));
    assert_non_null(s);
    cb_buf_reset(out);
    assert_int_equal(cb_buf_addc(out, (char)LZ4_TAG), CB_OK);
    assert_int_equal(cb_buf_addc(out, 2), CB_OK);
    do {
        assert_int_equal(cb_buf_addc(out, (char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0))), CB_OK);
        v >>= 7;
    } while (v);
    assert_int_equal(cb_buf_reserve(out, (size_t)LZ4_compressBound((int)n)), CB_OK);
    LZ4_loadDict(s, (const char *)cb__fp_zdict + head, (int)(cb__fp_zdict_size - head));
    k = LZ4_compress_fast_continue(s, src, out->ptr + out->len, (int)n,
                                   LZ4_compressBound((int)n), 2);
    assert_true(k > 0 || n == 0);
    out->len += (size_t)(k > 0 ? k : 0);
    LZ4_freeStream(s);
}

static void
round_trip(struct cb_codec *c, const void *src, size_t n)
{
    struct cb_buf z = CB_BUF_INIT, out = CB_BUF_INIT;

    lz4_frame(src, n, &z);
    assert_int_equal(cb__codec_decompress(c, z.ptr, z.len, &out), CB_OK);
    assert_int_equal(out.len, n);
    if (n)
        assert_memory_equal(out.ptr, src, n);
    cb_buf_release(&z);
    cb_buf_release(&out);
}

/* --------------------------------------------------------------- tests */

static void
test_round_trip_items(void **state)
{
    struct cb_codec *c;
    struct cb_buf items = CB_BUF_INIT;
    unsigned seed;

    (void)state;
    assert_int_equal(cb__codec_new(&c), CB_OK);
    for (seed = 0; seed < 200; seed++) {
        make_items(&items, seed);
        round_trip(c, items.ptr, items.len);
    }
    cb_buf_release(&items);
    cb__codec_free(c);
}

static void
test_round_trip_edges(void **state)
{
    struct cb_codec *c;
    unsigned char *big;
    size_t i, n = (size_t)200 << 10;
    unsigned r = 12345;

    (void)state;
    assert_int_equal(cb__codec_new(&c), CB_OK);
    round_trip(c, "", 0);
    round_trip(c, "\x01", 1);
    round_trip(c, "\xC0", 1); /* a payload starting with the tag */
    big = malloc(n);
    assert_non_null(big);
    /* random bytes, then compressible ones, around the 64 KiB LZ4F block
     * size that the writer treated apart */
    for (i = 0; i < n; i++) {
        r = r * 1103515245u + 12345u;
        big[i] = (unsigned char)(r >> 16);
    }
    round_trip(c, big, 1000);
    round_trip(c, big, (size_t)64 << 10);
    round_trip(c, big, ((size_t)64 << 10) + 1);
    round_trip(c, big, n);
    for (i = 0; i < n; i++)
        big[i] = (unsigned char)("front page "[i % 11]);
    round_trip(c, big, n);
    free(big);
    cb__codec_free(c);
}

/* Older databases hold zstd frames made with fp-2.zdict: they still read. */
static void
test_zstd_frames_decode(void **state)
{
    struct cb_codec *c;
    struct cb_buf items = CB_BUF_INIT, out = CB_BUF_INIT;
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    char frame[4096];
    size_t z;

    (void)state;
    assert_non_null(cctx);
    assert_int_equal(cb__codec_new(&c), CB_OK);
    make_items(&items, 3);
    z = ZSTD_compress_usingDict(cctx, frame, sizeof(frame), items.ptr, items.len,
                                cb__fp_zdict, cb__fp_zdict_size, 1);
    assert_false(ZSTD_isError(z));
    assert_int_equal(cb__codec_decompress(c, frame, z, &out), CB_OK);
    assert_int_equal(out.len, items.len);
    assert_memory_equal(out.ptr, items.ptr, items.len);
    /* a truncated zstd frame is rejected */
    assert_int_equal(cb__codec_decompress(c, frame, z - 3, &out), CB_ERR_PROTO);
    /* a frame without a dictionary decodes too */
    z = ZSTD_compress_usingDict(cctx, frame, sizeof(frame), items.ptr, items.len,
                                NULL, 0, 1);
    assert_false(ZSTD_isError(z));
    assert_int_equal(cb__codec_decompress(c, frame, z, &out), CB_OK);
    assert_int_equal(out.len, items.len);
    /* a frame naming another dictionary (fp-2 with its id changed): rejected */
    {
        unsigned char *other = malloc(cb__fp_zdict_size);

        assert_non_null(other);
        memcpy(other, cb__fp_zdict, cb__fp_zdict_size);
        other[4] ^= 0x5a; /* the id: little-endian after the magic */
        z = ZSTD_compress_usingDict(cctx, frame, sizeof(frame), items.ptr,
                                    items.len, other, cb__fp_zdict_size, 1);
        assert_false(ZSTD_isError(z));
        assert_int_equal(cb__codec_decompress(c, frame, z, &out), CB_ERR_PROTO);
        free(other);
    }
    ZSTD_freeCCtx(cctx);
    cb_buf_release(&items);
    cb_buf_release(&out);
    cb__codec_free(c);
}

static void
test_plain_passes_through(void **state)
{
    struct cb_codec *c;
    struct cb_buf items = CB_BUF_INIT, out = CB_BUF_INIT;
    static const char json[] = "{\"XM\":\"张伟\",\"BAH\":\"12500001\"}";

    (void)state;
    /* the tag starts none of the other kinds */
    assert_true(LZ4_TAG != 0x28 && LZ4_TAG != CB_STORE_ITEMS_V1 && LZ4_TAG != '{' &&
                LZ4_TAG != '[');
    assert_int_equal(cb__codec_new(&c), CB_OK);
    assert_int_equal(cb__codec_decompress(c, json, strlen(json), &out), CB_OK);
    assert_string_equal(out.ptr, json);
    assert_int_equal(cb__codec_decompress(c, "[1,2]", 5, &out), CB_OK);
    assert_int_equal(out.len, 5);
    make_items(&items, 9);
    assert_int_equal(cb__codec_decompress(c, items.ptr, items.len, &out), CB_OK);
    assert_int_equal(out.len, items.len);
    assert_memory_equal(out.ptr, items.ptr, items.len);
    assert_int_equal(cb__codec_decompress(c, "", 0, &out), CB_OK);
    assert_int_equal(out.len, 0);
    cb_buf_release(&items);
    cb_buf_release(&out);
    cb__codec_free(c);
}

static void
expect_proto(struct cb_codec *c, const void *p, size_t n)
{
    struct cb_buf out = CB_BUF_INIT;

    assert_int_equal(cb__codec_decompress(c, p, n, &out), CB_ERR_PROTO);
    assert_int_equal(out.len, 0);
    cb_buf_release(&out);
}

static void
test_damaged_lz4_frames(void **state)
{
    struct cb_codec *c;
    struct cb_buf items = CB_BUF_INIT, z = CB_BUF_INIT, out = CB_BUF_INIT;
    unsigned char *f;
    size_t i, n;
    int b;

    (void)state;
    assert_int_equal(cb__codec_new(&c), CB_OK);
    make_items(&items, 11);
    lz4_frame(items.ptr, items.len, &z);
    n = z.len;
    f = malloc(n + 16);
    assert_non_null(f);
    /* every truncation, the bare tag included, on a copy of exactly that size */
    for (i = 1; i < n; i++) {
        unsigned char *t = malloc(i);

        assert_non_null(t);
        memcpy(t, z.ptr, i);
        expect_proto(c, t, i);
        free(t);
    }
    /* header: tag, id 2, then the length as a varint */
    assert_int_equal((unsigned char)z.ptr[1], 2);
    memcpy(f, z.ptr, n);
    f[1] = 3; /* unknown dictionary */
    expect_proto(c, f, n);
    /* a length one more or one less than the block gives */
    memcpy(f, z.ptr, n);
    f[2] = (unsigned char)(f[2] + 1);
    expect_proto(c, f, n);
    memcpy(f, z.ptr, n);
    f[2] = (unsigned char)(f[2] - 1);
    expect_proto(c, f, n);
    /* a length over the payload cap: rejected before any allocation */
    {
        static const unsigned char huge[] = { LZ4_TAG, 2, 0xff, 0xff, 0xff, 0x7f, 0 };
        static const unsigned char endless[] = { LZ4_TAG, 2, 0x80, 0x80, 0x80, 0x80, 0x80 };

        expect_proto(c, huge, sizeof(huge));
        expect_proto(c, endless, sizeof(endless));
    }
    /* trailing garbage after the block */
    memcpy(f, z.ptr, n);
    memset(f + n, 0x55, 16);
    expect_proto(c, f, n + 16);
    /*
     * Any byte of the block changed: never a crash or an overrun (ASan);
     * either rejected or the announced length (there is no checksum, as in
     * the zstd frames before: a changed literal goes unnoticed).
     */
    for (i = 3; i < n; i++)
        for (b = 0; b < 8; b += 3) {
            enum cb_err rc;

            memcpy(f, z.ptr, n);
            f[i] ^= (unsigned char)(1u << b);
            rc = cb__codec_decompress(c, f, n, &out);
            assert_true(rc == CB_ERR_PROTO || (rc == CB_OK && out.len == items.len));
        }
    free(f);
    cb_buf_release(&items);
    cb_buf_release(&z);
    cb_buf_release(&out);
    cb__codec_free(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_items),
        cmocka_unit_test(test_round_trip_edges),
        cmocka_unit_test(test_zstd_frames_decode),
        cmocka_unit_test(test_plain_passes_through),
        cmocka_unit_test(test_damaged_lz4_frames),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
