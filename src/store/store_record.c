/*
 * store_record.c - imported records, their history, rejects and import runs.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "carebase/alloc.h"
#include "carebase/date.h"
#include "carebase/json.h"
#include "store_int.h"

static void
now_iso(char out[32])
{
    time_t t = time(NULL);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

enum cb_err
cb_store_file_begin(struct cb_store *st, const struct cb_import_file *f,
                    int64_t *file_id, struct cb_buf *err)
{
    sqlite3_stmt *s;
    char ts[32];
    int ok;

    now_iso(ts);
    if (sqlite3_prepare_v2(st->db,
            "INSERT INTO import_file(path, name, size, profile, encoding, format,"
            " started_at) VALUES (?1,?2,?3,?4,?5,?6,?7)", -1, &s, NULL) != SQLITE_OK)
        return cb__store_fail(st, "cannot record the import", err);
    sqlite3_bind_text(s, 1, f->path, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, f->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)f->size);
    sqlite3_bind_text(s, 4, f->profile, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, f->encoding, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, f->format, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 7, ts, -1, SQLITE_STATIC);
    ok = sqlite3_step(s) == SQLITE_DONE;
    sqlite3_finalize(s);
    if (!ok)
        return cb__store_fail(st, "cannot record the import", err);
    *file_id = sqlite3_last_insert_rowid(st->db);
    return CB_OK;
}

enum cb_err
cb_store_file_finish(struct cb_store *st, int64_t file_id,
                     const struct cb_import_counts *c, const char *status,
                     const char *message, const char *encoding,
                     struct cb_buf *err)
{
    sqlite3_stmt *s;
    char ts[32];
    int ok;

    now_iso(ts);
    if (sqlite3_prepare_v2(st->db,
            "UPDATE import_file SET finished_at = ?2, status = ?3, rows_read = ?4,"
            " accepted = ?5, rejected = ?6, inserted = ?7, replaced = ?8,"
            " unchanged = ?9, with_warnings = ?10, message = ?11,"
            " encoding = coalesce(?12, encoding) WHERE id = ?1",
            -1, &s, NULL) != SQLITE_OK)
        return cb__store_fail(st, "cannot finish the import", err);
    sqlite3_bind_int64(s, 1, file_id);
    sqlite3_bind_text(s, 2, ts, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, (sqlite3_int64)c->read);
    sqlite3_bind_int64(s, 5, (sqlite3_int64)c->accepted);
    sqlite3_bind_int64(s, 6, (sqlite3_int64)c->rejected);
    sqlite3_bind_int64(s, 7, (sqlite3_int64)c->inserted);
    sqlite3_bind_int64(s, 8, (sqlite3_int64)c->replaced);
    sqlite3_bind_int64(s, 9, (sqlite3_int64)c->unchanged);
    sqlite3_bind_int64(s, 10, (sqlite3_int64)c->warnings);
    if (message)
        sqlite3_bind_text(s, 11, message, -1, SQLITE_STATIC);
    if (encoding)
        sqlite3_bind_text(s, 12, encoding, -1, SQLITE_STATIC);
    ok = sqlite3_step(s) == SQLITE_DONE;
    sqlite3_finalize(s);
    if (!ok)
        return cb__store_fail(st, "cannot finish the import", err);
    return CB_OK;
}

static void
bind_opt_text(sqlite3_stmt *s, int i, struct cb_str v)
{
    if (v.len)
        sqlite3_bind_text(s, i, v.ptr, (int)v.len, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

static void
bind_icol(sqlite3_stmt *s, int i, const struct cb_store_row *row, int col)
{
    if (row->null_mask & (1u << col))
        sqlite3_bind_null(s, i);
    else
        sqlite3_bind_int64(s, i, row->ival[col]);
}

/*
 * Binds a record's columns as parameters o+1 .. o+27 (CB__RECORD_COLUMNS;
 * S_REC_INSERT and S_REC_UPDATE have o = 0); zdata: the items in their
 * stored layout (row->data, never NULL); id 0: NULL, SQLite's choice.
 */
static void
bind_record(sqlite3_stmt *s, int o, int64_t hospital_id, const struct cb_store_row *row,
            int64_t file_id, struct cb_str zdata, int64_t id)
{
    sqlite3_bind_blob(s, o + 24, zdata.ptr, (int)zdata.len, SQLITE_STATIC);
    sqlite3_bind_int64(s, o + 1, hospital_id);
    bind_opt_text(s, o + 2, row->sval[CB_SC_BAH]);
    bind_icol(s, o + 3, row, CB_IC_ZYCS);
    sqlite3_bind_int64(s, o + 4, (sqlite3_int64)row->hash);
    sqlite3_bind_int64(s, o + 5, file_id);
    sqlite3_bind_int64(s, o + 6, (sqlite3_int64)row->line);
    bind_icol(s, o + 7, row, CB_IC_RYSJ);
    bind_icol(s, o + 8, row, CB_IC_CYSJ);
    bind_icol(s, o + 9, row, CB_IC_CY_DAY);
    bind_opt_text(s, o + 10, row->sval[CB_SC_RYKB]);
    bind_opt_text(s, o + 11, row->sval[CB_SC_CYKB]);
    bind_opt_text(s, o + 12, row->sval[CB_SC_ZZYS]);
    bind_opt_text(s, o + 13, row->sval[CB_SC_XB]);
    bind_icol(s, o + 14, row, CB_IC_NL);
    bind_icol(s, o + 15, row, CB_IC_AGE_DAYS);
    bind_opt_text(s, o + 16, row->sval[CB_SC_RYTJ]);
    bind_opt_text(s, o + 17, row->sval[CB_SC_LYFS]);
    bind_icol(s, o + 18, row, CB_IC_SJZYTS);
    bind_opt_text(s, o + 19, row->sval[CB_SC_JBDM]);
    bind_opt_text(s, o + 20, row->sval[CB_SC_RYBQ]);
    bind_icol(s, o + 21, row, CB_IC_ZFY);
    bind_icol(s, o + 22, row, CB_IC_BIRTH_WEIGHT);
    sqlite3_bind_int(s, o + 23, row->nissues);
    if (id)
        sqlite3_bind_int64(s, o + 25, id);
    else
        sqlite3_bind_null(s, o + 25);
    sqlite3_bind_text(s, o + 26, row->dx.ptr, (int)row->dx.len, SQLITE_STATIC);
    sqlite3_bind_text(s, o + 27, row->px.ptr, (int)row->px.len, SQLITE_STATIC);
}

static enum cb_err
step_done(struct cb_store *st, sqlite3_stmt *s, const char *what,
          struct cb_buf *err)
{
    int rc = sqlite3_step(s);

    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return cb__store_fail(st, what, err);
    return CB_OK;
}

static enum cb_err
put_issues(struct cb_store *st, enum stmt_id sid, int64_t id,
           const struct cb_store_issue *is, int n, int with_severity,
           struct cb_buf *err)
{
    sqlite3_stmt *s;
    enum cb_err rc;
    int i, k;

    if (!n)
        return CB_OK;
    if (!(s = cb__store_stmt(st, sid, err)))
        return CB_ERR_DB;
    for (i = 0; i < n; i++) {
        k = 1;
        sqlite3_bind_int64(s, k++, id);
        sqlite3_bind_text(s, k++, is[i].rule, -1, SQLITE_STATIC);
        if (with_severity)
            sqlite3_bind_text(s, k++, is[i].severity, -1, SQLITE_STATIC);
        if (is[i].field)
            sqlite3_bind_text(s, k++, is[i].field, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(s, k++);
        bind_str(s, k++, is[i].value);
        bind_str(s, k++, is[i].detail);
        if ((rc = step_done(st, s, "cannot store an issue", err)))
            return rc;
    }
    return CB_OK;
}

static enum cb_err
put_reject(struct cb_store *st, int64_t file_id, const struct cb_store_row *row,
           const struct cb_store_issue *extra, struct cb_buf *err)
{
    sqlite3_stmt *s;
    int64_t id;
    enum cb_err rc;
    struct cb_str k1 = row->sval[CB_SC_ZZJGDM], k2 = row->sval[CB_SC_BAH],
                  k3 = row->sval[CB_SC_ZYCS_TEXT];

    if (!(s = cb__store_stmt(st, S_REJ_INSERT, err)))
        return CB_ERR_DB;
    sqlite3_bind_int64(s, 1, file_id);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)row->line);
    bind_str(s, 3, k1);
    bind_str(s, 4, k2);
    bind_str(s, 5, k3);
    sqlite3_bind_text(s, 6, row->raw.ptr ? row->raw.ptr : "", (int)row->raw.len,
                      SQLITE_STATIC);
    if ((rc = step_done(st, s, "cannot store reject", err)))
        return rc;
    id = sqlite3_last_insert_rowid(st->db);
    if (k2.len) {
        if (!(s = cb__store_stmt(st, S_REJ_SUPERSEDE, err)))
            return CB_ERR_DB;
        bind_str(s, 1, k1);
        bind_str(s, 2, k2);
        bind_str(s, 3, k3);
        sqlite3_bind_int64(s, 5, file_id); /* rows of this file are distinct rows */
        if ((rc = step_done(st, s, "cannot update earlier rejects", err)))
            return rc;
    }
    if (extra && (rc = put_issues(st, S_REJ_ISSUE, id, extra, 1, 1, err)))
        return rc;
    return put_issues(st, S_REJ_ISSUE, id, row->issues, row->nissues, 1, err);
}

static enum cb_err
delete_children(struct cb_store *st, int64_t id, struct cb_buf *err)
{
    sqlite3_stmt *s = cb__store_stmt(st, S_WARN_DELETE, err);

    if (!s)
        return CB_ERR_DB;
    sqlite3_bind_int64(s, 1, id);
    return step_done(st, s, "cannot replace record", err);
}

/*
 * The patient filter: a blocked Bloom filter of 2 MiB, whatever the file
 * size. Both bits of a patient lie in one 64-bit word, so a look-up is one
 * cache miss (cb_store_prefetch can take even that off the store thread's
 * path); 2^18 words, two of 64 bits each: about 1.5 % false positives
 * (each an overlap query that finds nothing) after a million patients.
 */
#define OV_BLOOM_WORDS ((size_t)1 << 18)

uint64_t
cb_store_patient_hash(struct cb_str zzjgdm, struct cb_str bah)
{
    uint64_t h = cb_hash64(zzjgdm.ptr, zzjgdm.len, 0x9e3779b97f4a7c15ull);

    h = cb_hash64(bah.ptr, bah.len, h);
    return h ? h : 1;
}

static uint64_t
patient_hash(const struct cb_store_row *row)
{
    return row->patient_hash ? row->patient_hash
                             : cb_store_patient_hash(row->sval[CB_SC_ZZJGDM],
                                                     row->sval[CB_SC_BAH]);
}

void
cb_store_prefetch(const struct cb_store *st, const struct cb_store_row *row)
{
    if (st->ov_bloom && row->patient_hash)
        __builtin_prefetch(&st->ov_bloom[row->patient_hash & (OV_BLOOM_WORDS - 1)], 1);
}

/*
 * Whether hospital hid had records before this connection stored its first
 * one (see struct cb_store): asked once per hospital, before that first
 * record goes in.
 */
static enum cb_err
note_hospital(struct cb_store *st, int64_t hid, struct cb_buf *err)
{
    sqlite3_stmt *s;
    int rc;

    if (hid <= 0 || hid > 65535)
        return CB_OK; /* not tracked: always asked */
    if ((size_t)hid >= st->ov_cap) {
        size_t cap = st->ov_cap ? st->ov_cap : 64;
        uint8_t *p;
        while (cap <= (size_t)hid)
            cap *= 2;
        if (!(p = cb_realloc(st->ov_state, cap)))
            return CB_ERR_NOMEM;
        memset(p + st->ov_cap, 0, cap - st->ov_cap);
        st->ov_state = p;
        st->ov_cap = cap;
    }
    if (st->ov_state[hid])
        return CB_OK;
    if (!st->ov_bloom && !(st->ov_bloom = cb_calloc(OV_BLOOM_WORDS, sizeof(uint64_t))))
        return CB_ERR_NOMEM;
    if (!(s = cb__store_stmt(st, S_REC_ANY_OF_HOSP, err)))
        return CB_ERR_DB;
    sqlite3_bind_int64(s, 1, hid);
    rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return cb__store_fail(st, "cannot look up a hospital's records", err);
    st->ov_state[hid] = rc == SQLITE_ROW ? 2 : 1;
    return CB_OK;
}

/*
 * For a hospital that had no records before this connection's: whether
 * this connection stored another record of the patient (ZZJGDM, BAH) before
 * (maybe: a Bloom filter), noting this one. No means no other stay exists.
 */
static int
maybe_stored_before(struct cb_store *st, const struct cb_store_row *row)
{
    uint64_t h = patient_hash(row);
    uint64_t *w = &st->ov_bloom[h & (OV_BLOOM_WORDS - 1)];
    unsigned a = (unsigned)(h >> 32) & 63, b = (a + 1 + (unsigned)(h >> 40) % 63) & 63;
    uint64_t m = ((uint64_t)1 << a) | ((uint64_t)1 << b); /* two bits, a != b */
    int seen = (*w & m) == m;

    *w |= m;
    return seen;
}

/*
 * QC-ID-03 (W): another stay of the same patient (hospital, BAH) whose
 * [RYSJ, CYSJ] overlaps this one. It needs the stored records, so the store
 * applies it; the warning goes with the record that arrives second. seen 0:
 * the patient has no other stay (in a hospital whose records all came
 * through this connection, one that maybe_stored_before has not seen: the
 * first import of a hospital's history), so no query.
 */
static enum cb_err
check_overlap(struct cb_store *st, int64_t hid, int64_t id,
              const struct cb_store_row *row, int seen, struct cb_buf *err)
{
    static const char detail_fmt[] = "the stay overlaps the stay with ZYCS %lld "
                                     "of the same patient";
    struct cb_store_issue is;
    sqlite3_stmt *s;
    long long other;
    char detail[96], value[24];
    enum cb_err rc;

    if (row->null_mask & ((1u << CB_IC_RYSJ) | (1u << CB_IC_CYSJ) | (1u << CB_IC_ZYCS)))
        return CB_OK;
    if (!seen)
        return CB_OK;
    if (!(s = cb__store_stmt(st, S_REC_OVERLAP, err)))
        return CB_ERR_DB;
    sqlite3_bind_int64(s, 1, hid);
    bind_opt_text(s, 2, row->sval[CB_SC_BAH]);
    sqlite3_bind_int64(s, 3, row->ival[CB_IC_ZYCS]);
    sqlite3_bind_int64(s, 4, row->ival[CB_IC_RYSJ]);
    sqlite3_bind_int64(s, 5, row->ival[CB_IC_CYSJ]);
    if (sqlite3_step(s) != SQLITE_ROW) {
        sqlite3_reset(s);
        return CB_OK;
    }
    other = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    snprintf(detail, sizeof(detail), detail_fmt, other);
    snprintf(value, sizeof(value), "%lld", (long long)row->ival[CB_IC_ZYCS]);
    is.rule = "QC-ID-03";
    is.severity = "W";
    is.field = "ZYCS";
    is.value = cb_str_c(value);
    is.detail = cb_str_c(detail);
    if ((rc = put_issues(st, S_WARN_INSERT, id, &is, 1, 0, err)))
        return rc;
    if (st->nrec_wait && st->rec_wait[st->nrec_wait - 1].id == id) {
        st->rec_wait[st->nrec_wait - 1].row.nissues++;  /* not written yet */
    } else {
        if (!(s = cb__store_stmt(st, S_REC_ADD_WARNING, err)))
            return CB_ERR_DB;
        sqlite3_bind_int64(s, 1, id);
        if ((rc = step_done(st, s, "cannot count a warning", err)))
            return rc;
    }
    st->overlaps++;
    st->overlaps_first_warning += row->nissues == 0;
    return CB_OK;
}

void
cb_store_overlap_counts(const struct cb_store *st, uint64_t *warnings,
                        uint64_t *first_warning)
{
    *warnings = st->overlaps;
    *first_warning = st->overlaps_first_warning;
}

/* The id of the next record of this transaction (bulk mode), from the table. */
static enum cb_err
next_record_id(struct cb_store *st, int64_t *id, struct cb_buf *err)
{
    sqlite3_stmt *s;
    int rc;

    if (!st->next_id) {
        if (!(s = cb__store_stmt(st, S_REC_MAX_ID, err)))
            return CB_ERR_DB;
        rc = sqlite3_step(s);
        st->next_id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
        sqlite3_reset(s);
        if (rc != SQLITE_ROW || st->next_id <= 0)
            return cb__store_fail(st, "cannot read the last record id", err);
    }
    *id = st->next_id;
    return CB_OK;
}

/*
 * What goes with a stored record: its departments, warnings, the QC-ID-03
 * check (seen: as for check_overlap), its DRG result and fact (fresh: the
 * record is new).
 */
static enum cb_err
put_children(struct cb_store *st, int64_t hid, int64_t id, const struct cb_store_row *row,
             int seen, int fresh, struct cb_buf *err)
{
    enum cb_err rc;

    /* Admitted where discharged, nearly always: that department is there now. */
    if ((rc = cb_store_department_ensure(st, hid, row->sval[CB_SC_CYKB],
                                         row->sval[CB_SC_CYKB_NAME], err)) ||
        (!cb_str_eq(row->sval[CB_SC_RYKB], row->sval[CB_SC_CYKB]) &&
         (rc = cb_store_department_ensure(st, hid, row->sval[CB_SC_RYKB],
                                          row->sval[CB_SC_RYKB_NAME], err))) ||
        (rc = put_issues(st, S_WARN_INSERT, id, row->issues, row->nissues, 0, err)) ||
        (rc = check_overlap(st, hid, id, row, seen, err)) ||
        (rc = cb__store_put_drg(st, id, row, err)))
        return rc;
    return cb__store_put_fact(st, id, hid, row, fresh, err);
}

/* Texts of a waiting record that bind_record reads. */
static const int waiting_texts[] = {
    CB_SC_BAH, CB_SC_RYKB, CB_SC_CYKB, CB_SC_ZZYS, CB_SC_XB,
    CB_SC_RYTJ, CB_SC_LYFS, CB_SC_JBDM, CB_SC_RYBQ,
};
enum { nwaiting_texts = sizeof(waiting_texts) / sizeof(waiting_texts[0]) };

/* Copies v to *at and views it there (empty stays empty). */
static struct cb_str
keep_text(char **at, struct cb_str v)
{
    struct cb_str d = { *at, v.len };

    if (!v.len)
        return v;
    memcpy(*at, v.ptr, v.len);
    *at += v.len;
    return d;
}

/*
 * A new record (see put_record) waits to be inserted with others, with the id
 * it will have, the next of the transaction, so that records go in in the
 * order of their ids (appended, pages left full); what goes with it is
 * written now. Its texts are copied: the caller's row need not outlive the
 * call.
 */
static enum cb_err
queue_record(struct cb_store *st, int64_t file_id, int64_t hid,
             const struct cb_store_row *row, struct cb_str zdata, int seen,
             struct cb_buf *err)
{
    struct cb__rec_row *w = &st->rec_wait[st->nrec_wait];
    struct cb_store_row *c = &w->row;
    enum cb_err rc;

    if ((rc = next_record_id(st, &w->id, err)))
        return rc;
    w->hospital_id = hid;
    w->file_id = file_id;
    /* The texts in one block; the rest of the copy as given (not read). */
    size_t n = zdata.len + row->dx.len + row->px.len;
    for (size_t i = 0; i < nwaiting_texts; i++)
        n += row->sval[waiting_texts[i]].len;
    char *at = cb_arena_alloc(&st->rec_text, n ? n : 1);
    if (!at)
        return CB_ERR_NOMEM;
    c->line = row->line;
    memcpy(c->ival, row->ival, sizeof(c->ival));
    c->null_mask = row->null_mask;
    for (size_t i = 0; i < nwaiting_texts; i++)
        c->sval[waiting_texts[i]] = keep_text(&at, row->sval[waiting_texts[i]]);
    c->data = keep_text(&at, zdata);
    c->dx = keep_text(&at, row->dx);
    c->px = keep_text(&at, row->px);
    c->hash = row->hash;
    c->patient_hash = patient_hash(row);
    c->nissues = row->nissues;
    st->nrec_wait++;
    st->next_id++;
    if ((rc = put_children(st, hid, w->id, row, seen, 1, err)))
        return rc;
    return st->nrec_wait == CB__BATCH ? cb__store_flush_records(st, err) : CB_OK;
}

/* Whether a waiting record is of the patient of row. */
static int
patient_waits(const struct cb_store *st, int64_t hid, const struct cb_store_row *row)
{
    uint64_t h = patient_hash(row);

    for (int i = 0; i < st->nrec_wait; i++) {
        const struct cb__rec_row *w = &st->rec_wait[i];
        if (w->row.patient_hash == h && w->hospital_id == hid &&
            cb_str_eq(w->row.sval[CB_SC_BAH], row->sval[CB_SC_BAH]))
            return 1;
    }
    return 0;
}

/* Column c of a waiting record (cb_rows), in CB__RECORD_COLUMNS order. */
static void
record_column(sqlite3_context *ctx, const void *p, int c)
{
    /* The record columns that are ints of the row, by position. */
    static const signed char icol[CB__RECORD_NCOLS] = {
        [2] = CB_IC_ZYCS + 1, [6] = CB_IC_RYSJ + 1, [7] = CB_IC_CYSJ + 1,
        [8] = CB_IC_CY_DAY + 1, [13] = CB_IC_NL + 1, [14] = CB_IC_AGE_DAYS + 1,
        [17] = CB_IC_SJZYTS + 1, [20] = CB_IC_ZFY + 1, [21] = CB_IC_BIRTH_WEIGHT + 1,
    };
    static const signed char scol[CB__RECORD_NCOLS] = {
        [1] = CB_SC_BAH + 1, [9] = CB_SC_RYKB + 1, [10] = CB_SC_CYKB + 1,
        [11] = CB_SC_ZZYS + 1, [12] = CB_SC_XB + 1, [15] = CB_SC_RYTJ + 1,
        [16] = CB_SC_LYFS + 1, [18] = CB_SC_JBDM + 1, [19] = CB_SC_RYBQ + 1,
    };
    const struct cb__rec_row *w = p;
    const struct cb_store_row *row = &w->row;
    struct cb_str v;

    if (c < 0 || c >= CB__RECORD_NCOLS) {
        sqlite3_result_null(ctx);
        return;
    }
    if (icol[c]) {
        int k = icol[c] - 1;

        if (row->null_mask & (1u << k))
            sqlite3_result_null(ctx);
        else
            sqlite3_result_int64(ctx, row->ival[k]);
        return;
    }
    if (scol[c]) {
        v = row->sval[scol[c] - 1];
        if (v.len)
            sqlite3_result_text(ctx, v.ptr, (int)v.len, SQLITE_STATIC);
        else
            sqlite3_result_null(ctx);
        return;
    }
    switch (c) {
    case 0: sqlite3_result_int64(ctx, w->hospital_id); return;
    case 3: sqlite3_result_int64(ctx, (sqlite3_int64)row->hash); return;
    case 4: sqlite3_result_int64(ctx, w->file_id); return;
    case 5: sqlite3_result_int64(ctx, (sqlite3_int64)row->line); return;
    case 22: sqlite3_result_int(ctx, row->nissues); return;
    case 23: /* a blob, never NULL (record.data NOT NULL) */
        sqlite3_result_blob(ctx, row->data.ptr ? row->data.ptr : "", (int)row->data.len,
                            SQLITE_STATIC);
        return;
    case 24:
        if (w->id)
            sqlite3_result_int64(ctx, w->id);
        else
            sqlite3_result_null(ctx);
        return;
    case 25: sqlite3_result_text(ctx, row->dx.ptr, (int)row->dx.len, SQLITE_STATIC); return;
    case 26: sqlite3_result_text(ctx, row->px.ptr, (int)row->px.len, SQLITE_STATIC); return;
    default: sqlite3_result_null(ctx); return;
    }
}

/* The insert of the waiting records: one statement for any number. */
static sqlite3_stmt *
record_batch_stmt(struct cb_store *st, struct cb_buf *err)
{
    struct cb_buf sql = CB_BUF_INIT;
    enum cb_err rc;

    if (st->rec_batch)
        return st->rec_batch;
    /*
     * OR IGNORE, then a count of the rows written: with the default ABORT,
     * a multi-row statement keeps a statement journal (copies of the pages
     * it changes) to undo its own first rows. Nothing is expected to be
     * ignored: the keys are new and the ids this transaction's own.
     */
    rc = cb_buf_adds(&sql, "INSERT OR IGNORE INTO record(" CB__RECORD_COLUMNS ") SELECT ");
    for (int c = 0; !rc && c < CB__RECORD_NCOLS; c++)
        rc = cb_buf_addf(&sql, "%sc%d", c ? "," : "", c);
    if (!rc)
        rc = cb_buf_adds(&sql, " FROM cb_rows(?1)");
    if (rc)
        cb_errf(err, "out of memory preparing a statement");
    else if (sqlite3_prepare_v3(st->db, cb_buf_cstr(&sql), (int)sql.len,
                                SQLITE_PREPARE_PERSISTENT, &st->rec_batch,
                                NULL) != SQLITE_OK)
        cb__store_fail(st, "cannot prepare statement", err);
    cb_buf_release(&sql);
    return st->rec_batch;
}

enum cb_err
cb__store_flush_records(struct cb_store *st, struct cb_buf *err)
{
    int n = st->nrec_wait;
    struct cb__rows rows = { st->rec_wait, sizeof(st->rec_wait[0]), n, record_column };
    enum cb_err rc = CB_OK;
    sqlite3_stmt *s;

    if (n) {
        if (!(s = record_batch_stmt(st, err))) {
            rc = CB_ERR_DB;
        } else {
            cb__rows_bind(s, 1, &rows);
            if (sqlite3_step(s) != SQLITE_DONE)
                rc = cb__store_fail(st, "cannot store records", err);
            else if (sqlite3_changes(st->db) != n) {
                cb_errf(err, "cannot store records: %d of %d were already stored"
                             " (another writer?)", n - sqlite3_changes(st->db), n);
                rc = CB_ERR_DB;
            }
            sqlite3_reset(s);
            sqlite3_bind_null(s, 1); /* no pointer to this frame left bound */
        }
    }
    st->nrec_wait = 0;
    cb_arena_reset(&st->rec_text);
    return rc;
}

void
cb__store_records_drop(struct cb_store *st, int fin)
{
    st->nrec_wait = 0;
    cb_arena_reset(&st->rec_text);
    if (fin) {
        sqlite3_finalize(st->rec_batch);
        st->rec_batch = NULL;
        cb_arena_release(&st->rec_text);
    }
}

/*
 * The content hash a database before v11 stored (CB_STORE_HASH_V2): of the
 * row's items in layout V1, then dx and px, shifted right by one. Only for
 * a row whose key exists with such a hash; 0 (no hash of that kind) when
 * the items do not decode.
 */
static uint64_t
v1_hash(struct cb_store *st, const struct cb_store_row *row)
{
    uint64_t h;

    if (cb__items_decode((const unsigned char *)row->data.ptr, row->data.len,
                         &st->items_text, st->items) != CB_OK ||
        cb__items_v1(st->items, &st->zbuf) != CB_OK)
        return 0;
    h = cb_hash64(st->zbuf.ptr, st->zbuf.len, 0);
    h = cb_hash64(row->dx.ptr, row->dx.len, h);
    return cb_hash64(row->px.ptr, row->px.len, h) >> 1;
}

/* The stored record with row's key: *found 0 if there is none. */
static enum cb_err
find_record(struct cb_store *st, int64_t hid, const struct cb_store_row *row, int *found,
            int64_t *id, int64_t *hash, int64_t *file_id, struct cb_buf *err)
{
    sqlite3_stmt *s = cb__store_stmt(st, S_REC_FIND, err);
    int rc;

    if (!s)
        return CB_ERR_DB;
    sqlite3_bind_int64(s, 1, hid);
    bind_opt_text(s, 2, row->sval[CB_SC_BAH]);
    bind_icol(s, 3, row, CB_IC_ZYCS);
    rc = sqlite3_step(s);
    *found = rc == SQLITE_ROW;
    if (*found) {
        *id = sqlite3_column_int64(s, 0);
        *hash = sqlite3_column_int64(s, 1);
        *file_id = sqlite3_column_int64(s, 2);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return cb__store_fail(st, "cannot look up a record", err);
    return CB_OK;
}

/*
 * Stores one accepted record: new, a new version of a stored one (which
 * goes to record_history), unchanged, or a duplicate in this file.
 *
 * In bulk mode (inside a transaction) a new record waits to be inserted
 * with others (queue_record). Whether its key is new: in a hospital whose
 * records all came through this connection, a patient that
 * maybe_stored_before has not seen has no stay stored, so neither is this
 * key; else a look-up, after any waiting record of the patient is written.
 */
static enum cb_err
put_record(struct cb_store *st, int64_t file_id, const struct cb_store_row *row,
           enum cb_put_result *res, struct cb_buf *err)
{
    sqlite3_stmt *s;
    int64_t id, old_hash, old_file, hid;
    int all_ours, seen = 1, found, bulk = st->bulk && st->in_tx;
    enum cb_err rc;
    /* Bound as it is (SQLITE_STATIC): the row outlives every step below. */
    struct cb_str zdata = row->data;

    if ((rc = cb_store_hospital_ensure(st, row->sval[CB_SC_ZZJGDM],
                                       row->sval[CB_SC_JGMC], &hid, err)) ||
        (rc = note_hospital(st, hid, err)))
        return rc;
    /* The hospital's records all came through this connection. */
    all_ours = hid > 0 && (size_t)hid < st->ov_cap && st->ov_state[hid] == 1;
    if (all_ours)
        seen = maybe_stored_before(st, row);
    if (seen && st->nrec_wait && patient_waits(st, hid, row) &&
        (rc = cb__store_flush_records(st, err)))
        return rc;
    if (!zdata.ptr)
        zdata = cb_str_make("", 0); /* a blob, never NULL (record.data NOT NULL) */
    if (bulk) {
        if (seen && (rc = find_record(st, hid, row, &found, &id, &old_hash, &old_file, err)))
            return rc;
        if (!seen || !found) {
            *res = CB_PUT_INSERTED;
            return queue_record(st, file_id, hid, row, zdata, seen, err);
        }
    } else {
        if (!(s = cb__store_stmt(st, S_REC_INSERT, err)))
            return CB_ERR_DB;
        bind_record(s, 0, hid, row, file_id, zdata, 0);
        if ((rc = step_done(st, s, "cannot store record", err)))
            return rc;
        if (sqlite3_changes(st->db) == 1) {
            *res = CB_PUT_INSERTED;
            id = sqlite3_last_insert_rowid(st->db);
            return put_children(st, hid, id, row, seen, 1, err);
        }
        if ((rc = find_record(st, hid, row, &found, &id, &old_hash, &old_file, err)))
            return rc;
        if (!found)
            return cb__store_fail(st, "cannot find the stored version of a record", err);
    }

    /* The key exists: unchanged, a new version, or a duplicate in this file. */
    if (old_file == file_id) {
        *res = CB_PUT_DUPLICATE;
        return CB_OK;
    }
    if ((uint64_t)old_hash == row->hash ||
        (old_hash >= 0 && (row->hash & CB_STORE_HASH_V2) &&
         v1_hash(st, row) == (uint64_t)old_hash)) {
        /*
         * Record which file confirmed it last, so that a second row with
         * this key later in the same file is seen as a duplicate (QC-ID-02)
         * rather than as a new version.
         */
        if (!(s = cb__store_stmt(st, S_REC_TOUCH, err)))
            return CB_ERR_DB;
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_int64(s, 2, file_id);
        sqlite3_bind_int64(s, 3, (sqlite3_int64)row->line);
        if ((rc = step_done(st, s, "cannot update record", err)))
            return rc;
        *res = CB_PUT_UNCHANGED;
        /* A new scheme regroups on re-import; the fact follows. */
        if ((rc = cb__store_put_drg(st, id, row, err)))
            return rc;
        return cb__store_put_fact(st, id, hid, row, 0, err);
    }
    if (!(s = cb__store_stmt(st, S_REC_TO_HISTORY, err)))
        return CB_ERR_DB;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, file_id);
    if ((rc = step_done(st, s, "cannot keep the earlier version", err)))
        return rc;
    if ((rc = delete_children(st, id, err)))
        return rc;
    if (!(s = cb__store_stmt(st, S_REC_UPDATE, err)))
        return CB_ERR_DB;
    bind_record(s, 0, hid, row, file_id, zdata, id);
    if ((rc = step_done(st, s, "cannot replace record", err)))
        return rc;
    *res = CB_PUT_REPLACED;
    return put_children(st, hid, id, row, seen, 0, err);
}

/* The record key as one string: "zzjgdm\x1fbah\x1fzycs"; 0 if it does not fit. */
static size_t
row_key(const struct cb_store_row *row, char *buf, size_t n)
{
    static const int parts[3] = { CB_SC_ZZJGDM, CB_SC_BAH, CB_SC_ZYCS_TEXT };
    size_t k = 0;

    for (int i = 0; i < 3; i++) {
        struct cb_str v = row->sval[parts[i]];
        if (k + v.len + 1 >= n)
            return 0;
        if (i)
            buf[k++] = '\x1f';
        if (v.len)
            memcpy(buf + k, v.ptr, v.len);
        k += v.len;
    }
    return k;
}

enum cb_err
cb_store_put(struct cb_store *st, int64_t file_id,
             const struct cb_store_row *row, enum cb_put_result *res,
             struct cb_buf *err)
{
    char key[256];
    size_t kn = row->sval[CB_SC_BAH].len ? row_key(row, key, sizeof(key)) : 0;
    static const struct cb_store_issue dup = {
        "QC-ID-02", "E", "BAH", { NULL, 0 },
        { "the same (ZZJGDM, BAH, ZYCS) appears earlier in this file",
          sizeof("the same (ZZJGDM, BAH, ZYCS) appears earlier in this file") - 1 },
    };
    enum cb_err rc;

    /*
     * QC-ID-02 also covers a repeat of a key whose first occurrence in this
     * file was rejected: the set of keys rejected from this file (small: it
     * grows with the rejects, not the file) catches it.
     */
    if (file_id != st->keys_file) {
        cb_strmap_release(&st->rejected_keys);
        st->keys_file = file_id;
    }
    *res = CB_PUT_DUPLICATE;
    if (row->rejected) {
        if (kn && (rc = cb_strmap_put(&st->rejected_keys, cb_str_make(key, kn), 1)))
            return rc;
        return put_reject(st, file_id, row, NULL, err);
    }
    if (!kn || !cb_strmap_has(&st->rejected_keys, cb_str_make(key, kn))) {
        if ((rc = put_record(st, file_id, row, res, err)) || *res != CB_PUT_DUPLICATE)
            return rc;
    }
    {
        struct cb_store_issue d = dup;
        d.value = row->sval[CB_SC_BAH];
        return put_reject(st, file_id, row, &d, err);
    }
}

enum cb_err
cb_store_resolve_rejects(struct cb_store *st, int64_t file_id,
                         struct cb_buf *err)
{
    sqlite3_stmt *s;
    int ok;

    /* This file's records may still wait to be written. */
    if (cb__store_flush(st, err))
        return CB_ERR_DB;
    /*
     * Earlier files' rejects only, found through reject_file: "file_id <>
     * ?1" read every reject row, this file's included, and at the end of
     * an import those pages are no longer cached (drop-behind): 0.19 s of
     * disk reads after a 1M-row import with 2 % rejects, on one thread.
     */
    if (sqlite3_prepare_v2(st->db,
            "UPDATE reject SET status = 'resolved' WHERE status = 'open'"
            " AND (file_id < ?1 OR file_id > ?1) AND"
            " EXISTS (SELECT 1 FROM record r JOIN hospital h ON h.id = r.hospital_id"
            "  WHERE r.file_id = ?1 AND h.zzjgdm = reject.zzjgdm"
            "  AND r.bah = reject.bah AND CAST(r.zycs AS TEXT) = reject.zycs)",
            -1, &s, NULL) != SQLITE_OK)
        return cb__store_fail(st, "cannot resolve rejects", err);
    sqlite3_bind_int64(s, 1, file_id);
    ok = sqlite3_step(s) == SQLITE_DONE;
    sqlite3_finalize(s);
    return ok ? CB_OK : cb__store_fail(st, "cannot resolve rejects", err);
}

enum cb_err
cb_store_list_rejects(struct cb_store *st, const char *rule, const char *file,
                      int all, cb_store_row_fn fn, void *ctx,
                      struct cb_buf *err)
{
    sqlite3_stmt *s;
    const char *names[12], *values[12];
    int i, step, n;
    enum cb_err rc = CB_OK;

    if (sqlite3_prepare_v2(st->db,
            "SELECT f.name AS file, j.line, j.zzjgdm, j.bah, j.zycs, j.status,"
            " i.rule, i.severity, i.field, i.value, i.detail, j.raw"
            " FROM reject j JOIN import_file f ON f.id = j.file_id"
            " JOIN reject_issue i ON i.reject_id = j.id"
            " WHERE (?1 IS NULL OR i.rule = ?1)"
            " AND (?2 IS NULL OR f.name = ?2 OR f.path = ?2)"
            " AND (?3 OR j.status = 'open')"
            " ORDER BY j.file_id, j.line, i.rowid", -1, &s, NULL) != SQLITE_OK)
        return cb__store_fail(st, "cannot list rejects", err);
    if (rule)
        sqlite3_bind_text(s, 1, rule, -1, SQLITE_STATIC);
    if (file)
        sqlite3_bind_text(s, 2, file, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, all);
    n = sqlite3_column_count(s);
    for (i = 0; i < n; i++)
        names[i] = sqlite3_column_name(s, i);
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        for (i = 0; i < n; i++)
            values[i] = (const char *)sqlite3_column_text(s, i);
        if ((rc = fn(ctx, n, names, values)))
            break;
    }
    if (!rc && step != SQLITE_DONE)
        rc = cb__store_fail(st, "cannot list rejects", err);
    sqlite3_finalize(s);
    return rc;
}
