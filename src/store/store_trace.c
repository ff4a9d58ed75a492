/*
 * store_trace.c - the grouping trace of a stored record (lineage.h): the
 * record is decoded from the store and grouped again with the trace on,
 * with the scheme its stored result was made with (loaded from the
 * installed package once, and checked against the digest it was installed
 * with) and code translation on where the scheme has maps, as the import
 * groups. The stored result stays what the indicators count; a different
 * result now is pointed out in the text.
 */
#include <stdlib.h>
#include <string.h>

#include "carebase/alloc.h"
#include "carebase/arena.h"
#include "carebase/drg.h"
#include "carebase/lineage.h"
#include "carebase/record.h"
#include "store_int.h"

/* One installed scheme, loaded when a record first needs it. */
struct scheme_slot {
    int64_t               id;       /* drg_scheme.id */
    char                 *path, *digest;
    struct cb_drg_scheme *s;
    struct cb_drg_work    w;        /* bound to s when loaded */
    int                   state;    /* 0 not tried, 1 loaded, -1 failed */
    char                 *why;      /* the failure */
};

struct cb_case_tracer {
    struct scheme_slot *slot;
    int                 nslot;
    struct cb_fp       *fp;
    struct cb_arena     a;          /* the decoded record */
};

void
cb_case_tracer_free(struct cb_case_tracer *t)
{
    if (!t)
        return;
    for (int i = 0; i < t->nslot; i++) {
        struct scheme_slot *s = &t->slot[i];
        if (s->s) {
            cb_drg_work_release(&s->w);
            cb_drg_scheme_free(s->s);
        }
        cb_free(s->path);
        cb_free(s->digest);
        cb_free(s->why);
    }
    cb_free(t->slot);
    cb_free(t->fp);
    cb_arena_release(&t->a);
    cb_free(t);
}

static struct scheme_slot *
slot_of(struct cb_case_tracer *t, int64_t id)
{
    for (int i = 0; i < t->nslot; i++)
        if (t->slot[i].id == id)
            return &t->slot[i];
    return NULL;
}

/* Adds the installed schemes the tracer does not know yet. */
static enum cb_err
read_schemes(struct cb_case_tracer *t, struct cb_store *st, struct cb_buf *err)
{
    sqlite3_stmt *q;
    enum cb_err rc = CB_OK;
    int step;

    if (sqlite3_prepare_v2(st->db, "SELECT id, digest, path FROM drg_scheme ORDER BY id",
                           -1, &q, NULL) != SQLITE_OK)
        return cb__store_fail(st, "cannot list the DRG schemes", err);
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(q, 0);
        const char *digest = (const char *)sqlite3_column_text(q, 1);
        const char *path = (const char *)sqlite3_column_text(q, 2);
        struct scheme_slot *s;

        if (slot_of(t, id))
            continue;
        s = cb_reallocarray(t->slot, (size_t)t->nslot + 1, sizeof *s);
        if (!s) {
            rc = CB_ERR_NOMEM;
            break;
        }
        t->slot = s;
        s = &t->slot[t->nslot++];
        memset(s, 0, sizeof *s);
        s->id = id;
        s->digest = cb_strdup(digest ? digest : "");
        s->path = cb_strdup(path ? path : "");
        if (!s->digest || !s->path) {
            rc = CB_ERR_NOMEM;
            break;
        }
    }
    if (!rc && step != SQLITE_ROW && step != SQLITE_DONE)
        rc = cb__store_fail(st, "cannot list the DRG schemes", err);
    sqlite3_finalize(q);
    return rc;
}

enum cb_err
cb_case_tracer_new(struct cb_case_tracer **out, struct cb_store *st, struct cb_buf *err)
{
    struct cb_case_tracer *t = cb_calloc(1, sizeof *t);
    enum cb_err rc;

    *out = NULL;
    if (!t)
        return CB_ERR_NOMEM;
    cb_arena_init(&t->a, 1 << 16);
    t->fp = cb_calloc(1, sizeof *t->fp);
    if (!t->fp) {
        cb_case_tracer_free(t);
        return CB_ERR_NOMEM;
    }
    if ((rc = read_schemes(t, st, err))) {
        cb_case_tracer_free(t);
        return rc;
    }
    *out = t;
    return CB_OK;
}

/* Loads a slot's scheme with its names (the trace shows DRG names) and
 * checks it is the package version that was installed. */
static void
slot_load(struct scheme_slot *s)
{
    struct cb_buf err = CB_BUF_INIT;

    s->state = -1;
    if (cb_drg_scheme_load(s->path, NULL, &s->s, &err)) {
        cb_errf(&err, "cannot load the DRG scheme from '%s'", s->path);
        s->s = NULL;
    } else if (strcmp(cb_drg_scheme_digest(s->s), s->digest)) {
        cb_errf(&err, "the DRG scheme package in '%s' has changed since it was "
                "installed: no trace", s->path);
    } else if (cb_drg_work_init(&s->w, s->s)) {
        cb_errf(&err, "out of memory");
    } else {
        s->state = 1;
    }
    if (s->state < 0) {
        if (s->s)
            cb_drg_work_release(&s->w);
        cb_drg_scheme_free(s->s);
        s->s = NULL;
        s->why = cb_strdup(cb_buf_cstr(&err));
    }
    cb_buf_release(&err);
}

/* The loaded slot of drg_scheme.id id; NULL with *why when it cannot be
 * used. */
static struct scheme_slot *
slot_for(struct cb_case_tracer *t, struct cb_store *st, int64_t id, const char **why)
{
    struct scheme_slot *s = slot_of(t, id);
    struct cb_buf err = CB_BUF_INIT;

    if (!s && !read_schemes(t, st, &err))     /* installed since */
        s = slot_of(t, id);
    cb_buf_release(&err);
    if (!s) {
        *why = "the scheme of the stored result is not installed: no trace";
        return NULL;
    }
    if (s->state == 0)
        slot_load(s);
    if (s->state < 0) {
        *why = s->why ? s->why : "cannot load the DRG scheme: no trace";
        return NULL;
    }
    return s;
}

/* Both texts are the same reason. */
static enum cb_err
reason(struct cb_buf *zh, struct cb_buf *en, const char *z, const char *e)
{
    enum cb_err rc = cb_buf_adds(zh, z);
    return rc ? rc : cb_buf_adds(en, e);
}

enum cb_err
cb__case_trace(struct cb_case_tracer *t, struct cb_store *st,
               const struct cb__trace_record *r, struct cb_buf *zh, struct cb_buf *en,
               struct cb_buf *json)
{
    static const char *const lang[2] = { "zh", "en" };
    struct cb_buf *out[2] = { zh, en };
    struct cb_buf err = CB_BUF_INIT;
    struct cb_drg_input in;
    struct cb_drg_result res;
    struct scheme_slot *s;
    const char *why = NULL;
    enum cb_err rc;

    cb_buf_reset(zh);
    cb_buf_reset(en);
    if (json)
        cb_buf_reset(json);
    if (r->scheme_id <= 0)
        return reason(zh, en, "未分组：没有适用的 DRG 方案",
                      "not grouped: no installed DRG scheme applies");
    if (!(s = slot_for(t, st, r->scheme_id, &why)))
        return reason(zh, en, why, why);
    cb_arena_reset(&t->a);
    rc = cb_store_record_decode(st, r->data, r->n, r->dx.len ? r->dx : cb_str_c("[]"),
                                r->px.len ? r->px : cb_str_c("[]"), t->fp, &t->a, &err);
    cb_buf_release(&err);
    if (rc == CB_ERR_NOMEM)
        return rc;
    if (rc)
        return reason(zh, en, "病案数据损坏：无法给出分组过程",
                      "damaged record payload: no trace");

    /* As the import grouped it: code translation on where the scheme has maps. */
    cb_drg_work_trace(&s->w, true);
    if ((rc = cb_drg_input_from_fp(&in, t->fp, &s->w)) ||
        (rc = cb_drg_group(s->s, &in, cb_drg_scheme_has_maps(s->s) ? CB_DRG_TR_CODES
                                                                    : CB_DRG_TR_OFF,
                           &s->w, &res)))
        return rc;
    if (json && (rc = cb_drg_explain_json(s->s, &in, &s->w, &res, json)))
        return rc;
    bool differs = r->drg && r->status &&
                   (strcmp(r->drg, res.drg) ||
                    strcmp(r->status, cb_drg_status_name(res.status)));
    for (int k = 0; k < 2; k++) {
        struct cb_buf *b = out[k];
        if ((rc = cb_drg_explain(s->s, &in, &s->w, &res, lang[k], b)))
            return rc;
        if (!differs)
            continue;
        /* The stored result is what the indicators count: say so when
           grouping now gives another (another scheme version or translation
           setting at import; 'carebase regroup' brings them in line). */
        if (b->len && b->ptr[b->len - 1] != '\n' && (rc = cb_buf_addc(b, '\n')))
            return rc;
        rc = k == 0 ? cb_buf_addf(b, "注意：现在重新分组得到 %s（%s），库中结果为 %s（%s）\n",
                                  res.drg, cb_drg_status_zh(res.status), r->drg, r->status)
                    : cb_buf_addf(b, "note: grouping now gives %s (%s); the stored "
                                  "result is %s (%s)\n", res.drg,
                                  cb_drg_status_name(res.status), r->drg, r->status);
        if (rc)
            return rc;
    }
    return CB_OK;
}
