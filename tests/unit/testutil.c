#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "testutil.h"

static const char *
join(char *buf, size_t n, const char *env, const char *fallback,
     const char *rel)
{
    const char *base = getenv(env);

    if (!base)
        base = fallback;
    if ((size_t)snprintf(buf, n, "%s/%s", base, rel) >= n)
        abort();
    return buf;
}

const char *
tu_shared(const char *rel)
{
    static char buf[4096];
    return join(buf, sizeof(buf), "CB_SHARED", "../shared", rel);
}

const char *
tu_source(const char *rel)
{
    static char buf[4096];
    return join(buf, sizeof(buf), "CB_SOURCE", ".", rel);
}

const char *
tu_tmpdir(void)
{
    static char dir[256];

    if (!dir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(dir, sizeof(dir), "%s/cbtest.XXXXXX", t ? t : "/tmp");
        if (!mkdtemp(dir))
            abort();
    }
    return dir;
}

const char *
tu_write_file(const char *name, const void *data, size_t len)
{
    static char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tu_tmpdir(), name);
    f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
        abort();
    return path;
}

long long
tu_sql_int(const char *path, const char *sql)
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
