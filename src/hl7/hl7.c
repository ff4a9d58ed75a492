/*
 * hl7.c - HL7 v2 message parser, accessors, escapes, charsets and ACKs.
 *
 * Parsing only indexes segments (offset, length); fields are split on each
 * access. ADT messages are a few kB, so a linear scan per access is cheaper
 * than building and freeing a full tree per message.
 */
#include <errno.h>
#include <iconv.h>

#include "carebase/alloc.h"
#include "carebase/hl7.h"
#include "carebase/reader.h" /* cb_utf8_valid */

#define ARENA_CHUNK 4096

static bool
is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')
        || (c >= 'a' && c <= 'z');
}

/*
 * Length of the character at p. Only GB18030 has multi-byte characters
 * whose later bytes can equal a delimiter (0x5C '\', 0x7C '|' ...); UTF-8
 * and Latin-1 never do, so they are scanned byte by byte.
 */
static size_t
charlen(const struct cb_hl7_msg *m, const char *p, const char *end)
{
    const unsigned char *u = (const unsigned char *)p;
    size_t left = (size_t)(end - p);

    if (m->charset != CB_HL7_CS_GB18030 || u[0] < 0x81 || u[0] > 0xfe
        || left < 2)
        return 1;
    if (u[1] >= 0x30 && u[1] <= 0x39)   /* four bytes, or not GB18030 */
        return (left >= 4 && u[2] >= 0x81 && u[2] <= 0xfe && u[3] >= 0x30
                && u[3] <= 0x39) ? 4 : 1;
    if ((u[1] >= 0x40 && u[1] <= 0x7e) || (u[1] >= 0x80 && u[1] <= 0xfe))
        return 2;
    return 1;
}

/* The n-th (1-based) piece of s split at delim; empty if absent. */
static struct cb_str
piece(const struct cb_hl7_msg *m, struct cb_str s, char delim, unsigned n)
{
    const char *p = s.ptr, *end = s.ptr + s.len, *start = s.ptr;
    unsigned k = 1;

    if (!s.ptr)
        return CB_STR_NULL;
    while (p < end) {
        if (*p == delim) {
            if (k == n)
                return cb_str_make(start, (size_t)(p - start));
            k++;
            start = ++p;
            continue;
        }
        p += charlen(m, p, end);
    }
    return k == n ? cb_str_make(start, (size_t)(end - start)) : CB_STR_NULL;
}

static unsigned
npieces(const struct cb_hl7_msg *m, struct cb_str s, char delim)
{
    const char *p = s.ptr, *end = s.ptr + s.len;
    unsigned k = 1;

    if (s.len == 0)
        return 0;
    while (p < end) {
        if (*p == delim)
            k++;
        p += charlen(m, p, end);
    }
    return k;
}

static struct cb_str
seg_text(const struct cb_hl7_msg *m, size_t i)
{
    return cb_str_make(m->text.ptr + m->segs[i].off, m->segs[i].len);
}

struct cb_str
cb_hl7_seg_id(const struct cb_hl7_msg *m, size_t i)
{
    if (i >= m->nsegs)
        return CB_STR_NULL;
    return cb_str_make(m->text.ptr + m->segs[i].off, 3);
}

long
cb_hl7_find(const struct cb_hl7_msg *m, const char *id, size_t from,
            unsigned occ)
{
    size_t i;
    unsigned k = 0;

    for (i = from; i < m->nsegs; i++)
        if (cb_str_eqz(cb_hl7_seg_id(m, i), id) && ++k == occ)
            return (long)i;
    return -1;
}

static bool
is_msh(const struct cb_hl7_msg *m, size_t seg)
{
    return cb_str_eqz(cb_hl7_seg_id(m, seg), "MSH");
}

static struct cb_str
field_raw(const struct cb_hl7_msg *m, size_t seg, unsigned field)
{
    struct cb_str s;

    if (seg >= m->nsegs || field == 0)
        return CB_STR_NULL;
    s = seg_text(m, seg);
    if (is_msh(m, seg)) {
        if (field == 1)
            return cb_str_make(s.ptr + 3, 1);
        field--;
    }
    return piece(m, s, m->fs, field + 1);
}

struct cb_str
cb_hl7_raw(const struct cb_hl7_msg *m, size_t seg, unsigned field,
           unsigned rep, unsigned comp, unsigned sub)
{
    struct cb_str s = field_raw(m, seg, field);

    if (field <= 2 && seg < m->nsegs && is_msh(m, seg))
        return (rep <= 1 && comp <= 1 && sub <= 1) ? s : CB_STR_NULL;
    if (sub && !comp)
        comp = 1;
    if (comp && !rep)
        rep = 1;
    if (rep)
        s = piece(m, s, m->rs, rep);
    if (comp)
        s = piece(m, s, m->cs, comp);
    if (sub)
        s = piece(m, s, m->ss, sub);
    return s.len ? s : CB_STR_NULL;
}

unsigned
cb_hl7_nreps(const struct cb_hl7_msg *m, size_t seg, unsigned field)
{
    if (field <= 2 && seg < m->nsegs && is_msh(m, seg))
        return 1;
    return npieces(m, field_raw(m, seg, field), m->rs);
}

/* ------------------------------------------------------------ parsing */

static enum cb_err
add_seg(struct cb_hl7_msg *m, size_t off, size_t len)
{
    struct cb_hl7_seg *n;

    if (m->nsegs == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;

        n = cb_reallocarray(m->segs, cap, sizeof(*n));
        if (!n)
            return CB_ERR_NOMEM;
        m->segs = n;
        m->cap = cap;
    }
    m->segs[m->nsegs].off = (uint32_t)off;
    m->segs[m->nsegs].len = (uint32_t)len;
    m->nsegs++;
    return CB_OK;
}

static enum cb_err
read_encoding(struct cb_hl7_msg *m, struct cb_buf *err)
{
    const char *t = m->text.ptr;
    size_t n, i, j;
    char e[5];

    m->fs = t[3];
    if (is_alnum((unsigned char)m->fs) || m->fs == '\r' || m->fs == '\n'
        || m->fs == ' ') {
        cb_errf(err, "segment 1 (MSH) field 1: bad field separator");
        return CB_ERR_PROTO;
    }
    for (n = 0; 4 + n < m->text.len && t[4 + n] != m->fs && t[4 + n] != '\r'
                && t[4 + n] != '\n'; n++)
        ;
    if (n < 4 || n > 5) {
        cb_errf(err, "segment 1 (MSH) field 2: bad encoding characters: "
                "%zu characters, expected 4", n);
        return CB_ERR_PROTO;
    }
    for (i = 0; i < n; i++) {
        e[i] = t[4 + i];
        if (is_alnum((unsigned char)e[i]) || e[i] == ' '
            || (unsigned char)e[i] >= 0x80 || (unsigned char)e[i] < 0x20) {
            cb_errf(err, "segment 1 (MSH) field 2: bad encoding characters: "
                    "character %zu is not a delimiter", i + 1);
            return CB_ERR_PROTO;
        }
        for (j = 0; j < i; j++)
            if (e[j] == e[i]) {
                cb_errf(err, "segment 1 (MSH) field 2: bad encoding "
                        "characters: '%c' used twice", e[i]);
                return CB_ERR_PROTO;
            }
    }
    m->cs = e[0];
    m->rs = e[1];
    m->ec = e[2];
    m->ss = e[3];
    return CB_OK;
}

static enum cb_err
read_charset(struct cb_hl7_msg *m, struct cb_buf *err)
{
    struct cb_str cs = cb_str_trim(cb_hl7_raw(m, 0, 18, 1, 1, 0));

    if (cs.len == 0 || cb_str_eqz(cs, "ASCII"))
        m->charset = CB_HL7_CS_ASCII;
    else if (cb_str_eqz(cs, "8859/1"))
        m->charset = CB_HL7_CS_LATIN1;
    else if (cb_str_eqz(cs, "UNICODE UTF-8"))
        m->charset = CB_HL7_CS_UTF8;
    else if (cb_str_eqz(cs, "GB 18030") || cb_str_eqz(cs, "GB 18030-2000"))
        m->charset = CB_HL7_CS_GB18030;
    else {
        cb_errf(err, "segment 1 (MSH) field 18: unknown charset '%.*s'",
                (int)(cs.len > 32 ? 32 : cs.len), cs.ptr);
        return CB_ERR_PROTO;
    }
    return CB_OK;
}

enum cb_err
cb_hl7_parse(struct cb_hl7_msg *m, struct cb_str text, struct cb_buf *err)
{
    const char *t = text.ptr;
    size_t pos = 0, start, len, k;
    enum cb_err rc;

    memset(m, 0, sizeof(*m));
    m->text = text;
    m->charset = CB_HL7_CS_ASCII;
    cb_arena_init(&m->arena, ARENA_CHUNK);
    cb_buf_init(&m->scratch, CB_HL7_MAX_VALUE);
    if (text.len >= UINT32_MAX)
        return CB_ERR_TOO_LARGE;
    if (text.len < 3 || memcmp(t, "MSH", 3) != 0) {
        cb_errf(err, "segment 1: missing MSH segment");
        return CB_ERR_PROTO;
    }
    if (text.len < 8) {
        cb_errf(err, "segment 1 (MSH): truncated segment");
        return CB_ERR_PROTO;
    }
    if ((rc = read_encoding(m, err)) != CB_OK)
        return rc;

    while (pos < text.len) {
        start = pos;
        while (pos < text.len && t[pos] != '\r' && t[pos] != '\n')
            pos++;
        len = pos - start;
        while (pos < text.len && (t[pos] == '\r' || t[pos] == '\n'))
            pos++;   /* CRLF, LF and empty lines: no empty segments */
        if (m->nsegs == CB_HL7_MAX_SEGMENTS) {
            cb_errf(err, "more than %d segments", CB_HL7_MAX_SEGMENTS);
            return CB_ERR_TOO_LARGE;
        }
        if (len < 3) {
            cb_errf(err, "segment %zu: truncated segment", m->nsegs + 1);
            return CB_ERR_PROTO;
        }
        for (k = 0; k < 3; k++)
            if (!is_alnum((unsigned char)t[start + k])
                || (t[start + k] >= 'a' && t[start + k] <= 'z'))
                break;
        if (k < 3 || (len > 3 && t[start + 3] != m->fs)) {
            cb_errf(err, "segment %zu: bad segment id", m->nsegs + 1);
            return CB_ERR_PROTO;
        }
        if (m->nsegs > 0 && memcmp(t + start, "MSH", 3) == 0) {
            cb_errf(err, "segment %zu (MSH): a second MSH segment",
                    m->nsegs + 1);
            return CB_ERR_PROTO;
        }
        if ((rc = add_seg(m, start, len)) != CB_OK)
            return rc;
        if (m->nsegs == 1)
            m->has_msh = true;
    }
    if (m->segs[0].len < 9) {   /* MSH|^~\&| is the shortest useful header */
        cb_errf(err, "segment 1 (MSH): truncated segment");
        return CB_ERR_PROTO;
    }
    return read_charset(m, err);
}

void
cb_hl7_release(struct cb_hl7_msg *m)
{
    cb_free(m->segs);
    m->segs = NULL;
    m->nsegs = m->cap = 0;
    cb_arena_release(&m->arena);
    cb_buf_release(&m->scratch);
    if (m->cd_dec)
        iconv_close((iconv_t)m->cd_dec);
    if (m->cd_enc)
        iconv_close((iconv_t)m->cd_enc);
    m->cd_dec = m->cd_enc = NULL;
}

/* ------------------------------------------------------------ decoding */

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Replaces the escapes of raw; the bytes stay in the message charset. */
static enum cb_err
unescape(const struct cb_hl7_msg *m, struct cb_str raw, struct cb_buf *out,
         struct cb_buf *err)
{
    const char *p = raw.ptr, *end = raw.ptr + raw.len, *q, *b;
    size_t k, blen;
    enum cb_err rc = CB_OK;

    while (p < end && rc == CB_OK) {
        k = charlen(m, p, end);
        if (k > 1 || *p != m->ec) {
            rc = cb_buf_add(out, p, k);
            p += k;
            continue;
        }
        for (q = p + 1; q < end && *q != m->ec; q += charlen(m, q, end))
            ;
        if (q >= end) {
            cb_errf(err, "invalid escape: no closing '%c'", m->ec);
            return CB_ERR_PROTO;
        }
        b = p + 1;
        blen = (size_t)(q - b);
        if (blen == 0) {
            cb_errf(err, "invalid escape: empty");
            return CB_ERR_PROTO;
        }
        if (blen == 1 && *b == 'F')
            rc = cb_buf_addc(out, m->fs);
        else if (blen == 1 && *b == 'S')
            rc = cb_buf_addc(out, m->cs);
        else if (blen == 1 && *b == 'T')
            rc = cb_buf_addc(out, m->ss);
        else if (blen == 1 && *b == 'R')
            rc = cb_buf_addc(out, m->rs);
        else if (blen == 1 && *b == 'E')
            rc = cb_buf_addc(out, m->ec);
        else if (blen == 1 && (*b == 'H' || *b == 'N'))
            ;   /* highlighting on/off: no meaning in plain text */
        else if (blen == 3 && memcmp(b, ".br", 3) == 0)
            rc = cb_buf_addc(out, '\n');
        else if (*b == 'X') {
            size_t i;

            if (blen < 3 || (blen - 1) % 2 != 0) {
                cb_errf(err, "invalid escape: \\X needs pairs of hex digits");
                return CB_ERR_PROTO;
            }
            for (i = 1; i < blen && rc == CB_OK; i += 2) {
                int hi = hexval(b[i]), lo = hexval(b[i + 1]);

                if (hi < 0 || lo < 0) {
                    cb_errf(err, "invalid escape: bad hex digit in \\X");
                    return CB_ERR_PROTO;
                }
                rc = cb_buf_addc(out, (char)(hi * 16 + lo));
            }
        } else
            rc = cb_buf_add(out, p, (size_t)(q + 1 - p)); /* kept literally */
        p = q + 1;
    }
    return rc;
}

/* Converts in with an iconv descriptor opened on first use; appends. */
static enum cb_err
convert(void **cdp, const char *to, const char *from, struct cb_str in,
        struct cb_buf *out, struct cb_buf *err)
{
    char *inp = (char *)in.ptr, *outp;
    size_t inleft = in.len, outleft, room = in.len * 2 + 4;
    enum cb_err rc;

    if (!*cdp) {
        iconv_t cd = iconv_open(to, from);

        if (cd == (iconv_t)-1) {
            cb_errf(err, "no %s to %s conversion (iconv)", from, to);
            return CB_ERR_USAGE;
        }
        *cdp = cd;
    }
    iconv((iconv_t)*cdp, NULL, NULL, NULL, NULL);   /* reset shift state */
    if ((rc = cb_buf_reserve(out, room)) != CB_OK)
        return rc;
    outp = out->ptr + out->len;
    outleft = room;
    if (iconv((iconv_t)*cdp, &inp, &inleft, &outp, &outleft) == (size_t)-1) {
        cb_errf(err, "bytes that are not valid %s", from);
        return CB_ERR_PROTO;
    }
    out->len += room - outleft;
    out->ptr[out->len] = '\0';
    return CB_OK;
}

static enum cb_err
latin1_to_utf8(struct cb_str in, struct cb_buf *out)
{
    size_t i;
    enum cb_err rc = CB_OK;

    for (i = 0; i < in.len && rc == CB_OK; i++) {
        unsigned char c = (unsigned char)in.ptr[i];

        if (c < 0x80) {
            rc = cb_buf_addc(out, (char)c);
        } else {
            char two[2] = { (char)(0xc0 | (c >> 6)), (char)(0x80 | (c & 0x3f)) };

            rc = cb_buf_add(out, two, 2);
        }
    }
    return rc;
}

/* Appends bytes in the message charset to out as UTF-8. */
static enum cb_err
to_utf8(struct cb_hl7_msg *m, struct cb_str in, struct cb_buf *out,
        struct cb_buf *err)
{
    switch (m->charset) {
    case CB_HL7_CS_ASCII:
    case CB_HL7_CS_UTF8:
        if (!cb_utf8_valid(in.ptr, in.len)) {
            cb_errf(err, "bytes that are not valid UTF-8");
            return CB_ERR_PROTO;
        }
        return cb_buf_add(out, in.ptr, in.len);
    case CB_HL7_CS_LATIN1:
        return latin1_to_utf8(in, out);
    case CB_HL7_CS_GB18030:
        return convert(&m->cd_dec, "UTF-8", "GB18030", in, out, err);
    }
    CB_BUG("hl7: bad charset");
}

enum cb_err
cb_hl7_decode(struct cb_hl7_msg *m, struct cb_str raw, struct cb_buf *out,
              struct cb_buf *err)
{
    enum cb_err rc;

    cb_buf_reset(&m->scratch);
    if ((rc = unescape(m, raw, &m->scratch, err)) != CB_OK)
        return rc;
    return to_utf8(m, cb_buf_str(&m->scratch), out, err);
}

enum cb_err
cb_hl7_get(struct cb_hl7_msg *m, size_t seg, unsigned field, unsigned rep,
           unsigned comp, unsigned sub, struct cb_str *out, struct cb_buf *err)
{
    struct cb_str raw = cb_hl7_raw(m, seg, field, rep, comp, sub);
    struct cb_buf val;
    enum cb_err rc;

    *out = CB_STR_NULL;
    if (raw.len == 0)
        return CB_OK;
    if ((is_msh(m, seg) && field <= 2)
        || ((m->charset == CB_HL7_CS_ASCII || m->charset == CB_HL7_CS_UTF8)
            && !memchr(raw.ptr, m->ec, raw.len)
            && cb_utf8_valid(raw.ptr, raw.len))) {
        *out = raw;   /* nothing to decode: a view into the message */
        return CB_OK;
    }
    cb_buf_init(&val, CB_HL7_MAX_VALUE);
    rc = cb_hl7_decode(m, raw, &val, err);
    if (rc == CB_OK && val.len) {
        *out = cb_arena_dup(&m->arena, val.ptr, val.len);
        if (!out->ptr)
            rc = CB_ERR_NOMEM;
    }
    cb_buf_release(&val);
    if (rc != CB_OK) {
        struct cb_str id = cb_hl7_seg_id(m, seg);

        *out = CB_STR_NULL;
        cb_errf(err, "at segment %zu (%.*s) field %u", seg + 1,
                (int)id.len, id.ptr, field);
    }
    return rc;
}

/* Byte-wise escaping: only for ASCII or UTF-8 input. */
static enum cb_err
escape_bytes(const struct cb_hl7_msg *m, struct cb_str s, struct cb_buf *out)
{
    size_t i;
    enum cb_err rc = CB_OK;

    for (i = 0; i < s.len && rc == CB_OK; i++) {
        char c = s.ptr[i], e = 0;

        if (c == m->fs)
            e = 'F';
        else if (c == m->cs)
            e = 'S';
        else if (c == m->ss)
            e = 'T';
        else if (c == m->rs)
            e = 'R';
        else if (c == m->ec)
            e = 'E';
        if (e)
            rc = cb_buf_addf(out, "%c%c%c", m->ec, e, m->ec);
        else if (c == '\n')
            rc = cb_buf_addf(out, "%c.br%c", m->ec, m->ec);
        else if (c == '\r')
            rc = cb_buf_addf(out, "%cX0D%c", m->ec, m->ec);
        else
            rc = cb_buf_addc(out, c);
    }
    return rc;
}

enum cb_err
cb_hl7_escape(struct cb_hl7_msg *m, struct cb_str s, struct cb_buf *out,
              struct cb_buf *err)
{
    struct cb_buf conv;
    enum cb_err rc;
    const char *to;

    if (!cb_utf8_valid(s.ptr, s.len)) {
        cb_errf(err, "text is not valid UTF-8");
        return CB_ERR_PROTO;
    }
    if (m->charset == CB_HL7_CS_ASCII || m->charset == CB_HL7_CS_UTF8)
        return escape_bytes(m, s, out);
    /* Escape first (ASCII-only changes), then convert: converting first
     * could make a GB18030 second byte look like a delimiter. */
    cb_buf_init(&conv, CB_HL7_MAX_VALUE);
    rc = escape_bytes(m, s, &conv);
    to = m->charset == CB_HL7_CS_GB18030 ? "GB18030" : "ISO-8859-1";
    if (rc == CB_OK)
        rc = convert(&m->cd_enc, to, "UTF-8", cb_buf_str(&conv), out, err);
    cb_buf_release(&conv);
    return rc;
}

/* ------------------------------------------------------------ ACK */

const char *
cb_hl7_err_text(enum cb_hl7_err_code code)
{
    switch (code) {
    case CB_HL7_E_OK:          return "Message accepted";
    case CB_HL7_E_SEGMENT_SEQ: return "Segment sequence error";
    case CB_HL7_E_REQUIRED:    return "Required field missing";
    case CB_HL7_E_DATA_TYPE:   return "Data type error";
    case CB_HL7_E_TABLE_VALUE: return "Table value not found";
    case CB_HL7_E_MSG_TYPE:    return "Unsupported message type";
    case CB_HL7_E_EVENT_CODE:  return "Unsupported event code";
    case CB_HL7_E_INTERNAL:    return "Application internal error";
    }
    return "Unknown error";
}

/* Versions before 2.5 report errors in ERR-1 (ELD) and MSA-3. */
static bool
pre_25(const struct cb_hl7_msg *m)
{
    struct cb_str v = cb_str_trim(cb_hl7_raw(m, 0, 12, 1, 1, 0));

    return cb_str_starts(v, "2.3") || cb_str_starts(v, "2.4")
        || cb_str_starts(v, "2.2") || cb_str_starts(v, "2.1");
}

static enum cb_err
add_raw(struct cb_buf *out, struct cb_str s)
{
    return cb_buf_add(out, s.ptr, s.len);
}

enum cb_err
cb_hl7_ack(struct cb_hl7_msg *m, const struct cb_hl7_ack_opts *o,
           struct cb_buf *out, struct cb_buf *err)
{
    char f = m->fs, c = m->cs, s = m->ss;
    struct cb_str trigger, charset, enc;
    bool old, has_err = o->err_code != CB_HL7_E_OK;
    enum cb_err rc;

    if (!m->has_msh || !o->code) {
        cb_errf(err, "cannot build an ACK without an MSH segment and a code");
        return CB_ERR_USAGE;
    }
    old = pre_25(m);
    enc = field_raw(m, 0, 2);
    trigger = cb_hl7_raw(m, 0, 9, 1, 2, 0);
    charset = field_raw(m, 0, 18);

    /* MSH */
    if ((rc = cb_buf_addf(out, "MSH%c%.*s%c", f, (int)enc.len, enc.ptr, f))
        || (rc = add_raw(out, field_raw(m, 0, 5)))
        || (rc = cb_buf_addc(out, f))
        || (rc = add_raw(out, field_raw(m, 0, 6)))
        || (rc = cb_buf_addc(out, f))
        || (rc = add_raw(out, field_raw(m, 0, 3)))
        || (rc = cb_buf_addc(out, f))
        || (rc = add_raw(out, field_raw(m, 0, 4)))
        || (rc = cb_buf_addc(out, f))
        || (rc = escape_bytes(m, o->timestamp, out))
        || (rc = cb_buf_addf(out, "%c%cACK%c", f, f, c))
        || (rc = add_raw(out, trigger.len ? trigger : CB_STR_LIT("ACK")))
        || (rc = cb_buf_addf(out, "%cACK%c", c, f))
        || (rc = escape_bytes(m, o->control_id, out))
        || (rc = cb_buf_addc(out, f))
        || (rc = add_raw(out, field_raw(m, 0, 11)))
        || (rc = cb_buf_addc(out, f))
        || (rc = add_raw(out, field_raw(m, 0, 12))))
        goto out;
    if (charset.len
        && ((rc = cb_buf_addf(out, "%c%c%c%c%c%c", f, f, f, f, f, f))
            || (rc = add_raw(out, charset))))
        goto out;

    /* MSA */
    if ((rc = cb_buf_addf(out, "\rMSA%c%s%c", f, o->code, f))
        || (rc = add_raw(out, field_raw(m, 0, 10))))
        goto out;
    if (old && has_err && o->err_text.len
        && ((rc = cb_buf_addc(out, f))
            || (rc = cb_hl7_escape(m, o->err_text, out, err))))
        goto out;

    /* ERR */
    if (has_err) {
        char loc[64] = "";
        int n = 0;

        if (o->err_seg && strlen(o->err_seg) == 3)
            n = snprintf(loc, sizeof(loc), "%s%c%u%c%u", o->err_seg,
                         c, o->err_seq ? o->err_seq : 1, c,
                         o->err_field);
        if (n < 0 || (size_t)n >= sizeof(loc))
            CB_BUG("hl7: error location overflow");
        if (old) {
            /* ERR-1 (ELD): segment^sequence^field^code&text&table */
            rc = cb_buf_addf(out, "\rERR%c", f);
            if (rc == CB_OK)
                rc = loc[0] ? cb_buf_addf(out, "%s%c", loc, c)
                            : cb_buf_addf(out, "%c%c%c", c, c, c);
            if (rc == CB_OK)
                rc = cb_buf_addf(out, "%u%c%s%cHL70357",
                                 (unsigned)o->err_code, s,
                                 cb_hl7_err_text(o->err_code), s);
        } else {
            /* ERR-2 location, ERR-3 code (CWE), ERR-4 severity, ERR-8 */
            rc = cb_buf_addf(out, "\rERR%c%c%s%c%u%c%s%cHL70357%cE",
                             f, f, loc, f, (unsigned)o->err_code, c,
                             cb_hl7_err_text(o->err_code), c, f);
            if (rc == CB_OK && o->err_text.len
                && (rc = cb_buf_addf(out, "%c%c%c%c", f, f, f, f)) == CB_OK)
                rc = cb_hl7_escape(m, o->err_text, out, err);
        }
        if (rc)
            goto out;
    }
    rc = cb_buf_addc(out, '\r');
out:
    if (rc != CB_OK)
        cb_errf(err, "cannot build the ACK: %s", cb_strerror(rc));
    return rc;
}

/* ------------------------------------------------------------ ack modes */

static bool
due(struct cb_str v, bool ok)
{
    v = cb_str_trim(v);
    if (cb_str_eqz(v, "NE"))
        return false;
    if (cb_str_eqz(v, "ER"))
        return !ok;
    if (cb_str_eqz(v, "SU"))
        return ok;
    return true;   /* AL, empty or unknown */
}

bool
cb_hl7_enhanced_mode(const struct cb_hl7_msg *m)
{
    return cb_str_trim(cb_hl7_raw(m, 0, 15, 1, 1, 0)).len > 0
        || cb_str_trim(cb_hl7_raw(m, 0, 16, 1, 1, 0)).len > 0;
}

bool
cb_hl7_accept_ack_due(const struct cb_hl7_msg *m, bool ok)
{
    if (!cb_hl7_enhanced_mode(m))
        return false;
    return due(cb_hl7_raw(m, 0, 15, 1, 1, 0), ok);
}

bool
cb_hl7_app_ack_due(const struct cb_hl7_msg *m, bool ok)
{
    if (!cb_hl7_enhanced_mode(m))
        return true;
    return due(cb_hl7_raw(m, 0, 16, 1, 1, 0), ok);
}
