/*
 * feed_ack.c - the ACKs the listener sends (the rules are in feed.h).
 *
 * Built with cb_hl7_ack from the message's own MSH whenever there is one,
 * so the ACK uses the sender's delimiters, version and charset; the
 * minimal AR (default delimiters, version 2.5) is for frames whose MSH
 * could not be read. Each ACK gets its own control id: a prefix from the
 * listener's start time (milliseconds, base 36, 8 characters for the next
 * century) and a counter, so ids do not repeat across restarts.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "feed_int.h"

void
cb__feed_timestamp(char out[FEED_TS_MAX])
{
    struct timespec ts;
    struct tm tm;
    long off;
    size_t n;

    clock_gettime(CLOCK_REALTIME, &ts);
    if (!localtime_r(&ts.tv_sec, &tm)) {
        snprintf(out, FEED_TS_MAX, "19700101000000");
        return;
    }
    n = strftime(out, FEED_TS_MAX, "%Y%m%d%H%M%S", &tm);
    off = tm.tm_gmtoff / 60;
    snprintf(out + n, FEED_TS_MAX - n, ".%03ld%c%02ld%02ld", ts.tv_nsec / 1000000L,
             off < 0 ? '-' : '+', (off < 0 ? -off : off) / 60, (off < 0 ? -off : off) % 60);
}

/* The next ACK control id into out (at most 20 characters: HL7 ST). */
static struct cb_str
next_control_id(struct cb_feed *f, char out[24])
{
    static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    uint64_t n = atomic_fetch_add(&f->ack_counter, 1) + 1;
    char tmp[16];
    int k = 0, len;

    do {
        tmp[k++] = digits[n % 36];
        n /= 36;
    } while (n && k < (int)sizeof(tmp));
    len = snprintf(out, 24, "%s", f->ack_prefix);
    while (k > 0 && len < 23)
        out[len++] = tmp[--k];
    out[len] = '\0';
    return cb_str_make(out, (size_t)len);
}

struct cb_str
cb__feed_safe_text(struct cb_arena *a, struct cb_str s, size_t max)
{
    struct cb_str out;
    char *p;
    size_t n = s.len;

    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s.ptr[n] & 0xC0) == 0x80)
            n--;   /* do not cut a UTF-8 character */
    }
    if (!n)
        return CB_STR_NULL;
    out = cb_arena_dup(a, s.ptr, n);
    if (!out.ptr)
        return CB_STR_NULL;
    p = (char *)out.ptr;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
            p[i] = ' ';
    return out;
}

/*
 * One framed ACK to m with code and, when a has an error, its ERR; the
 * text is dropped if it cannot be carried (charset), rather than no ACK.
 */
static enum cb_err
build_one(struct cb_feed *f, struct cb_hl7_msg *m, const char *code,
          const struct feed_answer *a, const char *ts, struct cb_buf *scratch,
          struct cb_buf *out)
{
    struct cb_hl7_ack_opts o = { 0 };
    struct cb_buf err = CB_BUF_INIT;
    char ctl[24];
    enum cb_err rc;

    o.code = code;
    o.control_id = next_control_id(f, ctl);
    o.timestamp = cb_str_c(ts);
    if (a && a->err_code != CB_HL7_E_OK) {
        o.err_code = a->err_code;
        o.err_text = a->err_text;
        o.err_seg = a->err_seg[0] ? a->err_seg : NULL;
        o.err_seq = a->err_seq;
        o.err_field = a->err_field;
    }
    cb_buf_reset(scratch);
    rc = cb_hl7_ack(m, &o, scratch, &err);
    if (rc && o.err_text.len) {
        o.err_text = CB_STR_NULL;
        cb_buf_reset(scratch);
        rc = cb_hl7_ack(m, &o, scratch, &err);
    }
    cb_buf_release(&err);
    if (!rc)
        rc = cb_mllp_wrap(out, cb_buf_str(scratch));
    return rc;
}

static void
add_ack(struct cb_feed *f, struct feed_item *it, const char *code,
        const struct feed_answer *a, const char *ts, struct cb_buf *scratch)
{
    if (build_one(f, &it->msg, code, a, ts, scratch, &it->ack) == CB_OK)
        it->nacks++;
}

static bool
same_answer(const struct feed_answer *x, const struct feed_answer *y)
{
    return !strcmp(x->code, y->code) && x->err_code == y->err_code;
}

void
cb__feed_ack_journaled(struct cb_feed *f, struct feed_item *it, const char *ts,
                       struct cb_buf *scratch)
{
    static const char not_stored[] = "internal error: not stored";
    struct feed_answer fail = { "AE", CB_HL7_E_INTERNAL, CB_STR_LIT(not_stored), "", 0, 0 };
    const struct feed_answer *a = &it->own;
    struct cb_hl7_msg *m = &it->msg;
    bool stored = !it->failed, refused, taken;

    if (it->failed)
        a = &fail;
    else if (it->dup && !same_answer(&it->own, &it->stored))
        a = &it->stored;   /* the first answer wins; its location is lost */
    if (!cb_hl7_enhanced_mode(m)) {
        add_ack(f, it, a->code, a, ts, scratch);
        return;
    }
    refused = !strcmp(a->code, "AR");
    taken = stored && !refused;
    if (cb_hl7_accept_ack_due(m, taken))
        add_ack(f, it, !stored ? "CE" : refused ? "CR" : "CA", taken ? NULL : a, ts, scratch);
    if (taken && cb_hl7_app_ack_due(m, !strcmp(a->code, "AA")))
        add_ack(f, it, a->code, a, ts, scratch);
}

/* Appends s with the default delimiters escaped. */
static enum cb_err
add_escaped(struct cb_buf *out, const char *s)
{
    enum cb_err rc = CB_OK;

    for (; *s && !rc; s++)
        switch (*s) {
        case '|':  rc = cb_buf_adds(out, "\\F\\"); break;
        case '^':  rc = cb_buf_adds(out, "\\S\\"); break;
        case '&':  rc = cb_buf_adds(out, "\\T\\"); break;
        case '~':  rc = cb_buf_adds(out, "\\R\\"); break;
        case '\\': rc = cb_buf_adds(out, "\\E\\"); break;
        default:   rc = cb_buf_addc(out, *s); break;
        }
    return rc;
}

void
cb__feed_ack_refused(struct cb_feed *f, struct feed_item *it, enum cb_hl7_err_code code,
                     const char *err_seg, unsigned err_field, const char *err_text)
{
    struct cb_buf scratch = CB_BUF_INIT, text = CB_BUF_INIT;
    char ts[FEED_TS_MAX], ctl[24];
    enum cb_err rc;

    cb__feed_timestamp(ts);
    /* Plain ASCII: the parser's messages are, and no charset can refuse it. */
    for (const char *p = err_text; *p; p++)
        if (cb_buf_addc(&text, (*p >= 0x20 && *p < 0x7f) ? *p : '?'))
            break;
    if (it->has_msg && it->msg.has_msh) {
        struct feed_answer a = { "AR", code, cb_buf_str(&text), "", 1, err_field };
        const char *ack = "AR";

        if (err_seg)
            snprintf(a.err_seg, sizeof(a.err_seg), "%s", err_seg);
        if (cb_hl7_enhanced_mode(&it->msg)) {
            if (!cb_hl7_accept_ack_due(&it->msg, false))
                goto out;   /* the sender asked for none */
            ack = "CR";
        }
        if (build_one(f, &it->msg, ack, &a, ts, &scratch, &it->ack) == CB_OK) {
            it->nacks++;
            goto out;
        }
        cb_buf_reset(&it->ack);
    }
    /* The minimal AR: MSH-10 of the refused frame is unknown. */
    cb_buf_reset(&scratch);
    rc = cb_buf_addf(&scratch, "MSH|^~\\&|CAREBASE||||%s||ACK|%s|P|2.5\rMSA|AR|\r"
                     "ERR|||%u^%s^HL70357|E||||", ts, next_control_id(f, ctl).ptr,
                     (unsigned)code, cb_hl7_err_text(code));
    if (!rc)
        rc = add_escaped(&scratch, cb_buf_cstr(&text));
    if (!rc)
        rc = cb_buf_addc(&scratch, '\r');
    if (!rc && cb_mllp_wrap(&it->ack, cb_buf_str(&scratch)) == CB_OK)
        it->nacks++;
out:
    cb_buf_release(&scratch);
    cb_buf_release(&text);
}
