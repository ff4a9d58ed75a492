/*
 * store_record.c - imported records, their history, rejects and import runs.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

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
                     const char *message, struct cb_buf *err)
{
    sqlite3_stmt *s;
    char ts[32];
    int ok;

    now_iso(ts);
    if (sqlite3_prepare_v2(st->db,
            "UPDATE import_file SET finished_at = ?2, status = ?3, rows_read = ?4,"
            " accepted = ?5, rejected = ?6, inserted = ?7, replaced = ?8,"
            " unchanged = ?9, with_warnings = ?10, message = ?11 WHERE id = ?1",
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
    ok = sqlite3_step(s) == SQLITE_DONE;
    sqlite3_finalize(s);
    if (!ok)
        return cb__store_fail(st, "cannot finish the import", err);
    return CB_OK;
}

static enum cb_err
json_value(struct cb_buf *b, const struct cb_fp *r, int f)
{
    if (!r->state[f])
        return cb_buf_adds(b, "null");
    return cb_json_str(b, r->v[f]);
}

/*
 * The canonical record as JSON: data = an object of every non-empty scalar
 * item; dx = [[slot, code, name, poa], ...] with slot 0 the principal;
 * px = [[slot, code, name, time, level, surgeon, assistant1, assistant2,
 * incision, healing, anaesthesia, anaesthetist], ...].
 */
static enum cb_err
record_json(const struct cb_fp *r, struct cb_buf *data, struct cb_buf *dx,
            struct cb_buf *px)
{
    static const int pxf[] = { CB_PX_CODE, CB_PX_NAME, CB_PX_DATE, CB_PX_LEVEL,
                               CB_PX_SZ, CB_PX_YZ, CB_PX_EZ, CB_PX_QKDJ,
                               CB_PX_QKYHLB, CB_PX_MZFS, CB_PX_MZYS };
    int f, n;
    size_t k;
    enum cb_err rc;

    cb_buf_reset(data);
    cb_buf_reset(dx);
    cb_buf_reset(px);
    if ((rc = cb_buf_addc(data, '{')))
        return rc;
    for (f = 0; f < CB_F__SCALARS; f++) {
        if (!r->state[f])
            continue;
        if ((data->len > 1 && (rc = cb_buf_addc(data, ','))) ||
            (rc = cb_json_strz(data, cb_fp_key_str(f))) ||
            (rc = cb_buf_addc(data, ':')) ||
            (rc = cb_json_str(data, r->v[f])))
            return rc;
    }
    if ((rc = cb_buf_addc(data, '}')) || (rc = cb_buf_addc(dx, '[')))
        return rc;
    if (r->state[CB_F_JBDM] &&
        ((rc = cb_buf_adds(dx, "[0,")) || (rc = json_value(dx, r, CB_F_JBDM)) ||
         (rc = cb_buf_addc(dx, ',')) || (rc = json_value(dx, r, CB_F_ZYZD)) ||
         (rc = cb_buf_addc(dx, ',')) || (rc = json_value(dx, r, CB_F_RYBQ)) ||
         (rc = cb_buf_addc(dx, ']'))))
        return rc;
    for (n = 1; n <= r->ndx; n++) {
        if (!r->state[cb_fp_dx(n, CB_DX_CODE)])
            continue;
        if ((dx->len > 1 && (rc = cb_buf_addc(dx, ','))) ||
            (rc = cb_buf_addf(dx, "[%d,", n)) ||
            (rc = json_value(dx, r, cb_fp_dx(n, CB_DX_CODE))) ||
            (rc = cb_buf_addc(dx, ',')) ||
            (rc = json_value(dx, r, cb_fp_dx(n, CB_DX_NAME))) ||
            (rc = cb_buf_addc(dx, ',')) ||
            (rc = json_value(dx, r, cb_fp_dx(n, CB_DX_POA))) ||
            (rc = cb_buf_addc(dx, ']')))
            return rc;
    }
    if ((rc = cb_buf_addc(dx, ']')) || (rc = cb_buf_addc(px, '[')))
        return rc;
    for (n = 1; n <= r->npx; n++) {
        if (!r->state[cb_fp_px(n, CB_PX_CODE)])
            continue;
        if ((px->len > 1 && (rc = cb_buf_addc(px, ','))) ||
            (rc = cb_buf_addf(px, "[%d", n)))
            return rc;
        for (k = 0; k < sizeof(pxf) / sizeof(pxf[0]); k++)
            if ((rc = cb_buf_addc(px, ',')) ||
                (rc = json_value(px, r, cb_fp_px(n, pxf[k]))))
                return rc;
        if ((rc = cb_buf_addc(px, ']')))
            return rc;
    }
    return cb_buf_addc(px, ']');
}

static void
bind_opt_i64(sqlite3_stmt *s, int i, const struct cb_fp *r, int f)
{
    if (r->state[f] == CB_FS_OK)
        sqlite3_bind_int64(s, i, r->val[f]);
    else
        sqlite3_bind_null(s, i);
}

/* Binds parameters 1..24 shared by S_REC_INSERT and S_REC_UPDATE. */
static void
bind_record(struct cb_store *st, sqlite3_stmt *s, int64_t hospital_id,
            const struct cb_fp *r, uint64_t hash, int64_t file_id,
            uint64_t line, int nwarn)
{
    sqlite3_bind_int64(s, 1, hospital_id);
    bind_str(s, 2, r->v[CB_F_BAH]);
    bind_opt_i64(s, 3, r, CB_F_ZYCS);
    sqlite3_bind_int64(s, 4, (sqlite3_int64)hash);
    sqlite3_bind_int64(s, 5, file_id);
    sqlite3_bind_int64(s, 6, (sqlite3_int64)line);
    bind_opt_i64(s, 7, r, CB_F_RYSJ);
    bind_opt_i64(s, 8, r, CB_F_CYSJ);
    if (r->state[CB_F_CYSJ] == CB_FS_OK)
        sqlite3_bind_int64(s, 9, cb_day_of(r->val[CB_F_CYSJ]));
    else
        sqlite3_bind_null(s, 9);
    bind_str(s, 10, r->v[CB_F_RYKB]);
    bind_str(s, 11, r->v[CB_F_CYKB]);
    bind_str(s, 12, r->v[CB_F_ZZYS]);
    bind_str(s, 13, r->v[CB_F_XB]);
    bind_opt_i64(s, 14, r, CB_F_NL);
    bind_opt_i64(s, 15, r, CB_F_BZYZS_NL);
    bind_str(s, 16, r->v[CB_F_RYTJ]);
    bind_str(s, 17, r->v[CB_F_LYFS]);
    bind_opt_i64(s, 18, r, CB_F_SJZYTS);
    bind_str(s, 19, r->v[CB_F_JBDM]);
    bind_str(s, 20, r->v[CB_F_RYBQ]);
    bind_opt_i64(s, 21, r, CB_F_ZFY);
    bind_opt_i64(s, 22, r, CB_F_XSECSTZ);
    sqlite3_bind_int(s, 23, nwarn);
    sqlite3_bind_text(s, 24, st->scratch.ptr, (int)st->scratch.len, SQLITE_STATIC);
    sqlite3_bind_text(s, 26, st->dxbuf.ptr, (int)st->dxbuf.len, SQLITE_STATIC);
    sqlite3_bind_text(s, 27, st->pxbuf.ptr, (int)st->pxbuf.len, SQLITE_STATIC);
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
put_warnings(struct cb_store *st, int64_t id, const struct cb_qc *qc,
             const struct cb_qc_result *warn, struct cb_buf *err)
{
    sqlite3_stmt *s;
    enum cb_err rc;
    int i;

    if (!warn || !warn->n)
        return CB_OK;
    if (!(s = cb__store_stmt(st, S_WARN_INSERT, err)))
        return CB_ERR_DB;
    for (i = 0; i < warn->n; i++) {
        const struct cb_qc_issue *is = &warn->issue[i];
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_text(s, 2, cb_qc_rule_id(qc, is->rule), -1, SQLITE_STATIC);
        if (is->field >= 0)
            sqlite3_bind_text(s, 3, cb_fp_key_str(is->field), -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(s, 3);
        bind_str(s, 4, is->value);
        sqlite3_bind_text(s, 5, is->detail, -1, SQLITE_STATIC);
        if ((rc = step_done(st, s, "cannot store warning", err)))
            return rc;
    }
    return CB_OK;
}

static enum cb_err
delete_children(struct cb_store *st, int64_t id, struct cb_buf *err)
{
    static const enum stmt_id del[] = { S_WARN_DELETE };
    size_t i;
    enum cb_err rc;

    for (i = 0; i < sizeof(del) / sizeof(del[0]); i++) {
        sqlite3_stmt *s = cb__store_stmt(st, del[i], err);
        if (!s)
            return CB_ERR_DB;
        sqlite3_bind_int64(s, 1, id);
        if ((rc = step_done(st, s, "cannot replace record", err)))
            return rc;
    }
    return CB_OK;
}

enum cb_err
cb_store_put_record(struct cb_store *st, int64_t hospital_id,
                    const struct cb_fp *r, const struct cb_qc *qc,
                    const struct cb_qc_result *warn, int64_t file_id,
                    uint64_t line, enum cb_put_result *res, struct cb_buf *err)
{
    sqlite3_stmt *s;
    uint64_t hash;
    int64_t id, old_hash;
    int nwarn = warn ? warn->n : 0;
    enum cb_err rc;

    if ((rc = record_json(r, &st->scratch, &st->dxbuf, &st->pxbuf)))
        return rc;
    /* Identity of the content: the canonical items, not the file bytes. */
    hash = cb_hash64(st->scratch.ptr, st->scratch.len, 0);
    hash = cb_hash64(st->dxbuf.ptr, st->dxbuf.len, hash);
    hash = cb_hash64(st->pxbuf.ptr, st->pxbuf.len, hash) >> 1;

    if (!(s = cb__store_stmt(st, S_REC_INSERT, err)))
        return CB_ERR_DB;
    bind_record(st, s, hospital_id, r, hash, file_id, line, nwarn);
    if ((rc = step_done(st, s, "cannot store record", err)))
        return rc;
    if (sqlite3_changes(st->db) == 1) {
        *res = CB_PUT_INSERTED;
        return put_warnings(st, sqlite3_last_insert_rowid(st->db), qc, warn, err);
    }

    /* The key exists: unchanged, or a new version. */
    if (!(s = cb__store_stmt(st, S_REC_FIND, err)))
        return CB_ERR_DB;
    sqlite3_bind_int64(s, 1, hospital_id);
    bind_str(s, 2, r->v[CB_F_BAH]);
    bind_opt_i64(s, 3, r, CB_F_ZYCS);
    if (sqlite3_step(s) != SQLITE_ROW) {
        sqlite3_reset(s);
        return cb__store_fail(st, "cannot find the stored version of a record", err);
    }
    id = sqlite3_column_int64(s, 0);
    old_hash = sqlite3_column_int64(s, 1);
    if (sqlite3_column_int64(s, 2) == file_id) {
        sqlite3_reset(s);
        *res = CB_PUT_DUPLICATE;
        return CB_OK;
    }
    sqlite3_reset(s);
    if ((uint64_t)old_hash == hash) {
        *res = CB_PUT_UNCHANGED;
        return CB_OK;
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
    bind_record(st, s, hospital_id, r, hash, file_id, line, nwarn);
    sqlite3_bind_int64(s, 25, id);
    if ((rc = step_done(st, s, "cannot replace record", err)))
        return rc;
    *res = CB_PUT_REPLACED;
    return put_warnings(st, id, qc, warn, err);
}

enum cb_err
cb_store_put_reject(struct cb_store *st, int64_t file_id, uint64_t line,
                    struct cb_str raw, const struct cb_fp *r,
                    const struct cb_qc *qc, const struct cb_qc_result *res,
                    struct cb_buf *err)
{
    sqlite3_stmt *s;
    int64_t id;
    int i;
    enum cb_err rc;
    struct cb_str k1 = r ? r->v[CB_F_ZZJGDM] : CB_STR_NULL;
    struct cb_str k2 = r ? r->v[CB_F_BAH] : CB_STR_NULL;
    struct cb_str k3 = r ? r->v[CB_F_ZYCS] : CB_STR_NULL;

    if (!(s = cb__store_stmt(st, S_REJ_INSERT, err)))
        return CB_ERR_DB;
    sqlite3_bind_int64(s, 1, file_id);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)line);
    bind_str(s, 3, k1);
    bind_str(s, 4, k2);
    bind_str(s, 5, k3);
    sqlite3_bind_text(s, 6, raw.ptr ? raw.ptr : "", (int)raw.len, SQLITE_STATIC);
    if ((rc = step_done(st, s, "cannot store reject", err)))
        return rc;
    id = sqlite3_last_insert_rowid(st->db);
    if (k2.len) {
        if (!(s = cb__store_stmt(st, S_REJ_SUPERSEDE, err)))
            return CB_ERR_DB;
        bind_str(s, 1, k1);
        bind_str(s, 2, k2);
        bind_str(s, 3, k3);
        sqlite3_bind_int64(s, 4, id);
        if ((rc = step_done(st, s, "cannot update earlier rejects", err)))
            return rc;
    }
    if (!(s = cb__store_stmt(st, S_REJ_ISSUE, err)))
        return CB_ERR_DB;
    for (i = 0; i < res->n; i++) {
        const struct cb_qc_issue *is = &res->issue[i];
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_text(s, 2, cb_qc_rule_id(qc, is->rule), -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, cb_qc_sev_name(is->sev), -1, SQLITE_STATIC);
        if (is->field >= 0)
            sqlite3_bind_text(s, 4, cb_fp_key_str(is->field), -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(s, 4);
        bind_str(s, 5, is->value);
        sqlite3_bind_text(s, 6, is->detail, -1, SQLITE_STATIC);
        if ((rc = step_done(st, s, "cannot store reject issue", err)))
            return rc;
    }
    return CB_OK;
}

enum cb_err
cb_store_resolve_rejects(struct cb_store *st, int64_t file_id,
                         struct cb_buf *err)
{
    sqlite3_stmt *s;
    int ok;

    if (sqlite3_prepare_v2(st->db,
            "UPDATE reject SET status = 'resolved' WHERE status = 'open' AND"
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
