/*
 * test_journal.c - the HL7 message journal (store_hl7.c): duplicates,
 * rejected rows, rollback, replay order, reopening.
 *
 * The messages are synthetic; the journal does not read them.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "carebase/journal.h"
#include "carebase/store.h"
#include "testutil.h"

static const char *
db_path(const char *name)
{
    static char p[512];
    char wal[600];

    snprintf(p, sizeof(p), "%s/%s", tu_tmpdir(), name);
    remove(p);
    snprintf(wal, sizeof(wal), "%s-wal", p);
    remove(wal);
    snprintf(wal, sizeof(wal), "%s-shm", p);
    remove(wal);
    return p;
}

static long long
scalar(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    long long v = -1;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

static struct cb_journal_entry
entry(const char *sender, const char *ctrl, const char *raw)
{
    struct cb_journal_entry e = { 0 };

    e.sender = cb_str_c(sender);
    e.control_id = cb_str_c(ctrl);
    e.received_ms = 1700000000000;
    e.status = CB_JOURNAL_ACCEPTED;
    e.ack_code = "AA";
    e.event = cb_str_c("ADT^A01");
    e.raw = cb_str_c(raw);
    return e;
}

static int64_t
put(struct cb_journal *j, const struct cb_journal_entry *e, struct cb_journal_answer *dup)
{
    struct cb_buf err = CB_BUF_INIT;
    int64_t seq = -1;

    if (cb_journal_put(j, e, &seq, dup, &err) != CB_OK)
        fail_msg("put: %s", cb_buf_cstr(&err));
    cb_buf_release(&err);
    return seq;
}

static void
test_duplicates_and_rejects(void **state)
{
    const char *p = db_path("j1.db");
    struct cb_journal *j;
    struct cb_buf err = CB_BUF_INIT;
    struct cb_journal_answer a = { 0 };
    struct cb_journal_entry e;

    (void)state;
    cb_buf_init(&a.err_text, 4096);
    assert_int_equal(cb_journal_open(&j, p, &err), CB_OK);
    assert_int_equal(cb_journal_begin(j, &err), CB_OK);
    e = entry("HIS|H1", "M1", "MSH|one\r");
    assert_int_equal(put(j, &e, &a), 1);
    /* the same control id from another sender is another message */
    e = entry("LIS|H1", "M1", "MSH|other\r");
    assert_int_equal(put(j, &e, &a), 2);
    /* a duplicate inside the same transaction */
    e = entry("HIS|H1", "M1", "MSH|one again\r");
    assert_int_equal(put(j, &e, &a), 0);
    assert_int_equal(a.seq, 1);
    assert_string_equal(a.ack_code, "AA");
    assert_int_equal(a.status, CB_JOURNAL_ACCEPTED);
    assert_int_equal(a.err_code, 0);
    assert_int_equal(a.err_text.len, 0);
    /* a rejected message is stored with its answer */
    e = entry("HIS|H1", "M2", "MSH|bad\r");
    e.status = CB_JOURNAL_REJECTED;
    e.ack_code = "AR";
    e.err_code = 200;
    e.err_text = cb_str_c("unsupported message type 'ORU'");
    e.event = cb_str_c("ORU^R01");
    assert_int_equal(put(j, &e, NULL), 3);
    assert_int_equal(cb_journal_commit(j, &err), CB_OK);

    /* after the commit: a resend of the rejected one gets its answer */
    assert_int_equal(cb_journal_begin(j, &err), CB_OK);
    e = entry("HIS|H1", "M2", "MSH|fixed now\r");
    assert_int_equal(put(j, &e, &a), 0);
    assert_int_equal(a.seq, 3);
    assert_string_equal(a.ack_code, "AR");
    assert_int_equal(a.status, CB_JOURNAL_REJECTED);
    assert_int_equal(a.err_code, 200);
    assert_string_equal(cb_buf_cstr(&a.err_text), "unsupported message type 'ORU'");
    assert_int_equal(cb_journal_commit(j, &err), CB_OK);

    assert_int_equal(cb_journal_lookup(j, cb_str_c("HIS|H1"), cb_str_c("M9"), &a, &err),
                     CB_ERR_NOT_FOUND);
    assert_int_equal(cb_journal_lookup(j, cb_str_c("LIS|H1"), cb_str_c("M1"), &a, &err),
                     CB_OK);
    assert_int_equal(a.seq, 2);

    /* bad entries are refused */
    e = entry("", "M3", "x");
    assert_int_equal(cb_journal_put(j, &e, &a.seq, NULL, &err), CB_ERR_USAGE);
    e = entry("HIS|H1", "", "x");
    assert_int_equal(cb_journal_put(j, &e, &a.seq, NULL, &err), CB_ERR_USAGE);
    cb_journal_close(j);

    assert_int_equal(scalar(p, "SELECT count(*) FROM hl7_message"), 3);
    assert_int_equal(scalar(p, "SELECT count(*) FROM hl7_message WHERE status = 2"
                               " AND ack_code = 'AR' AND event = 'ORU^R01'"), 1);
    /* the stored bytes are the first ones, not the resend's */
    assert_int_equal(scalar(p, "SELECT count(*) FROM hl7_message WHERE seq = 1"
                               " AND raw = CAST('MSH|one' || char(13) AS BLOB)"), 1);
    cb_buf_release(&a.err_text);
    cb_buf_release(&err);
}

static void
test_rollback_stores_nothing(void **state)
{
    const char *p = db_path("j2.db");
    struct cb_journal *j;
    struct cb_buf err = CB_BUF_INIT;
    struct cb_journal_entry e = entry("HIS|H1", "R1", "MSH|r\r");

    (void)state;
    assert_int_equal(cb_journal_open(&j, p, &err), CB_OK);
    assert_int_equal(cb_journal_begin(j, &err), CB_OK);
    assert_int_equal(put(j, &e, NULL), 1);
    cb_journal_rollback(j);
    /* the key is free again: the same message is new */
    assert_int_equal(cb_journal_begin(j, &err), CB_OK);
    assert_true(put(j, &e, NULL) > 0);
    assert_int_equal(cb_journal_commit(j, &err), CB_OK);
    /* an open transaction at close is rolled back */
    assert_int_equal(cb_journal_begin(j, &err), CB_OK);
    e = entry("HIS|H1", "R2", "MSH|r2\r");
    assert_true(put(j, &e, NULL) > 0);
    cb_journal_close(j);
    assert_int_equal(scalar(p, "SELECT count(*) FROM hl7_message"), 1);
    assert_int_equal(scalar(p, "SELECT count(*) FROM hl7_message WHERE control_id = 'R1'"), 1);
    cb_buf_release(&err);
}

struct seen {
    int64_t seq[16];
    char    raw[16][16];
    int     n;
    int     stop_at;   /* return CB_ERR_IO at this call (1-based), 0 = never */
};

static enum cb_err
collect(void *ctx, int64_t seq, struct cb_str raw, int64_t received_ms, struct cb_str sender)
{
    struct seen *s = ctx;

    assert_int_equal(received_ms, 1700000000000 + seq);
    assert_true(cb_str_eqz(sender, "HIS|H1"));
    assert_true(s->n < 16);
    s->seq[s->n] = seq;
    snprintf(s->raw[s->n], sizeof(s->raw[0]), "%.*s", (int)raw.len, raw.ptr);
    s->n++;
    return s->stop_at == s->n ? CB_ERR_IO : CB_OK;
}

static void
test_replay_order(void **state)
{
    const char *p = db_path("j3.db");
    struct cb_journal *j;
    struct cb_buf err = CB_BUF_INIT;
    struct seen s = { 0 };
    int64_t last = -1;
    char ctrl[16], raw[16];

    (void)state;
    assert_int_equal(cb_journal_open(&j, p, &err), CB_OK);
    assert_int_equal(cb_journal_begin(j, &err), CB_OK);
    for (int i = 1; i <= 8; i++) {
        struct cb_journal_entry e;
        snprintf(ctrl, sizeof(ctrl), "C%d", i);
        snprintf(raw, sizeof(raw), "MSH|%d", i);
        e = entry("HIS|H1", ctrl, raw);
        e.received_ms = 1700000000000 + i;
        if (i % 3 == 0) {   /* 3 and 6 rejected: not replayed */
            e.status = CB_JOURNAL_REJECTED;
            e.ack_code = "AE";
            e.err_code = 101;
        }
        assert_int_equal(put(j, &e, NULL), i);
    }
    assert_int_equal(cb_journal_commit(j, &err), CB_OK);
    cb_journal_close(j);

    /* reopened: everything accepted, in order */
    assert_int_equal(cb_journal_open(&j, p, &err), CB_OK);
    assert_int_equal(cb_journal_replay(j, 0, collect, &s, &last, &err), CB_OK);
    assert_int_equal(s.n, 6);
    {
        static const int64_t want[] = { 1, 2, 4, 5, 7, 8 };
        for (int i = 0; i < 6; i++) {
            char w[16];
            assert_int_equal(s.seq[i], want[i]);
            snprintf(w, sizeof(w), "MSH|%d", (int)want[i]);
            assert_string_equal(s.raw[i], w);
        }
    }
    assert_int_equal(last, 8);
    /* from a point on */
    memset(&s, 0, sizeof(s));
    assert_int_equal(cb_journal_replay(j, 4, collect, &s, &last, &err), CB_OK);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.seq[0], 5);
    /* the callback stops it */
    memset(&s, 0, sizeof(s));
    s.stop_at = 2;
    assert_int_equal(cb_journal_replay(j, 0, collect, &s, &last, &err), CB_ERR_IO);
    assert_int_equal(s.n, 2);
    assert_int_equal(last, 1);
    /* nothing after the end */
    memset(&s, 0, sizeof(s));
    assert_int_equal(cb_journal_replay(j, 8, collect, &s, &last, &err), CB_OK);
    assert_int_equal(s.n, 0);
    assert_int_equal(last, 8);
    cb_journal_close(j);
    cb_buf_release(&err);
}

/* A log past 8 MiB, and one past 64 MiB, is copied back by the writer,
 * and the file is cut back to 64 MiB when the log starts over. */
static void
test_wal_bounded(void **state)
{
    const char *p = db_path("j5.db");
    struct cb_journal *j;
    struct cb_buf err = CB_BUF_INIT;
    static char big[100 * 1024];
    char wal[600], ctrl[32];
    struct stat sb;

    (void)state;
    memset(big, 'x', sizeof(big));
    assert_int_equal(cb_journal_open(&j, p, &err), CB_OK);
    assert_false(cb_journal_checkpoint_if_large(j));
    /* past 8 MiB: copied back */
    assert_int_equal(cb_journal_begin(j, &err), CB_OK);
    for (int i = 0; i < 90; i++) {
        struct cb_journal_entry e;
        snprintf(ctrl, sizeof(ctrl), "S%d", i);
        e = entry("HIS|H1", ctrl, "");
        e.raw = cb_str_make(big, sizeof(big));
        assert_true(put(j, &e, NULL) > 0);
    }
    assert_int_equal(cb_journal_commit(j, &err), CB_OK);
    assert_true(cb_journal_checkpoint_if_large(j));
    assert_false(cb_journal_checkpoint_if_large(j));
    /* past 64 MiB */
    assert_int_equal(cb_journal_begin(j, &err), CB_OK);
    for (int i = 0; i < 800; i++) {   /* ~80 MB: more than 4096 pages */
        struct cb_journal_entry e;
        snprintf(ctrl, sizeof(ctrl), "B%d", i);
        e = entry("HIS|H1", ctrl, "");
        e.raw = cb_str_make(big, sizeof(big));
        assert_true(put(j, &e, NULL) > 0);
    }
    assert_int_equal(cb_journal_commit(j, &err), CB_OK);
    snprintf(wal, sizeof(wal), "%s-wal", p);
    assert_int_equal(stat(wal, &sb), 0);
    assert_true(sb.st_size > 64 * 1024 * 1024);
    assert_true(cb_journal_checkpoint_if_large(j));
    assert_false(cb_journal_checkpoint_if_large(j));   /* done already */
    /* the next transaction starts the log over, cut to the limit */
    assert_int_equal(cb_journal_begin(j, &err), CB_OK);
    {
        struct cb_journal_entry e = entry("HIS|H1", "AFTER", "MSH|after\r");
        assert_true(put(j, &e, NULL) > 0);
    }
    assert_int_equal(cb_journal_commit(j, &err), CB_OK);
    assert_int_equal(stat(wal, &sb), 0);
    assert_true(sb.st_size <= 64 * 1024 * 1024);
    cb_journal_close(j);
    assert_int_equal(scalar(p, "SELECT count(*) FROM hl7_message"), 891);
    cb_buf_release(&err);
}

static void
test_schema(void **state)
{
    const char *p = db_path("j4.db");
    struct cb_store *st;
    struct cb_buf err = CB_BUF_INIT;

    (void)state;
    assert_int_equal(cb_store_open(&st, p, &err), CB_OK);
    cb_store_close(st);
    assert_int_equal(scalar(p, "SELECT count(*) FROM sqlite_master"
                               " WHERE name = 'hl7_message'"), 1);
    assert_int_equal(scalar(p, "PRAGMA user_version"), CB_SCHEMA_VERSION);
    cb_buf_release(&err);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duplicates_and_rejects),
        cmocka_unit_test(test_rollback_stores_nothing),
        cmocka_unit_test(test_replay_order),
        cmocka_unit_test(test_wal_bounded),
        cmocka_unit_test(test_schema),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
