/*
 * import.c - the front-page import pipeline (see import.h).
 */
#include <string.h>

#include "carebase/alloc.h"
#include "carebase/arena.h"
#include "carebase/import.h"
#include "carebase/strmap.h"

#define DEFAULT_BATCH 20000

void
cb_import_summary_init(struct cb_import_summary *s)
{
    memset(s, 0, sizeof(*s));
}

void
cb_import_summary_release(struct cb_import_summary *s)
{
    cb_free(s->rule_records);
    cb_free(s->rule_issues);
    s->rule_records = NULL;
    s->rule_issues = NULL;
}

struct run {
    const struct cb_import_opts *opts;
    struct cb_store          *st;
    const struct cb_qc       *qc;
    const struct cb_refdata  *rd;
    struct cb_import_summary *sum;
    struct cb_header_map      map;
    struct cb_fp             *rec;
    struct cb_qc_result      *res;
    struct cb_arena           arena;
    int64_t                   file_id;
    struct cb_strmap          seen_keys; /* check-only mode: key hashes */
    struct cb_str             hospital, hospital_name;
    uint8_t                  *rule_hit;  /* per rule, for the current row */
};

static void
count_rules(struct run *ru)
{
    int i;

    memset(ru->rule_hit, 0, (size_t)ru->sum->nrules);
    for (i = 0; i < ru->res->n; i++) {
        int k = ru->res->issue[i].rule;
        if (k < 0 || k >= ru->sum->nrules)
            continue;
        ru->sum->rule_issues[k]++;
        if (!ru->rule_hit[k]) {
            ru->rule_hit[k] = 1;
            ru->sum->rule_records[k]++;
        }
    }
}

/* QC-ID-02 in check-only mode: a set of key fingerprints. */
static enum cb_err
check_duplicate(struct run *ru)
{
    char key[24];
    uint64_t h;
    struct cb_fp *r = ru->rec;
    enum cb_err rc;

    if (!r->v[CB_F_BAH].len || !r->v[CB_F_ZYCS].len)
        return CB_OK;
    h = cb_hash64(r->v[CB_F_ZZJGDM].ptr, r->v[CB_F_ZZJGDM].len, 0);
    h = cb_hash64(r->v[CB_F_BAH].ptr, r->v[CB_F_BAH].len, h);
    h = cb_hash64(r->v[CB_F_ZYCS].ptr, r->v[CB_F_ZYCS].len, h ^ 0x9e37);
    memcpy(key, &h, sizeof(h));
    if (cb_strmap_has(&ru->seen_keys, cb_str_make(key, sizeof(h)))) {
        cb_qc_add_issue(ru->qc, ru->res, "QC-ID-02", CB_F_BAH, r->v[CB_F_BAH],
                        "the same (ZZJGDM, BAH, ZYCS) appears earlier in this file");
        return CB_OK;
    }
    rc = cb_strmap_put(&ru->seen_keys, cb_str_make(key, sizeof(h)), 1);
    return rc;
}

static struct cb_str
dept_name(const struct cb_refdata *rd, struct cb_str code)
{
    struct cb_str name = CB_STR_NULL;

    if (!cb_refdata_set_name(rd, CB_VS_WESTERN, "RC023", code, &name))
        (void)cb_refdata_set_name(rd, CB_VS_TCM, "RC023", code, &name);
    return name;
}

static enum cb_err
store_row(struct run *ru, const struct cb_row *row, struct cb_buf *err)
{
    struct cb_fp *r = ru->rec;
    struct cb_import_counts *c = &ru->sum->counts;
    int64_t hid;
    enum cb_put_result put;
    enum cb_err rc;
    struct cb_str dname;

    if (ru->res->nerrors == 0) {
        if ((rc = cb_store_hospital_ensure(ru->st, r->v[CB_F_ZZJGDM],
                                           r->v[CB_F_JGMC], &hid, err)))
            return rc;
        if ((rc = cb_store_put_record(ru->st, hid, r, ru->qc, ru->res,
                                      ru->file_id, row->line, &put, err)))
            return rc;
        if (put != CB_PUT_DUPLICATE) {
            dname = dept_name(ru->rd, r->v[CB_F_CYKB]);
            if ((rc = cb_store_department_ensure(ru->st, hid, r->v[CB_F_CYKB], dname, err)))
                return rc;
            dname = dept_name(ru->rd, r->v[CB_F_RYKB]);
            if ((rc = cb_store_department_ensure(ru->st, hid, r->v[CB_F_RYKB], dname, err)))
                return rc;
            c->accepted++;
            c->inserted += put == CB_PUT_INSERTED;
            c->replaced += put == CB_PUT_REPLACED;
            c->unchanged += put == CB_PUT_UNCHANGED;
            c->warnings += ru->res->nwarnings > 0;
            return CB_OK;
        }
        cb_qc_add_issue(ru->qc, ru->res, "QC-ID-02", CB_F_BAH, r->v[CB_F_BAH],
                        "the same (ZZJGDM, BAH, ZYCS) appears earlier in this file");
    }
    c->rejected++;
    return cb_store_put_reject(ru->st, ru->file_id, row->line, row->raw, r,
                               ru->qc, ru->res, err);
}

static enum cb_err
handle_row(struct run *ru, const struct cb_row *row, struct cb_buf *err)
{
    struct cb_fp *r = ru->rec;
    enum cb_err rc;

    cb_arena_reset(&ru->arena);
    memset(ru->res, 0, sizeof(*ru->res));
    if (row->nfields != ru->map.ncols) {
        char detail[CB_QC_DETAIL_MAX];
        cb_fp_clear(r);
        snprintf(detail, sizeof(detail), "the row has %zu fields, the header %zu",
                 row->nfields, ru->map.ncols);
        cb_qc_add_issue(ru->qc, ru->res, "QC-ROW-01", -1, CB_STR_NULL, detail);
    } else {
        if ((rc = cb_profile_fill(&ru->map, row, r, &ru->arena)))
            return rc;
        if (ru->hospital.len && !r->v[CB_F_ZZJGDM].len) {
            r->v[CB_F_ZZJGDM] = ru->hospital;
            r->state[CB_F_ZZJGDM] = CB_FS_TEXT;
            if (!r->v[CB_F_JGMC].len && ru->hospital_name.len) {
                r->v[CB_F_JGMC] = ru->hospital_name;
                r->state[CB_F_JGMC] = CB_FS_TEXT;
            }
        }
        cb_qc_check(ru->qc, r, cb_profile_std(ru->map.profile), ru->res);
        if (!ru->st && (rc = check_duplicate(ru)))
            return rc;
    }
    ru->sum->counts.read++;
    if (ru->st) {
        if ((rc = store_row(ru, row, err)))
            return rc;
    } else if (ru->res->nerrors) {
        ru->sum->counts.rejected++;
    } else {
        ru->sum->counts.accepted++;
        ru->sum->counts.warnings += ru->res->nwarnings > 0;
    }
    count_rules(ru);
    if (ru->opts->on_row &&
        (rc = ru->opts->on_row(ru->opts->row_ctx, row->line, row->raw, r, ru->res)))
        return rc;
    return CB_OK;
}

static const char *
base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static enum cb_err
setup(struct run *ru, struct cb_reader *rdr, const char *path,
      struct cb_buf *err)
{
    const struct cb_import_opts *o = ru->opts;
    const struct cb_profile *p;
    struct cb_row header;
    int supplied[3] = { -1, -1, -1 };
    enum cb_err rc;

    rc = cb_reader_next(rdr, &header, err);
    if (rc == CB_EOF) {
        cb_errf(err, "%s: empty file; expected a header line", path);
        return CB_ERR_PROTO;
    }
    if (rc)
        return rc;
    if (o->profile) {
        p = cb_profiles_find(o->profiles, o->profile);
        if (!p) {
            cb_errf(err, "unknown profile '%s'", o->profile);
            return CB_ERR_USAGE;
        }
    } else {
        p = cb_profiles_detect(o->profiles, &header);
        if (!p) {
            cb_errf(err, "%s: line %llu: the header matches no known dialect "
                    "(western A01…, tcm pinyin, n041/HIS); expected front-page "
                    "column names, or choose one with --profile", path,
                    (unsigned long long)header.line);
            return CB_ERR_PROTO;
        }
    }
    if (o->hospital) {
        supplied[0] = CB_F_ZZJGDM;
        supplied[1] = CB_F_JGMC;
    }
    if ((rc = cb_header_map_build(&ru->map, p, &header, supplied, err))) {
        cb_errf(err, "in '%s' (line %llu)", path, (unsigned long long)header.line);
        return rc;
    }
    snprintf(ru->sum->profile, sizeof(ru->sum->profile), "%s", cb_profile_name(p));
    ru->sum->columns = ru->map.ncols;
    ru->sum->ignored_columns = ru->map.nignored;
    ru->sum->encoding = cb_reader_encoding(rdr);
    ru->sum->format = cb_reader_format(rdr);
    return CB_OK;
}

enum cb_err
cb_import_file(const struct cb_import_opts *opts, struct cb_store *st,
               const struct cb_qc *qc, const struct cb_refdata *rd,
               const char *path, struct cb_import_summary *sum,
               struct cb_buf *err)
{
    struct run ru;
    struct cb_reader *rdr = NULL;
    struct cb_row row;
    struct cb_buf ferr = CB_BUF_INIT;
    uint32_t batch = opts->batch_rows ? opts->batch_rows : DEFAULT_BATCH;
    uint32_t every = opts->progress_every ? opts->progress_every : 50000;
    uint64_t in_batch = 0, done, total;
    enum cb_err rc;
    int began = 0;

    memset(&ru, 0, sizeof(ru));
    ru.opts = opts;
    ru.st = st;
    ru.qc = qc;
    ru.rd = rd;
    ru.sum = sum;
    ru.file_id = -1;
    ru.hospital = cb_str_c(opts->hospital);
    ru.hospital_name = cb_str_c(opts->hospital_name);
    cb_arena_init(&ru.arena, 1 << 16);
    cb_strmap_init(&ru.seen_keys);
    snprintf(sum->file, sizeof(sum->file), "%s", path);
    sum->nrules = cb_qc_rule_count(qc);
    sum->rule_records = cb_calloc((size_t)sum->nrules, sizeof(uint64_t));
    sum->rule_issues = cb_calloc((size_t)sum->nrules, sizeof(uint64_t));
    ru.rule_hit = cb_calloc((size_t)sum->nrules, 1);
    ru.rec = cb_malloc(sizeof(*ru.rec));
    ru.res = cb_malloc(sizeof(*ru.res));
    if (!sum->rule_records || !sum->rule_issues || !ru.rule_hit || !ru.rec || !ru.res) {
        rc = CB_ERR_NOMEM;
        goto out;
    }
    if ((rc = cb_reader_open(&rdr, path, &opts->reader, err)))
        goto out;
    if ((rc = setup(&ru, rdr, path, err)))
        goto out;
    if (st) {
        struct cb_import_file f;
        char enc[16];
        snprintf(enc, sizeof(enc), "%s", cb_encoding_name(sum->encoding));
        cb_reader_progress(rdr, &done, &total);
        f.path = path;
        f.name = base_name(path);
        f.size = total;
        f.profile = sum->profile;
        f.encoding = enc;
        f.format = cb_format_name(sum->format);
        if ((rc = cb_store_file_begin(st, &f, &ru.file_id, err)))
            goto out;
        if ((rc = cb_store_begin(st, err)))
            goto out;
        began = 1;
    }
    for (;;) {
        rc = cb_reader_next(rdr, &row, &ferr);
        if (rc == CB_EOF) {
            rc = CB_OK;
            break;
        }
        if (rc)
            break;
        if ((rc = handle_row(&ru, &row, err)))
            goto out;
        if (st && ++in_batch >= batch) {
            if ((rc = cb_store_commit(st, err)) || (rc = cb_store_begin(st, err)))
                goto out;
            in_batch = 0;
        }
        if (opts->progress && sum->counts.read % every == 0) {
            cb_reader_progress(rdr, &done, &total);
            opts->progress(opts->progress_ctx, sum->counts.read, done, total, 0);
        }
    }
    if (rc) {
        /* Malformed file: keep what was committed, drop the open batch. */
        sum->failed = 1;
        cb_errf(err, "%s", cb_buf_cstr(&ferr));
        if (st) {
            struct cb_buf e2 = CB_BUF_INIT;
            cb_store_rollback(st);
            began = 0;
            if (cb_store_file_finish(st, ru.file_id, &sum->counts, "failed",
                                     cb_buf_cstr(&ferr), &e2) != CB_OK)
                cb_errf(err, "%s", cb_buf_cstr(&e2));
            cb_buf_release(&e2);
        }
        goto out;
    }
    if (st) {
        if ((rc = cb_store_resolve_rejects(st, ru.file_id, err)) ||
            (rc = cb_store_file_finish(st, ru.file_id, &sum->counts, "complete",
                                       NULL, err)) ||
            (rc = cb_store_commit(st, err)))
            goto out;
        began = 0;
    }
    if (opts->progress) {
        cb_reader_progress(rdr, &done, &total);
        opts->progress(opts->progress_ctx, sum->counts.read, done, total, 1);
    }

out:
    if (began)
        cb_store_rollback(st);
    cb_header_map_release(&ru.map);
    cb_reader_free(rdr);
    cb_arena_release(&ru.arena);
    cb_strmap_release(&ru.seen_keys);
    cb_free(ru.rule_hit);
    cb_free(ru.rec);
    cb_free(ru.res);
    cb_buf_release(&ferr);
    return rc;
}
