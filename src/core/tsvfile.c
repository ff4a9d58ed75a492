#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "carebase/tsvfile.h"

static void
split(struct cb_tsv_line *l, char *p, size_t n)
{
    size_t i, start = 0;

    l->ncols = 0;
    for (i = 0; i <= n; i++) {
        if (i == n || p[i] == '\t') {
            if (l->ncols < CB_TSV_MAX_COLS)
                l->col[l->ncols++] = cb_str_make(p + start, i - start);
            start = i + 1;
        }
    }
}

enum cb_err
cb_tsv_read(const char *path, cb_tsv_fn header, cb_tsv_fn fn, void *ctx,
            struct cb_buf *err)
{
    FILE *f = fopen(path, "rb");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    struct cb_tsv_line l;
    enum cb_err rc = CB_OK;
    int first = 1;

    if (!f) {
        cb_errf(err, "cannot open '%s': %s", path, strerror(errno));
        return errno == ENOENT ? CB_ERR_NOT_FOUND : CB_ERR_IO;
    }
    l.path = path;
    l.lineno = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        l.lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        if (first) {
            if (n == 0 || line[0] == '#')
                continue; /* comments may precede the header */
            first = 0;
            split(&l, line, (size_t)n);
            if (header) {
                rc = header(&l, ctx, err);
                if (rc)
                    break;
            }
            continue;
        }
        if (n == 0 || line[0] == '#')
            continue;
        split(&l, line, (size_t)n);
        rc = fn(&l, ctx, err);
        if (rc)
            break;
    }
    if (!rc && ferror(f)) {
        cb_errf(err, "cannot read '%s'", path);
        rc = CB_ERR_IO;
    }
    free(line); /* allocated by getline */
    fclose(f);
    return rc;
}

int
cb_tsv_col(const struct cb_tsv_line *header, const char *name)
{
    size_t i;

    for (i = 0; i < header->ncols; i++)
        if (cb_str_eqz(header->col[i], name))
            return (int)i;
    return -1;
}

struct cb_str
cb_tsv_field(struct cb_str line, int k)
{
    const char *p = line.ptr, *e = line.ptr + line.len;
    for (int i = 0; i < k; i++) {
        const char *t = memchr(p, '\t', (size_t)(e - p));
        if (!t)
            return CB_STR_NULL;
        p = t + 1;
    }
    const char *t = memchr(p, '\t', (size_t)(e - p));
    return cb_str_make(p, (size_t)((t ? t : e) - p));
}
