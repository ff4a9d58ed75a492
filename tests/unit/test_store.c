/*
 * test_store.c - the embedded database: migrations, records and their
 * versions, rejects, organisations.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "carebase/date.h"
#include "carebase/drg.h"
#include "carebase/engine.h"
#include "carebase/store.h"
#include "store/store_items.h"
#include "testutil.h"

static const char *
db_path(const char *name)
{
    static char p[512];
    snprintf(p, sizeof(p), "%s/%s", tu_tmpdir(), name);
    remove(p);
    return p;
}

static void
test_create_and_reopen(void **state)
{
    const char *p = db_path("a.db");
    struct cb_store *st;
    struct cb_buf err = CB_BUF_INIT;

    (void)state;
    assert_int_equal(cb_store_open(&st, p, &err), CB_OK);
    assert_int_equal(cb_store_schema_version(st), CB_SCHEMA_VERSION);
    cb_store_close(st);
    assert_int_equal(cb_store_open(&st, p, &err), CB_OK);
    cb_store_close(st);
    assert_int_equal(tu_sql_int(p, "PRAGMA user_version"), CB_SCHEMA_VERSION);
    cb_buf_release(&err);
}

static void
test_newer_schema_refused(void **state)
{
    const char *p = db_path("new.db");
    struct cb_store *st;
    struct cb_buf err = CB_BUF_INIT;
    sqlite3 *db;

    (void)state;
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(cb_store_open(&st, p, &err), CB_ERR_SCHEMA);
    assert_null(st);
    assert_non_null(strstr(cb_buf_cstr(&err), "schema version 99"));
    assert_non_null(strstr(cb_buf_cstr(&err), "newer"));
    cb_buf_release(&err);
}

static struct cb_fp *
record(const char *bah, const char *zycs, const char *jbdm)
{
    struct cb_fp *r = calloc(1, sizeof(*r));
    r->v[CB_F_ZZJGDM] = cb_str_c("12345678-9");
    r->v[CB_F_BAH] = cb_str_c(bah);
    r->v[CB_F_ZYCS] = cb_str_c(zycs);
    r->v[CB_F_JBDM] = cb_str_c(jbdm);
    r->v[CB_F_CYSJ] = cb_str_c("2024-05-01 10:00:00");
    r->v[cb_fp_dx(1, CB_DX_CODE)] = cb_str_c("I10.x00");
    r->v[cb_fp_px(1, CB_PX_CODE)] = cb_str_c("36.0601");
    cb_fp_parse(r);
    return r;
}

/* Encodes r as an accepted row and stores it. */
static enum cb_err
put(struct cb_store *st, struct cb_fp *r, int64_t file_id, uint64_t line,
    enum cb_put_result *res, struct cb_buf *err)
{
    struct cb_store_row row;
    struct cb_qc_result qres;
    struct cb_arena a;
    struct cb_store_encoder *enc;
    enum cb_err rc;

    memset(&qres, 0, sizeof(qres));
    cb_arena_init(&a, 4096);
    assert_int_equal(cb_store_encoder_new(&enc), CB_OK);
    rc = cb_store_row_encode(&row, r, NULL, &qres, cb_str_c("raw,line"), line, &a, enc);
    if (!rc)
        rc = cb_store_put(st, file_id, &row, res, err);
    cb_arena_release(&a);
    cb_store_encoder_free(enc);
    return rc;
}

static enum cb_err
first_value(void *ctx, int ncols, const char *const *names,
            const char *const *values)
{
    (void)ncols;
    (void)names;
    snprintf(ctx, 256, "%s", values[0] ? values[0] : "(null)");
    return CB_OK;
}

/* A query through the store, where fp_data() exists. */
static const char *
store_scalar(const char *path, const char *sql)
{
    static char out[256];
    struct cb_store *st;
    struct cb_buf err = CB_BUF_INIT;

    out[0] = '\0';
    assert_int_equal(cb_store_open(&st, path, &err), CB_OK);
    if (cb_store_query(st, sql, first_value, out, &err) != CB_OK)
        fail_msg("%s: %s", sql, cb_buf_cstr(&err));
    cb_store_close(st);
    cb_buf_release(&err);
    return out;
}

static void
test_put_insert_unchanged_replace_duplicate(void **state)
{
    const char *p = db_path("rec.db");
    struct cb_store *st;
    struct cb_buf err = CB_BUF_INIT;
    struct cb_fp *r1 = record("B1", "1", "I21.000"), *r2 = record("B1", "1", "I21.100");
    enum cb_put_result res;
    int64_t hid;

    (void)state;
    assert_int_equal(cb_store_open(&st, p, &err), CB_OK);
    {
        struct cb_import_file f = { "/x/a.csv", "a.csv", 10, "western", "utf-8", "csv" };
        int64_t fid;
        int k;
        for (k = 1; k <= 3; k++) {
            assert_int_equal(cb_store_file_begin(st, &f, &fid, &err), CB_OK);
            assert_int_equal(fid, k);
        }
    }
    assert_int_equal(cb_store_begin(st, &err), CB_OK);
    assert_int_equal(cb_store_hospital_ensure(st, r1->v[CB_F_ZZJGDM], cb_str_c("某医院"),
                                              &hid, &err), CB_OK);
    assert_int_equal(put(st, r1, 1, 2, &res, &err), CB_OK);
    assert_int_equal(res, CB_PUT_INSERTED);
    /* Same key again from the same file: a duplicate within the file. */
    assert_int_equal(put(st, r1, 1, 3, &res, &err), CB_OK);
    assert_int_equal(res, CB_PUT_DUPLICATE);
    /* Same content from another file: unchanged. */
    assert_int_equal(put(st, r1, 2, 2, &res, &err), CB_OK);
    assert_int_equal(res, CB_PUT_UNCHANGED);
    /* Corrected content: replaced, the earlier version kept. */
    assert_int_equal(put(st, r2, 3, 2, &res, &err), CB_OK);
    assert_int_equal(res, CB_PUT_REPLACED);
    assert_int_equal(cb_store_commit(st, &err), CB_OK);
    cb_store_close(st);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM reject WHERE line = 3"), 1);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM reject_issue WHERE rule = 'QC-ID-02'"), 1);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM record"), 1);
    assert_int_equal(tu_sql_int(p, "SELECT version FROM record"), 2);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM record_history"), 1);
    assert_string_equal(store_scalar(p, "SELECT json_extract(fp_data(data), '$.JBDM')"
                                        " FROM record_history"), "I21.000");
    assert_string_equal(store_scalar(p, "SELECT json_extract(fp_data(data), '$.JBDM')"
                                        " FROM record"), "I21.100");
    /* The payload is compressed, not plain JSON. */
    assert_int_equal(tu_sql_int(p, "SELECT typeof(data) = 'blob' FROM record"), 1);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM record_dx"), 2);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM record_dx WHERE seq = 0 AND code = 'I21.100'"), 1);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM record_px WHERE seq = 1"), 1);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM record_dx WHERE seq = 1 AND code = 'I10.x00'"), 1);
    free(r1);
    free(r2);
    cb_buf_release(&err);
}

static void
test_rollback_leaves_nothing(void **state)
{
    const char *p = db_path("rb.db");
    struct cb_store *st;
    struct cb_buf err = CB_BUF_INIT;
    struct cb_fp *r = record("B9", "1", "J18.900");
    enum cb_put_result res;
    int64_t hid;

    (void)state;
    assert_int_equal(cb_store_open(&st, p, &err), CB_OK);
    assert_int_equal(cb_store_begin(st, &err), CB_OK);
    assert_int_equal(cb_store_hospital_ensure(st, r->v[CB_F_ZZJGDM], CB_STR_NULL, &hid, &err), CB_OK);
    assert_int_equal(put(st, r, 1, 2, &res, &err), CB_OK);
    cb_store_rollback(st);
    /* The hospital cache must not keep the rolled-back id. */
    assert_int_equal(cb_store_begin(st, &err), CB_OK);
    assert_int_equal(cb_store_hospital_ensure(st, r->v[CB_F_ZZJGDM], CB_STR_NULL, &hid, &err), CB_OK);
    assert_int_equal(put(st, r, 1, 2, &res, &err), CB_OK);
    assert_int_equal(res, CB_PUT_INSERTED);
    assert_int_equal(cb_store_commit(st, &err), CB_OK);
    cb_store_close(st);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM hospital"), 1);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM record r JOIN hospital h ON h.id = r.hospital_id"), 1);
    free(r);
    cb_buf_release(&err);
}

static void
test_orgs(void **state)
{
    const char *p = db_path("org.db");
    struct cb_store *st;
    struct cb_buf err = CB_BUF_INIT;

    (void)state;
    assert_int_equal(cb_store_open(&st, p, &err), CB_OK);
    assert_int_equal(cb_store_group_set(st, "consortium", "YLT1", "某市医联体", &err), CB_OK);
    assert_int_equal(cb_store_group_set(st, "region", "R1", "某区", &err), CB_OK);
    assert_int_equal(cb_store_hospital_set(st, "H1", "中心医院", "三级", &err), CB_OK);
    assert_int_equal(cb_store_hospital_set(st, "H1", NULL, "二级", &err), CB_OK);
    assert_int_equal(cb_store_group_member(st, "YLT1", "H1", 0, &err), CB_OK);
    assert_int_equal(cb_store_group_member(st, "R1", "H1", 0, &err), CB_OK);
    assert_int_equal(cb_store_group_member(st, "YLT1", "H1", 0, &err), CB_OK);
    assert_int_equal(cb_store_group_member(st, "NOPE", "H1", 0, &err), CB_ERR_NOT_FOUND);
    cb_buf_reset(&err);
    assert_int_equal(cb_store_hospital_set(st, "H2", "x", "四级", &err), CB_ERR_USAGE);
    assert_int_equal(cb_store_group_set(st, "planet", "P", "x", &err), CB_ERR_USAGE);
    cb_store_close(st);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM org_member"), 2);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM hospital WHERE name = '中心医院' AND level = '二级'"), 1);
    cb_buf_release(&err);
}

static void
test_overlapping_stays_warned(void **state)
{
    const char *p = db_path("ov.db");
    struct cb_store *st;
    struct cb_buf err = CB_BUF_INIT;
    struct cb_fp *a = record("P1", "1", "J18.900"), *b = record("P1", "2", "J18.900"),
                 *c = record("P1", "3", "J18.900");
    struct cb_import_file f = { "/x/a.csv", "a.csv", 10, "western", "utf-8", "csv" };
    enum cb_put_result res;
    int64_t fid;
    uint64_t n, first;

    (void)state;
    /* Stay 1: 1 to 10 May; stay 2 overlaps it (8 to 12 May); stay 3 does not. */
    a->v[CB_F_RYSJ] = cb_str_c("2024-05-01 08:00:00");
    a->v[CB_F_CYSJ] = cb_str_c("2024-05-10 10:00:00");
    b->v[CB_F_RYSJ] = cb_str_c("2024-05-08 08:00:00");
    b->v[CB_F_CYSJ] = cb_str_c("2024-05-12 10:00:00");
    c->v[CB_F_RYSJ] = cb_str_c("2024-06-01 08:00:00");
    c->v[CB_F_CYSJ] = cb_str_c("2024-06-03 10:00:00");
    cb_fp_parse(a);
    cb_fp_parse(b);
    cb_fp_parse(c);
    assert_int_equal(cb_store_open(&st, p, &err), CB_OK);
    assert_int_equal(cb_store_file_begin(st, &f, &fid, &err), CB_OK);
    assert_int_equal(cb_store_begin(st, &err), CB_OK);
    assert_int_equal(put(st, a, fid, 2, &res, &err), CB_OK);
    assert_int_equal(put(st, b, fid, 3, &res, &err), CB_OK);
    assert_int_equal(put(st, c, fid, 4, &res, &err), CB_OK);
    assert_int_equal(cb_store_commit(st, &err), CB_OK);
    cb_store_overlap_counts(st, &n, &first);
    assert_int_equal(n, 1);
    assert_int_equal(first, 1);
    cb_store_close(st);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM record_warning w JOIN record r"
                               " ON r.id = w.record_id WHERE w.rule = 'QC-ID-03' AND r.zycs = 2"), 1);
    assert_int_equal(tu_sql_int(p, "SELECT n_warnings FROM record WHERE zycs = 2"), 1);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM record_warning"), 1);
    free(a);
    free(b);
    free(c);
    cb_buf_release(&err);
}

/* Sets the stay of r to [from, to] (dates in May 2024) and parses it. */
static void
stay(struct cb_fp *r, const char *from, const char *to)
{
    r->v[CB_F_RYSJ] = cb_str_c(from);
    r->v[CB_F_CYSJ] = cb_str_c(to);
    cb_fp_parse(r);
}

/*
 * The store skips the overlap query for patients it has not stored before
 * in a hospital that had no records before it: a stay stored by another
 * connection meanwhile, or before this one opened, must still be found.
 */
static void
test_overlap_across_connections(void **state)
{
    const char *p = db_path("ov2.db");
    struct cb_store *st1, *st2;
    struct cb_buf err = CB_BUF_INIT;
    struct cb_fp *e1 = record("E", "1", "J18.900"), *d1 = record("D", "1", "J18.900"),
                 *d2 = record("D", "2", "J18.900"), *g1 = record("G", "1", "J18.900"),
                 *g2 = record("G", "2", "J18.900");
    struct cb_import_file f = { "/x/a.csv", "a.csv", 10, "western", "utf-8", "csv" };
    enum cb_put_result res;
    int64_t fid1, fid2;

    (void)state;
    stay(e1, "2024-05-01 08:00:00", "2024-05-10 10:00:00");
    stay(d1, "2024-05-01 08:00:00", "2024-05-10 10:00:00");
    stay(d2, "2024-05-08 08:00:00", "2024-05-12 10:00:00");
    stay(g1, "2024-05-01 08:00:00", "2024-05-10 10:00:00");
    stay(g2, "2024-05-08 08:00:00", "2024-05-12 10:00:00");
    /* st1 stores the hospital's first record: the hospital is new to it. */
    assert_int_equal(cb_store_open(&st1, p, &err), CB_OK);
    assert_int_equal(cb_store_file_begin(st1, &f, &fid1, &err), CB_OK);
    assert_int_equal(cb_store_begin(st1, &err), CB_OK);
    assert_int_equal(put(st1, e1, fid1, 2, &res, &err), CB_OK);
    assert_int_equal(cb_store_commit(st1, &err), CB_OK);
    /* Another connection stores D's first stay and G's. */
    assert_int_equal(cb_store_open(&st2, p, &err), CB_OK);
    assert_int_equal(cb_store_file_begin(st2, &f, &fid2, &err), CB_OK);
    assert_int_equal(cb_store_begin(st2, &err), CB_OK);
    assert_int_equal(put(st2, d1, fid2, 2, &res, &err), CB_OK);
    assert_int_equal(put(st2, g1, fid2, 3, &res, &err), CB_OK);
    assert_int_equal(cb_store_commit(st2, &err), CB_OK);
    cb_store_close(st2);
    /* st1 stores D's second stay, which overlaps the first. */
    assert_int_equal(cb_store_begin(st1, &err), CB_OK);
    assert_int_equal(put(st1, d2, fid1, 3, &res, &err), CB_OK);
    assert_int_equal(res, CB_PUT_INSERTED);
    assert_int_equal(cb_store_commit(st1, &err), CB_OK);
    cb_store_close(st1);
    /* A new connection finds the hospital with records: G's stays overlap. */
    assert_int_equal(cb_store_open(&st1, p, &err), CB_OK);
    assert_int_equal(cb_store_begin(st1, &err), CB_OK);
    assert_int_equal(put(st1, g2, fid1, 4, &res, &err), CB_OK);
    assert_int_equal(cb_store_commit(st1, &err), CB_OK);
    cb_store_close(st1);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM record_warning w JOIN record r"
                               " ON r.id = w.record_id WHERE w.rule = 'QC-ID-03'"
                               " AND r.zycs = 2 AND r.bah IN ('D', 'G')"), 2);
    free(e1);
    free(d1);
    free(d2);
    free(g1);
    free(g2);
    cb_buf_release(&err);
}

/*
 * Bulk mode, the first import of a hospital: its new patients skip the
 * overlap query (the patient filter). A returning patient (an overlapping
 * stay, a repeated key, a second file) must still see the stays stored
 * before, and ids follow the order of the records.
 */
static void
test_bulk_new_patients(void **state)
{
    const char *p = db_path("bulk.db");
    struct cb_store *st;
    struct cb_buf err = CB_BUF_INIT;
    struct cb_import_file f = { "/x/a.csv", "a.csv", 10, "western", "utf-8", "csv" };
    enum cb_put_result res;
    int64_t fid1, fid2;
    char bah[16];
    struct cb_fp *r;
    int i;

    (void)state;
    assert_int_equal(cb_store_open(&st, p, &err), CB_OK);
    assert_int_equal(cb_store_bulk_begin(st, &err), CB_OK);
    assert_int_equal(cb_store_file_begin(st, &f, &fid1, &err), CB_OK);
    assert_int_equal(cb_store_begin(st, &err), CB_OK);
    for (i = 0; i < 70; i++) {  /* a full batch and a part one */
        snprintf(bah, sizeof(bah), "P%d", i);
        r = record(bah, "1", "J18.900");
        stay(r, "2024-05-01 08:00:00", "2024-05-10 10:00:00");
        assert_int_equal(put(st, r, fid1, (uint64_t)i + 2, &res, &err), CB_OK);
        assert_int_equal(res, CB_PUT_INSERTED);
        free(r);
    }
    r = record("P3", "2", "J18.900");  /* overlaps P3's first stay, still waiting */
    stay(r, "2024-05-08 08:00:00", "2024-05-12 10:00:00");
    assert_int_equal(put(st, r, fid1, 80, &res, &err), CB_OK);
    assert_int_equal(res, CB_PUT_INSERTED);
    free(r);
    r = record("P68", "1", "J18.900");  /* the same key again in this file */
    stay(r, "2024-05-01 08:00:00", "2024-05-10 10:00:00");
    assert_int_equal(put(st, r, fid1, 81, &res, &err), CB_OK);
    assert_int_equal(res, CB_PUT_DUPLICATE);
    free(r);
    r = record("Q1", "1", "J18.900");
    assert_int_equal(put(st, r, fid1, 82, &res, &err), CB_OK);
    assert_int_equal(res, CB_PUT_INSERTED);
    free(r);
    assert_int_equal(cb_store_commit(st, &err), CB_OK);
    /* A second file on the same connection: unchanged, a new stay, new patients. */
    assert_int_equal(cb_store_file_begin(st, &f, &fid2, &err), CB_OK);
    assert_int_equal(cb_store_begin(st, &err), CB_OK);
    r = record("P0", "1", "J18.900");
    stay(r, "2024-05-01 08:00:00", "2024-05-10 10:00:00");
    assert_int_equal(put(st, r, fid2, 2, &res, &err), CB_OK);
    assert_int_equal(res, CB_PUT_UNCHANGED);
    free(r);
    r = record("R1", "1", "J18.900");
    assert_int_equal(put(st, r, fid2, 3, &res, &err), CB_OK);
    assert_int_equal(res, CB_PUT_INSERTED);
    free(r);
    r = record("P0", "2", "J18.900");  /* overlaps P0's first stay */
    stay(r, "2024-05-09 08:00:00", "2024-05-11 10:00:00");
    assert_int_equal(put(st, r, fid2, 4, &res, &err), CB_OK);
    assert_int_equal(res, CB_PUT_INSERTED);
    free(r);
    r = record("R2", "1", "J18.900");
    assert_int_equal(put(st, r, fid2, 5, &res, &err), CB_OK);
    free(r);
    assert_int_equal(cb_store_commit(st, &err), CB_OK);
    cb_store_bulk_end(st);
    cb_store_close(st);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM record"), 75);
    /* ids in the order the records came, as one INSERT each would give */
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM record WHERE bah = 'P' || (id - 1)"
                               " AND zycs = 1"), 70);
    assert_int_equal(tu_sql_int(p, "SELECT id FROM record WHERE bah = 'P3' AND zycs = 2"), 71);
    assert_int_equal(tu_sql_int(p, "SELECT id FROM record WHERE bah = 'Q1'"), 72);
    assert_int_equal(tu_sql_int(p, "SELECT id FROM record WHERE bah = 'R1'"), 73);
    assert_int_equal(tu_sql_int(p, "SELECT id FROM record WHERE bah = 'P0' AND zycs = 2"), 74);
    assert_int_equal(tu_sql_int(p, "SELECT id FROM record WHERE bah = 'R2'"), 75);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM record_warning w JOIN record r"
                               " ON r.id = w.record_id WHERE w.rule = 'QC-ID-03' AND r.zycs = 2"
                               " AND r.bah IN ('P3', 'P0')"), 2);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM record_warning"), 2);
    assert_int_equal(tu_sql_int(p, "SELECT sum(n_warnings) FROM record"), 2);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM reject_issue WHERE rule = 'QC-ID-02'"), 1);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM record WHERE length(data) > 0"
                               " AND dx IS NOT NULL AND px IS NOT NULL"), 75);
    cb_buf_release(&err);
}

/* The size of the WAL file of database p, in pages of 16 KiB (rounded up). */
static long
wal_pages(const char *p)
{
    char w[4096];
    struct stat sb;

    if ((size_t)snprintf(w, sizeof w, "%s-wal", p) >= sizeof w)
        return -1;
    return stat(w, &sb) ? 0 : (long)((sb.st_size + 16383) / 16384);
}

/*
 * Bulk mode: past its limit, a commit waits for the checkpointer, so the
 * next transaction writes the log from its start again: the log file stays
 * near the limit. With no limit in reach it grows with the data.
 */
static void
test_bulk_wal_restarts(void **state)
{
    struct cb_import_file f = { "/x/a.csv", "a.csv", 10, "western", "utf-8", "csv" };
    struct cb_buf err = CB_BUF_INIT;
    long pages[2];

    (void)state;
    for (int k = 0; k < 2; k++) {
        const char *p = db_path(k ? "walbig.db" : "walwrap.db");
        struct cb_store *st;
        enum cb_put_result res;
        int64_t fid;
        char bah[16];

        assert_int_equal(cb_store_open(&st, p, &err), CB_OK);
        cb_store_set_wal_limit(st, k ? 1000000 : 40);
        assert_int_equal(cb_store_bulk_begin(st, &err), CB_OK);
        assert_int_equal(cb_store_file_begin(st, &f, &fid, &err), CB_OK);
        pages[k] = 0;
        for (int c = 0; c < 60; c++) {      /* 60 commits of 40 records */
            assert_int_equal(cb_store_begin(st, &err), CB_OK);
            for (int i = 0; i < 40; i++) {
                struct cb_fp *r;
                snprintf(bah, sizeof(bah), "W%d", c * 40 + i);
                r = record(bah, "1", "J18.900");
                assert_int_equal(put(st, r, fid, (uint64_t)(c * 40 + i) + 2, &res, &err),
                                 CB_OK);
                free(r);
            }
            assert_int_equal(cb_store_commit(st, &err), CB_OK);
            if (wal_pages(p) > pages[k])
                pages[k] = wal_pages(p);
        }
        cb_store_bulk_end(st);
        cb_store_close(st);
        assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM record"), 2400);
    }
    /* a commit of 40 records is a few pages: the log stays under twice the
       limit with it, and grows well past that without */
    print_message("log pages: %ld with a limit of 40, %ld without\n", pages[0], pages[1]);
    if (pages[0] > 80 || pages[1] < 2 * pages[0])
        fail_msg("log pages: %ld with a limit of 40, %ld without", pages[0], pages[1]);
    cb_buf_release(&err);
}

/* Bulk mode turns foreign keys off for its connection, and back on. */
static void
test_bulk_mode_foreign_keys(void **state)
{
    const char *p = db_path("fk.db");
    struct cb_store *st;
    struct cb_buf err = CB_BUF_INIT;
    char v[256];

    (void)state;
    assert_int_equal(cb_store_open(&st, p, &err), CB_OK);
    assert_int_equal(cb_store_query(st, "PRAGMA foreign_keys", first_value, v, &err), CB_OK);
    assert_string_equal(v, "1");
    assert_int_equal(cb_store_bulk_begin(st, &err), CB_OK);
    assert_int_equal(cb_store_query(st, "PRAGMA foreign_keys", first_value, v, &err), CB_OK);
    assert_string_equal(v, "0");
    cb_store_bulk_end(st);
    assert_int_equal(cb_store_query(st, "PRAGMA foreign_keys", first_value, v, &err), CB_OK);
    assert_string_equal(v, "1");
    cb_store_close(st);
    cb_buf_release(&err);
}

static void
test_query_is_read_only(void **state)
{
    const char *p = db_path("ro.db");
    struct cb_store *st;
    struct cb_buf err = CB_BUF_INIT;
    char out[256];

    (void)state;
    assert_int_equal(cb_store_open(&st, p, &err), CB_OK);
    assert_int_equal(cb_store_query(st, "DELETE FROM hospital", first_value, out, &err),
                     CB_ERR_USAGE);
    assert_int_equal(cb_store_query(st, "SELECT fp_data('plain')", first_value, out, &err),
                     CB_OK);
    assert_string_equal(out, "plain");
    assert_int_not_equal(cb_store_query(st, "SELECT fp_data(x'28b52ffd00')", first_value,
                                        out, &err), CB_OK);
    cb_store_close(st);
    cb_buf_release(&err);
}

/* ---- schema v2: DRG results -------------------------------------------- */

static struct cb_drg_scheme *g_chs, *g_bj;

static int
load_schemes(void **state)
{
    struct cb_buf err = CB_BUF_INIT;
    struct cb_drg_load_opts lo = { false, true, false };

    (void)state;
    if (cb_drg_scheme_load(tu_shared("data/chs-drg-1.1"), &lo, &g_chs, &err) != CB_OK ||
        cb_drg_scheme_load(tu_shared("data/bj-drg-2022"), &lo, &g_bj, &err) != CB_OK) {
        fprintf(stderr, "cannot load the DRG schemes: %s\n", cb_buf_cstr(&err));
        cb_buf_release(&err);
        return -1;
    }
    cb_buf_release(&err);
    return 0;
}

static int
free_schemes(void **state)
{
    (void)state;
    cb_drg_scheme_free(g_chs);
    cb_drg_scheme_free(g_bj);
    return 0;
}

static void
exec_sql(const char *path, const char *sql)
{
    sqlite3 *db;
    char *msg = NULL;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    sqlite3_close(db);
}

/*
 * A version 1 database (the v1 tables, user_version 1, a record in it)
 * upgrades in place when opened: the DRG tables (v2), the fact and
 * reference tables (v3), the accounts of the server (v4) and the HL7
 * journal (v6) appear, the record stays.
 */
static void
test_migrate_v1_to_v2(void **state)
{
    const char *p = db_path("v1.db");
    struct cb_store *st;
    struct cb_buf err = CB_BUF_INIT;
    struct cb_fp *r = record("M1", "1", "J18.900");
    enum cb_put_result res;

    (void)state;
    assert_int_equal(cb_store_open(&st, p, &err), CB_OK);
    assert_int_equal(cb_store_begin(st, &err), CB_OK);
    assert_int_equal(put(st, r, 1, 2, &res, &err), CB_OK);
    assert_int_equal(cb_store_commit(st, &err), CB_OK);
    cb_store_close(st);
    /* Back to exactly the version 1 schema. */
    exec_sql(p, "DROP VIEW drg_result; DROP TABLE drg_outcome; DROP TABLE fact_change;"
                "DROP TABLE drg_scheme_use; DROP TABLE drg_scheme;"
                "DROP TABLE fact; DROP TABLE dim_dept; DROP TABLE dim_doctor;"
                "DROP TABLE dim_drg; DROP TABLE reference_drg; DROP TABLE reference;"
                "DROP TABLE session; DROP TABLE audit; DROP TABLE user;"
                "DROP TABLE hl7_message;"
                "DELETE FROM meta WHERE key = 'fact_gen';"
                "PRAGMA user_version = 1;");
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'drg%'"), 0);
    assert_int_equal(tu_sql_int(p, "PRAGMA user_version"), 1);

    assert_int_equal(cb_store_open(&st, p, &err), CB_OK);
    assert_int_equal(cb_store_schema_version(st), CB_SCHEMA_VERSION);
    cb_store_close(st);
    assert_int_equal(tu_sql_int(p, "PRAGMA user_version"), CB_SCHEMA_VERSION);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                               " AND name IN ('fact', 'dim_dept', 'dim_doctor', 'dim_drg',"
                               " 'reference', 'reference_drg')"), 6);
    assert_int_equal(tu_sql_int(p, "SELECT value FROM meta WHERE key = 'fact_gen'"), 0);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                               " AND name IN ('user', 'session', 'audit')"), 3);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                               " AND name = 'hl7_message'"), 1);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                               " AND name IN ('drg_scheme', 'drg_scheme_use', 'drg_outcome')"), 3);
    /* v9: results live in the fact; drg_result is a view of them. */
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM sqlite_master WHERE type = 'view'"
                               " AND name = 'drg_result'"), 1);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
                               " AND name IN ('drg_result_drg', 'drg_result_scheme')"), 0);
    /* v7: record's index on (hospital_id, cy_day) goes too. */
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
                               " AND tbl_name = 'record'"), 1);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM record WHERE bah = 'M1'"), 1);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM drg_result"), 0);
    /* The upgraded database takes results. */
    exec_sql(p, "INSERT INTO drg_scheme(scheme, digest, path) VALUES ('x', 'd', '/x');"
                "INSERT INTO drg_outcome(scheme_id, status) VALUES (1, 'SUCCESS');"
                "INSERT INTO fact(record_id, hospital_id, dept_id, doctor_id, cy_day, los,"
                " zfy, drug, material, flags, cohorts, drg_id, gen, drg_outcome, grouped_at)"
                " SELECT id, hospital_id, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0 FROM record;");
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM drg_result WHERE status = 'SUCCESS'"
                               " AND grouped_at = '1970-01-01T00:00:00Z'"), 1);
    free(r);
    cb_buf_release(&err);
}

/* A record the schemes' input checks accept (sex, age, stay, leaving). */
static struct cb_fp *
grouping_record(const char *bah)
{
    struct cb_fp *r = record(bah, "1", "I21.900");

    /* CHS-DRG 1.1: MDCF / FM1 / FM19 */
    r->v[cb_fp_px(1, CB_PX_CODE)] = cb_str_c("36.0700");
    r->v[CB_F_XB] = cb_str_c("1");
    r->v[CB_F_NL] = cb_str_c("60");
    r->v[CB_F_SJZYTS] = cb_str_c("8");
    r->v[CB_F_LYFS] = cb_str_c("1");
    cb_fp_parse(r);
    return r;
}

static int64_t
day(int y, int m, int d)
{
    return cb_days_from_civil(y, m, d);
}

static int64_t
use_id_of(const struct cb_store_drg_chooser *c, struct cb_str hosp, int has_day,
          int64_t d, int64_t *scheme)
{
    int u = cb_store_drg_chooser_pick(c, hosp, has_day, d);
    *scheme = cb_store_drg_chooser_use_scheme(c, u);
    return u;
}

/*
 * The choice: a region's use beats a national one, then the latest
 * valid_from, then the highest id; dates bound it; no date matches only
 * open uses.
 */
static void
test_drg_choice(void **state)
{
    const char *p = db_path("choice.db");
    struct cb_store *st;
    struct cb_store_drg_chooser *c;
    struct cb_buf err = CB_BUF_INIT;
    int64_t chs, bj, chs2, u_nat, u_bj, u_bj2, u_late, u, sid, from, to;
    int created;
    struct cb_str h1 = cb_str_c("H1"), h2 = cb_str_c("H2"), h3 = cb_str_c("H3");

    (void)state;
    assert_int_equal(cb_store_open(&st, p, &err), CB_OK);
    assert_int_equal(cb_store_group_set(st, "region", "BJ", "北京", &err), CB_OK);
    assert_int_equal(cb_store_group_set(st, "consortium", "YLT", "医联体", &err), CB_OK);
    assert_int_equal(cb_store_hospital_set(st, "H1", "一院", NULL, &err), CB_OK);
    assert_int_equal(cb_store_hospital_set(st, "H2", "二院", NULL, &err), CB_OK);
    assert_int_equal(cb_store_hospital_set(st, "H3", "三院", NULL, &err), CB_OK);
    assert_int_equal(cb_store_group_member(st, "BJ", "H1", 0, &err), CB_OK);
    assert_int_equal(cb_store_group_member(st, "YLT", "H2", 0, &err), CB_OK);

    assert_int_equal(cb_store_drg_scheme_put(st, g_chs, &chs, &created, &err), CB_OK);
    assert_true(created);
    assert_int_equal(cb_store_drg_scheme_put(st, g_chs, &sid, &created, &err), CB_OK);
    assert_false(created);
    assert_int_equal(sid, chs);
    assert_int_equal(cb_store_drg_scheme_put(st, g_bj, &bj, NULL, &err), CB_OK);
    assert_int_not_equal(bj, chs);

    /* Errors: unknown region (a consortium is not a region), empty range. */
    from = day(2022, 1, 1);
    to = day(2021, 1, 1);
    assert_int_equal(cb_store_drg_use_add(st, bj, "NOPE", NULL, NULL, &u, &err), CB_ERR_NOT_FOUND);
    assert_int_equal(cb_store_drg_use_add(st, bj, "YLT", NULL, NULL, &u, &err), CB_ERR_NOT_FOUND);
    assert_int_equal(cb_store_drg_use_add(st, bj, NULL, &from, &to, &u, &err), CB_ERR_USAGE);
    assert_int_equal(cb_store_drg_use_add(st, 999, NULL, NULL, NULL, &u, &err), CB_ERR_NOT_FOUND);
    cb_buf_reset(&err);

    /* No uses: nothing is chosen. */
    assert_int_equal(cb_store_drg_chooser_new(st, &c, &err), CB_OK);
    assert_int_equal(cb_store_drg_chooser_nuses(c), 0);
    assert_int_equal(cb_store_drg_chooser_pick(c, h1, 1, day(2023, 1, 1)), -1);
    cb_store_drg_chooser_free(c);

    assert_int_equal(cb_store_drg_use_add(st, chs, NULL, NULL, NULL, &u_nat, &err), CB_OK);
    from = day(2022, 1, 1);
    /* By name; the same use twice is one use. */
    assert_int_equal(cb_store_drg_use_add(st, bj, "北京", &from, NULL, &u_bj, &err), CB_OK);
    assert_int_equal(cb_store_drg_use_add(st, bj, "BJ", &from, NULL, &u, &err), CB_OK);
    assert_int_equal(u, u_bj);
    /* An older regional use: loses to the later valid_from. */
    from = day(2020, 1, 1);
    to = day(2023, 12, 31);
    assert_int_equal(cb_store_drg_use_add(st, chs, "BJ", &from, &to, &u_bj2, &err), CB_OK);
    /* A national use from 2024: beats the open national one, not the region. */
    from = day(2024, 1, 1);
    assert_int_equal(cb_store_drg_use_add(st, bj, NULL, &from, NULL, &u_late, &err), CB_OK);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM drg_scheme_use"), 4);

    assert_int_equal(cb_store_drg_chooser_new(st, &c, &err), CB_OK);
    assert_int_equal(cb_store_drg_chooser_nuses(c), 4);
    assert_int_equal(cb_store_drg_chooser_nschemes(c), 2);
#define PICKS(h, hd, d, want_scheme) do { \
        int64_t s_; \
        (void)use_id_of(c, (h), (hd), (d), &s_); \
        assert_int_equal(s_, (want_scheme)); \
    } while (0)
    /* H1 is in BJ: the latest regional use that covers the date. */
    PICKS(h1, 1, day(2022, 6, 1), bj);
    PICKS(h1, 1, day(2021, 6, 1), chs);          /* only u_bj2 covers it */
    PICKS(h1, 1, day(2019, 6, 1), chs);          /* national, open */
    PICKS(h1, 1, day(2025, 6, 1), bj);           /* region beats national 2024.. */
    /* H2 (a consortium member only) and H3 (in nothing) are national. */
    PICKS(h2, 1, day(2022, 6, 1), chs);
    PICKS(h2, 1, day(2024, 1, 1), bj);           /* first day of u_late */
    PICKS(h2, 1, day(2023, 12, 31), chs);
    PICKS(h3, 1, day(2030, 1, 1), bj);
    PICKS(cb_str_c("UNKNOWN"), 1, day(2020, 1, 1), chs);
    /* Without a discharge day only the open use applies. */
    PICKS(h1, 0, 0, chs);
    /* The recorded choice says why. */
    {
        struct cb_fp *r = grouping_record("C1");
        struct cb_store_drg d;

        r->v[CB_F_ZZJGDM] = h1;
        r->v[CB_F_CYSJ] = cb_str_c("2022-06-01 10:00:00");
        cb_fp_parse(r);
        assert_int_equal(cb_store_drg_chooser_group(c, r, CB_DRG_TR_CODES, &d, &err), CB_OK);
        assert_int_equal(d.scheme_id, bj);
        assert_string_equal(d.choice, "region 北京 2022-01-01..");
        r->v[CB_F_ZZJGDM] = h3;
        r->v[CB_F_CYSJ] = cb_str_c("2020-06-01 10:00:00");
        cb_fp_parse(r);
        assert_int_equal(cb_store_drg_chooser_group(c, r, CB_DRG_TR_CODES, &d, &err), CB_OK);
        assert_int_equal(d.scheme_id, chs);
        assert_string_equal(d.choice, "default");
        assert_int_equal(d.status, CB_DRG_SUCCESS);
        assert_string_equal(d.mdc, "MDCF");
        r->v[CB_F_CYSJ] = cb_str_c("2024-02-01 10:00:00");
        cb_fp_parse(r);
        assert_int_equal(cb_store_drg_chooser_group(c, r, CB_DRG_TR_CODES, &d, &err), CB_OK);
        assert_string_equal(d.choice, "national 2024-01-01..");
        free(r);
    }
    cb_store_drg_chooser_free(c);

    /* Ties: the highest id wins. */
    assert_int_equal(cb_store_drg_use_remove(st, u_late, &err), CB_OK);
    assert_int_equal(cb_store_drg_use_remove(st, u_late, &err), CB_ERR_NOT_FOUND);
    cb_buf_reset(&err);
    assert_int_equal(cb_store_drg_use_add(st, bj, NULL, NULL, NULL, &u, &err), CB_OK);
    assert_int_equal(cb_store_drg_chooser_new(st, &c, &err), CB_OK);
    PICKS(h3, 1, day(2022, 6, 1), bj);
    cb_store_drg_chooser_free(c);
    assert_int_equal(cb_store_drg_use_remove(st, u, &err), CB_OK);

    /* A new version of chs takes the place of the old one in its uses. */
    exec_sql(p, "INSERT INTO drg_scheme(scheme, digest, path)"
                " SELECT scheme, 'olddigest', path FROM drg_scheme WHERE id = 1");
    chs2 = tu_sql_int(p, "SELECT max(id) FROM drg_scheme");
    {
        int64_t n;
        assert_int_equal(cb_store_drg_use_replace(st, chs2, &n, &err), CB_OK);
        assert_int_equal(n, 2); /* u_nat and u_bj2 */
        assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM drg_scheme_use WHERE scheme_id = 3"), 2);
        assert_int_equal(cb_store_drg_use_replace(st, chs, &n, &err), CB_OK);
        assert_int_equal(n, 2);
        assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM drg_scheme_use WHERE scheme_id = 1"), 2);
        assert_int_equal(cb_store_drg_use_replace(st, bj, &n, &err), CB_OK);
        assert_int_equal(n, 1);
    }
    /* A scheme whose package no longer matches its digest is refused. */
    exec_sql(p, "UPDATE drg_scheme_use SET scheme_id = 3");
    assert_int_equal(cb_store_drg_chooser_new(st, &c, &err), CB_OK);
    {
        struct cb_fp *r = record("C2", "1", "I21.000");
        struct cb_store_drg d;
        assert_int_equal(cb_store_drg_chooser_group(c, r, CB_DRG_TR_CODES, &d, &err),
                         CB_ERR_USAGE);
        assert_non_null(strstr(cb_buf_cstr(&err), "has changed since it was installed"));
        free(r);
    }
    cb_store_drg_chooser_free(c);
    (void)u_nat;
    (void)u_bj2;
#undef PICKS
    cb_store_close(st);
    cb_buf_release(&err);
}

/* Encodes r with a DRG result and stores it. */
/* with_fact 0: as an import without facts, the result goes on its own. */
static enum cb_err
put_grouped(struct cb_store *st, struct cb_fp *r, int64_t file_id,
            const struct cb_store_drg *d, int with_fact, enum cb_put_result *res,
            struct cb_buf *err)
{
    struct cb_store_row row;
    struct cb_qc_result qres;
    struct cb_arena a;
    struct cb_store_encoder *enc;
    enum cb_err rc;

    memset(&qres, 0, sizeof(qres));
    cb_arena_init(&a, 4096);
    assert_int_equal(cb_store_encoder_new(&enc), CB_OK);
    rc = cb_store_row_encode(&row, r, NULL, &qres, cb_str_c("raw"), 2, &a, enc);
    row.drg = *d;
    row.has_fact = with_fact;
    memset(&row.fact, 0, sizeof(row.fact));
    if (!rc)
        rc = cb_store_put(st, file_id, &row, res, err);
    cb_arena_release(&a);
    cb_store_encoder_free(enc);
    return rc;
}

/*
 * drg_result follows the record: written with it, rewritten when the same
 * record comes again (a new scheme regroups on re-import), removed when no
 * scheme applies any more, left alone when grouping is off.
 */
static void
test_drg_result_with_record(void **state)
{
    const char *p = db_path("res.db");
    struct cb_store *st;
    struct cb_store_drg_chooser *c;
    struct cb_buf err = CB_BUF_INIT;
    struct cb_fp *r = grouping_record("R1");
    struct cb_store_drg d, off;
    enum cb_put_result res;
    int64_t chs, bj, fid;
    int k;

    (void)state;
    memset(&off, 0, sizeof(off));
    assert_int_equal(cb_store_open(&st, p, &err), CB_OK);
    assert_int_equal(cb_store_drg_scheme_put(st, g_chs, &chs, NULL, &err), CB_OK);
    assert_int_equal(cb_store_drg_use_add(st, chs, NULL, NULL, NULL, NULL, &err), CB_OK);
    {
        struct cb_import_file f = { "/x/a.csv", "a.csv", 10, "western", "utf-8", "csv" };
        for (k = 1; k <= 6; k++)
            assert_int_equal(cb_store_file_begin(st, &f, &fid, &err), CB_OK);
    }
    assert_int_equal(cb_store_drg_chooser_new(st, &c, &err), CB_OK);
    assert_int_equal(cb_store_drg_chooser_group(c, r, CB_DRG_TR_CODES, &d, &err), CB_OK);
    assert_int_equal(d.scheme_id, chs);
    assert_int_equal(cb_store_begin(st, &err), CB_OK);
    assert_int_equal(put_grouped(st, r, 1, &d, 1, &res, &err), CB_OK);
    assert_int_equal(res, CB_PUT_INSERTED);
    assert_int_equal(cb_store_commit(st, &err), CB_OK);
    cb_store_drg_chooser_free(c); /* it owns the choice text */
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM drg_result d JOIN record r ON r.id = d.record_id"
                               " WHERE d.scheme_id = 1 AND d.status = 'SUCCESS'"
                               " AND d.mdc = 'MDCF' AND d.drg LIKE 'F%' AND d.choice = 'default'"
                               " AND d.unmapped IS NULL AND d.grouped_at IS NOT NULL"), 1);

    /* The same record again, now under bj (as after installing it). */
    assert_int_equal(cb_store_drg_scheme_put(st, g_bj, &bj, NULL, &err), CB_OK);
    assert_int_equal(cb_store_drg_use_add(st, bj, NULL, NULL, NULL, NULL, &err), CB_OK);
    assert_int_equal(cb_store_drg_chooser_new(st, &c, &err), CB_OK);
    assert_int_equal(cb_store_drg_chooser_group(c, r, CB_DRG_TR_CODES, &d, &err), CB_OK);
    assert_int_equal(d.scheme_id, bj);
    assert_int_equal(cb_store_begin(st, &err), CB_OK);
    assert_int_equal(put_grouped(st, r, 2, &d, 1, &res, &err), CB_OK);
    assert_int_equal(res, CB_PUT_UNCHANGED);
    /* Grouping off: the result stays as it is, with a fact or without. */
    assert_int_equal(put_grouped(st, r, 3, &off, 1, &res, &err), CB_OK);
    assert_int_equal(res, CB_PUT_UNCHANGED);
    assert_int_equal(put_grouped(st, r, 4, &off, 0, &res, &err), CB_OK);
    assert_int_equal(res, CB_PUT_UNCHANGED);
    assert_int_equal(cb_store_commit(st, &err), CB_OK);
    cb_store_drg_chooser_free(c);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM drg_result WHERE scheme_id = 2"), 1);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM drg_result"), 1);

    /* An unmapped code is reported with the record. */
    r->v[cb_fp_dx(1, CB_DX_CODE)] = cb_str_c("NOT.A.CODE");
    cb_fp_parse(r);
    assert_int_equal(cb_store_drg_chooser_new(st, &c, &err), CB_OK);
    assert_int_equal(cb_store_drg_chooser_group(c, r, CB_DRG_TR_CODES, &d, &err), CB_OK);
    assert_int_equal(d.status, CB_DRG_ZD_NOT_MAPPING);
    assert_string_equal(d.unmapped, "dx:NOT.A.CODE");
    assert_int_equal(cb_store_begin(st, &err), CB_OK);
    assert_int_equal(put_grouped(st, r, 5, &d, 1, &res, &err), CB_OK);
    assert_int_equal(res, CB_PUT_REPLACED);
    assert_int_equal(cb_store_commit(st, &err), CB_OK);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM drg_result WHERE status = 'ZD_NOT_MAPPING'"
                               " AND unmapped = 'dx:NOT.A.CODE' AND mcc IS NULL"), 1);
    /* Untranslated, the same record groups. */
    assert_int_equal(cb_store_drg_chooser_group(c, r, CB_DRG_TR_OFF, &d, &err), CB_OK);
    assert_int_equal(d.status, CB_DRG_SUCCESS);
    assert_string_equal(d.unmapped, "");
    /* No scheme applies any more: the stale result goes (here from a row
       without a fact: the fact the record has loses its result). */
    assert_int_equal(cb_store_drg_chooser_group_use(c, -1, r, CB_DRG_TR_CODES, &d, &err), CB_OK);
    assert_int_equal(d.scheme_id, -1);
    assert_int_equal(cb_store_begin(st, &err), CB_OK);
    assert_int_equal(put_grouped(st, r, 6, &d, 0, &res, &err), CB_OK);
    assert_int_equal(res, CB_PUT_UNCHANGED);
    assert_int_equal(cb_store_commit(st, &err), CB_OK);
    cb_store_drg_chooser_free(c);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM drg_result"), 0);
    cb_store_close(st);
    free(r);
    cb_buf_release(&err);
}

/*
 * The facts of new records go in 64 at a time without an upsert; a fact
 * left behind by a record deleted by hand is then written over, not kept.
 */
static void
test_fact_outlives_record(void **state)
{
    const char *p = db_path("stale.db");
    struct cb_store *st;
    struct cb_buf err = CB_BUF_INIT;
    struct cb_store_drg off;
    enum cb_put_result res;
    struct cb_fp *r;
    char bah[16];

    (void)state;
    memset(&off, 0, sizeof off);
    assert_int_equal(cb_store_open(&st, p, &err), CB_OK);
    assert_int_equal(cb_store_begin(st, &err), CB_OK);
    r = record("S0", "1", "J18.900");
    assert_int_equal(put_grouped(st, r, 1, &off, 1, &res, &err), CB_OK);
    free(r);
    assert_int_equal(cb_store_commit(st, &err), CB_OK);
    cb_store_close(st);
    exec_sql(p, "DELETE FROM record; UPDATE fact SET cy_day = 1, los = 99;");
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM fact"), 1);

    assert_int_equal(cb_store_open(&st, p, &err), CB_OK);
    assert_int_equal(cb_store_bulk_begin(st, &err), CB_OK);
    assert_int_equal(cb_store_begin(st, &err), CB_OK);
    for (int i = 0; i < 64; i++) {
        snprintf(bah, sizeof bah, "N%d", i);
        r = record(bah, "1", "J18.900");
        assert_int_equal(put_grouped(st, r, 2, &off, 1, &res, &err), CB_OK);
        assert_int_equal(res, CB_PUT_INSERTED);
        free(r);
    }
    assert_int_equal(cb_store_commit(st, &err), CB_OK);
    cb_store_bulk_end(st);
    cb_store_close(st);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM record"), 64);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM fact f JOIN record r"
                               " ON r.id = f.record_id"), 64);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM fact WHERE los = 99"), 0);
    cb_buf_release(&err);
}

/* Facts that cb_store_facts_load(since) puts into a new engine. */
static size_t
loaded_since(struct cb_store *st, int64_t since, int64_t *gen)
{
    struct cb_engine *e;
    struct cb_buf err = CB_BUF_INIT;
    size_t n;

    assert_int_equal(cb_engine_new(&e), CB_OK);
    if (cb_store_facts_load(st, e, since, gen, &err) != CB_OK)
        fail_msg("%s", cb_buf_cstr(&err));
    n = cb_engine_count(e);
    cb_engine_free(e);
    cb_buf_release(&err);
    return n;
}

/*
 * A later load reads only the facts that newer generations wrote: new
 * records and records written again, found by the runs of ids in
 * fact_change.
 */
static void
test_facts_load_changed(void **state)
{
    const char *p = db_path("gen.db");
    struct cb_store *st;
    struct cb_buf err = CB_BUF_INIT;
    struct cb_store_drg off;
    enum cb_put_result res;
    int64_t g1, g2, g3;
    struct cb_fp *r;
    char bah[16];

    (void)state;
    memset(&off, 0, sizeof off);
    assert_int_equal(cb_store_open(&st, p, &err), CB_OK);
    assert_int_equal(cb_store_fact_begin(st, &err), CB_OK);
    assert_int_equal(cb_store_begin(st, &err), CB_OK);
    for (int i = 0; i < 100; i++) {
        snprintf(bah, sizeof bah, "G%d", i);
        r = record(bah, "1", "J18.900");
        assert_int_equal(put_grouped(st, r, 1, &off, 1, &res, &err), CB_OK);
        free(r);
    }
    assert_int_equal(cb_store_commit(st, &err), CB_OK);
    assert_int_equal(loaded_since(st, 0, &g1), 100);
    assert_int_equal(g1, 1);

    /* Generation 2: two new records, and two of the first written again. */
    assert_int_equal(cb_store_fact_begin(st, &err), CB_OK);
    assert_int_equal(cb_store_begin(st, &err), CB_OK);
    const char *again[] = { "G7", "N1", "G50", "N2" };
    for (int i = 0; i < 4; i++) {
        r = record(again[i], "1", "J18.900");
        assert_int_equal(put_grouped(st, r, 2, &off, 1, &res, &err), CB_OK);
        assert_int_equal(res, again[i][0] == 'N' ? CB_PUT_INSERTED : CB_PUT_UNCHANGED);
        free(r);
    }
    assert_int_equal(cb_store_commit(st, &err), CB_OK);
    assert_int_equal(loaded_since(st, g1, &g2), 4);
    assert_int_equal(g2, 2);
    assert_int_equal(loaded_since(st, 0, NULL), 102);
    assert_int_equal(loaded_since(st, g2, &g3), 0);
    assert_int_equal(g3, 2);
    cb_store_close(st);
    /* Runs, not a row per fact: 1..100 at first, then 8, 101, 51, 102. */
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM fact_change"), 5);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM fact_change WHERE gen = 1"
                               " AND lo = 1 AND hi = 100"), 1);
    assert_int_equal(tu_sql_int(p, "SELECT sum(hi - lo + 1) FROM fact_change WHERE gen = 2"), 4);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM sqlite_master WHERE name = 'fact_gen'"),
                     0);
    cb_buf_release(&err);
}

/*
 * v8 -> v9: the results of drg_result move into the facts and the view
 * shows them as the table did, value for value.
 */
static void
test_migrate_v8_drg_results(void **state)
{
    static const char all[] =
        "SELECT group_concat(v, ';') FROM (SELECT record_id || '|' || scheme_id || '|'"
        " || status || '|' || ifnull(mdc, '-') || '|' || ifnull(adrg, '-') || '|'"
        " || ifnull(drg, '-') || '|' || ifnull(mcc, '-') || '|' || ifnull(cc, '-') || '|'"
        " || ifnull(unmapped, '-') || '|' || ifnull(choice, '-') || '|' || grouped_at AS v"
        " FROM drg_result ORDER BY record_id)";
    const char *p = db_path("v8.db");
    struct cb_store *st;
    struct cb_store_drg_chooser *c;
    struct cb_buf err = CB_BUF_INIT;
    struct cb_store_drg d;
    enum cb_put_result res;
    int64_t chs;
    char before[256];
    struct cb_fp *r;

    (void)state;
    assert_int_equal(cb_store_open(&st, p, &err), CB_OK);
    assert_int_equal(cb_store_drg_scheme_put(st, g_chs, &chs, NULL, &err), CB_OK);
    assert_int_equal(cb_store_drg_use_add(st, chs, NULL, NULL, NULL, NULL, &err), CB_OK);
    assert_int_equal(cb_store_drg_chooser_new(st, &c, &err), CB_OK);
    assert_int_equal(cb_store_begin(st, &err), CB_OK);
    for (int i = 0; i < 3; i++) {
        char bah[8];
        snprintf(bah, sizeof bah, "V%d", i);
        r = grouping_record(bah);
        if (i == 1) {  /* unmapped */
            r->v[cb_fp_dx(1, CB_DX_CODE)] = cb_str_c("NOT.A.CODE");
            cb_fp_parse(r);
        }
        assert_int_equal(cb_store_drg_chooser_group(c, r, CB_DRG_TR_CODES, &d, &err), CB_OK);
        assert_int_equal(put_grouped(st, r, 1, &d, 1, &res, &err), CB_OK);
        free(r);
    }
    assert_int_equal(cb_store_commit(st, &err), CB_OK);
    cb_store_drg_chooser_free(c);
    cb_store_close(st);
    snprintf(before, sizeof before, "%s", store_scalar(p, all));
    assert_non_null(strstr(before, "dx:NOT.A.CODE"));
    assert_non_null(strstr(before, "|SUCCESS|MDCF|"));
    /* Back to the version 8 schema, with the results as a table. */
    exec_sql(p, "CREATE TABLE r8 AS SELECT * FROM drg_result;"
                "DROP VIEW drg_result;"
                "CREATE TABLE drg_result("
                "  record_id INTEGER PRIMARY KEY REFERENCES record(id) ON DELETE CASCADE,"
                "  scheme_id INTEGER NOT NULL, status TEXT NOT NULL,"
                "  mdc TEXT, adrg TEXT, drg TEXT, mcc INTEGER, cc INTEGER,"
                "  unmapped TEXT, choice TEXT, grouped_at TEXT);"
                "INSERT INTO drg_result SELECT * FROM r8; DROP TABLE r8;"
                "ALTER TABLE fact DROP COLUMN drg_outcome;"
                "ALTER TABLE fact DROP COLUMN grouped_at;"
                "DROP TABLE drg_outcome;"
                "DROP TABLE fact_change; CREATE INDEX fact_gen ON fact(gen);"
                "PRAGMA user_version = 8;");
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM drg_result"), 3);
    assert_int_equal(cb_store_open(&st, p, &err), CB_OK);
    cb_store_close(st);
    assert_int_equal(tu_sql_int(p, "PRAGMA user_version"), CB_SCHEMA_VERSION);
    assert_string_equal(store_scalar(p, all), before);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM drg_outcome"), 2);
    /* v10: the facts' generations become runs of ids; the index goes. */
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM fact_change f WHERE lo ="
                               " (SELECT min(record_id) FROM fact WHERE gen = f.gen) AND hi ="
                               " (SELECT max(record_id) FROM fact WHERE gen = f.gen)"), 1);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM sqlite_master WHERE name = 'fact_gen'"),
                     0);
    cb_buf_release(&err);
}

/*
 * A stored record decodes back into the record that was stored: scalars
 * from the compressed items, diagnoses and procedures from the JSON lists
 * (escapes included), and it groups the same.
 */
static void
test_record_decode(void **state)
{
    const char *p = db_path("dec.db");
    struct cb_store *st;
    struct cb_buf err = CB_BUF_INIT;
    struct cb_fp *r = record("D1", "1", "I21.000"), *back = calloc(1, sizeof(*back));
    struct cb_arena a;
    enum cb_put_result res;
    sqlite3 *db;
    sqlite3_stmt *s;
    int f;

    (void)state;
    r->v[CB_F_XM] = cb_str_c("张\"三\\");
    r->v[CB_F_XB] = cb_str_c("1");
    r->v[CB_F_NL] = cb_str_c("67");
    r->v[CB_F_ZYZD] = cb_str_c("急性心肌梗死");
    r->v[cb_fp_dx(1, CB_DX_NAME)] = cb_str_c("高血压\t\"病\"\x01");
    r->v[cb_fp_dx(1, CB_DX_POA)] = cb_str_c("1");
    r->v[cb_fp_dx(3, CB_DX_CODE)] = cb_str_c("E11.900");
    r->v[cb_fp_px(1, CB_PX_NAME)] = cb_str_c("冠状动脉支架置入");
    r->v[cb_fp_px(1, CB_PX_DATE)] = cb_str_c("2024-04-28 09:30:00");
    r->v[cb_fp_px(1, CB_PX_LEVEL)] = cb_str_c("4");
    r->v[cb_fp_px(2, CB_PX_CODE)] = cb_str_c("88.5500");
    r->v[cb_fp_px(2, CB_PX_MZYS)] = cb_str_c("李四");
    cb_fp_parse(r);
    assert_int_equal(cb_store_open(&st, p, &err), CB_OK);
    assert_int_equal(cb_store_begin(st, &err), CB_OK);
    assert_int_equal(put(st, r, 1, 2, &res, &err), CB_OK);
    assert_int_equal(cb_store_commit(st, &err), CB_OK);

    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT data, dx, px FROM record", -1, &s, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    cb_arena_init(&a, 4096);
    {
        const void *data = sqlite3_column_blob(s, 0);
        size_t n = (size_t)sqlite3_column_bytes(s, 0);
        struct cb_str dx, px;
        dx.ptr = (const char *)sqlite3_column_text(s, 1);
        dx.len = (size_t)sqlite3_column_bytes(s, 1);
        px.ptr = (const char *)sqlite3_column_text(s, 2);
        px.len = (size_t)sqlite3_column_bytes(s, 2);
        assert_int_equal(cb_store_record_decode(st, data, n, dx, px, back, &a, &err), CB_OK);
        /* Damaged inputs are errors, not crashes. */
        assert_int_equal(cb_store_record_decode(st, data, n, cb_str_c("[[1,\"x\""), px,
                                                back, &a, &err), CB_ERR_PROTO);
        assert_int_equal(cb_store_record_decode(st, "\x28\xb5\x2f\xfd\x00", 5, dx, px,
                                                back, &a, &err), CB_ERR_PROTO);
        cb_buf_reset(&err);
        assert_int_equal(cb_store_record_decode(st, data, n, dx, px, back, &a, &err), CB_OK);
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    /* Every field the store keeps comes back (QKYH, SSLX, SFRJSS are not kept). */
    for (f = 0; f < CB_FP_NFIELDS; f++) {
        if (f >= CB_FP_PX_BASE) {
            int k = (f - CB_FP_PX_BASE) % CB_PX__FIELDS;
            if (k == CB_PX_QKYH || k == CB_PX_SSLX || k == CB_PX_SFRJSS)
                continue;
        }
        if (!cb_str_eq(r->v[f], back->v[f]))
            fail_msg("field %s: '%.*s' came back as '%.*s'", cb_fp_key_str(f),
                     (int)r->v[f].len, r->v[f].ptr ? r->v[f].ptr : "",
                     (int)back->v[f].len, back->v[f].ptr ? back->v[f].ptr : "");
        assert_int_equal(r->state[f], back->state[f]);
    }
    assert_int_equal(back->ndx, 3);
    assert_int_equal(back->npx, 2);
    /* And it groups the same. */
    {
        struct cb_drg_work w1, w2;
        struct cb_drg_input i1, i2;
        struct cb_drg_result g1, g2;

        memset(&w1, 0, sizeof(w1));
        memset(&w2, 0, sizeof(w2));
        assert_int_equal(cb_drg_work_init(&w1, g_chs), CB_OK);
        assert_int_equal(cb_drg_work_init(&w2, g_chs), CB_OK);
        assert_int_equal(cb_drg_input_from_fp(&i1, r, &w1), CB_OK);
        assert_int_equal(cb_drg_input_from_fp(&i2, back, &w2), CB_OK);
        assert_int_equal(cb_drg_group(g_chs, &i1, CB_DRG_TR_CODES, &w1, &g1), CB_OK);
        assert_int_equal(cb_drg_group(g_chs, &i2, CB_DRG_TR_CODES, &w2, &g2), CB_OK);
        assert_int_equal(g1.status, g2.status);
        assert_string_equal(g1.drg, g2.drg);
        assert_int_equal(i2.ndx, 3);
        assert_int_equal(i2.npx, 2);
        cb_drg_work_release(&w1);
        cb_drg_work_release(&w2);
    }
    cb_arena_release(&a);
    cb_store_close(st);
    free(r);
    free(back);
    cb_buf_release(&err);
}

/*
 * Records written before schema v11 hold their items in layout V1 and a
 * content hash over V1 (cb_hash64 >> 1). They still read (fp_data,
 * cb_store_record_decode), and the same content imported again is
 * unchanged, not a new version.
 */
static void
test_records_before_v11(void **state)
{
    const char *p = db_path("v1.db");
    struct cb_store *st;
    struct cb_buf err = CB_BUF_INIT, text = CB_BUF_INIT, v1 = CB_BUF_INIT;
    struct cb_fp *r1 = record("B7", "1", "I21.000"), *r2 = record("B7", "1", "I21.100");
    struct cb_fp *back = calloc(1, sizeof(*back));
    struct cb_str items[CB_F__SCALARS];
    struct cb_store_encoder *enc;
    struct cb_store_row row;
    struct cb_qc_result qres;
    struct cb_arena a;
    enum cb_put_result res;
    sqlite3 *db;
    sqlite3_stmt *s;
    uint64_t h;
    size_t i;

    (void)state;
    memset(&qres, 0, sizeof(qres));
    cb_arena_init(&a, 4096);
    assert_int_equal(cb_store_open(&st, p, &err), CB_OK);
    {
        struct cb_import_file f = { "/x/a.csv", "a.csv", 10, "western", "utf-8", "csv" };
        int64_t fid;
        int k;
        for (k = 1; k <= 3; k++)
            assert_int_equal(cb_store_file_begin(st, &f, &fid, &err), CB_OK);
    }
    assert_int_equal(cb_store_begin(st, &err), CB_OK);
    assert_int_equal(put(st, r1, 1, 2, &res, &err), CB_OK);
    assert_int_equal(res, CB_PUT_INSERTED);
    assert_int_equal(cb_store_commit(st, &err), CB_OK);

    /* Turn the row into what v10 wrote: V1 items (plain) and their hash. */
    assert_int_equal(cb_store_encoder_new(&enc), CB_OK);
    assert_int_equal(cb_store_row_encode(&row, r1, NULL, &qres, cb_str_c("raw"), 2, &a, enc),
                     CB_OK);
    assert_int_equal(cb__items_decode((const unsigned char *)row.data.ptr, row.data.len,
                                      &text, items), CB_OK);
    assert_int_equal(cb__items_v1(items, &v1), CB_OK);
    h = cb_hash64(v1.ptr, v1.len, 0);
    h = cb_hash64(row.dx.ptr, row.dx.len, h);
    h = cb_hash64(row.px.ptr, row.px.len, h) >> 1;
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "UPDATE record SET data = ?1, content_hash = ?2",
                                        -1, &s, NULL), SQLITE_OK);
    sqlite3_bind_blob(s, 1, v1.ptr, (int)v1.len, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)h);
    assert_int_equal(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
    sqlite3_close(db);

    /* It reads. */
    assert_string_equal(store_scalar(p, "SELECT json_extract(fp_data(data), '$.BAH')"
                                        " FROM record"), "B7");
    assert_string_equal(store_scalar(p, "SELECT json_extract(fp_data(data), '$.CYSJ')"
                                        " FROM record"), "2024-05-01 10:00:00");
    {
        const void *data = v1.ptr;

        assert_int_equal(cb_store_record_decode(st, data, v1.len, row.dx, row.px, back, &a,
                                                &err), CB_OK);
        for (i = 0; i < CB_F__SCALARS; i++)
            assert_true(cb_str_eq(back->v[i], r1->v[i]));
    }
    /* The same content again: unchanged, with the hash of before. */
    assert_int_equal(cb_store_begin(st, &err), CB_OK);
    assert_int_equal(put(st, r1, 2, 2, &res, &err), CB_OK);
    assert_int_equal(res, CB_PUT_UNCHANGED);
    assert_int_equal(put(st, r2, 3, 2, &res, &err), CB_OK);
    assert_int_equal(res, CB_PUT_REPLACED);
    assert_int_equal(cb_store_commit(st, &err), CB_OK);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM record_history"), 1);
    assert_int_equal(tu_sql_int(p, "SELECT content_hash < 0 FROM record"), 1);
    assert_true(tu_sql_int(p, "SELECT content_hash FROM record_history") == (long long)h);
    cb_store_encoder_free(enc);
    cb_arena_release(&a);
    cb_store_close(st);
    free(r1);
    free(r2);
    free(back);
    cb_buf_release(&err);
    cb_buf_release(&text);
    cb_buf_release(&v1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_and_reopen),
        cmocka_unit_test(test_newer_schema_refused),
        cmocka_unit_test(test_put_insert_unchanged_replace_duplicate),
        cmocka_unit_test(test_rollback_leaves_nothing),
        cmocka_unit_test(test_orgs),
        cmocka_unit_test(test_query_is_read_only),
        cmocka_unit_test(test_overlapping_stays_warned),
        cmocka_unit_test(test_overlap_across_connections),
        cmocka_unit_test(test_bulk_new_patients),
        cmocka_unit_test(test_bulk_mode_foreign_keys),
        cmocka_unit_test(test_bulk_wal_restarts),
        cmocka_unit_test(test_migrate_v1_to_v2),
        cmocka_unit_test(test_drg_choice),
        cmocka_unit_test(test_drg_result_with_record),
        cmocka_unit_test(test_migrate_v8_drg_results),
        cmocka_unit_test(test_fact_outlives_record),
        cmocka_unit_test(test_facts_load_changed),
        cmocka_unit_test(test_record_decode),
        cmocka_unit_test(test_records_before_v11),
    };
    return cmocka_run_group_tests(tests, load_schemes, free_schemes);
}
