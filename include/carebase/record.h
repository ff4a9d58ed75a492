/*
 * record.h - the canonical inpatient front-page record (住院病案首页).
 *
 * One record = one discharge (spec 0.1). A record holds, for every canonical
 * item, its normalised text (struct cb_str, empty when absent) and, for typed
 * items, a parsed value. Items are addressed by a field id:
 *
 *   scalar items       CB_F_<KEY>                      (fields.def)
 *   other diagnosis n  cb_fp_dx(n, CB_DX_<F>), n = 1..CB_FP_MAX_DX
 *   procedure slot n   cb_fp_px(n, CB_PX_<F>), n = 1..CB_FP_MAX_PX
 *                      (slot 1 is the principal procedure)
 *
 * Canonical key names are the spec's: "JBDM", "JBDM3" (3rd other diagnosis),
 * "SSJCZBM1", "QKDJ12". Canonical values follow the Western standard
 * (附件3) except incision/healing, which use the internal model of spec a.9:
 * QKDJ in {0,1,2,3} (0类, Ⅰ, Ⅱ, Ⅲ) and QKYHLB in {1,2,3,4} (甲, 乙, 丙, 其他).
 *
 * The text views point into memory owned by whoever filled the record
 * (normally the importer's per-row arena); a record owns nothing.
 */
#ifndef CAREBASE_RECORD_H
#define CAREBASE_RECORD_H

#include <stdint.h>

#include "carebase/str.h"

enum cb_fp_type { CB_T_C, CB_T_N, CB_T_D, CB_T_DT, CB_T_M, CB_T_K, CB_T_S };
enum cb_fp_req { CB_REQ_R, CB_REQ_RS, CB_REQ_C, CB_REQ_O };

#define CB_FP_MAX_DX 40  /* other diagnoses */
#define CB_FP_MAX_PX 41  /* procedure slots, slot 1 = principal */

enum cb_fp_scalar {
#define X(key, type, len, req, vset, zh) CB_F_##key,
#include "carebase/fields.def"
#undef X
    CB_F__SCALARS
};

/* Fields of each other-diagnosis slot. */
enum cb_fp_dx_field {
    CB_DX_CODE,  /* JBDMn: diagnosis code */
    CB_DX_NAME,  /* QTZDn: name */
    CB_DX_POA,   /* RYBQn: present on admission, RC027 */
    CB_DX__FIELDS
};

/* Fields of each procedure slot. */
enum cb_fp_px_field {
    CB_PX_CODE,    /* SSJCZBMn */
    CB_PX_NAME,    /* SSJCZMCn */
    CB_PX_DATE,    /* SSJCZRQn, date-time */
    CB_PX_LEVEL,   /* SSJBn, RC029 */
    CB_PX_SZ,      /* SZn surgeon */
    CB_PX_YZ,      /* YZn 1st assistant */
    CB_PX_EZ,      /* EZn 2nd assistant */
    CB_PX_QKDJ,    /* QKDJn incision class 0..3 */
    CB_PX_QKYHLB,  /* QKYHLBn healing grade 1..4 */
    CB_PX_QKYH,    /* Western combined RC014 code; split by normalisation */
    CB_PX_MZFS,    /* MZFSn anaesthesia, RC013 (Western padded form) */
    CB_PX_MZYS,    /* MZYSn anaesthetist */
    CB_PX_SSLX,    /* SSLXn elective/emergency operation (extension) */
    CB_PX_SFRJSS,  /* SFRJSSn day-surgery flag (extension) */
    CB_PX__FIELDS
};

#define CB_FP_DX_BASE ((int)CB_F__SCALARS)
#define CB_FP_PX_BASE (CB_FP_DX_BASE + CB_FP_MAX_DX * CB_DX__FIELDS)
#define CB_FP_NFIELDS (CB_FP_PX_BASE + CB_FP_MAX_PX * CB_PX__FIELDS)
#define CB_FP_SET_WORDS ((CB_FP_NFIELDS + 63) / 64)

static inline int
cb_fp_dx(int n, enum cb_fp_dx_field f)
{
    return CB_FP_DX_BASE + (n - 1) * CB_DX__FIELDS + (int)f;
}

static inline int
cb_fp_px(int n, enum cb_fp_px_field f)
{
    return CB_FP_PX_BASE + (n - 1) * CB_PX__FIELDS + (int)f;
}

/* What is known about one canonical field. */
struct cb_fp_field_info {
    const char      *base;     /* key without slot number: "ZFY", "JBDM", "SSJCZBM" */
    int              slot;     /* 0 for scalars, else 1..40 / 1..41 */
    enum cb_fp_type  type;
    int              max_len;  /* characters (or digits for N) */
    enum cb_fp_req   req;
    const char      *value_set;/* "RC019" or NULL */
    const char      *name_zh;
};

/* Field state for typed parsing. */
enum cb_fp_state {
    CB_FS_EMPTY = 0,  /* absent, empty or "-" */
    CB_FS_TEXT,       /* present; untyped (C, K, S) */
    CB_FS_OK,         /* present and parsed into val[] */
    CB_FS_BAD         /* present but does not parse as its type (QC-FMT-01) */
};

struct cb_fp {
    struct cb_str v[CB_FP_NFIELDS];    /* normalised text; len 0 = empty */
    /*
     * Parsed values where state == CB_FS_OK: N integer; M money in fen;
     * D days since 1970-01-01; DT seconds since 1970-01-01 00:00:00 (local
     * wall-clock time, no zone).
     */
    int64_t  val[CB_FP_NFIELDS];
    uint8_t  state[CB_FP_NFIELDS];
    uint8_t  ndx;       /* highest filled other-diagnosis slot (0 = none) */
    uint8_t  npx;       /* highest filled procedure slot (0 = none) */
    uint8_t  dt_date_only_rysj; /* RYSJ had no time part */
    uint8_t  dt_date_only_cysj; /* CYSJ had no time part */
    /*
     * Fields assigned through cb_fp_assign since the last cb_fp_reset, so
     * that clearing and parsing touch only those (a front page fills about
     * 100 of its 700 fields). Valid only while set_tracked is 1.
     */
    uint8_t  set_tracked;
    uint16_t nset;
    uint16_t set_ids[CB_FP_NFIELDS];
    /*
     * The same fields as a bit set (bit id % 64 of word id / 64), so that
     * readers can visit the assigned fields in field order (cb_fp_next_set).
     * Valid only while set_tracked is 1.
     */
    uint64_t set_bits[CB_FP_SET_WORDS];
    /*
     * Fields whose text is exactly what their parsed value writes in its
     * plain form (N: digits, no leading zero, at most 18; M: "[-]I.FF",
     * no leading zero, not "-0.00"; D: "yyyy-MM-dd"; DT: "yyyy-MM-dd
     * HH:mm:ss"; years from 1900), so that the store can write the value
     * instead of the text (store_items.c). Set by parsing, cleared by
     * cb_fp_assign and cb_fp_reset.
     */
    uint64_t exact_bits[CB_FP_SET_WORDS];
};

const struct cb_fp_field_info *cb_fp_field(int id);

/* Formats the canonical key of a field ("JBDM3") into buf; returns buf. */
const char *cb_fp_key(int id, char *buf, size_t bufsz);

/* The canonical key of a field from a static table ("?" if out of range). */
const char *cb_fp_key_str(int id);

/* Field id of a canonical key, or -1. Accepts "JBDM3", "SSJCZBM1", "ZFY". */
int cb_fp_field_by_key(struct cb_str key);

/* Clears every field to empty. */
void cb_fp_clear(struct cb_fp *r);

/*
 * Fast path for producers that fill a record field by field (the importer):
 * cb_fp_reset empties a record by touching only the fields assigned since
 * the previous reset (the first reset clears everything) and starts
 * tracking; after it, every new field must be set with cb_fp_assign, and
 * cb_fp_parse parses only those. cb_fp_clear stops the tracking.
 */
void cb_fp_reset(struct cb_fp *r);

static inline void
cb_fp_assign(struct cb_fp *r, int id, struct cb_str v)
{
    if (!r->v[id].len && r->nset < CB_FP_NFIELDS)
        r->set_ids[r->nset++] = (uint16_t)id;
    r->set_bits[id >> 6] |= (uint64_t)1 << (id & 63);
    r->exact_bits[id >> 6] &= ~((uint64_t)1 << (id & 63));
    r->v[id] = v;
}

/* Whether field id's text is exactly its parsed value's plain form. */
static inline int
cb_fp_exact(const struct cb_fp *r, int id)
{
    return (int)((r->exact_bits[id >> 6] >> (id & 63)) & 1);
}

/* Raises ndx/npx to the slot of a filled field (no-op for scalars). */
static inline void
cb_fp_note_filled(struct cb_fp *r, int id)
{
    if (id >= CB_FP_PX_BASE) {
        int n = (id - CB_FP_PX_BASE) / CB_PX__FIELDS + 1;
        if (n > r->npx)
            r->npx = (uint8_t)n;
    } else if (id >= CB_FP_DX_BASE) {
        int n = (id - CB_FP_DX_BASE) / CB_DX__FIELDS + 1;
        if (n > r->ndx)
            r->ndx = (uint8_t)n;
    }
}

/*
 * The first field id >= from assigned since the last cb_fp_reset (in field
 * order), or CB_FP_NFIELDS when there is none. Only while set_tracked.
 */
static inline int
cb_fp_next_set(const struct cb_fp *r, int from)
{
    int w = from >> 6;
    uint64_t bits;

    if (from >= CB_FP_NFIELDS)
        return CB_FP_NFIELDS;
    bits = r->set_bits[w] & (~(uint64_t)0 << (from & 63));
    while (!bits) {
        if (++w >= CB_FP_SET_WORDS)
            return CB_FP_NFIELDS;
        bits = r->set_bits[w];
    }
    return (w << 6) + __builtin_ctzll(bits);
}

/*
 * Parses every typed field (N, M, D, DT) from its text into val/state and
 * computes ndx/npx. Pure; never fails: unparseable values get CB_FS_BAD.
 */
void cb_fp_parse(struct cb_fp *r);

/*
 * Parses one field as cb_fp_parse does (any text: trims, empties "-") and
 * raises ndx/npx when it is filled. For producers that normalise a field
 * after having parsed the record.
 */
void cb_fp_parse_field(struct cb_fp *r, int id);

static inline int
cb_fp_has(const struct cb_fp *r, int id)
{
    return r->state[id] != CB_FS_EMPTY;
}

static inline int
cb_fp_ok(const struct cb_fp *r, int id)
{
    return r->state[id] == CB_FS_OK;
}

/* Money items making up ITEMS (the 24 numbered cost items), spec a.10. */
extern const int cb_fp_cost_items[24];

#endif
