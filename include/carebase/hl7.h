/*
 * hl7.h - the pure parts of HL7 v2 (2.3 to 2.5.1): MLLP framing, a message
 * parser with field accessors, and the ACK builder. No I/O anywhere here:
 * the listener owns sockets, clocks and storage (issue 6).
 *
 * Numbering follows the standard: fields, repetitions, components and
 * subcomponents are 1-based, and so is the occurrence of a segment.
 * MSH-1 is the field separator itself and MSH-2 the encoding characters.
 */
#ifndef CAREBASE_HL7_H
#define CAREBASE_HL7_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "carebase/arena.h"
#include "carebase/buf.h"
#include "carebase/err.h"
#include "carebase/str.h"

/* ---------------------------------------------------------------- MLLP */

enum { CB_MLLP_SB = 0x0b, CB_MLLP_EB = 0x1c, CB_MLLP_CR = 0x0d };

/* Default maximum payload of one frame. */
#define CB_MLLP_MAX_DEFAULT ((size_t)1 << 20)

/*
 * Streaming decoder. Memory is bounded by max_msg: the payload never grows
 * past it (the buffer's capacity, doubled as it grows, stays under twice). Initialise with cb_mllp_init, free with cb_mllp_release.
 */
struct cb_mllp {
    struct cb_buf msg;     /* payload of the frame being received */
    size_t        max;     /* payload bytes allowed per frame */
    int           state;   /* private */
    bool          in_junk; /* private: a run of junk was already reported */
    bool          ready;   /* private: msg holds a delivered message */
};

void cb_mllp_init(struct cb_mllp *d, size_t max_msg);
void cb_mllp_release(struct cb_mllp *d);

/*
 * Consumes bytes from in[0..len) and stops at the first event. *used says
 * how many bytes were consumed; call again with the rest (in + *used) until
 * all bytes are used. Returns:
 *   CB_OK            a complete message: *msg (SB, EB and CR stripped)
 *                    stays valid until the next call;
 *   CB_AGAIN         all of in was consumed, no message completed;
 *   CB_ERR_PROTO     bytes outside a frame (reported once per run of junk,
 *                    the run is skipped up to the next SB), an SB inside a
 *                    frame (the cut frame is dropped, the new one starts), or
 *                    EB not followed by CR (the frame is dropped);
 *   CB_ERR_TOO_LARGE the frame's payload passed max_msg: reported as soon
 *                    as it happens; the rest of that frame is skipped.
 *                    *msg is the frame's first max_msg bytes (valid until
 *                    the next call), so that a listener can read its MSH
 *                    and answer AR;
 *   CB_ERR_NOMEM     out of memory (the frame is dropped).
 * Splitting the input anywhere, even byte by byte, gives the same events.
 */
CB_MUST_CHECK enum cb_err cb_mllp_feed(struct cb_mllp *d, const void *in,
                                       size_t len, size_t *used,
                                       struct cb_str *msg);

/*
 * Appends SB msg EB CR to out. CB_ERR_PROTO if msg contains SB or EB bytes
 * (it could not be framed unambiguously).
 */
CB_MUST_CHECK enum cb_err cb_mllp_wrap(struct cb_buf *out, struct cb_str msg);

/* ---------------------------------------------------------------- parser */

/* MSH-18, first repetition. Decoded values are always UTF-8. */
enum cb_hl7_charset {
    CB_HL7_CS_ASCII,    /* empty or "ASCII"; bytes >= 0x80 must be UTF-8 */
    CB_HL7_CS_LATIN1,   /* "8859/1" */
    CB_HL7_CS_UTF8,     /* "UNICODE UTF-8" */
    CB_HL7_CS_GB18030   /* "GB 18030" or "GB 18030-2000" */
};

/* Caps on what one message may make the parser allocate. */
#define CB_HL7_MAX_SEGMENTS 4096
#define CB_HL7_MAX_VALUE    ((size_t)1 << 20)   /* one decoded value */

struct cb_hl7_seg {
    uint32_t off;    /* into the message text */
    uint32_t len;    /* without the segment terminator */
};

/*
 * A parsed message: an index over the caller's bytes, which are borrowed
 * and must outlive it. Decoded values live in the message's arena until
 * cb_hl7_release. Fields are public for reading only.
 */
struct cb_hl7_msg {
    struct cb_str       text;
    char                fs, cs, rs, ec, ss; /* field, component, repetition,
                                               escape, subcomponent */
    enum cb_hl7_charset charset;
    bool                has_msh;  /* MSH was read: an ACK can be built */
    struct cb_hl7_seg  *segs;
    size_t              nsegs, cap;
    struct cb_arena     arena;    /* decoded values */
    struct cb_buf       scratch;  /* private */
    void               *cd_dec;   /* private: iconv to UTF-8, or NULL */
    void               *cd_enc;   /* private: iconv from UTF-8, or NULL */
};

/*
 * Parses text (segments end in CR; CRLF and LF are tolerated, empty lines
 * skipped). Nothing is copied. On CB_ERR_PROTO, err says where: "segment N
 * (ID) field F: ..." for missing MSH, bad encoding characters, a truncated or
 * malformed segment id, or an unknown MSH-18 charset. Even after a failure,
 * if m->has_msh is true, MSH fields can be read so an AR can be sent back.
 * Always call cb_hl7_release afterwards.
 */
CB_MUST_CHECK enum cb_err cb_hl7_parse(struct cb_hl7_msg *m, struct cb_str text,
                                       struct cb_buf *err);
void cb_hl7_release(struct cb_hl7_msg *m);

static inline size_t
cb_hl7_nsegs(const struct cb_hl7_msg *m)
{
    return m->nsegs;
}

/* The 3-character id of segment i (0-based index in the message). */
struct cb_str cb_hl7_seg_id(const struct cb_hl7_msg *m, size_t i);

/*
 * Index of the occ-th (1-based) segment with this id, searching from index
 * `from`; -1 if there is none. cb_hl7_find(m, "PID", 0, 2) is the second PID.
 */
long cb_hl7_find(const struct cb_hl7_msg *m, const char *id, size_t from,
                 unsigned occ);

/*
 * The raw (still escaped, message charset) bytes of segment seg, field
 * `field`, repetition rep, component comp, subcomponent sub. A 0 for rep,
 * comp or sub means "the whole thing" at that level. Anything absent is an
 * empty view; a 0 below a nonzero level counts as 1 (comp 2 of rep 0 is
 * comp 2 of the first repetition). MSH-1 and MSH-2 are returned whole.
 * Delimiters are found charset-aware: a GB18030 character whose second
 * byte is '|', '^' or '\' does not split anything. (MSH-1 to MSH-18
 * themselves are scanned byte-wise, before the charset is known.)
 */
struct cb_str cb_hl7_raw(const struct cb_hl7_msg *m, size_t seg,
                         unsigned field, unsigned rep, unsigned comp,
                         unsigned sub);

/* Number of repetitions of a field (0 when empty). */
unsigned cb_hl7_nreps(const struct cb_hl7_msg *m, size_t seg, unsigned field);

/*
 * Appends raw, unescaped and converted to UTF-8, to out.
 * Escapes: \F\ \S\ \T\ \R\ \E\ give the delimiters, \Xhh..\ the bytes (in the
 * message charset), \.br\ a newline; \H\ and \N\ (highlighting) are
 * dropped. Any other well-formed escape (\.sp\, \Zxx\, \Cxxyy\ ...) is KEPT
 * LITERALLY, escape characters included. An escape without its closing
 * character, an empty one (\\) or bad hex in \X..\ is CB_ERR_PROTO "invalid
 * escape", as are bytes that are not valid in the charset.
 */
CB_MUST_CHECK enum cb_err cb_hl7_decode(struct cb_hl7_msg *m, struct cb_str raw,
                                        struct cb_buf *out, struct cb_buf *err);

/*
 * cb_hl7_raw then cb_hl7_decode, the result in the message's arena (or a
 * view into the text when nothing needs decoding). Errors name the segment
 * and field. *out is empty for absent values.
 */
CB_MUST_CHECK enum cb_err cb_hl7_get(struct cb_hl7_msg *m, size_t seg,
                                     unsigned field, unsigned rep,
                                     unsigned comp, unsigned sub,
                                     struct cb_str *out, struct cb_buf *err);

/*
 * Appends s (UTF-8) escaped, then converted to the message charset: the
 * delimiters and the escape character become \F\ \S\ \R\ \T\ \E\, a
 * newline \.br\ and CR \X0D\. Escaping happens before the conversion, so
 * a GB18030 second byte is never mistaken for a delimiter. CB_ERR_PROTO if
 * s is not UTF-8 or has no equivalent in the charset.
 */
CB_MUST_CHECK enum cb_err cb_hl7_escape(struct cb_hl7_msg *m, struct cb_str s,
                                        struct cb_buf *out,
                                        struct cb_buf *err);

/* ---------------------------------------------------------------- ACK */

/* HL7 table 0357, message error condition codes. */
enum cb_hl7_err_code {
    CB_HL7_E_OK              = 0,
    CB_HL7_E_SEGMENT_SEQ     = 100,
    CB_HL7_E_REQUIRED        = 101,
    CB_HL7_E_DATA_TYPE       = 102,
    CB_HL7_E_TABLE_VALUE     = 103,
    CB_HL7_E_MSG_TYPE        = 200,
    CB_HL7_E_EVENT_CODE      = 201,
    CB_HL7_E_INTERNAL        = 207
};

/* The text the standard gives a code ("Required field missing"). */
const char *cb_hl7_err_text(enum cb_hl7_err_code code);

struct cb_hl7_ack_opts {
    const char          *code;       /* MSA-1: AA AE AR (or CA CE CR) */
    struct cb_str        control_id; /* MSH-10 of the ACK */
    struct cb_str        timestamp;  /* MSH-7, e.g. 20261122230000 */
    enum cb_hl7_err_code err_code;   /* for AE/AR (and CE/CR) */
    struct cb_str        err_text;   /* UTF-8, free text (no PHI) */
    const char          *err_seg;    /* location, optional: "PID" */
    unsigned             err_seq;    /*   segment occurrence, 1-based */
    unsigned             err_field;  /*   field number */
};

/*
 * Appends an ACK to m to out, CR-terminated segments, no MLLP framing, with
 * m's delimiters and MSH-18: MSH (MSH-3/4 and MSH-5/6 swapped, MSH-9
 * ACK^<trigger>^ACK, MSH-11/12/18 copied), MSA (code, original MSH-10) and,
 * when err_code is not CB_HL7_E_OK, ERR. For 2.5 and later ERR-2/3/4/8 are used
 * (ERR|PID^1^3|101^Required field missing^HL70357|E||||text); before 2.5,
 * ERR-1 (PID^1^3^101&Required field missing&HL70357) and MSA-3 the text.
 * err_text is converted to the message charset and escaped. Requires
 * m->has_msh.
 */
CB_MUST_CHECK enum cb_err cb_hl7_ack(struct cb_hl7_msg *m,
                                     const struct cb_hl7_ack_opts *o,
                                     struct cb_buf *out, struct cb_buf *err);

/*
 * Acknowledgment modes. Original mode (MSH-15 and MSH-16 both empty): one
 * application ACK, always. Enhanced mode: MSH-15 (accept) and MSH-16
 * (application) each say AL, NE, ER or SU; an empty one in enhanced mode is
 * treated as AL, the safe side (an extra ACK costs less than a resend
 * loop); an unknown value too. ok: whether the step succeeded.
 */
bool cb_hl7_enhanced_mode(const struct cb_hl7_msg *m);
bool cb_hl7_accept_ack_due(const struct cb_hl7_msg *m, bool ok);
bool cb_hl7_app_ack_due(const struct cb_hl7_msg *m, bool ok);

#endif
