/*
 * cmd_generate.c - `carebase generate`: writes a synthetic consortium of
 * front-page records (see include/carebase/gen.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "carebase/gen.h"
#include "carebase/profile.h"
#include "carebase/refdata.h"
#include "carebase/str.h"
#include "cli.h"

const char cmd_generate_usage[] =
    "usage: carebase generate [--seed N] [--hospitals N] [--years N]\n"
    "                         [--end-year Y] [--records N] [--errors RATE]\n"
    "                         [--profile western|tcm|n041]\n"
    "                         [--encoding utf-8|gb18030] [--tsv]\n"
    "                         [--out FILE] [--orgs FILE] [--manifest FILE]\n"
    "\n"
    "Writes a synthetic, realistic consortium (医联体) of inpatient front\n"
    "pages in the national format: one tertiary hub, district hospitals and\n"
    "primary-care members, 1 to 3 years of discharges with seasonality,\n"
    "case mix by hospital level, readmissions, transfers and deaths, and\n"
    "costs that add up. All data is synthetic. The same options and seed\n"
    "give byte-identical output.\n"
    "\n"
    "  --seed N          random seed (default 1)\n"
    "  --hospitals N     members including the hub, 1..64 (default 5)\n"
    "  --years N         years of discharges, 1..3 (default 2)\n"
    "  --end-year Y      last discharge year (default 2025)\n"
    "  --records N       total records (default: from hospital sizes, about\n"
    "                    60,000 a year at the hub, 15,000 at a district\n"
    "                    hospital, 4,000 at a primary-care member)\n"
    "  --errors RATE     share of records given one realistic data-quality\n"
    "                    error (default 0.02)\n"
    "  --profile NAME    column dialect (default western)\n"
    "  --encoding ENC    utf-8 (default) or gb18030\n"
    "  --tsv             TAB-separated instead of CSV\n"
    "  --out FILE        output file (default standard output)\n"
    "  --orgs FILE       also write the consortium directory (TSV: zzjgdm,\n"
    "                    name, level, consortium), for 'carebase org load'\n"
    "  --manifest FILE   also write the injected errors (TSV: line, rule,\n"
    "                    field; line 1 is the header)\n";

static int
parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    int64_t v;

    if (cb_parse_i64(cb_str_c(s), &v) != CB_OK || v < 0 || (uint64_t)v > max)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

static int
parse_rate(const char *s, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0.0 && v <= 1.0))
        return -1;
    *out = v;
    return 0;
}

struct gen_args {
    struct cb_gen_opts opts;
    const char *profile, *out, *orgs, *manifest;
};

static int
parse_args(int argc, char **argv, struct gen_args *a)
{
    static const struct option lopts[] = {
        { "seed", required_argument, NULL, 's' },
        { "hospitals", required_argument, NULL, 'h' },
        { "years", required_argument, NULL, 'y' },
        { "end-year", required_argument, NULL, 'e' },
        { "records", required_argument, NULL, 'n' },
        { "errors", required_argument, NULL, 'E' },
        { "profile", required_argument, NULL, 'p' },
        { "encoding", required_argument, NULL, 'c' },
        { "tsv", no_argument, NULL, 't' },
        { "out", required_argument, NULL, 'o' },
        { "orgs", required_argument, NULL, 'O' },
        { "manifest", required_argument, NULL, 'm' },
        { NULL, 0, NULL, 0 },
    };
    uint64_t v;
    int c, li = 0;

    memset(a, 0, sizeof(*a));
    a->opts.seed = 1;
    a->opts.hospitals = 5;
    a->opts.years = 2;
    a->opts.end_year = 2025;
    a->opts.error_rate = 0.02;
    a->opts.encoding = CB_ENC_UTF8;
    a->opts.delimiter = ',';
    a->profile = "western";
    while ((c = getopt_long(argc, argv, "", lopts, &li)) != -1) {
        switch (c) {
        case 's':
            if (parse_u64(optarg, INT64_MAX, &v))
                goto bad;
            a->opts.seed = v;
            break;
        case 'h':
            if (parse_u64(optarg, 64, &v) || v < 1)
                goto bad;
            a->opts.hospitals = (int)v;
            break;
        case 'y':
            if (parse_u64(optarg, 3, &v) || v < 1)
                goto bad;
            a->opts.years = (int)v;
            break;
        case 'e':
            if (parse_u64(optarg, 2100, &v) || v < 2000)
                goto bad;
            a->opts.end_year = (int)v;
            break;
        case 'n':
            if (parse_u64(optarg, 100000000000ULL, &v))
                goto bad;
            a->opts.records = v;
            break;
        case 'E':
            if (parse_rate(optarg, &a->opts.error_rate))
                goto bad;
            break;
        case 'p':
            a->profile = optarg;
            break;
        case 'c':
            if (strcasecmp(optarg, "utf-8") == 0 ||
                strcasecmp(optarg, "utf8") == 0)
                a->opts.encoding = CB_ENC_UTF8;
            else if (strcasecmp(optarg, "gb18030") == 0)
                a->opts.encoding = CB_ENC_GB18030;
            else
                goto bad;
            break;
        case 't':
            a->opts.delimiter = '\t';
            break;
        case 'o':
            a->out = optarg;
            break;
        case 'O':
            a->orgs = optarg;
            break;
        case 'm':
            a->manifest = optarg;
            break;
        default:
            return -1;
        }
    }
    if (optind < argc) {
        cli_error("generate", "unexpected argument '%s'", argv[optind]);
        return -1;
    }
    return 0;
bad:
    cli_error("generate", "bad value '%s' for --%s", optarg, lopts[li].name);
    return -1;
}

static FILE *
open_out(const char *path)
{
    FILE *f = fopen(path, "wb");

    if (!f)
        cli_error("generate", "cannot open '%s': %s", path, strerror(errno));
    return f;
}

int
cmd_generate(int argc, char **argv, const struct cb_cli *cli)
{
    struct gen_args a;
    struct cb_buf err = CB_BUF_INIT, path = CB_BUF_INIT;
    struct cb_profiles *ps = NULL;
    struct cb_refdata *rd = NULL;
    struct cb_gen *g = NULL;
    FILE *out = stdout, *man = NULL, *orgs = NULL;
    int ret = CB_EXIT_FAIL;
    struct timespec t0, t1;
    enum cb_err rc;

    if (parse_args(argc, argv, &a)) {
        cli_usage(stderr, "generate");
        return CB_EXIT_USAGE;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (cb_buf_addf(&path, "%s/profiles", cli->datadir) != CB_OK)
        goto out;
    if ((rc = cb_profiles_load(&ps, cb_buf_cstr(&path), &err))) {
        cli_error("generate", "cannot load profiles: %s", cb_buf_cstr(&err));
        goto out;
    }
    a.opts.profile = cb_profiles_find(ps, a.profile);
    if (!a.opts.profile) {
        cli_error("generate", "unknown profile '%s'", a.profile);
        ret = CB_EXIT_USAGE;
        goto out;
    }
    if ((rc = cb_refdata_load(&rd, cli->refdata, &err))) {
        cli_error("generate", "cannot load reference data: %s",
                  cb_buf_cstr(&err));
        goto out;
    }
    a.opts.scheme_dir = cli->scheme_dir;
    if ((rc = cb_gen_new(&g, &a.opts, rd, &err))) {
        cli_error("generate", "%s", cb_buf_cstr(&err));
        ret = rc == CB_ERR_USAGE ? CB_EXIT_USAGE : CB_EXIT_FAIL;
        goto out;
    }
    if (a.out && !(out = open_out(a.out)))
        goto out;
    if (a.manifest && !(man = open_out(a.manifest)))
        goto out;
    if (a.orgs) {
        if (!(orgs = open_out(a.orgs)))
            goto out;
        if ((rc = cb_gen_write_orgs(g, orgs, &err))) {
            cli_error("generate", "%s", cb_buf_cstr(&err));
            goto out;
        }
    }
    if ((rc = cb_gen_write(g, out, man, &err))) {
        cli_error("generate", "%s", cb_buf_cstr(&err));
        goto out;
    }
    if (man && fflush(man) != 0) {
        cli_error("generate", "cannot write '%s'", a.manifest);
        goto out;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (!cli->quiet)
        fprintf(stderr, "carebase generate: %d hospitals, %d year(s) to %d, "
                "profile %s, %s, seed %llu, %.1f s\n",
                a.opts.hospitals, a.opts.years, a.opts.end_year, a.profile,
                a.opts.encoding == CB_ENC_GB18030 ? "gb18030" : "utf-8",
                (unsigned long long)a.opts.seed,
                (double)(t1.tv_sec - t0.tv_sec) +
                    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    ret = CB_EXIT_OK;

out:
    if (out && out != stdout && fclose(out) != 0 && ret == CB_EXIT_OK) {
        cli_error("generate", "cannot write '%s'", a.out);
        ret = CB_EXIT_FAIL;
    }
    if (man && fclose(man) != 0 && ret == CB_EXIT_OK)
        ret = CB_EXIT_FAIL;
    if (orgs && fclose(orgs) != 0 && ret == CB_EXIT_OK)
        ret = CB_EXIT_FAIL;
    cb_gen_free(g);
    cb_refdata_free(rd);
    cb_profiles_free(ps);
    cb_buf_release(&err);
    cb_buf_release(&path);
    return ret;
}
