/*
 * store_org.c - the organisation tree: groupings (consortium, region) ->
 * hospitals -> departments. A hospital may belong to several groupings.
 */
#include <stdio.h>
#include <string.h>

#include "store_int.h"

enum cb_err
cb_store_hospital_ensure(struct cb_store *st, struct cb_str zzjgdm,
                         struct cb_str name, int64_t *id, struct cb_buf *err)
{
    sqlite3_stmt *s;
    uint32_t cached;
    enum cb_err rc;

    if (cb_strmap_get(&st->hosp_cache, zzjgdm, &cached)) {
        *id = cached;
        return CB_OK;
    }
    if (!(s = cb__store_stmt(st, S_HOSP_INSERT, err)))
        return CB_ERR_DB;
    bind_str(s, 1, zzjgdm);
    bind_str(s, 2, name);
    if (sqlite3_step(s) != SQLITE_DONE) {
        sqlite3_reset(s);
        return cb__store_fail(st, "cannot create hospital", err);
    }
    sqlite3_reset(s);
    if (!(s = cb__store_stmt(st, S_HOSP_FIND, err)))
        return CB_ERR_DB;
    bind_str(s, 1, zzjgdm);
    if (sqlite3_step(s) != SQLITE_ROW) {
        sqlite3_reset(s);
        return cb__store_fail(st, "cannot find hospital", err);
    }
    *id = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    if (*id > 0 && *id <= (int64_t)UINT32_MAX &&
        (rc = cb_strmap_put(&st->hosp_cache, zzjgdm, (uint32_t)*id)))
        return rc;
    return CB_OK;
}

enum cb_err
cb_store_department_ensure(struct cb_store *st, int64_t hospital_id,
                           struct cb_str code, struct cb_str name,
                           struct cb_buf *err)
{
    char key[96];
    size_t n;
    sqlite3_stmt *s;

    if (!code.len)
        return CB_OK;
    if (!(n = cb__key_id(key, sizeof(key), hospital_id, code, 64)))
        return CB_ERR_TOO_LARGE;
    if (cb_strmap_has(&st->dept_cache, cb_str_make(key, n)))
        return CB_OK;
    if (!(s = cb__store_stmt(st, S_DEPT_INSERT, err)))
        return CB_ERR_DB;
    sqlite3_bind_int64(s, 1, hospital_id);
    bind_str(s, 2, code);
    bind_str(s, 3, name);
    if (sqlite3_step(s) != SQLITE_DONE) {
        sqlite3_reset(s);
        return cb__store_fail(st, "cannot create department", err);
    }
    sqlite3_reset(s);
    return cb_strmap_put(&st->dept_cache, cb_str_make(key, n), 1);
}

enum cb_err
cb_store_hospital_name(struct cb_store *st, const char *zzjgdm,
                       struct cb_buf *out, struct cb_buf *err)
{
    sqlite3_stmt *s;
    enum cb_err rc = CB_ERR_NOT_FOUND;

    cb_buf_reset(out);
    if (sqlite3_prepare_v2(st->db, "SELECT name FROM hospital WHERE zzjgdm = ?1"
                           " AND name IS NOT NULL", -1, &s, NULL) != SQLITE_OK)
        return cb__store_fail(st, "cannot look up hospital", err);
    sqlite3_bind_text(s, 1, zzjgdm, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW)
        rc = cb_buf_adds(out, (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return rc;
}

static enum cb_err
run(struct cb_store *st, const char *sql, const char *const *args, int nargs,
    const char *what, int *changes, struct cb_buf *err)
{
    sqlite3_stmt *s;
    int i, ok;

    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
        return cb__store_fail(st, what, err);
    for (i = 0; i < nargs; i++)
        if (args[i])
            sqlite3_bind_text(s, i + 1, args[i], -1, SQLITE_STATIC);
    ok = sqlite3_step(s) == SQLITE_DONE;
    if (!ok) {
        cb_errf(err, "%s: %s", what, sqlite3_errmsg(st->db));
        sqlite3_finalize(s);
        return CB_ERR_DB;
    }
    sqlite3_finalize(s);
    if (changes)
        *changes = sqlite3_changes(st->db);
    return CB_OK;
}

enum cb_err
cb_store_hospital_set(struct cb_store *st, const char *zzjgdm,
                      const char *name, const char *level, struct cb_buf *err)
{
    const char *args[3] = { zzjgdm, name, level };

    if (level && strcmp(level, "三级") && strcmp(level, "二级") &&
        strcmp(level, "基层")) {
        cb_errf(err, "unknown hospital level '%s' (三级, 二级 or 基层)", level);
        return CB_ERR_USAGE;
    }
    return run(st,
               "INSERT INTO hospital(zzjgdm, name, level, origin)"
               " VALUES (?1, ?2, ?3, 'user') ON CONFLICT (zzjgdm) DO UPDATE SET"
               " name = coalesce(?2, hospital.name),"
               " level = coalesce(?3, hospital.level)",
               args, 3, "cannot set hospital", NULL, err);
}

enum cb_err
cb_store_group_set(struct cb_store *st, const char *kind, const char *code,
                   const char *name, struct cb_buf *err)
{
    const char *args[3] = { kind, code, name ? name : code };

    if (strcmp(kind, "consortium") && strcmp(kind, "region")) {
        cb_errf(err, "unknown grouping kind '%s' (consortium or region)", kind);
        return CB_ERR_USAGE;
    }
    return run(st,
               "INSERT INTO org_group(kind, code, name) VALUES (?1, ?2, ?3)"
               " ON CONFLICT (code) DO UPDATE SET name = ?3, kind = ?1",
               args, 3, "cannot set grouping", NULL, err);
}

enum cb_err
cb_store_group_member(struct cb_store *st, const char *group_code,
                      const char *zzjgdm, int remove, struct cb_buf *err)
{
    const char *args[2] = { group_code, zzjgdm };
    int changes = 0;
    enum cb_err rc;

    if (remove)
        return run(st,
                   "DELETE FROM org_member WHERE group_id = (SELECT id FROM"
                   " org_group WHERE code = ?1) AND hospital_id = (SELECT id"
                   " FROM hospital WHERE zzjgdm = ?2)",
                   args, 2, "cannot remove member", NULL, err);
    rc = run(st,
             "INSERT OR IGNORE INTO org_member(group_id, hospital_id)"
             " SELECT g.id, h.id FROM org_group g, hospital h"
             " WHERE g.code = ?1 AND h.zzjgdm = ?2",
             args, 2, "cannot add member", &changes, err);
    if (rc)
        return rc;
    if (changes == 0) {
        /* Either it was already a member, or one side is unknown. */
        const char *chk = "SELECT 1 FROM org_member m JOIN org_group g ON g.id ="
                          " m.group_id JOIN hospital h ON h.id = m.hospital_id"
                          " WHERE g.code = ?1 AND h.zzjgdm = ?2";
        sqlite3_stmt *s;
        int found;
        if (sqlite3_prepare_v2(st->db, chk, -1, &s, NULL) != SQLITE_OK)
            return cb__store_fail(st, "cannot add member", err);
        sqlite3_bind_text(s, 1, group_code, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, zzjgdm, -1, SQLITE_STATIC);
        found = sqlite3_step(s) == SQLITE_ROW;
        sqlite3_finalize(s);
        if (!found) {
            cb_errf(err, "unknown grouping '%s' or hospital '%s'", group_code, zzjgdm);
            return CB_ERR_NOT_FOUND;
        }
    }
    return CB_OK;
}

enum cb_err
cb_store_list_groups(struct cb_store *st, cb_store_row_fn fn, void *ctx,
                     struct cb_buf *err)
{
    return cb_store_query(st,
        "SELECT g.kind, g.code, g.name, count(m.hospital_id) AS hospitals,"
        " group_concat(h.zzjgdm, ' ') AS members"
        " FROM org_group g LEFT JOIN org_member m ON m.group_id = g.id"
        " LEFT JOIN hospital h ON h.id = m.hospital_id"
        " GROUP BY g.id ORDER BY g.kind, g.code", fn, ctx, err);
}

enum cb_err
cb_store_list_hospitals(struct cb_store *st, cb_store_row_fn fn, void *ctx,
                        struct cb_buf *err)
{
    return cb_store_query(st,
        "SELECT h.zzjgdm, h.name, h.level,"
        " (SELECT group_concat(g.code, ' ') FROM org_member m JOIN org_group g"
        "   ON g.id = m.group_id WHERE m.hospital_id = h.id) AS groups,"
        " (SELECT count(*) FROM department d WHERE d.hospital_id = h.id) AS departments,"
        " (SELECT count(*) FROM record r WHERE r.hospital_id = h.id) AS records"
        " FROM hospital h ORDER BY h.zzjgdm", fn, ctx, err);
}

enum cb_err
cb_store_list_departments(struct cb_store *st, const char *zzjgdm,
                          cb_store_row_fn fn, void *ctx, struct cb_buf *err)
{
    sqlite3_stmt *s;
    const char *names[4], *values[4];
    int i, step;
    enum cb_err rc = CB_OK;

    if (sqlite3_prepare_v2(st->db,
            "SELECT h.zzjgdm, d.code, d.name,"
            " (SELECT count(*) FROM record r WHERE r.hospital_id = d.hospital_id"
            "  AND r.cykb = d.code) AS discharges"
            " FROM department d JOIN hospital h ON h.id = d.hospital_id"
            " WHERE ?1 IS NULL OR h.zzjgdm = ?1 ORDER BY h.zzjgdm, d.code",
            -1, &s, NULL) != SQLITE_OK)
        return cb__store_fail(st, "cannot list departments", err);
    if (zzjgdm)
        sqlite3_bind_text(s, 1, zzjgdm, -1, SQLITE_STATIC);
    for (i = 0; i < 4; i++)
        names[i] = sqlite3_column_name(s, i);
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        for (i = 0; i < 4; i++)
            values[i] = (const char *)sqlite3_column_text(s, i);
        if ((rc = fn(ctx, 4, names, values)))
            break;
    }
    if (!rc && step != SQLITE_DONE)
        rc = cb__store_fail(st, "cannot list departments", err);
    sqlite3_finalize(s);
    return rc;
}
