/*
 * cli_trace.c - the grouping trace of a stored record (see cli_trace.h).
 *
 * The record's items come through cb_store_query as hex(record.data), the
 * one way a read-only query hands over a blob as text; they are decoded
 * with cb_store_record_decode like `carebase regroup` does.
 */
#include <stdlib.h>
#include <string.h>

#include "carebase/alloc.h"
#include "carebase/arena.h"
#include "carebase/drg.h"
#include "carebase/record.h"
#include "cli_trace.h"

/* One installed scheme, loaded when a record first needs it. */
struct scheme_slot {
    int64_t               id;       /* drg_scheme.id */
    char                 *path, *digest;
    struct cb_drg_scheme *s;
    struct cb_drg_work    w;        /* bound to s when loaded */
    int                   state;    /* 0 not tried, 1 loaded, -1 failed */
    char                 *why;      /* the failure */
};

struct cli_trace {
    struct cb_store    *st;
    struct scheme_slot *slot;
    int                 nslot;
    struct cb_fp       *fp;
    struct cb_arena     a;          /* the decoded record */
    struct cb_buf       bytes;      /* record.data, from hex */
};

static enum cb_err
scheme_row(void *ctx, int ncols, const char *const *names, const char *const *v)
{
    struct cli_trace *t = ctx;
    struct scheme_slot *s;

    (void)names;
    if (ncols < 3 || !v[0])
        return CB_OK;
    s = cb_reallocarray(t->slot, (size_t)t->nslot + 1, sizeof *s);
    if (!s)
        return CB_ERR_NOMEM;
    t->slot = s;
    s = &t->slot[t->nslot++];
    memset(s, 0, sizeof *s);
    s->id = strtoll(v[0], NULL, 10);
    s->digest = cb_strdup(v[1] ? v[1] : "");
    s->path = cb_strdup(v[2] ? v[2] : "");
    return s->digest && s->path ? CB_OK : CB_ERR_NOMEM;
}

void
cli_trace_free(struct cli_trace *t)
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
    cb_buf_release(&t->bytes);
    cb_free(t);
}

enum cb_err
cli_trace_new(struct cli_trace **out, struct cb_store *st, struct cb_buf *err)
{
    struct cli_trace *t = cb_calloc(1, sizeof *t);
    enum cb_err rc;

    *out = NULL;
    if (!t)
        return CB_ERR_NOMEM;
    t->st = st;
    cb_arena_init(&t->a, 1 << 16);
    cb_buf_init(&t->bytes, CB_BUF_MAX_DEFAULT);
    t->fp = cb_calloc(1, sizeof *t->fp);
    if (!t->fp) {
        cli_trace_free(t);
        return CB_ERR_NOMEM;
    }
    rc = cb_store_query(st, "SELECT id, digest, path FROM drg_scheme ORDER BY id",
                        scheme_row, t, err);
    if (rc) {
        cli_trace_free(t);
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
slot_for(struct cli_trace *t, int64_t id, const char **why)
{
    struct scheme_slot *s = NULL;

    for (int i = 0; i < t->nslot && !s; i++)
        if (t->slot[i].id == id)
            s = &t->slot[i];
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

static int
hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10
         : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static enum cb_err
unhex(struct cb_buf *out, const char *h)
{
    size_t n = strlen(h);
    enum cb_err rc;

    cb_buf_reset(out);
    if (n % 2)
        return CB_ERR_PROTO;
    if ((rc = cb_buf_reserve(out, n / 2 + 1)))
        return rc;
    for (size_t i = 0; i < n; i += 2) {
        int hi = hexval(h[i]), lo = hexval(h[i + 1]);
        if (hi < 0 || lo < 0)
            return CB_ERR_PROTO;
        out->ptr[out->len++] = (char)(hi << 4 | lo);
    }
    out->ptr[out->len] = '\0';
    return CB_OK;
}

/* Both texts are the same reason. */
static enum cb_err
reason(struct cb_buf *zh, struct cb_buf *en, const char *z, const char *e)
{
    enum cb_err rc = cb_buf_adds(zh, z);
    return rc ? rc : cb_buf_adds(en, e);
}

enum cb_err
cli_trace_explain(struct cli_trace *t, const struct cli_trace_record *r,
                  struct cb_buf *zh, struct cb_buf *en)
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
    if (!r->scheme_id)
        return reason(zh, en, "未分组：没有适用的 DRG 方案",
                      "not grouped: no installed DRG scheme applies");
    if (!(s = slot_for(t, strtoll(r->scheme_id, NULL, 10), &why)))
        return reason(zh, en, why, why);
    cb_arena_reset(&t->a);
    rc = unhex(&t->bytes, r->data_hex ? r->data_hex : "");
    if (!rc)
        rc = cb_store_record_decode(t->st, t->bytes.ptr, t->bytes.len,
                                    cb_str_c(r->dx ? r->dx : "[]"),
                                    cb_str_c(r->px ? r->px : "[]"), t->fp, &t->a, &err);
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
