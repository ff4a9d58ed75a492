#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carebase/alloc.h"
#include "carebase/import.h"
#include "carebase/json.h"
#include "cli_env.h"

int
cli_env_load(struct cli_env *env, const struct cb_cli *cli, const char *cmd,
             const char *extra_profile)
{
    struct cb_buf err = CB_BUF_INIT;
    char dir[4096];
    enum cb_err rc;

    memset(env, 0, sizeof(*env));
    if ((rc = cb_refdata_load(&env->rd, cli->refdata, &err))) {
        cli_error(cmd, "cannot load reference tables from '%s': %s",
                  cli->refdata, cb_buf_cstr(&err));
        goto fail;
    }
    if ((rc = cb_qc_load(&env->qc, cli->datadir, env->rd, &err))) {
        cli_error(cmd, "cannot load QC rules: %s", cb_buf_cstr(&err));
        goto fail;
    }
    snprintf(dir, sizeof(dir), "%s/profiles", cli->datadir);
    if ((rc = cb_profiles_load(&env->profiles, dir, &err))) {
        cli_error(cmd, "cannot load dialect profiles: %s", cb_buf_cstr(&err));
        goto fail;
    }
    if (extra_profile &&
        (rc = cb_profiles_add_file(env->profiles, extra_profile, &err))) {
        cli_error(cmd, "cannot load '%s': %s", extra_profile, cb_buf_cstr(&err));
        goto fail;
    }
    cb_buf_release(&err);
    return 0;

fail:
    cb_buf_release(&err);
    cli_env_release(env);
    return -1;
}

void
cli_env_release(struct cli_env *env)
{
    cb_profiles_free(env->profiles);
    cb_qc_free(env->qc);
    cb_refdata_free(env->rd);
    memset(env, 0, sizeof(*env));
}

int
cli_parse_encoding(const char *s)
{
    if (!strcmp(s, "auto"))
        return CB_ENC_AUTO;
    if (!strcmp(s, "utf-8") || !strcmp(s, "utf8") || !strcmp(s, "UTF-8"))
        return CB_ENC_UTF8;
    if (!strcmp(s, "gb18030") || !strcmp(s, "GB18030") || !strcmp(s, "gbk") ||
        !strcmp(s, "GBK"))
        return CB_ENC_GB18030;
    return -1;
}

int
cli_parse_format(const char *s)
{
    if (!strcmp(s, "auto"))
        return CB_FMT_AUTO;
    if (!strcmp(s, "csv"))
        return CB_FMT_CSV;
    if (!strcmp(s, "tsv"))
        return CB_FMT_TSV;
    if (!strcmp(s, "xlsx"))
        return CB_FMT_XLSX;
    return -1;
}

int
cli_read_option(const char *cmd, int c, const char *arg,
                struct cb_import_opts *io, const char **aliases)
{
    int v;

    switch (c) {
    case 'p': io->profile = arg; return 1;
    case 'a': *aliases = arg; return 1;
    case 'H': io->hospital = arg; return 1;
    case 'N': io->hospital_name = arg; return 1;
    case 'e':
        if ((v = cli_parse_encoding(arg)) < 0) {
            cli_error(cmd, "unknown encoding '%s' (auto, utf-8, gb18030)", arg);
            return -1;
        }
        io->reader.encoding = (enum cb_encoding)v;
        return 1;
    case 'f':
        if ((v = cli_parse_format(arg)) < 0) {
            cli_error(cmd, "unknown format '%s' (auto, csv, tsv, xlsx)", arg);
            return -1;
        }
        io->reader.format = (enum cb_format)v;
        return 1;
    }
    return 0;
}

struct cli_table {
    int     ncols;
    char  **cells;  /* row-major, nrows * ncols */
    size_t  nrows, cap;
};

static size_t
display_width(const char *s)
{
    size_t w = 0;
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        if (*p < 0x80) {
            w++;
            p++;
        } else if (*p >= 0xE0) { /* 3- and 4-byte sequences: CJK is wide */
            w += 2;
            p += *p >= 0xF0 ? 4 : 3;
        } else {
            w++;
            p += 2;
        }
    }
    return w;
}

struct cli_table *
cli_table_new(int ncols, const char *const *headers)
{
    struct cli_table *t = cb_calloc(1, sizeof(*t));

    if (!t)
        return NULL;
    t->ncols = ncols;
    cli_table_add(t, headers);
    return t;
}

void
cli_table_add(struct cli_table *t, const char *const *cells)
{
    int i;

    if (!t)
        return;
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **c = cb_reallocarray(t->cells, cap * (size_t)t->ncols, sizeof(char *));
        if (!c)
            return;
        t->cells = c;
        t->cap = cap;
    }
    for (i = 0; i < t->ncols; i++)
        t->cells[t->nrows * (size_t)t->ncols + (size_t)i] =
            cb_strdup(cells[i] ? cells[i] : "");
    t->nrows++;
}

void
cli_table_print(struct cli_table *t, FILE *f)
{
    size_t r, w[64] = { 0 };
    int c;

    if (!t)
        return;
    for (r = 0; r < t->nrows; r++)
        for (c = 0; c < t->ncols && c < 64; c++) {
            const char *s = t->cells[r * (size_t)t->ncols + (size_t)c];
            size_t dw = s ? display_width(s) : 0;
            if (dw > w[c])
                w[c] = dw;
        }
    for (r = 0; r < t->nrows; r++) {
        for (c = 0; c < t->ncols && c < 64; c++) {
            const char *s = t->cells[r * (size_t)t->ncols + (size_t)c];
            size_t pad;
            if (!s)
                s = "";
            fputs(s, f);
            if (c + 1 < t->ncols) {
                pad = w[c] - display_width(s) + 2;
                while (pad--)
                    fputc(' ', f);
            }
        }
        fputc('\n', f);
    }
}

void
cli_table_free(struct cli_table *t)
{
    size_t i;

    if (!t)
        return;
    for (i = 0; i < t->nrows * (size_t)t->ncols; i++)
        cb_free(t->cells[i]);
    cb_free(t->cells);
    cb_free(t);
}

void
cli_csv_field(FILE *f, const char *s)
{
    const char *p;

    if (!s)
        s = "";
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (p = s; *p; p++) {
        if (*p == '"')
            fputc('"', f);
        fputc(*p, f);
    }
    fputc('"', f);
}

int
cli_parse_fmt(const char *s, enum cli_fmt *fmt)
{
    if (!strcmp(s, "table"))
        *fmt = CLI_FMT_TABLE;
    else if (!strcmp(s, "csv"))
        *fmt = CLI_FMT_CSV;
    else if (!strcmp(s, "json"))
        *fmt = CLI_FMT_JSON;
    else
        return -1;
    return 0;
}

void
cli_rows_init(struct cli_rows *r, enum cli_fmt fmt)
{
    memset(r, 0, sizeof(*r));
    r->fmt = fmt;
    cb_buf_init(&r->json, CB_BUF_MAX_DEFAULT);
}

void
cli_rows_header(struct cli_rows *r, int ncols, const char *const *names)
{
    int i;

    if (r->header_done)
        return;
    r->header_done = 1;
    if (r->fmt == CLI_FMT_TABLE) {
        r->table = cli_table_new(ncols, names);
    } else if (r->fmt == CLI_FMT_CSV) {
        for (i = 0; i < ncols; i++) {
            if (i)
                putchar(',');
            cli_csv_field(stdout, names[i]);
        }
        putchar('\n');
    }
}

enum cb_err
cli_rows_add(void *ctx, int ncols, const char *const *names,
             const char *const *v)
{
    struct cli_rows *r = ctx;
    enum cb_err e = CB_OK;
    int i;

    cli_rows_header(r, ncols, names);
    r->n++;
    switch (r->fmt) {
    case CLI_FMT_TABLE:
        cli_table_add(r->table, v);
        break;
    case CLI_FMT_CSV:
        for (i = 0; i < ncols; i++) {
            if (i)
                putchar(',');
            cli_csv_field(stdout, v[i]);
        }
        putchar('\n');
        break;
    case CLI_FMT_JSON:
        if ((r->n > 1 && (e = cb_buf_addc(&r->json, ','))) ||
            (e = cb_buf_addc(&r->json, '{')))
            return e;
        for (i = 0; i < ncols; i++)
            if ((i && (e = cb_buf_addc(&r->json, ','))) ||
                (e = cb_json_strz(&r->json, names[i])) ||
                (e = cb_buf_addc(&r->json, ':')) ||
                (e = v[i] ? cb_json_strz(&r->json, v[i]) : cb_buf_adds(&r->json, "null")))
                return e;
        e = cb_buf_addc(&r->json, '}');
        break;
    }
    return e;
}

void
cli_rows_finish(struct cli_rows *r, FILE *f)
{
    if (r->fmt == CLI_FMT_TABLE)
        cli_table_print(r->table, f);
    else if (r->fmt == CLI_FMT_JSON)
        fprintf(f, "[%s]", cb_buf_cstr(&r->json));
}

void
cli_rows_release(struct cli_rows *r)
{
    cli_table_free(r->table);
    cb_buf_release(&r->json);
}

int
cli_catalogues_load(struct cb_catalogues *cat, const struct cb_cli *cli, const char *cmd)
{
    struct cb_buf err = CB_BUF_INIT;
    struct cb_catalogue_paths p = {
        .refdata_dir = cli->refdata,
        .datadir = cli->datadir,
        .complications = getenv("CAREBASE_CATALOGUE_COMPLICATIONS"),
        .mis = getenv("CAREBASE_CATALOGUE_MIS"),
        .level4 = getenv("CAREBASE_CATALOGUE_LEVEL4"),
        .level3 = getenv("CAREBASE_CATALOGUE_LEVEL3"),
    };
    int rc = 0;
    if (cb_catalogues_load(cat, &p, &err) != CB_OK) {
        cli_error(cmd, "%s", cb_buf_cstr(&err));
        rc = -1;
    }
    cb_buf_release(&err);
    return rc;
}
