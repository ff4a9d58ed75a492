/*
 * store_rows.c - rows in memory as a table-valued function, so that a
 * batch of them goes into a table with one INSERT ... SELECT.
 *
 * `cb_rows(?)` takes a pointer (sqlite3_bind_pointer, type "cb_rows") to a
 * struct cb__rows and yields its rows, with columns c0 .. c31 that the
 * rows' own column function gives. A multi-row VALUES list costs a bound
 * parameter per column of every row (sqlite3_bind_*, then a copy into a
 * register); here each column is produced once, where SQLite reads it.
 * Values are given as SQLITE_STATIC: the rows must stay unchanged until
 * the statement is reset.
 */
#include <string.h>

#include "store_int.h"

#define ROWS_NCOLS 32

struct rows_cursor {
    sqlite3_vtab_cursor base;
    const struct cb__rows *rows;
    int i;
};

static int
rows_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
             sqlite3_vtab **out, char **err)
{
    sqlite3_vtab *v;
    int rc;

    (void)aux;
    (void)argc;
    (void)argv;
    (void)err;
    rc = sqlite3_declare_vtab(db, "CREATE TABLE x(c0,c1,c2,c3,c4,c5,c6,c7,c8,c9,c10,c11,"
                                  "c12,c13,c14,c15,c16,c17,c18,c19,c20,c21,c22,c23,c24,"
                                  "c25,c26,c27,c28,c29,c30,c31,src HIDDEN)");
    if (rc != SQLITE_OK)
        return rc;
    if (!(v = sqlite3_malloc(sizeof(*v))))
        return SQLITE_NOMEM;
    memset(v, 0, sizeof(*v));
    *out = v;
    return SQLITE_OK;
}

static int
rows_disconnect(sqlite3_vtab *v)
{
    sqlite3_free(v);
    return SQLITE_OK;
}

/* Only with the source given: cb_rows(?). */
static int
rows_best_index(sqlite3_vtab *v, sqlite3_index_info *info)
{
    (void)v;
    for (int i = 0; i < info->nConstraint; i++) {
        const struct sqlite3_index_constraint *c = &info->aConstraint[i];

        if (c->iColumn == ROWS_NCOLS && c->op == SQLITE_INDEX_CONSTRAINT_EQ) {
            if (!c->usable)
                return SQLITE_CONSTRAINT;
            info->aConstraintUsage[i].argvIndex = 1;
            info->aConstraintUsage[i].omit = 1;
            info->estimatedCost = 1;
            info->estimatedRows = CB__BATCH;
            return SQLITE_OK;
        }
    }
    return SQLITE_CONSTRAINT;
}

static int
rows_open(sqlite3_vtab *v, sqlite3_vtab_cursor **out)
{
    struct rows_cursor *c = sqlite3_malloc(sizeof(*c));

    (void)v;
    if (!c)
        return SQLITE_NOMEM;
    memset(c, 0, sizeof(*c));
    *out = &c->base;
    return SQLITE_OK;
}

static int
rows_close(sqlite3_vtab_cursor *cur)
{
    sqlite3_free(cur);
    return SQLITE_OK;
}

static int
rows_filter(sqlite3_vtab_cursor *cur, int idx, const char *idx_str, int argc,
            sqlite3_value **argv)
{
    struct rows_cursor *c = (struct rows_cursor *)cur;

    (void)idx;
    (void)idx_str;
    c->rows = argc == 1 ? sqlite3_value_pointer(argv[0], "cb_rows") : NULL;
    c->i = 0;
    return SQLITE_OK;
}

static int
rows_next(sqlite3_vtab_cursor *cur)
{
    ((struct rows_cursor *)cur)->i++;
    return SQLITE_OK;
}

static int
rows_eof(sqlite3_vtab_cursor *cur)
{
    const struct rows_cursor *c = (const struct rows_cursor *)cur;

    return !c->rows || c->i >= c->rows->n;
}

static int
rows_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col)
{
    const struct rows_cursor *c = (const struct rows_cursor *)cur;

    if (col < ROWS_NCOLS)
        c->rows->column(ctx, (const char *)c->rows->base + (size_t)c->i * c->rows->stride,
                        col);
    return SQLITE_OK;
}

static int
rows_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid)
{
    *rowid = ((const struct rows_cursor *)cur)->i;
    return SQLITE_OK;
}

static const sqlite3_module rows_module = {
    .iVersion = 0,
    .xConnect = rows_connect,     /* no xCreate: eponymous only */
    .xBestIndex = rows_best_index,
    .xDisconnect = rows_disconnect,
    .xOpen = rows_open,
    .xClose = rows_close,
    .xFilter = rows_filter,
    .xNext = rows_next,
    .xEof = rows_eof,
    .xColumn = rows_column,
    .xRowid = rows_rowid,
};

int
cb__rows_register(sqlite3 *db)
{
    return sqlite3_create_module_v2(db, "cb_rows", &rows_module, NULL, NULL);
}

void
cb__rows_bind(sqlite3_stmt *s, int i, const struct cb__rows *rows)
{
    sqlite3_bind_pointer(s, i, (void *)rows, "cb_rows", NULL);
}
