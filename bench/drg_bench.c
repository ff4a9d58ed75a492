/*
 * drg_bench.c - DRG grouper benchmark (issue: CHS-DRG grouper).
 *
 *   drg_bench SCHEME_DIR RECORDS_CSV [N] [RUNS] [off|codes|source]
 *
 * 1. Loads the scheme RUNS times (full verification: SHA-256 of every file,
 *    dictionaries and maps included) and reports the median load time and
 *    the scheme's memory.
 * 2. Parses RECORDS_CSV (FORMAT.md §13 golden format) once into memory,
 *    repeats it to N records (default 1,000,000), and groups them all on
 *    one thread RUNS times; reports the median records/s. Checks that no
 *    heap allocation happens while grouping (mallinfo2 before and after).
 *
 * Output: one JSON object per line, for bench/run_drg.sh.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "carebase/drg.h"

static double
now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* CPU time of this thread: the time on one core, whatever else runs. */
static double
cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double
median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct rec {
    struct cb_drg_input in;
};

static int
split(const char *p, const char *e, char sep, struct cb_str *f, int max)
{
    int n = 0;
    for (;;) {
        const char *q = memchr(p, sep, (size_t)(e - p));
        const char *fe = q ? q : e;
        if (n < max)
            f[n] = cb_str_make(p, (size_t)(fe - p));
        n++;
        if (!q)
            return n;
        p = q + 1;
    }
}

/* Parses every record of the golden CSV; code arrays are heap copies. */
static struct rec *
parse(const char *path, int *count, char **text_out)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)len + 1);
    if (!text || fread(text, 1, (size_t)len, f) != (size_t)len)
        exit(1);
    fclose(f);
    text[len] = '\0';
    int cap = 1024, n = 0;
    struct rec *r = malloc((size_t)cap * sizeof *r);
    const char *p = strchr(text, '\n') + 1, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            nl = end;
        struct cb_str fl[10];
        if (split(p, nl, ',', fl, 10) != 10) {
            fprintf(stderr, "%s: bad line\n", path);
            exit(1);
        }
        if (n == cap)
            r = realloc(r, (size_t)(cap *= 2) * sizeof *r);
        struct cb_drg_input *in = &r[n++].in;
        *in = (struct cb_drg_input){ .index = fl[0], .sex = fl[1], .age = fl[2],
            .age_days = fl[3], .weight = fl[4], .dept = fl[5], .los = fl[6],
            .leaving_type = fl[7] };
        for (int k = 0; k < 2; k++) {
            struct cb_str lf = fl[8 + k];
            int m = 1;
            for (size_t i = 0; i < lf.len; i++)
                m += lf.ptr[i] == '|';
            struct cb_str *codes = malloc((size_t)m * sizeof *codes);
            split(lf.ptr, lf.ptr + lf.len, '|', codes, m);
            if (k) {
                in->px = codes;
                in->npx = m;
            } else {
                in->dx = codes;
                in->ndx = m;
            }
        }
        p = nl + 1;
    }
    *count = n;
    *text_out = text;
    return r;
}

int
main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: drg_bench SCHEME_DIR RECORDS_CSV [N] [RUNS]\n");
        return 2;
    }
    const char *dir = argv[1];
    long n = argc > 3 ? strtol(argv[3], NULL, 10) : 1000000;
    int runs = argc > 4 ? (int)strtol(argv[4], NULL, 10) : 5;
    const char *trz = argc > 5 ? argv[5] : "off";
    enum cb_drg_translate tr = !strcmp(trz, "codes") ? CB_DRG_TR_CODES
                             : !strcmp(trz, "source") ? CB_DRG_TR_SOURCE : CB_DRG_TR_OFF;
    if (runs < 1 || runs > 50 || n < 1)
        return 2;
    double t[50];

    /* 1. load */
    struct cb_drg_scheme *s = NULL;
    struct cb_buf err = CB_BUF_INIT;
    for (int i = 0; i < runs; i++) {
        if (s)
            cb_drg_scheme_free(s);
        double t0 = now();
        if (cb_drg_scheme_load(dir, NULL, &s, &err)) {
            fprintf(stderr, "%s\n", cb_buf_cstr(&err));
            return 1;
        }
        t[i] = now() - t0;
    }
    struct cb_drg_counts c;
    cb_drg_scheme_counts(s, &c);
    printf("{\"what\":\"load\",\"scheme\":\"%s\",\"runs\":%d,\"median_ms\":%.1f,"
           "\"memory_mb\":%.1f,\"codes\":%d,\"lists\":%d}\n",
           cb_drg_scheme_id(s), runs, median(t, runs) * 1000,
           (double)cb_drg_scheme_memory(s) / 1048576.0, c.codes, c.lists);

    /* 2. group records already in memory */
    int nrec;
    char *text;
    struct rec *recs = parse(argv[2], &nrec, &text);
    struct cb_drg_work w;
    memset(&w, 0, sizeof w);
    if (cb_drg_work_init(&w, s))
        return 1;
    struct cb_drg_result r;
    for (int i = 0; i < nrec; i++)  /* warm up; grows the work once */
        if (cb_drg_group(s, &recs[i].in, tr, &w, &r))
            return 1;
    long success = 0;
    /* Batches of 256 records, as a pipeline hands them over. */
    enum { BATCH = 256 };
    struct cb_drg_input *ins = malloc((size_t)nrec * sizeof *ins);
    struct cb_drg_result *res = malloc(BATCH * sizeof *res);
    if (!ins || !res)
        return 1;
    for (int i = 0; i < nrec; i++)
        ins[i] = recs[i].in;
    size_t heap_before = mallinfo2().uordblks;
    double cpu[50];
    for (int k = 0; k < runs; k++) {
        success = 0;
        double t0 = now(), c0 = cpu_now();
        long done = 0;
        while (done < n) {
            long at = done % nrec;
            long m = n - done < BATCH ? n - done : BATCH;
            if (m > nrec - at)
                m = nrec - at;
            if (cb_drg_group_batch(s, &ins[at], (size_t)m, tr, &w, res))
                return 1;
            for (long j = 0; j < m; j++)
                success += res[j].status == CB_DRG_SUCCESS;
            done += m;
        }
        t[k] = now() - t0;
        cpu[k] = cpu_now() - c0;
    }
    size_t heap_after = mallinfo2().uordblks;
    double med = median(t, runs);
    double best = t[0];  /* sorted by median() */
    double cpu_med = median(cpu, runs);
    printf("{\"what\":\"group\",\"best_ns\":%.1f,\"cpu_median_ns\":%.1f,"
           "\"cpu_records_per_s\":%.0f,", best / (double)n * 1e9,
           cpu_med / (double)n * 1e9, (double)n / cpu_med);
    printf("\"scheme\":\"%s\",\"translate\":\"%s\",\"records\":%ld,\"distinct\":%d,"
           "\"runs\":%d,\"median_s\":%.4f,\"records_per_s\":%.0f,"
           "\"ns_per_record\":%.1f,\"success\":%ld,\"heap_growth_bytes\":%zd}\n",
           cb_drg_scheme_id(s), trz, n, nrec, runs, med, (double)n / med,
           med / (double)n * 1e9, success, (ssize_t)(heap_after - heap_before));

    /* 3. the same with the trace on, for its cost */
    cb_drg_work_trace(&w, true);
    for (int k = 0; k < runs; k++) {
        double t0 = now();
        for (long i = 0; i < n; i++)
            if (cb_drg_group(s, &recs[i % nrec].in, tr, &w, &r))
                return 1;
        t[k] = now() - t0;
    }
    med = median(t, runs);
    printf("{\"what\":\"group_traced\",\"scheme\":\"%s\",\"records\":%ld,"
           "\"median_s\":%.4f,\"records_per_s\":%.0f}\n",
           cb_drg_scheme_id(s), n, med, (double)n / med);

    cb_drg_work_release(&w);
    cb_drg_scheme_free(s);
    free(ins);
    free(res);
    for (int i = 0; i < nrec; i++) {
        free((void *)recs[i].in.dx);
        free((void *)recs[i].in.px);
    }
    free(recs);
    free(text);
    cb_buf_release(&err);
    return 0;
}
