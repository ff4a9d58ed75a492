/*
 * test_journal.c - the HL7 message journal (store_hl7.c): duplicates,
 * rejected rows, rollback, replay order, reopening, the log kept bounded
 * (its checkpointer, the writer's fallback), the explicit sync.
 *
 * The messages are synthetic; the journal does not read them.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

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

    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM hl7_message"), 3);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM hl7_message WHERE status = 2"
                               " AND ack_code = 'AR' AND event = 'ORU^R01'"), 1);
    /* the stored bytes are the first ones, not the resend's */
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM hl7_message WHERE seq = 1"
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
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM hl7_message"), 1);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM hl7_message WHERE control_id = 'R1'"), 1);
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

/* Stores n messages of sizeof(big) bytes with control ids PREFIX0.. */
static void
put_big(struct cb_journal *j, const char *prefix, int n)
{
    static char big[100 * 1024];
    struct cb_buf err = CB_BUF_INIT;
    char ctrl[32];

    memset(big, 'x', sizeof(big));
    assert_int_equal(cb_journal_begin(j, &err), CB_OK);
    for (int i = 0; i < n; i++) {
        struct cb_journal_entry e;
        snprintf(ctrl, sizeof(ctrl), "%s%d", prefix, i);
        e = entry("HIS|H1", ctrl, "");
        e.raw = cb_str_make(big, sizeof(big));
        assert_true(put(j, &e, NULL) > 0);
    }
    assert_int_equal(cb_journal_commit(j, &err), CB_OK);
    cb_buf_release(&err);
}

static void
put_small(struct cb_journal *j, const char *ctrl)
{
    struct cb_buf err = CB_BUF_INIT;
    struct cb_journal_entry e = entry("HIS|H1", ctrl, "MSH|small\r");

    assert_int_equal(cb_journal_begin(j, &err), CB_OK);
    assert_true(put(j, &e, NULL) > 0);
    assert_int_equal(cb_journal_commit(j, &err), CB_OK);
    cb_buf_release(&err);
}

/* Waits (up to 20 s) for the checkpointer to finish n checkpoints. */
static void
wait_checkpoints(struct cb_journal *j, uint64_t n)
{
    struct cb_journal_stats js;

    for (int i = 0; i < 2000; i++) {
        cb_journal_stats(j, &js);
        if (js.checkpoints >= n)
            return;
        usleep(10000);
    }
    fail_msg("the checkpointer did not copy the log back");
}

/* A log past 16 MiB is copied back by the journal's own thread, without
 * the writer: the next transaction starts the log over. */
static void
test_wal_checkpointer(void **state)
{
    const char *p = db_path("j6.db");
    struct cb_journal *j;
    struct cb_journal_stats js;
    struct cb_buf err = CB_BUF_INIT;

    (void)state;
    assert_int_equal(cb_journal_open(&j, p, &err), CB_OK);
    put_small(j, "FIRST");
    cb_journal_stats(j, &js);
    assert_true(js.log_frames > 0 && js.log_frames < 1024);
    assert_int_equal(js.checkpoints, 0);   /* short: nothing to do */
    put_big(j, "C", 180);                  /* ~18 MB: past 1,024 pages */
    cb_journal_stats(j, &js);
    assert_true(js.log_frames > 1024);
    wait_checkpoints(j, 1);
    put_small(j, "AFTER");
    cb_journal_stats(j, &js);
    assert_true(js.log_frames < 16);      /* started over */
    assert_int_equal(js.forced_checkpoints, 0);
    cb_journal_close(j);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM hl7_message"), 182);
    cb_buf_release(&err);
}

/* A log past 64 MiB (the checkpointer could not keep up) is copied back by
 * the writer between batches, and the file is cut back to 64 MiB when the
 * log starts over. */
static void
test_wal_bounded(void **state)
{
    const char *p = db_path("j5.db");
    struct cb_journal *j;
    struct cb_journal_stats js;
    struct cb_buf err = CB_BUF_INIT;
    char wal[600];
    struct stat sb;
    bool done = false;

    (void)state;
    assert_int_equal(cb_journal_open(&j, p, &err), CB_OK);
    assert_false(cb_journal_checkpoint_if_large(j));
    put_big(j, "S", 90);                   /* 9 MB: the checkpointer's business */
    assert_false(cb_journal_checkpoint_if_large(j));
    put_big(j, "B", 800);                  /* ~80 MB: more than 4,096 pages */
    snprintf(wal, sizeof(wal), "%s-wal", p);
    assert_int_equal(stat(wal, &sb), 0);
    assert_true(sb.st_size > 64 * 1024 * 1024);
    /* Busy while the checkpointer is at it: the committer tries again
       after its next batch; here, until it gets through. */
    for (int i = 0; i < 2000 && !done; i++)
        if (!(done = cb_journal_checkpoint_if_large(j)))
            usleep(10000);
    assert_true(done);
    assert_false(cb_journal_checkpoint_if_large(j));   /* done already */
    cb_journal_stats(j, &js);
    assert_int_equal(js.forced_checkpoints, 1);
    /* the next transaction starts the log over, cut to the limit */
    put_small(j, "AFTER");
    assert_int_equal(stat(wal, &sb), 0);
    assert_true(sb.st_size <= 64 * 1024 * 1024);
    cb_journal_close(j);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM hl7_message"), 891);
    cb_buf_release(&err);
}

/* A commit is durable through the journal's own sync of the log: the
 * connection does not sync inside COMMIT, and the rows are there after
 * reopening. (Power loss itself cannot be shown here; the argument is in
 * store_hl7.c.) */
static void
test_commit_syncs(void **state)
{
    const char *p = db_path("j7.db");
    struct cb_journal *j;
    struct cb_journal_stats js;
    struct cb_buf err = CB_BUF_INIT;

    (void)state;
    assert_int_equal(cb_journal_open(&j, p, &err), CB_OK);
    cb_journal_stats(j, &js);
    assert_int_equal(js.syncs, 0);
    for (int i = 0; i < 20; i++) {
        char ctrl[16];
        snprintf(ctrl, sizeof(ctrl), "D%d", i);
        put_small(j, ctrl);
    }
    cb_journal_stats(j, &js);
    assert_int_equal(js.syncs, 20);   /* the explicit fdatasync, once a commit */
    cb_journal_close(j);
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM hl7_message"), 20);
    cb_buf_release(&err);
}

/* Copies file from to to (whole). */
static void
copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    char buf[65536];
    size_t n;

    assert_non_null(in);
    assert_non_null(out);
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    assert_int_equal(fclose(out), 0);
}

/* The log file is extended with zeros at open (where there is room), so
 * that commits overwrite instead of growing it; a crash image (the
 * database and its log as they are on disk while the journal runs)
 * recovers every committed row: the zeros past the log's end are not
 * frames. */
static void
test_wal_preallocated(void **state)
{
    const char *p = db_path("j9.db");
    char wal[600], copy[600], copy_wal[700];
    struct cb_journal *j;
    struct cb_buf err = CB_BUF_INIT;
    struct statvfs fs;
    struct stat sb;

    (void)state;
    assert_int_equal(statvfs(tu_tmpdir(), &fs), 0);
    if ((unsigned long long)fs.f_bavail * fs.f_frsize < (2ull << 30))
        skip();   /* the journal does not preallocate on a small disk */
    assert_int_equal(cb_journal_open(&j, p, &err), CB_OK);
    snprintf(wal, sizeof(wal), "%s-wal", p);
    assert_int_equal(stat(wal, &sb), 0);
    assert_true(sb.st_size >= 24 * 1024 * 1024);
    for (int i = 0; i < 30; i++) {
        char ctrl[16];
        snprintf(ctrl, sizeof(ctrl), "P%d", i);
        put_small(j, ctrl);
    }
    assert_int_equal(stat(wal, &sb), 0);
    assert_int_equal(sb.st_size, 24 * 1024 * 1024);   /* overwritten, not grown */
    snprintf(copy, sizeof(copy), "%s/j9-crash.db", tu_tmpdir());
    snprintf(copy_wal, sizeof(copy_wal), "%s-wal", copy);
    remove(copy);
    copy_file(p, copy);
    copy_file(wal, copy_wal);
    assert_int_equal(tu_sql_int(copy, "SELECT count(*) FROM hl7_message"), 30);
    assert_int_equal(tu_sql_int(copy, "SELECT count(*) FROM pragma_integrity_check"
                                  " WHERE integrity_check = 'ok'"), 1);
    cb_journal_close(j);
    cb_buf_release(&err);
}

/*
 * A VFS over the default one that can make the write-ahead log's xSync
 * fail (fail_wal_sync), as an fsync that hits an I/O error would.
 */
struct shim_file {
    sqlite3_file  base;
    bool          wal;
    sqlite3_file *real;   /* right after this struct */
};
static sqlite3_vfs *real_vfs;
static bool fail_wal_sync;

#define REAL(f) (((struct shim_file *)(f))->real)
static int s_close(sqlite3_file *f) { return REAL(f)->pMethods->xClose(REAL(f)); }
static int s_read(sqlite3_file *f, void *b, int n, sqlite3_int64 o)
{ return REAL(f)->pMethods->xRead(REAL(f), b, n, o); }
static int s_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 o)
{ return REAL(f)->pMethods->xWrite(REAL(f), b, n, o); }
static int s_truncate(sqlite3_file *f, sqlite3_int64 n)
{ return REAL(f)->pMethods->xTruncate(REAL(f), n); }
static int s_sync(sqlite3_file *f, int flags)
{
    if (((struct shim_file *)f)->wal && fail_wal_sync)
        return SQLITE_IOERR_FSYNC;
    return REAL(f)->pMethods->xSync(REAL(f), flags);
}
static int s_size(sqlite3_file *f, sqlite3_int64 *n) { return REAL(f)->pMethods->xFileSize(REAL(f), n); }
static int s_lock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xLock(REAL(f), l); }
static int s_unlock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xUnlock(REAL(f), l); }
static int s_check(sqlite3_file *f, int *r)
{ return REAL(f)->pMethods->xCheckReservedLock(REAL(f), r); }
static int s_fcntl(sqlite3_file *f, int op, void *a)
{ return REAL(f)->pMethods->xFileControl(REAL(f), op, a); }
static int s_sector(sqlite3_file *f) { return REAL(f)->pMethods->xSectorSize(REAL(f)); }
static int s_dev(sqlite3_file *f) { return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f)); }
static int s_shmmap(sqlite3_file *f, int i, int sz, int ext, void volatile **pp)
{ return REAL(f)->pMethods->xShmMap(REAL(f), i, sz, ext, pp); }
static int s_shmlock(sqlite3_file *f, int o, int n, int fl)
{ return REAL(f)->pMethods->xShmLock(REAL(f), o, n, fl); }
static void s_shmbarrier(sqlite3_file *f) { REAL(f)->pMethods->xShmBarrier(REAL(f)); }
static int s_shmunmap(sqlite3_file *f, int del) { return REAL(f)->pMethods->xShmUnmap(REAL(f), del); }
static int s_fetch(sqlite3_file *f, sqlite3_int64 o, int n, void **pp)
{ return REAL(f)->pMethods->xFetch(REAL(f), o, n, pp); }
static int s_unfetch(sqlite3_file *f, sqlite3_int64 o, void *p)
{ return REAL(f)->pMethods->xUnfetch(REAL(f), o, p); }

static const sqlite3_io_methods shim_io = {
    3, s_close, s_read, s_write, s_truncate, s_sync, s_size, s_lock, s_unlock, s_check,
    s_fcntl, s_sector, s_dev, s_shmmap, s_shmlock, s_shmbarrier, s_shmunmap, s_fetch,
    s_unfetch,
};

static int
s_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
    struct shim_file *sf = (struct shim_file *)f;
    int rc;

    (void)vfs;
    sf->real = (sqlite3_file *)(sf + 1);
    sf->wal = (flags & SQLITE_OPEN_WAL) != 0;
    rc = real_vfs->xOpen(real_vfs, name, sf->real, flags, out);
    /* SQLite calls xClose only when pMethods is set. */
    f->pMethods = sf->real->pMethods ? &shim_io : NULL;
    return rc;
}

static sqlite3_vfs shim_vfs;

static void
shim_install(void)
{
    real_vfs = sqlite3_vfs_find(NULL);
    shim_vfs = *real_vfs;
    shim_vfs.zName = "cb-test-shim";
    shim_vfs.szOsFile = (int)sizeof(struct shim_file) + real_vfs->szOsFile;
    shim_vfs.xOpen = s_open;
    assert_int_equal(sqlite3_vfs_register(&shim_vfs, 1), SQLITE_OK);
}

static void
shim_remove(void)
{
    sqlite3_vfs_unregister(&shim_vfs);
    sqlite3_vfs_register(real_vfs, 1);
}

/* When the sync of the log fails, the batch fails, and so does every
 * later one until the journal is reopened: nothing may be acknowledged
 * from a state that may not be on disk. */
static void
test_sync_failure(void **state)
{
    const char *p = db_path("j8.db");
    struct cb_journal *j;
    struct cb_buf err = CB_BUF_INIT;
    struct cb_journal_entry e = entry("HIS|H1", "F1", "MSH|f1\r");

    (void)state;
    shim_install();
    assert_int_equal(cb_journal_open(&j, p, &err), CB_OK);
    put_small(j, "OK1");
    fail_wal_sync = true;
    assert_int_equal(cb_journal_begin(j, &err), CB_OK);
    assert_true(put(j, &e, NULL) > 0);
    assert_int_equal(cb_journal_commit(j, &err), CB_ERR_IO);
    assert_non_null(strstr(cb_buf_cstr(&err), "sync"));
    fail_wal_sync = false;
    cb_buf_reset(&err);
    assert_int_equal(cb_journal_begin(j, &err), CB_ERR_IO);   /* refused from now on */
    cb_journal_close(j);
    /* reopened: works again */
    assert_int_equal(cb_journal_open(&j, p, &err), CB_OK);
    put_small(j, "OK2");
    cb_journal_close(j);
    shim_remove();
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
    assert_int_equal(tu_sql_int(p, "SELECT count(*) FROM sqlite_master"
                               " WHERE name = 'hl7_message'"), 1);
    assert_int_equal(tu_sql_int(p, "PRAGMA user_version"), CB_SCHEMA_VERSION);
    cb_buf_release(&err);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duplicates_and_rejects),
        cmocka_unit_test(test_rollback_stores_nothing),
        cmocka_unit_test(test_replay_order),
        cmocka_unit_test(test_wal_checkpointer),
        cmocka_unit_test(test_wal_bounded),
        cmocka_unit_test(test_commit_syncs),
        cmocka_unit_test(test_sync_failure),
        cmocka_unit_test(test_wal_preallocated),
        cmocka_unit_test(test_schema),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
