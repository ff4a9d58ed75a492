/*
 * test_hl7.c - MLLP framing, the HL7 v2 parser and the ACK builder.
 *
 * All messages here are synthetic (made-up names and identifiers).
 */
#include <stdio.h>
#include <string.h>

#include "carebase/alloc.h"
#include "carebase/hl7.h"
#include "testutil.h"

/* ------------------------------------------------------------ messages */

#define A01 \
    "MSH|^~\\&|HIS|HOSP1|CAREBASE|CB|20261122083000||ADT^A01^ADT_A01|MSG0001|P|2.5\r" \
    "EVN|A01|20261122082900\r" \
    "PID|1||P1001^^^HOSP1^MR~ID77^^^NATION^NI||TEST^ALPHA^Q||19800101|M\r" \
    "PV1|1|I|W3^301^2^HOSP1||||D01^DOC^ONE|||MED\r"

#define A02 \
    "MSH|^~\\&|HIS|HOSP1|CAREBASE|CB|20261122090000||ADT^A02^ADT_A02|MSG0002|P|2.5\r" \
    "EVN|A02|20261122085900\r" \
    "PID|1||P1001^^^HOSP1^MR||TEST^ALPHA\r" \
    "PV1|1|I|W5^502^1^HOSP1|||W3^301^2^HOSP1\r"

#define A03 \
    "MSH|^~\\&|HIS|HOSP1|CAREBASE|CB|20261125100000||ADT^A03^ADT_A03|MSG0003|P|2.4\r" \
    "EVN|A03|20261125095900\r" \
    "PID|1||P1001^^^HOSP1^MR||TEST^ALPHA\r" \
    "PV1|1|I|W5^502^1^HOSP1||||||||||||||||V9001|||||||||||||||||||||||||20261122083000|20261125095900\r"

#define A08 \
    "MSH|^~\\&|HIS|HOSP1|CAREBASE|CB|20261122120000||ADT^A08^ADT_A01|MSG0004|P|2.5.1\r" \
    "EVN|A08|20261122115900\r" \
    "PID|1||P1001^^^HOSP1^MR||TEST^ALPHA^R||19800101|M|||1 MAIN ST&MAIN ST&1^^CITY\r" \
    "PV1|1|I|W5^502^1^HOSP1\r"

#define A40 \
    "MSH|^~\\&|HIS|HOSP1|CAREBASE|CB|20261122130000||ADT^A40^ADT_A39|MSG0005|P|2.5\r" \
    "EVN|A40|20261122125900\r" \
    "PID|1||P1001^^^HOSP1^MR||TEST^ALPHA\r" \
    "MRG|P0999^^^HOSP1^MR\r"

#define A17 \
    "MSH|^~\\&|HIS|HOSP1|CAREBASE|CB|20261122140000||ADT^A17^ADT_A17|MSG0006|P|2.5\r" \
    "EVN|A17|20261122135900\r" \
    "PID|1||P1001^^^HOSP1^MR||TEST^ALPHA\r" \
    "PV1|1|I|W5^502^1^HOSP1\r" \
    "PID|2||P2002^^^HOSP1^MR||TEST^BETA\r" \
    "PV1|1|I|W5^503^1^HOSP1\r"

/* GB18030: family name 億乗 (second bytes 0x7C '|' and 0x5C '\'), given
 * name 张三, ward 内科. */
#define GB_FAMILY "\x83\x7c\x81\x5c"
#define GB_GIVEN "\xd5\xc5\xc8\xfd"
#define GB_WARD "\xc4\xda\xbf\xc6"
#define A01_GB \
    "MSH|^~\\&|HIS|HOSP2|CAREBASE|CB|20261122083000||ADT^A01^ADT_A01|GB0001|P|2.5|||AL|NE||GB 18030\r" \
    "PID|1||G1^^^HOSP2^MR||" GB_FAMILY "^" GB_GIVEN "\r" \
    "PV1|1|I|" GB_WARD "^1^1\r"
#define U8_FAMILY "\xe5\x84\x84\xe4\xb9\x97"
#define U8_GIVEN "\xe5\xbc\xa0\xe4\xb8\x89"
#define U8_WARD "\xe5\x86\x85\xe7\xa7\x91"

#define A01_UTF8 \
    "MSH|^~\\&|HIS|HOSP3|CAREBASE|CB|20261122083000||ADT^A01^ADT_A01|U0001|P|2.5|||||CHN|UNICODE UTF-8\r" \
    "PID|1||U1^^^HOSP3^MR||" U8_FAMILY "^" U8_GIVEN "\r" \
    "PV1|1|I|" U8_WARD "^1^1\r"

/* Custom encoding characters: field '!', component '@', repetition '*',
 * escape '$', subcomponent '#'. '|', '^', '~', '\' and '&' are data here. */
#define A01_CUSTOM \
    "MSH!@*$#!HIS!HOSP4!CAREBASE!CB!20261122083000!!ADT@A01!C0001!P!2.3\r" \
    "PID!1!!C1@@@HOSP4*C2@@@NATION!!A|B^C~D\\E&F@GIVEN!!!!!!LINE1#LINE2@@CITY\r" \
    "NTE!1!!pay $F$ and $S$ and $E$ here\r"

static struct cb_str
S(const char *z)
{
    return cb_str_c(z);
}

static void
parse_ok(struct cb_hl7_msg *m, const char *text, size_t len)
{
    struct cb_buf err = CB_BUF_INIT;
    enum cb_err rc = cb_hl7_parse(m, cb_str_make(text, len), &err);

    if (rc != CB_OK)
        fail_msg("parse failed: %s", cb_buf_cstr(&err));
    cb_buf_release(&err);
}

#define PARSE(m, lit) parse_ok((m), (lit), sizeof(lit) - 1)

/* Raw access compared with a string. */
static void
eq_raw(const struct cb_hl7_msg *m, size_t seg, unsigned f, unsigned r,
       unsigned c, unsigned s, const char *want)
{
    struct cb_str v = cb_hl7_raw(m, seg, f, r, c, s);

    if (!cb_str_eqz(v, want))
        fail_msg("seg %zu field %u.%u.%u.%u: got '%.*s', want '%s'", seg, f,
                 r, c, s, (int)v.len, v.ptr ? v.ptr : "", want);
}

static void
eq_get(struct cb_hl7_msg *m, size_t seg, unsigned f, unsigned r, unsigned c,
       unsigned s, const char *want)
{
    struct cb_buf err = CB_BUF_INIT;
    struct cb_str v;

    if (cb_hl7_get(m, seg, f, r, c, s, &v, &err) != CB_OK)
        fail_msg("get failed: %s", cb_buf_cstr(&err));
    if (!cb_str_eqz(v, want))
        fail_msg("seg %zu field %u.%u.%u.%u: got '%.*s', want '%s'", seg, f,
                 r, c, s, (int)v.len, v.ptr ? v.ptr : "", want);
    cb_buf_release(&err);
}

/* ------------------------------------------------------------ MLLP */

/*
 * Feeds data in chunks of `chunk` bytes and logs every event:
 * "M<payload>;" for a message, "J;" junk/protocol, "L<head>;" too large.
 */
static void
mllp_run(const char *data, size_t len, size_t chunk, size_t max,
         struct cb_buf *log)
{
    struct cb_mllp d;
    size_t off = 0;

    cb_mllp_init(&d, max);
    while (off < len) {
        size_t n = len - off < chunk ? len - off : chunk, used = 0, pos = 0;

        while (pos < n) {
            struct cb_str msg;
            enum cb_err rc = cb_mllp_feed(&d, data + off + pos, n - pos,
                                          &used, &msg);

            assert_true(used <= n - pos);
            pos += used;
            if (rc == CB_OK) {
                assert_int_equal(cb_buf_addc(log, 'M'), CB_OK);
                assert_int_equal(cb_buf_add(log, msg.ptr, msg.len), CB_OK);
                assert_int_equal(cb_buf_addc(log, ';'), CB_OK);
            } else if (rc == CB_ERR_PROTO) {
                assert_int_equal(cb_buf_adds(log, "J;"), CB_OK);
            } else if (rc == CB_ERR_TOO_LARGE) {
                /* "L<head>;": the frame's first max bytes */
                assert_int_equal(cb_buf_addc(log, 'L'), CB_OK);
                assert_int_equal(cb_buf_add(log, msg.ptr, msg.len), CB_OK);
                assert_int_equal(cb_buf_addc(log, ';'), CB_OK);
            } else {
                assert_int_equal(rc, CB_AGAIN);
                assert_int_equal(pos, n);
            }
        }
        off += n;
    }
    cb_mllp_release(&d);
}

/* Same events whatever the chunking, and equal to `want`. */
static void
mllp_expect(const char *data, size_t len, size_t max, const char *want)
{
    size_t chunk;

    for (chunk = 1; chunk <= len; chunk++) {
        struct cb_buf log = CB_BUF_INIT;

        mllp_run(data, len, chunk, max, &log);
        if (strcmp(cb_buf_cstr(&log), want) != 0)
            fail_msg("chunk %zu: got '%s', want '%s'", chunk,
                     cb_buf_cstr(&log), want);
        cb_buf_release(&log);
    }
}

#define SB "\x0b"
#define EB "\x1c"

static void
test_mllp_split_and_merged(void **state)
{
    static const char one[] = SB "MSH|a\rPID|1" EB "\r";
    static const char two[] = SB "MSH|a" EB "\r" SB "MSH|b\r" EB "\r"
                              SB EB "\r";

    (void)state;
    mllp_expect(one, sizeof(one) - 1, 100, "MMSH|a\rPID|1;");
    /* merged frames, a CR inside the payload, an empty frame */
    mllp_expect(two, sizeof(two) - 1, 100, "MMSH|a;MMSH|b\r;M;");
}

static void
test_mllp_junk_and_resync(void **state)
{
    /* junk before, between and after frames; EB without CR; SB inside */
    static const char junk[] = "xx" SB "A" EB "\r" "\n\nyy" SB "B" EB "\r"
                               SB "C" EB "Z" "zz" SB "D" SB "E" EB "\r" "q";

    (void)state;
    mllp_expect(junk, sizeof(junk) - 1, 100, "J;MA;J;MB;J;J;ME;J;");
}

static void
test_mllp_oversized(void **state)
{
    static const char big[] = SB "0123456789" EB "\r" SB "01234" EB "\r"
                              SB "012345" EB "\r" SB "ok" EB "\r";

    (void)state;
    /* max 5: the 10-byte frame and the 6-byte one are reported, then resync */
    mllp_expect(big, sizeof(big) - 1, 5, "L01234;M01234;L01234;Mok;");
    /* an oversized frame cut by a new SB: the new frame still counts */
    mllp_expect(SB "0123456789" SB "ab" EB "\r", 16, 5, "L01234;Mab;");
}

static void
test_mllp_wrap(void **state)
{
    struct cb_buf out = CB_BUF_INIT, log = CB_BUF_INIT;

    (void)state;
    assert_int_equal(cb_mllp_wrap(&out, S("MSH|x\r")), CB_OK);
    assert_int_equal(out.len, 9);
    assert_memory_equal(out.ptr, SB "MSH|x\r" EB "\r", 9);
    mllp_run(out.ptr, out.len, 3, 64, &log);
    assert_string_equal(cb_buf_cstr(&log), "MMSH|x\r;");
    cb_buf_reset(&out);
    assert_int_equal(cb_mllp_wrap(&out, S("a" EB "b")), CB_ERR_PROTO);
    assert_int_equal(cb_mllp_wrap(&out, S("a" SB "b")), CB_ERR_PROTO);
    cb_buf_release(&out);
    cb_buf_release(&log);
}

/* ------------------------------------------------------------ parser */

static void
test_parse_a01(void **state)
{
    struct cb_hl7_msg m;
    long pid;

    (void)state;
    PARSE(&m, A01);
    assert_int_equal(cb_hl7_nsegs(&m), 4);
    assert_true(cb_str_eqz(cb_hl7_seg_id(&m, 2), "PID"));
    eq_raw(&m, 0, 1, 0, 0, 0, "|");
    eq_raw(&m, 0, 2, 0, 0, 0, "^~\\&");
    eq_raw(&m, 0, 2, 1, 2, 0, "");        /* MSH-2 is never split */
    eq_get(&m, 0, 2, 0, 0, 0, "^~\\&");   /* nor unescaped */
    eq_raw(&m, 0, 3, 0, 0, 0, "HIS");
    eq_raw(&m, 0, 7, 0, 0, 0, "20261122083000");
    eq_raw(&m, 0, 9, 1, 1, 0, "ADT");
    eq_raw(&m, 0, 9, 1, 2, 0, "A01");
    eq_raw(&m, 0, 9, 0, 3, 0, "ADT_A01");
    eq_raw(&m, 0, 10, 0, 0, 0, "MSG0001");
    eq_raw(&m, 0, 12, 0, 0, 0, "2.5");
    eq_raw(&m, 0, 13, 0, 0, 0, "");       /* past the end */
    pid = cb_hl7_find(&m, "PID", 0, 1);
    assert_int_equal(pid, 2);
    assert_int_equal(cb_hl7_find(&m, "PID", 0, 2), -1);
    assert_int_equal(cb_hl7_find(&m, "ZZZ", 0, 1), -1);
    assert_int_equal(cb_hl7_nreps(&m, 2, 3), 2);
    assert_int_equal(cb_hl7_nreps(&m, 2, 4), 0);
    eq_raw(&m, 2, 3, 1, 1, 0, "P1001");
    eq_raw(&m, 2, 3, 1, 5, 0, "MR");
    eq_raw(&m, 2, 3, 2, 1, 0, "ID77");
    eq_raw(&m, 2, 3, 2, 4, 0, "NATION");
    eq_raw(&m, 2, 3, 3, 1, 0, "");
    eq_raw(&m, 2, 3, 0, 0, 0, "P1001^^^HOSP1^MR~ID77^^^NATION^NI");
    eq_get(&m, 2, 5, 1, 2, 0, "ALPHA");
    eq_raw(&m, 2, 7, 0, 0, 0, "19800101");
    eq_raw(&m, 3, 3, 1, 2, 0, "301");
    eq_raw(&m, 3, 10, 0, 0, 0, "MED");
    eq_raw(&m, 3, 0, 0, 0, 0, "");
    eq_raw(&m, 9, 1, 0, 0, 0, "");
    assert_int_equal(m.charset, CB_HL7_CS_ASCII);
    cb_hl7_release(&m);
}

static void
test_parse_events(void **state)
{
    struct cb_hl7_msg m;
    long i;

    (void)state;
    PARSE(&m, A02);
    eq_raw(&m, 0, 9, 1, 2, 0, "A02");
    eq_raw(&m, 3, 3, 1, 1, 0, "W5");
    eq_raw(&m, 3, 6, 1, 2, 0, "301");     /* prior location */
    cb_hl7_release(&m);

    PARSE(&m, A03);
    eq_raw(&m, 0, 12, 0, 0, 0, "2.4");
    eq_raw(&m, 3, 19, 0, 0, 0, "V9001");
    eq_raw(&m, 3, 44, 0, 0, 0, "20261122083000");
    eq_raw(&m, 3, 45, 0, 0, 0, "20261125095900");
    cb_hl7_release(&m);

    PARSE(&m, A08);
    eq_raw(&m, 0, 12, 0, 0, 0, "2.5.1");
    eq_raw(&m, 2, 11, 1, 1, 1, "1 MAIN ST");
    eq_raw(&m, 2, 11, 1, 1, 3, "1");
    eq_raw(&m, 2, 11, 1, 1, 4, "");
    eq_raw(&m, 2, 11, 0, 0, 2, "MAIN ST");  /* 0s count as 1 below */
    eq_raw(&m, 2, 11, 1, 3, 0, "CITY");
    eq_raw(&m, 2, 11, 1, 3, 1, "CITY");
    cb_hl7_release(&m);

    PARSE(&m, A40);
    i = cb_hl7_find(&m, "MRG", 0, 1);
    assert_int_equal(i, 3);
    eq_raw(&m, (size_t)i, 1, 1, 1, 0, "P0999");
    cb_hl7_release(&m);

    PARSE(&m, A17);
    assert_int_equal(cb_hl7_find(&m, "PID", 0, 1), 2);
    i = cb_hl7_find(&m, "PID", 0, 2);
    assert_int_equal(i, 4);
    eq_raw(&m, (size_t)i, 3, 1, 1, 0, "P2002");
    i = cb_hl7_find(&m, "PV1", (size_t)i, 1);   /* the PV1 of that group */
    assert_int_equal(i, 5);
    eq_raw(&m, (size_t)i, 3, 1, 2, 0, "503");
    assert_int_equal(cb_hl7_find(&m, "PV1", 0, 1), 3);
    cb_hl7_release(&m);
}

static void
test_parse_line_endings(void **state)
{
    static const char lf[] = "MSH|^~\\&|A|B|C|D|1||ADT^A01|X1|P|2.5\nPID|1||P1\n"
                             "PV1|1|I|W1\n";
    static const char crlf[] = "MSH|^~\\&|A|B|C|D|1||ADT^A01|X1|P|2.5\r\n"
                               "PID|1||P1\r\n\r\nPV1|1|I|W1";
    struct cb_hl7_msg m;

    (void)state;
    PARSE(&m, lf);
    assert_int_equal(cb_hl7_nsegs(&m), 3);
    eq_raw(&m, 1, 3, 0, 0, 0, "P1");
    eq_raw(&m, 2, 3, 0, 0, 0, "W1");
    cb_hl7_release(&m);
    PARSE(&m, crlf);
    assert_int_equal(cb_hl7_nsegs(&m), 3);
    eq_raw(&m, 0, 12, 0, 0, 0, "2.5");
    eq_raw(&m, 1, 3, 0, 0, 0, "P1");
    eq_raw(&m, 2, 3, 0, 0, 0, "W1");
    cb_hl7_release(&m);
}

static void
test_parse_custom_delimiters(void **state)
{
    struct cb_hl7_msg m;

    (void)state;
    PARSE(&m, A01_CUSTOM);
    assert_int_equal(m.fs, '!');
    assert_int_equal(m.cs, '@');
    assert_int_equal(m.rs, '*');
    assert_int_equal(m.ec, '$');
    assert_int_equal(m.ss, '#');
    eq_raw(&m, 0, 1, 0, 0, 0, "!");
    eq_raw(&m, 0, 2, 0, 0, 0, "@*$#");
    eq_raw(&m, 0, 3, 0, 0, 0, "HIS");
    eq_raw(&m, 0, 9, 1, 2, 0, "A01");
    eq_raw(&m, 0, 10, 0, 0, 0, "C0001");
    assert_int_equal(cb_hl7_nreps(&m, 1, 3), 2);
    eq_raw(&m, 1, 3, 2, 1, 0, "C2");
    eq_raw(&m, 1, 3, 2, 4, 0, "NATION");
    eq_get(&m, 1, 5, 1, 1, 0, "A|B^C~D\\E&F");  /* the default ones are data */
    eq_raw(&m, 1, 5, 1, 2, 0, "GIVEN");
    eq_raw(&m, 1, 11, 1, 1, 2, "LINE2");
    eq_raw(&m, 1, 11, 1, 3, 0, "CITY");
    eq_get(&m, 2, 3, 0, 0, 0, "pay ! and @ and $ here");
    cb_hl7_release(&m);
}

static void
test_escapes(void **state)
{
    static const char msg[] =
        "MSH|^~\\&|A|B|C|D|1||ADT^A01|X1|P|2.5\r"
        "NTE|1||a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f|x\\X41420D\\y|l1\\.br\\l2"
        "|\\H\\bold\\N\\|keep \\.sp2\\ and \\Zab\\|\\X\\|\\Xag\\|\\X123\\"
        "|cut \\F|\\\\|ok\r";
    struct cb_hl7_msg m;
    struct cb_buf err = CB_BUF_INIT, out = CB_BUF_INIT;
    struct cb_str v;
    unsigned f;

    (void)state;
    PARSE(&m, msg);
    eq_get(&m, 1, 3, 0, 0, 0, "a|b^c&d~e\\f");
    /* the escaped value is one field, one component */
    assert_int_equal(cb_hl7_nreps(&m, 1, 3), 1);
    eq_get(&m, 1, 4, 0, 0, 0, "xAB\ry");
    eq_get(&m, 1, 5, 0, 0, 0, "l1\nl2");
    eq_get(&m, 1, 6, 0, 0, 0, "bold");
    eq_get(&m, 1, 7, 0, 0, 0, "keep \\.sp2\\ and \\Zab\\");  /* kept literally */
    eq_get(&m, 1, 13, 0, 0, 0, "ok");
    /* \X\ (no digits), bad hex, odd digits, unterminated, empty */
    for (f = 8; f <= 12; f++) {
        cb_buf_reset(&err);
        assert_int_equal(cb_hl7_get(&m, 1, f, 0, 0, 0, &v, &err),
                         CB_ERR_PROTO);
        assert_int_equal(v.len, 0);
        assert_non_null(strstr(cb_buf_cstr(&err), "invalid escape"));
        assert_non_null(strstr(cb_buf_cstr(&err), "segment 2 (NTE) field"));
    }
    /* decode straight into a caller's buffer */
    assert_int_equal(cb_hl7_decode(&m, S("1\\S\\2"), &out, &err), CB_OK);
    assert_string_equal(cb_buf_cstr(&out), "1^2");
    /* escape is the inverse */
    cb_buf_reset(&out);
    assert_int_equal(cb_hl7_escape(&m, S("a|b^c&d~e\\f\ng"), &out, &err),
                     CB_OK);
    assert_string_equal(cb_buf_cstr(&out),
                        "a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\\.br\\g");
    cb_buf_release(&out);
    cb_buf_release(&err);
    cb_hl7_release(&m);
}

static void
test_charsets(void **state)
{
    static const char latin[] =
        "MSH|^~\\&|A|B|C|D|1||ADT^A01|L1|P|2.5||||||8859/1\rPID|1||X||M\xfcller\r";
    static const char bad_utf8[] =
        "MSH|^~\\&|A|B|C|D|1||ADT^A01|L1|P|2.5\rPID|1||X||M\xfcller\r";
    struct cb_hl7_msg m;
    struct cb_buf err = CB_BUF_INIT, out;
    struct cb_str v;

    (void)state;
    PARSE(&m, A01_GB);
    assert_int_equal(m.charset, CB_HL7_CS_GB18030);
    /* the 0x7C and 0x5C second bytes split nothing and escape nothing */
    assert_int_equal(cb_hl7_nsegs(&m), 3);
    eq_raw(&m, 1, 5, 1, 1, 0, GB_FAMILY);
    eq_raw(&m, 1, 5, 1, 2, 0, GB_GIVEN);
    eq_raw(&m, 1, 6, 0, 0, 0, "");
    eq_get(&m, 1, 5, 1, 1, 0, U8_FAMILY);
    eq_get(&m, 1, 5, 1, 2, 0, U8_GIVEN);
    eq_get(&m, 2, 3, 1, 1, 0, U8_WARD);
    eq_get(&m, 1, 3, 1, 1, 0, "G1");
    /* escape, then convert: the 0x7C second byte of 億 is left alone */
    cb_buf_init(&out, 1024);
    assert_int_equal(cb_hl7_escape(&m, S(U8_FAMILY "|" U8_GIVEN), &out, &err),
                     CB_OK);
    assert_string_equal(cb_buf_cstr(&out), GB_FAMILY "\\F\\" GB_GIVEN);
    cb_buf_release(&out);
    cb_hl7_release(&m);

    /* a cut GB18030 character */
    PARSE(&m, "MSH|^~\\&|A|B|C|D|1||ADT^A01|G2|P|2.5||||||GB 18030\r"
              "PID|1||X||\xd5\xc5\xc8\r");
    assert_int_equal(cb_hl7_get(&m, 1, 5, 0, 0, 0, &v, &err), CB_ERR_PROTO);
    assert_non_null(strstr(cb_buf_cstr(&err), "not valid GB18030"));
    assert_non_null(strstr(cb_buf_cstr(&err), "segment 2 (PID) field 5"));
    cb_buf_reset(&err);
    cb_hl7_release(&m);

    PARSE(&m, A01_UTF8);
    assert_int_equal(m.charset, CB_HL7_CS_UTF8);
    eq_get(&m, 1, 5, 1, 1, 0, U8_FAMILY);
    eq_get(&m, 2, 3, 1, 1, 0, U8_WARD);
    cb_hl7_release(&m);

    PARSE(&m, latin);
    eq_get(&m, 1, 5, 0, 0, 0, "M\xc3\xbcller");
    cb_hl7_release(&m);

    /* no MSH-18: Latin-1 bytes are not valid UTF-8 */
    PARSE(&m, bad_utf8);
    assert_int_equal(cb_hl7_get(&m, 1, 5, 0, 0, 0, &v, &err), CB_ERR_PROTO);
    assert_non_null(strstr(cb_buf_cstr(&err), "UTF-8"));
    cb_hl7_release(&m);
    cb_buf_release(&err);
}

static void
parse_fails(const char *text, enum cb_err want, const char *msg, bool has_msh)
{
    struct cb_hl7_msg m;
    struct cb_buf err = CB_BUF_INIT;

    assert_int_equal(cb_hl7_parse(&m, S(text), &err), want);
    if (!strstr(cb_buf_cstr(&err), msg))
        fail_msg("error '%s' does not contain '%s'", cb_buf_cstr(&err), msg);
    assert_int_equal(m.has_msh, has_msh);
    cb_hl7_release(&m);
    cb_buf_release(&err);
}

static void
test_parse_errors(void **state)
{
    (void)state;
    parse_fails("", CB_ERR_PROTO, "segment 1: missing MSH segment", false);
    parse_fails("PID|1||P1\rMSH|^~\\&|A\r", CB_ERR_PROTO, "missing MSH", false);
    parse_fails("MSH|^~\r", CB_ERR_PROTO, "segment 1 (MSH): truncated", false);
    parse_fails("MSH|^~\\|A|B|C|D|1||ADT^A01|X|P|2.5\r", CB_ERR_PROTO,
                "field 2: bad encoding characters", false);
    parse_fails("MSH|^~^&|A|B|C|D|1||ADT^A01|X|P|2.5\r", CB_ERR_PROTO,
                "used twice", false);
    parse_fails("MSH|^~A&|A|B|C|D|1||ADT^A01|X|P|2.5\r", CB_ERR_PROTO,
                "bad encoding characters", false);
    parse_fails("MSHA^~\\&|A\r", CB_ERR_PROTO, "bad field separator", false);
    parse_fails("MSH|^~\\&|A|B|C|D|1||ADT^A01|X|P|2.5\rPID|1\rPV\r",
                CB_ERR_PROTO, "segment 3: truncated segment", true);
    parse_fails("MSH|^~\\&|A|B|C|D|1||ADT^A01|X|P|2.5\rPIDX|1\r",
                CB_ERR_PROTO, "segment 2: bad segment id", true);
    parse_fails("MSH|^~\\&|A|B|C|D|1||ADT^A01|X|P|2.5\rpid|1\r",
                CB_ERR_PROTO, "segment 2: bad segment id", true);
    parse_fails("MSH|^~\\&|A|B|C|D|1||ADT^A01|X|P|2.5||||||KOI8-R\rPID|1\r",
                CB_ERR_PROTO, "segment 1 (MSH) field 18: unknown charset "
                "'KOI8-R'", true);
    parse_fails("MSH|^~\\&|A\rMSH|^~\\&|B\r", CB_ERR_PROTO,
                "segment 2 (MSH): a second MSH", true);
}

/* ------------------------------------------------------------ ACK */

static void
ack_expect(const char *text, const struct cb_hl7_ack_opts *o, const char *want,
           size_t want_len)
{
    struct cb_hl7_msg m;
    struct cb_buf out = CB_BUF_INIT, err = CB_BUF_INIT;

    parse_ok(&m, text, strlen(text));
    if (cb_hl7_ack(&m, o, &out, &err) != CB_OK)
        fail_msg("ack failed: %s", cb_buf_cstr(&err));
    if (out.len != want_len || memcmp(out.ptr, want, want_len) != 0)
        fail_msg("ack:\n got  '%s'\n want '%s'", cb_buf_cstr(&out), want);
    cb_buf_release(&out);
    cb_buf_release(&err);
    cb_hl7_release(&m);
}

#define ACK_EXPECT(text, o, lit) ack_expect((text), (o), (lit), sizeof(lit) - 1)

static void
test_ack(void **state)
{
    struct cb_hl7_ack_opts o = { 0 };

    (void)state;
    o.code = "AA";
    o.control_id = S("ACK0001");
    o.timestamp = S("20261122083001");
    ACK_EXPECT(A01, &o,
        "MSH|^~\\&|CAREBASE|CB|HIS|HOSP1|20261122083001||ACK^A01^ACK|ACK0001|P|2.5\r"
        "MSA|AA|MSG0001\r");

    /* 2.5: ERR-2 location, ERR-3 code, ERR-4 severity, ERR-8 escaped text */
    o.code = "AE";
    o.err_code = CB_HL7_E_REQUIRED;
    o.err_text = S("PID-3 is empty|missing");
    o.err_seg = "PID";
    o.err_seq = 1;
    o.err_field = 3;
    ACK_EXPECT(A08, &o,
        "MSH|^~\\&|CAREBASE|CB|HIS|HOSP1|20261122083001||ACK^A08^ACK|ACK0001|P|2.5.1\r"
        "MSA|AE|MSG0004\r"
        "ERR||PID^1^3|101^Required field missing^HL70357|E||||PID-3 is empty\\F\\missing\r");

    /* 2.4: ERR-1 (ELD) and MSA-3 */
    o.code = "AR";
    o.err_code = CB_HL7_E_EVENT_CODE;
    o.err_text = S("event not handled");
    o.err_seg = NULL;
    ACK_EXPECT(A03, &o,
        "MSH|^~\\&|CAREBASE|CB|HIS|HOSP1|20261122083001||ACK^A03^ACK|ACK0001|P|2.4\r"
        "MSA|AR|MSG0003|event not handled\r"
        "ERR|^^^201&Unsupported event code&HL70357\r");

    /* custom delimiters are kept; 2.3 style */
    o.code = "AE";
    o.err_code = CB_HL7_E_DATA_TYPE;
    o.err_text = S("bad!date");
    o.err_seg = "PID";
    o.err_seq = 2;
    o.err_field = 7;
    ACK_EXPECT(A01_CUSTOM, &o,
        "MSH!@*$#!CAREBASE!CB!HIS!HOSP4!20261122083001!!ACK@A01@ACK!ACK0001!P!2.3\r"
        "MSA!AE!C0001!bad$F$date\r"
        "ERR!PID@2@7@102#Data type error#HL70357\r");

    /* GB18030: MSH-18 copied, the text converted to GB18030 */
    o.code = "AE";
    o.err_code = CB_HL7_E_INTERNAL;
    o.err_text = S("\xe9\x94\x99\xe8\xaf\xaf");   /* 错误 */
    o.err_seg = NULL;
    ACK_EXPECT(A01_GB, &o,
        "MSH|^~\\&|CAREBASE|CB|HIS|HOSP2|20261122083001||ACK^A01^ACK|ACK0001|P|2.5||||||GB 18030\r"
        "MSA|AE|GB0001\r"
        "ERR|||207^Application internal error^HL70357|E||||\xb4\xed\xce\xf3\r");
}

static void
test_ack_errors(void **state)
{
    struct cb_hl7_msg m;
    struct cb_hl7_ack_opts o = { 0 };
    struct cb_buf out = CB_BUF_INIT, err = CB_BUF_INIT;

    (void)state;
    /* no MSH: no ACK can be built */
    assert_int_equal(cb_hl7_parse(&m, S("PID|1\r"), &err), CB_ERR_PROTO);
    o.code = "AR";
    assert_int_equal(cb_hl7_ack(&m, &o, &out, &err), CB_ERR_USAGE);
    cb_hl7_release(&m);
    /* a bad charset still lets the sender get an AR */
    cb_buf_reset(&err);
    assert_int_equal(cb_hl7_parse(&m, S("MSH|^~\\&|A|B|C|D|1||ADT^A01|Z9|P|2.5"
                                        "||||||EBCDIC\r"), &err), CB_ERR_PROTO);
    o.code = "AR";
    o.err_code = CB_HL7_E_INTERNAL;
    o.control_id = S("K1");
    assert_int_equal(cb_hl7_ack(&m, &o, &out, &err), CB_OK);
    assert_string_equal(cb_buf_cstr(&out),
        "MSH|^~\\&|C|D|A|B|||ACK^A01^ACK|K1|P|2.5||||||EBCDIC\r"
        "MSA|AR|Z9\r"
        "ERR|||207^Application internal error^HL70357|E\r");
    cb_hl7_release(&m);
    cb_buf_release(&out);
    cb_buf_release(&err);
}

static void
test_ack_modes(void **state)
{
    struct cb_hl7_msg m;

    (void)state;
    PARSE(&m, A01);      /* original mode */
    assert_false(cb_hl7_enhanced_mode(&m));
    assert_false(cb_hl7_accept_ack_due(&m, true));
    assert_true(cb_hl7_app_ack_due(&m, true));
    assert_true(cb_hl7_app_ack_due(&m, false));
    cb_hl7_release(&m);

    PARSE(&m, A01_GB);   /* MSH-15 AL, MSH-16 NE */
    assert_true(cb_hl7_enhanced_mode(&m));
    assert_true(cb_hl7_accept_ack_due(&m, true));
    assert_true(cb_hl7_accept_ack_due(&m, false));
    assert_false(cb_hl7_app_ack_due(&m, true));
    assert_false(cb_hl7_app_ack_due(&m, false));
    cb_hl7_release(&m);

    PARSE(&m, "MSH|^~\\&|A|B|C|D|1||ADT^A01|X|P|2.5|||ER|SU\r");
    assert_false(cb_hl7_accept_ack_due(&m, true));
    assert_true(cb_hl7_accept_ack_due(&m, false));
    assert_true(cb_hl7_app_ack_due(&m, true));
    assert_false(cb_hl7_app_ack_due(&m, false));
    cb_hl7_release(&m);

    PARSE(&m, "MSH|^~\\&|A|B|C|D|1||ADT^A01|X|P|2.5||||ER\r");  /* MSH-15 empty */
    assert_true(cb_hl7_enhanced_mode(&m));
    assert_true(cb_hl7_accept_ack_due(&m, true));   /* empty counts as AL */
    assert_false(cb_hl7_app_ack_due(&m, true));
    assert_true(cb_hl7_app_ack_due(&m, false));
    cb_hl7_release(&m);
}

static void
test_out_of_memory(void **state)
{
    struct cb_hl7_msg m;
    struct cb_mllp d;
    struct cb_buf err = CB_BUF_INIT;
    struct cb_str msg;
    size_t used;

    (void)state;
    cb_alloc_fail_after(0);
    assert_int_equal(cb_hl7_parse(&m, S(A01), &err), CB_ERR_NOMEM);
    cb_hl7_release(&m);
    cb_mllp_init(&d, 100);
    assert_int_equal(cb_mllp_feed(&d, SB "abc", 4, &used, &msg), CB_ERR_NOMEM);
    assert_int_equal(used, 4);
    cb_alloc_fail_after(-1);
    /* the failed frame is skipped; the next one is whole */
    assert_int_equal(cb_mllp_feed(&d, EB "\r" SB "ok" EB "\r", 7, &used, &msg),
                     CB_OK);
    assert_int_equal(used, 7);
    assert_true(cb_str_eqz(msg, "ok"));
    cb_mllp_release(&d);
    cb_buf_release(&err);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mllp_split_and_merged),
        cmocka_unit_test(test_mllp_junk_and_resync),
        cmocka_unit_test(test_mllp_oversized),
        cmocka_unit_test(test_mllp_wrap),
        cmocka_unit_test(test_parse_a01),
        cmocka_unit_test(test_parse_events),
        cmocka_unit_test(test_parse_line_endings),
        cmocka_unit_test(test_parse_custom_delimiters),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_charsets),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_ack),
        cmocka_unit_test(test_ack_errors),
        cmocka_unit_test(test_ack_modes),
        cmocka_unit_test(test_out_of_memory),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
