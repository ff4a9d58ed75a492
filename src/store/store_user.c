/*
 * store_user.c - the accounts of `carebase serve` (schema v4): users,
 * sessions, the audit trail, and the reads that a user's scope limits
 * (the hospitals it covers, their rejects).
 *
 * Scopes are resolved in SQL from (scope_kind, scope_code) every time, so a
 * hospital that joins or leaves a consortium changes what its users see at
 * once.
 */
#include <stdio.h>
#include <string.h>

#include "store_int.h"

/* The hospital ids of a scope, as a common table expression (?1 kind, ?2 code). */
#define SCOPE_CTE \
    "WITH vis(id) AS (" \
    " SELECT h.id FROM hospital h WHERE ?1 = 'hospital' AND h.zzjgdm = ?2" \
    " UNION SELECT m.hospital_id FROM org_member m JOIN org_group g" \
    "  ON g.id = m.group_id WHERE ?1 = 'group' AND g.code = ?2) "

static void
col_text(sqlite3_stmt *s, int i, char *dst, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

static int
fits(const char *s, size_t cap)
{
    return s && strlen(s) < cap;
}

/* Runs a statement with text parameters (NULL binds NULL) to completion. */
static enum cb_err
run(struct cb_store *st, const char *sql, const char *const *args, int nargs,
    const char *what, int *changes, struct cb_buf *err)
{
    sqlite3_stmt *s;
    int i;

    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
        return cb__store_fail(st, what, err);
    for (i = 0; i < nargs; i++)
        if (args[i])
            sqlite3_bind_text(s, i + 1, args[i], -1, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE) {
        enum cb_err rc = cb__store_fail(st, what, err);
        sqlite3_finalize(s);
        return rc;
    }
    sqlite3_finalize(s);
    if (changes)
        *changes = sqlite3_changes(st->db);
    return CB_OK;
}

/* Calls fn for each row of a prepared statement, then finalises it. */
static enum cb_err
each_row(struct cb_store *st, sqlite3_stmt *s, const char *what, cb_store_row_fn fn,
         void *ctx, struct cb_buf *err)
{
    const char *names[16], *values[16];
    int i, n, step;
    enum cb_err rc = CB_OK;

    n = sqlite3_column_count(s);
    if (n > 16)
        n = 16;
    for (i = 0; i < n; i++)
        names[i] = sqlite3_column_name(s, i);
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        for (i = 0; i < n; i++)
            values[i] = (const char *)sqlite3_column_text(s, i);
        if ((rc = fn(ctx, n, names, values)))
            break;
    }
    if (!rc && step != SQLITE_DONE)
        rc = cb__store_fail(st, what, err);
    sqlite3_finalize(s);
    return rc;
}

static int
valid_role(const char *role, const char **kind)
{
    if (!strcmp(role, "consortium_admin"))
        *kind = "group";
    else if (!strcmp(role, "hospital_admin") || !strcmp(role, "department_viewer"))
        *kind = "hospital";
    else
        return 0;
    return 1;
}

enum cb_err
cb_store_user_add(struct cb_store *st, struct cb_store_user *u, struct cb_buf *err)
{
    const char *kind = NULL;
    sqlite3_stmt *s;
    enum cb_err rc;
    int found;

    if (!u->name[0] || !fits(u->name, sizeof u->name) || !valid_role(u->role, &kind) ||
        !u->scope_code[0] || !u->pw_hash[0]) {
        cb_errf(err, "a user needs a name (at most %d bytes), a role (consortium_admin,"
                " hospital_admin or department_viewer), a scope and a password",
                CB_USER_NAME_MAX - 1);
        return CB_ERR_USAGE;
    }
    if (!strcmp(u->role, "department_viewer") != !!u->department[0]) {
        cb_errf(err, "a department is given for a department_viewer, and only for one");
        return CB_ERR_USAGE;
    }
    snprintf(u->scope_kind, sizeof u->scope_kind, "%s", kind);

    if (sqlite3_prepare_v2(st->db, !strcmp(kind, "group")
                               ? "SELECT 1 FROM org_group WHERE code = ?1"
                               : "SELECT 1 FROM hospital WHERE zzjgdm = ?1",
                           -1, &s, NULL) != SQLITE_OK)
        return cb__store_fail(st, "cannot check the scope", err);
    sqlite3_bind_text(s, 1, u->scope_code, -1, SQLITE_STATIC);
    found = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_finalize(s);
    if (!found) {
        cb_errf(err, "no %s '%s' (a %s needs %s)", !strcmp(kind, "group")
                ? "consortium or region" : "hospital", u->scope_code, u->role,
                !strcmp(kind, "group") ? "the code of an org group"
                                       : "the ZZJGDM of a hospital");
        return CB_ERR_NOT_FOUND;
    }

    if (sqlite3_prepare_v2(st->db,
            "INSERT INTO user(name, pw_hash, role, scope_kind, scope_code, department,"
            " show_identifiers, created_at) VALUES (?1,?2,?3,?4,?5,?6,?7,"
            " strftime('%Y-%m-%dT%H:%M:%SZ','now'))"
            " ON CONFLICT (name) DO NOTHING RETURNING id", -1, &s, NULL) != SQLITE_OK)
        return cb__store_fail(st, "cannot add user", err);
    sqlite3_bind_text(s, 1, u->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, u->pw_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, u->role, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, u->scope_kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, u->scope_code, -1, SQLITE_STATIC);
    if (u->department[0])
        sqlite3_bind_text(s, 6, u->department, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 7, u->show_identifiers ? 1 : 0);
    switch (sqlite3_step(s)) {
    case SQLITE_ROW:
        u->id = sqlite3_column_int64(s, 0);
        rc = CB_OK;
        break;
    case SQLITE_DONE:
        cb_errf(err, "user '%s' exists", u->name);
        rc = CB_ERR_USAGE;
        break;
    default:
        rc = cb__store_fail(st, "cannot add user", err);
        break;
    }
    sqlite3_finalize(s);
    return rc;
}

enum cb_err
cb_store_user_get(struct cb_store *st, const char *name, struct cb_store_user *u,
                  struct cb_buf *err)
{
    sqlite3_stmt *s;
    enum cb_err rc = CB_ERR_NOT_FOUND;
    int step;

    memset(u, 0, sizeof *u);
    if (sqlite3_prepare_v2(st->db,
            "SELECT id, name, role, scope_kind, scope_code, department, disabled,"
            " pw_hash, show_identifiers FROM user WHERE name = ?1", -1, &s, NULL) != SQLITE_OK)
        return cb__store_fail(st, "cannot look up user", err);
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    step = sqlite3_step(s);
    if (step == SQLITE_ROW) {
        u->id = sqlite3_column_int64(s, 0);
        col_text(s, 1, u->name, sizeof u->name);
        col_text(s, 2, u->role, sizeof u->role);
        col_text(s, 3, u->scope_kind, sizeof u->scope_kind);
        col_text(s, 4, u->scope_code, sizeof u->scope_code);
        col_text(s, 5, u->department, sizeof u->department);
        u->disabled = sqlite3_column_int(s, 6);
        col_text(s, 7, u->pw_hash, sizeof u->pw_hash);
        u->show_identifiers = sqlite3_column_int(s, 8);
        rc = CB_OK;
    } else if (step != SQLITE_DONE) {
        rc = cb__store_fail(st, "cannot look up user", err);
    }
    sqlite3_finalize(s);
    return rc;
}

/* Runs an UPDATE of one user by name, then ends that user's sessions. */
static enum cb_err
update_user(struct cb_store *st, const char *sql, const char *name, const char *arg,
            const char *what, struct cb_buf *err)
{
    const char *args[2] = { name, arg };
    const char *del[1] = { name };
    int changes = 0;
    enum cb_err rc;

    if ((rc = cb__store_exec(st, "SAVEPOINT user_update", err)))
        return rc;
    rc = run(st, sql, args, 2, what, &changes, err);
    if (!rc && !changes) {
        cb_errf(err, "no user '%s'", name);
        rc = CB_ERR_NOT_FOUND;
    }
    if (!rc)
        rc = run(st, "DELETE FROM session WHERE user_id ="
                     " (SELECT id FROM user WHERE name = ?1)", del, 1, what, NULL, err);
    if (rc) {
        sqlite3_exec(st->db, "ROLLBACK TO user_update; RELEASE user_update", NULL, NULL, NULL);
        return rc;
    }
    return cb__store_exec(st, "RELEASE user_update", err);
}

enum cb_err
cb_store_user_set_password(struct cb_store *st, const char *name, const char *pw_hash,
                           struct cb_buf *err)
{
    return update_user(st, "UPDATE user SET pw_hash = ?2 WHERE name = ?1", name, pw_hash,
                       "cannot set password", err);
}

enum cb_err
cb_store_user_disable(struct cb_store *st, const char *name, struct cb_buf *err)
{
    return update_user(st, "UPDATE user SET disabled = 1 WHERE name = ?1 AND ?2 IS NULL",
                       name, NULL, "cannot disable user", err);
}

enum cb_err
cb_store_user_set_identifiers(struct cb_store *st, const char *name, int on,
                              struct cb_buf *err)
{
    const char *args[2] = { name, NULL };
    int changes = 0;
    enum cb_err rc = run(st, on ? "UPDATE user SET show_identifiers = 1 WHERE name = ?1"
                                : "UPDATE user SET show_identifiers = 0 WHERE name = ?1",
                         args, 1, "cannot change user", &changes, err);

    if (!rc && !changes) {
        cb_errf(err, "no user '%s'", name);
        rc = CB_ERR_NOT_FOUND;
    }
    return rc;
}

enum cb_err
cb_store_user_list(struct cb_store *st, int64_t now, cb_store_row_fn fn, void *ctx,
                   struct cb_buf *err)
{
    sqlite3_stmt *s;

    if (sqlite3_prepare_v2(st->db,
            "SELECT u.id, u.name, u.role, u.scope_kind, u.scope_code,"
            " coalesce(u.department, '') AS department, u.disabled, u.created_at,"
            " (SELECT count(*) FROM session x WHERE x.user_id = u.id"
            "  AND x.expires_at > ?1) AS sessions, u.show_identifiers"
            " FROM user u ORDER BY u.name", -1, &s, NULL) != SQLITE_OK)
        return cb__store_fail(st, "cannot list users", err);
    sqlite3_bind_int64(s, 1, now);
    return each_row(st, s, "cannot list users", fn, ctx, err);
}

enum cb_err
cb_store_session_put(struct cb_store *st, const char *token_hash, int64_t user_id,
                     const char *csrf, int64_t expires_at, struct cb_buf *err)
{
    sqlite3_stmt *s;
    enum cb_err rc = CB_OK;

    if (sqlite3_prepare_v2(st->db,
            "INSERT INTO session(token_hash, user_id, csrf, expires_at)"
            " VALUES (?1, ?2, ?3, ?4)", -1, &s, NULL) != SQLITE_OK)
        return cb__store_fail(st, "cannot store session", err);
    sqlite3_bind_text(s, 1, token_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, user_id);
    sqlite3_bind_text(s, 3, csrf, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, expires_at);
    if (sqlite3_step(s) != SQLITE_DONE)
        rc = cb__store_fail(st, "cannot store session", err);
    sqlite3_finalize(s);
    return rc;
}

enum cb_err
cb_store_session_get(struct cb_store *st, const char *token_hash, int64_t now,
                     struct cb_store_user *u, char *csrf, size_t csrf_cap,
                     struct cb_buf *err)
{
    sqlite3_stmt *s;
    enum cb_err rc = CB_ERR_NOT_FOUND;
    int step;

    memset(u, 0, sizeof *u);
    if (csrf_cap)
        csrf[0] = '\0';
    if (sqlite3_prepare_v2(st->db,
            "SELECT u.id, u.name, u.role, u.scope_kind, u.scope_code, u.department,"
            " x.csrf, u.show_identifiers FROM session x JOIN user u ON u.id = x.user_id"
            " WHERE x.token_hash = ?1 AND x.expires_at > ?2 AND u.disabled = 0",
            -1, &s, NULL) != SQLITE_OK)
        return cb__store_fail(st, "cannot look up session", err);
    sqlite3_bind_text(s, 1, token_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now);
    step = sqlite3_step(s);
    if (step == SQLITE_ROW) {
        u->id = sqlite3_column_int64(s, 0);
        col_text(s, 1, u->name, sizeof u->name);
        col_text(s, 2, u->role, sizeof u->role);
        col_text(s, 3, u->scope_kind, sizeof u->scope_kind);
        col_text(s, 4, u->scope_code, sizeof u->scope_code);
        col_text(s, 5, u->department, sizeof u->department);
        if (csrf_cap)
            col_text(s, 6, csrf, csrf_cap);
        u->show_identifiers = sqlite3_column_int(s, 7);
        rc = CB_OK;
    } else if (step != SQLITE_DONE) {
        rc = cb__store_fail(st, "cannot look up session", err);
    }
    sqlite3_finalize(s);
    return rc;
}

enum cb_err
cb_store_session_delete(struct cb_store *st, const char *token_hash, struct cb_buf *err)
{
    const char *args[1] = { token_hash };

    return run(st, "DELETE FROM session WHERE token_hash = ?1", args, 1,
               "cannot end session", NULL, err);
}

enum cb_err
cb_store_session_purge(struct cb_store *st, int64_t now, struct cb_buf *err)
{
    sqlite3_stmt *s;
    enum cb_err rc = CB_OK;

    if (sqlite3_prepare_v2(st->db, "DELETE FROM session WHERE expires_at <= ?1", -1, &s,
                           NULL) != SQLITE_OK)
        return cb__store_fail(st, "cannot purge sessions", err);
    sqlite3_bind_int64(s, 1, now);
    if (sqlite3_step(s) != SQLITE_DONE)
        rc = cb__store_fail(st, "cannot purge sessions", err);
    sqlite3_finalize(s);
    return rc;
}

enum cb_err
cb_store_audit_add(struct cb_store *st, int64_t user_id, const char *action,
                   const char *what, struct cb_buf *err)
{
    sqlite3_stmt *s;
    enum cb_err rc = CB_OK;

    if (sqlite3_prepare_v2(st->db,
            "INSERT INTO audit(at, user_id, action, what)"
            " VALUES (strftime('%Y-%m-%dT%H:%M:%fZ','now'), ?1, ?2, ?3)",
            -1, &s, NULL) != SQLITE_OK)
        return cb__store_fail(st, "cannot write audit row", err);
    if (user_id > 0)
        sqlite3_bind_int64(s, 1, user_id);
    sqlite3_bind_text(s, 2, action, -1, SQLITE_STATIC);
    if (what)
        sqlite3_bind_text(s, 3, what, -1, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE)
        rc = cb__store_fail(st, "cannot write audit row", err);
    sqlite3_finalize(s);
    return rc;
}

enum cb_err
cb_store_scope_hospitals(struct cb_store *st, const char *scope_kind,
                         const char *scope_code, cb_store_row_fn fn, void *ctx,
                         struct cb_buf *err)
{
    sqlite3_stmt *s;

    if (sqlite3_prepare_v2(st->db,
            SCOPE_CTE
            "SELECT h.id, h.zzjgdm, h.name, h.level,"
            " (SELECT group_concat(g.code, char(31)) FROM org_member m JOIN org_group g"
            "   ON g.id = m.group_id WHERE m.hospital_id = h.id) AS groups"
            " FROM hospital h WHERE h.id IN vis ORDER BY h.zzjgdm",
            -1, &s, NULL) != SQLITE_OK)
        return cb__store_fail(st, "cannot list hospitals", err);
    sqlite3_bind_text(s, 1, scope_kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, scope_code, -1, SQLITE_STATIC);
    return each_row(st, s, "cannot list hospitals", fn, ctx, err);
}

enum cb_err
cb_store_scope_rejects(struct cb_store *st, const char *scope_kind, const char *scope_code,
                       const char *hospital, const char *rule, int limit,
                       cb_store_row_fn fn, void *ctx, struct cb_buf *err)
{
    sqlite3_stmt *s;

    if (sqlite3_prepare_v2(st->db,
            SCOPE_CTE
            ", rj AS (SELECT j.* FROM reject j WHERE j.status = 'open'"
            "  AND j.zzjgdm IN (SELECT zzjgdm FROM hospital WHERE id IN vis)"
            "  AND (?3 IS NULL OR j.zzjgdm = ?3)"
            "  AND (?4 IS NULL OR EXISTS (SELECT 1 FROM reject_issue x"
            "       WHERE x.reject_id = j.id AND x.rule = ?4))"
            "  ORDER BY j.id DESC LIMIT ?5)"
            "SELECT j.id, f.name AS file, j.line, j.zzjgdm, j.bah, j.zycs, j.status,"
            " i.rule, i.severity, i.field, i.value, i.detail"
            " FROM rj j JOIN import_file f ON f.id = j.file_id"
            " JOIN reject_issue i ON i.reject_id = j.id"
            " ORDER BY j.id DESC, i.rowid", -1, &s, NULL) != SQLITE_OK)
        return cb__store_fail(st, "cannot list rejects", err);
    sqlite3_bind_text(s, 1, scope_kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, scope_code, -1, SQLITE_STATIC);
    if (hospital)
        sqlite3_bind_text(s, 3, hospital, -1, SQLITE_STATIC);
    if (rule)
        sqlite3_bind_text(s, 4, rule, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 5, limit);
    return each_row(st, s, "cannot list rejects", fn, ctx, err);
}
