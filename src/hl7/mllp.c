/*
 * mllp.c - MLLP framing: a byte-at-a-time state machine, so frames split or
 * merged anywhere in the input give the same events. The payload buffer is
 * capped at the configured maximum; nothing else is allocated.
 */
#include "carebase/hl7.h"

enum {
    ST_OUTSIDE,  /* between frames: only SB is allowed */
    ST_INSIDE,   /* collecting payload */
    ST_EB,       /* saw EB, expect CR */
    ST_SKIP,     /* oversized frame: skip to its EB CR (or a new SB) */
    ST_SKIP_EB   /* oversized frame, saw EB */
};

void
cb_mllp_init(struct cb_mllp *d, size_t max_msg)
{
    cb_buf_init(&d->msg, max_msg + 1);
    d->max = max_msg;
    d->state = ST_OUTSIDE;
    d->in_junk = false;
    d->ready = false;
}

void
cb_mllp_release(struct cb_mllp *d)
{
    cb_buf_release(&d->msg);
    d->state = ST_OUTSIDE;
    d->ready = false;
}

static void
start_frame(struct cb_mllp *d)
{
    cb_buf_reset(&d->msg);
    d->state = ST_INSIDE;
    d->in_junk = false;
}

enum cb_err
cb_mllp_feed(struct cb_mllp *d, const void *in, size_t len, size_t *used,
             struct cb_str *msg)
{
    const unsigned char *p = in;
    size_t i = 0, run;
    enum cb_err rc;

    *msg = CB_STR_NULL;
    if (d->ready) {
        cb_buf_reset(&d->msg);
        d->ready = false;
    }
    while (i < len) {
        unsigned char c = p[i];

        switch (d->state) {
        case ST_OUTSIDE:
            if (c == CB_MLLP_SB) {
                start_frame(d);
                i++;
                break;
            }
            for (run = i; run < len && p[run] != CB_MLLP_SB; run++)
                ;
            i = run;
            if (d->in_junk)
                break;      /* the same run as already reported */
            d->in_junk = true;
            *used = i;
            return CB_ERR_PROTO;
        case ST_INSIDE:
            if (c == CB_MLLP_EB) {
                d->state = ST_EB;
                i++;
                break;
            }
            if (c == CB_MLLP_SB) {   /* the previous frame was cut short */
                start_frame(d);
                *used = i + 1;
                return CB_ERR_PROTO;
            }
            /* Copy the whole run of payload bytes at once. */
            for (run = i; run < len && p[run] != CB_MLLP_EB
                          && p[run] != CB_MLLP_SB; run++)
                ;
            if (d->msg.len + (run - i) > d->max) {
                /* Keep the frame's first max bytes: its MSH, for an AR. */
                if (cb_buf_add(&d->msg, p + i, d->max - d->msg.len) != CB_OK)
                    cb_buf_reset(&d->msg);
                d->state = ST_SKIP;
                d->ready = true;        /* the head is dropped next call */
                *msg = cb_buf_str(&d->msg);
                *used = run;
                return CB_ERR_TOO_LARGE;
            }
            if ((rc = cb_buf_add(&d->msg, p + i, run - i)) != CB_OK) {
                d->state = ST_SKIP;
                *used = run;
                return rc;
            }
            i = run;
            break;
        case ST_EB:
            i++;
            if (c == CB_MLLP_CR) {
                d->state = ST_OUTSIDE;
                d->ready = true;
                *msg = cb_buf_str(&d->msg);
                *used = i;
                return CB_OK;
            }
            cb_buf_reset(&d->msg);
            d->state = c == CB_MLLP_SB ? ST_INSIDE : ST_OUTSIDE;
            d->in_junk = c != CB_MLLP_SB;   /* the rest of this frame is junk */
            *used = i;
            return CB_ERR_PROTO;
        case ST_SKIP:
        case ST_SKIP_EB:
            if (c == CB_MLLP_SB) {
                start_frame(d);
            } else if (d->state == ST_SKIP_EB && c == CB_MLLP_CR) {
                d->state = ST_OUTSIDE;
                d->in_junk = false;
            } else {
                d->state = c == CB_MLLP_EB ? ST_SKIP_EB : ST_SKIP;
            }
            i++;
            break;
        default:
            CB_BUG("mllp: bad state");
        }
    }
    *used = len;
    return CB_AGAIN;
}

enum cb_err
cb_mllp_wrap(struct cb_buf *out, struct cb_str msg)
{
    enum cb_err rc;

    if (memchr(msg.ptr ? msg.ptr : "", CB_MLLP_SB, msg.len)
        || memchr(msg.ptr ? msg.ptr : "", CB_MLLP_EB, msg.len))
        return CB_ERR_PROTO;
    if ((rc = cb_buf_addc(out, (char)CB_MLLP_SB)) != CB_OK
        || (rc = cb_buf_add(out, msg.ptr, msg.len)) != CB_OK
        || (rc = cb_buf_addc(out, (char)CB_MLLP_EB)) != CB_OK
        || (rc = cb_buf_addc(out, (char)CB_MLLP_CR)) != CB_OK)
        return rc;
    return CB_OK;
}
