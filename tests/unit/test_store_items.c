/*
 * test_store_items.c - the stored layouts of a record's items
 * (src/store/store_items.c): every value comes back byte for byte, typed
 * kinds are taken exactly when they write the value back, repeats are
 * written once, V1 (which older content hashes are over) is rebuilt
 * exactly from decoded items, and damaged payloads are refused.
 *
 * All values here are synthetic.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carebase/buf.h"
#include "carebase/record.h"
#include "carebase/rng.h"
#include "store/store_items.h"
#include "testutil.h"

/* Sets field f of r to z (NULL: empty), as the profile does. */
static void
set(struct cb_fp *r, int f, const char *z)
{
    r->v[f] = z ? cb_str_c(z) : CB_STR_NULL;
    r->state[f] = z ? CB_FS_TEXT : CB_FS_EMPTY;
}

/*
 * Encodes r in layout V2, decodes it and checks every field; writes the
 * decoded items in layout V1 and checks that against a plain writer of V1
 * (the layout content hashes before schema v11 are over), and decodes V1
 * too. Returns the V2 length.
 */
static size_t
round_trip(const struct cb_fp *r)
{
    size_t room = cb__items_room(r), n2;
    unsigned char *v2 = malloc(room);
    struct cb_buf ref = CB_BUF_INIT, text = CB_BUF_INIT, v1 = CB_BUF_INIT;
    struct cb_str out[CB_F__SCALARS];
    int f, last = CB_F__SCALARS - 1;

    n2 = cb__items_put(r, v2);
    assert_true(n2 <= room);
    assert_int_equal(v2[0], 2);

    while (last >= 0 && !r->state[last])
        last--;
    assert_int_equal(cb_buf_addc(&ref, 1), CB_OK);
    for (f = 0; f <= last; f++) {
        size_t k = r->state[f] ? r->v[f].len + 1 : 0;

        do {
            assert_int_equal(cb_buf_addc(&ref, (char)((k & 0x7f) | (k > 0x7f ? 0x80 : 0))),
                             CB_OK);
            k >>= 7;
        } while (k);
        if (r->state[f] && r->v[f].len)
            assert_int_equal(cb_buf_add(&ref, r->v[f].ptr, r->v[f].len), CB_OK);
    }

    for (int layout = 2; layout >= 1; layout--) {
        if (layout == 2)
            assert_int_equal(cb__items_decode(v2, n2, &text, out), CB_OK);
        else
            assert_int_equal(cb__items_decode((const unsigned char *)ref.ptr, ref.len,
                                              &text, out), CB_OK);
        for (f = 0; f < CB_F__SCALARS; f++) {
            if (!r->state[f]) {
                assert_null(out[f].ptr);
                continue;
            }
            assert_non_null(out[f].ptr);
            if (out[f].len != r->v[f].len ||
                memcmp(out[f].ptr, r->v[f].ptr, r->v[f].len) != 0)
                fail_msg("field %d: '%.*s' came back as '%.*s' (layout V%d)", f,
                         (int)r->v[f].len, r->v[f].ptr, (int)out[f].len, out[f].ptr,
                         layout);
        }
        assert_int_equal(cb__items_v1(out, &v1), CB_OK);
        assert_int_equal(v1.len, ref.len);
        assert_memory_equal(v1.ptr, ref.ptr, ref.len);
    }
    cb_buf_release(&ref);
    cb_buf_release(&text);
    cb_buf_release(&v1);
    free(v2);
    return n2;
}

/* The V2 length of a record with one value in field f. */
static size_t
one_value_len(const char *z)
{
    struct cb_fp *r = calloc(1, sizeof(*r));
    size_t n;

    set(r, CB_F_ZFY, z);
    n = round_trip(r);
    free(r);
    return n;
}

static void
test_values_come_back(void **state)
{
    static const char *const values[] = {
        "0", "7", "00", "007", "10", "123456789012345678", "1234567890123456789",
        "12345678", "123456789", "1234567890123456", "12345678901234567",
        "0.00", "0.5", "0.50", "00.50", "5590.62", "5590.6", "5590.620", "-3.10",
        "-0.00", "-0.01", "-007.00", "+1.00", "1.0e3", "1,000.00", " 1.00", "1.00 ",
        "12345678901234.56", "1234567890123456.78", "12345678901234567.89",
        "2024-02-29", "2023-02-29", "2024-13-01", "2024-00-10", "1899-12-31",
        "1900-01-01", "9999-12-31", "2024-1-05", "2024/01/05", "20240105",
        "2024-01-05 07:32:15", "2024-01-05 24:00:00", "2024-01-05 23:59:60",
        "2024-01-05T07:32:15", "2024-01-05 07:32", "1900-01-01 00:00:00",
        "9999-12-31 23:59:59", "-", "--1", "-1", "1-", "3.", ".5", "1.2.3",
        "611202198506094644", "61120219850609464X", "0517-3722051",
        "腹股沟纳氏囊肿", "K40.900x012", "望平市中心医院", "a\"b\\c\n",
        "\xff\xfe",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(values) / sizeof(values[0]); i++)
        one_value_len(values[i]);
}

static void
test_typed_kinds_are_compact(void **state)
{
    (void)state;
    /* version byte, 136 empty fields before ZFY, then ZFY's own bytes */
    size_t base = one_value_len("A") - 2;

    assert_int_equal(one_value_len("0.00") - base, 1);               /* kind 3, 0 */
    assert_int_equal(one_value_len("5590.62") - base, 4);            /* 559062 << 3 | 3 */
    assert_int_equal(one_value_len("2024-01-05 07:32:15") - base, 5);
    assert_int_equal(one_value_len("2024-01-05") - base, 3);
    assert_int_equal(one_value_len("611202198506094644") - base, 9);
    /* not written back exactly: text (a header byte and the bytes) */
    assert_int_equal(one_value_len("5590.6") - base, 7);
    assert_int_equal(one_value_len("0517") - base, 5);
    assert_int_equal(one_value_len("-0.00") - base, 6);
}

static void
test_repeats_are_written_once(void **state)
{
    struct cb_fp *r = calloc(1, sizeof(*r)), *one = calloc(1, sizeof(*one));
    const char *addr = "陕西省望平市三桥区靖川大道89号7栋1303室";
    size_t with3, with1;

    (void)state;
    set(r, CB_F_XZZ, addr);
    set(r, CB_F_HKDZ, addr);
    set(r, CB_F_DZ, addr);
    set(one, CB_F_XZZ, addr);
    set(one, CB_F_HKDZ, "x");
    set(one, CB_F_DZ, "x");
    with3 = round_trip(r);
    with1 = round_trip(one);
    /* each repeat takes one reference of at most 2 bytes */
    assert_true(with3 <= with1);
    free(r);
    free(one);
}

/* Random values from an alphabet that reaches every typed path. */
static void
test_random_values_come_back(void **state)
{
    static const char alphabet[] = "0123456789000-.: 9x";
    struct cb_fp *r = calloc(1, sizeof(*r));
    static char vals[CB_F__SCALARS][32];
    struct cb_rng rng;
    int round, f;

    (void)state;
    cb_rng_seed(&rng, 20261123);
    for (round = 0; round < 3000; round++) {
        for (f = 0; f < CB_F__SCALARS; f++) {
            unsigned pick = (unsigned)cb_rng_below(&rng, 8), n, k;

            if (pick == 0) {
                set(r, f, NULL);
                continue;
            }
            if (pick == 1) { /* a date or date-time, often valid */
                snprintf(vals[f], sizeof(vals[f]), "%04u-%02u-%02u %02u:%02u:%02u",
                         1890 + (unsigned)cb_rng_below(&rng, 300),
                         (unsigned)cb_rng_below(&rng, 14), (unsigned)cb_rng_below(&rng, 33),
                         (unsigned)cb_rng_below(&rng, 25), (unsigned)cb_rng_below(&rng, 61),
                         (unsigned)cb_rng_below(&rng, 61));
                if (cb_rng_below(&rng, 2))
                    vals[f][10] = '\0';
            } else if (pick == 2 && f > 0 && r->state[f - 1]) { /* a repeat */
                memcpy(vals[f], vals[f - 1], sizeof(vals[f]));
            } else {
                n = 1 + (unsigned)cb_rng_below(&rng, 24);
                for (k = 0; k < n; k++)
                    vals[f][k] = alphabet[cb_rng_below(&rng, sizeof(alphabet) - 1)];
                vals[f][n] = '\0';
            }
            set(r, f, vals[f]);
        }
        round_trip(r);
    }
    free(r);
}

/*
 * Parsed records: fields whose text is exactly their value's plain form
 * (cb_fp_exact) are written from the value, and that must give the same
 * bytes as writing them from their text, which the content hash covers.
 */
static void
test_parsed_values_write_as_text_does(void **state)
{
    static const int typed_fields[] = {
        CB_F_ZYCS, CB_F_CSRQ, CB_F_NL, CB_F_BZYZS_NL, CB_F_XSECSTZ, CB_F_RYSJ,
        CB_F_CYSJ, CB_F_SJZYTS, CB_F_ZKRQ, CB_F_ZFY, CB_F_ZFJE, CB_F_YLFUF, CB_F_HLF,
        CB_F_XYF, CB_F_SSF, CB_F_MAF,
    };
    static const char *const pool[] = {
        "0", "7", "38", "007", "-1", " 5", "123456789012345678", "1234567890123456789",
        "0.00", "0.50", "00.50", "5590.62", "5590.6", "-3.10", "-0.00", "5.0 ", "1e5",
        "2024-02-29", "2023-02-29", "1899-12-31", "1900-01-01", "2024/01/05", "20240105",
        "2024-01-05 07:32:15", "2024-01-05T07:32:15", "2024-01-05 07:32", "2024-01-05",
        "9999-12-31 23:59:59", "1900-01-01 00:00:00", "1899-12-31 23:59:59",
    };
    struct cb_fp *r = calloc(1, sizeof(*r));
    size_t room, n1, n2, k, exact = 0;
    unsigned char *a, *b;
    struct cb_rng rng;

    (void)state;
    cb_rng_seed(&rng, 7);
    for (int round = 0; round < 2000; round++) {
        cb_fp_reset(r);
        for (k = 0; k < sizeof(typed_fields) / sizeof(typed_fields[0]); k++)
            if (cb_rng_below(&rng, 5))
                cb_fp_assign(r, typed_fields[k],
                             cb_str_c(pool[cb_rng_below(&rng, sizeof(pool) / sizeof(pool[0]))]));
        cb_fp_parse(r);
        room = cb__items_room(r);
        a = malloc(room);
        b = malloc(room);
        n1 = cb__items_put(r, a);
        for (k = 0; k < sizeof(typed_fields) / sizeof(typed_fields[0]); k++)
            exact += (size_t)cb_fp_exact(r, typed_fields[k]);
        memset(r->exact_bits, 0, sizeof(r->exact_bits));
        n2 = cb__items_put(r, b);
        assert_int_equal(n1, n2);
        assert_memory_equal(a, b, n1);
        round_trip(r);
        free(a);
        free(b);
    }
    assert_true(exact > 1000); /* the fast path was taken */
    free(r);
}

/*
 * The content hash of records from schema v11 is over the bytes this
 * encoder writes, so its choices are part of the format: the same items
 * must always give the same bytes, or re-imports would see unchanged
 * records as changed. A change here needs a new hash kind
 * (CB_STORE_HASH_V2 in store.h), not a new expected value.
 */
static void
test_encoder_is_frozen(void **state)
{
    static const struct { int f; const char *v; } items[] = {
        { CB_F_ZZJGDM, "126112028400220349" }, { CB_F_JGMC, "望平市中心医院" },
        { CB_F_BAH, "10585970" }, { CB_F_ZYCS, "1" }, { CB_F_XM, "刘璐翠" },
        { CB_F_SFZH, "611202198506094644" }, { CB_F_JKKH, "611202198506094644" },
        { CB_F_CSRQ, "1985-06-09" }, { CB_F_NL, "38" },
        { CB_F_XZZ, "陕西省望平市三桥区靖川大道89号7栋1303室" },
        { CB_F_HKDZ, "陕西省望平市三桥区靖川大道89号7栋1303室" },
        { CB_F_DH, "15163207414" }, { CB_F_YB1, "713450" }, { CB_F_YB2, "713450" },
        { CB_F_RYSJ, "2024-01-05 07:32:15" }, { CB_F_RYKB, "0401" },
        { CB_F_CYSJ, "2024-01-05 13:27:46" }, { CB_F_CYKB, "0401" },
        { CB_F_JBDM, "K40.900x012" }, { CB_F_ZYZD, "腹股沟纳氏囊肿" },
        { CB_F_ZFY, "5590.62" }, { CB_F_ZFJE, "195.62" }, { CB_F_XF, "0.00" },
        { CB_F_QTF, "-13.58" }, { CB_F_ZKRQ, "2024-01-09" },
    };
    struct cb_fp *r = calloc(1, sizeof(*r));
    unsigned char *o;
    size_t n, k;

    (void)state;
    /* Parsed or not, assigned fields tracked or not: the same bytes. */
    for (int way = 0; way < 3; way++) {
        if (way == 2) {
            cb_fp_clear(r); /* no tracking: every field visited */
            for (k = 0; k < sizeof(items) / sizeof(items[0]); k++) {
                r->v[items[k].f] = cb_str_c(items[k].v);
                r->state[items[k].f] = CB_FS_TEXT;
            }
        } else {
            cb_fp_reset(r);
            for (k = 0; k < sizeof(items) / sizeof(items[0]); k++)
                cb_fp_assign(r, items[k].f, cb_str_c(items[k].v));
            if (way == 1)
                cb_fp_parse(r);
            else
                for (k = 0; k < sizeof(items) / sizeof(items[0]); k++)
                    r->state[items[k].f] = CB_FS_TEXT;
        }
        o = malloc(cb__items_room(r));
        n = cb__items_put(r, o);
        print_message("V2: %zu bytes, hash %016llx\n", n,
                      (unsigned long long)cb_hash64_wide(o, n, 0));
        assert_int_equal(n, 322);
        assert_true(cb_hash64_wide(o, n, 0) == UINT64_C(0xce8802b517f04a9c));
        free(o);
    }
    free(r);
}

static void
test_damaged_payloads_are_refused(void **state)
{
    struct cb_buf text = CB_BUF_INIT;
    struct cb_str out[CB_F__SCALARS];
    static const struct { const char *p; size_t n; } bad[] = {
        { "", 0 },
        { "\x03", 1 },               /* unknown layout */
        { "\x02\x10", 2 },           /* text of 1 byte, missing */
        { "\x02\x01", 2 },           /* a repeat of field -1 */
        { "\x02\x00\x11", 3 },       /* a repeat of field -1 (field 1, arg 2) */
        { "\x02\x00\x09", 3 },       /* the repeat of an empty field */
        { "\x02\x07", 2 },           /* kind 7 */
        { "\x02\x04", 2 },           /* negative money of 0 */
        { "\x02\x80", 2 },           /* truncated varint */
        { "\x02\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12 }, /* too long */
        { "\x02\xf5\xff\xff\xff\xff\xff\xff\xff\x7f", 10 },          /* date too far */
        { "\x01\x05" "ab", 4 },      /* V1 value past the end */
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (cb__items_decode((const unsigned char *)bad[i].p, bad[i].n, &text, out) !=
            CB_ERR_PROTO)
            fail_msg("damaged payload %zu was accepted", i);
    /* more fields than fields.def has */
    {
        unsigned char many[CB_F__SCALARS + 2];

        memset(many, 0x08, sizeof(many)); /* empty text, field after field */
        many[0] = 2;
        assert_int_equal(cb__items_decode(many, sizeof(many), &text, out), CB_ERR_PROTO);
        assert_int_equal(cb__items_decode(many, sizeof(many) - 1, &text, out), CB_OK);
    }
    cb_buf_release(&text);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_come_back),
        cmocka_unit_test(test_typed_kinds_are_compact),
        cmocka_unit_test(test_repeats_are_written_once),
        cmocka_unit_test(test_random_values_come_back),
        cmocka_unit_test(test_parsed_values_write_as_text_does),
        cmocka_unit_test(test_encoder_is_frozen),
        cmocka_unit_test(test_damaged_payloads_are_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
