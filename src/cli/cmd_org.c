/*
 * cmd_org.c - `carebase org`: consortia, regions, hospitals, departments.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "carebase/store.h"
#include "carebase/tsvfile.h"
#include "cli.h"
#include "cli_env.h"

const char cmd_org_usage[] =
    "usage: carebase org add consortium|region CODE [NAME]\n"
    "       carebase org add hospital ZZJGDM NAME [--level L] [--in GROUP]\n"
    "       carebase org set hospital ZZJGDM [--name NAME] [--level L]\n"
    "       carebase org set consortium|region CODE --name NAME\n"
    "       carebase org join GROUP ZZJGDM...\n"
    "       carebase org leave GROUP ZZJGDM...\n"
    "       carebase org load FILE\n"
    "       carebase org list [groups|hospitals|departments] [--hospital ZZJGDM]\n"
    "\n"
    "The organisation tree is grouping (consortium 医联体 or region) ->\n"
    "hospital -> department. Hospitals seen in an import are created\n"
    "automatically; this command names them, sets their level (三级, 二级 or\n"
    "基层) and places them in groupings. A hospital may belong to several\n"
    "groupings. 'load' reads a TSV with columns zzjgdm, name, level and\n"
    "consortium (as written by 'carebase generate --orgs').\n";

struct org_opts {
    const char *name, *level, *group, *hospital;
};

static int
parse_opts(int argc, char **argv, struct org_opts *o)
{
    static const struct option opts[] = {
        { "name", required_argument, NULL, 'n' },
        { "level", required_argument, NULL, 'l' },
        { "in", required_argument, NULL, 'i' },
        { "hospital", required_argument, NULL, 'H' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    memset(o, 0, sizeof(*o));
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'n': o->name = optarg; break;
        case 'l': o->level = optarg; break;
        case 'i': o->group = optarg; break;
        case 'H': o->hospital = optarg; break;
        default: return -1;
        }
    }
    return 0;
}

static enum cb_err
print_row(void *ctx, int ncols, const char *const *names,
          const char *const *values)
{
    struct cli_table **t = ctx;
    (void)names;
    (void)ncols;
    cli_table_add(*t, values);
    return CB_OK;
}

static int
list(struct cb_store *st, const char *what, const struct org_opts *o,
     struct cb_buf *err)
{
    static const char *const gh[] = { "kind", "code", "name", "hospitals", "members" };
    static const char *const hh[] = { "zzjgdm", "name", "level", "groups", "departments", "records" };
    static const char *const dh[] = { "zzjgdm", "code", "name", "discharges" };
    struct cli_table *t;
    enum cb_err rc = CB_OK;

    if (!what || !strcmp(what, "groups")) {
        t = cli_table_new(5, gh);
        rc = cb_store_list_groups(st, print_row, &t, err);
        cli_table_print(t, stdout);
        cli_table_free(t);
        if (!what && !rc)
            putchar('\n');
    }
    if (!rc && (!what || !strcmp(what, "hospitals"))) {
        t = cli_table_new(6, hh);
        rc = cb_store_list_hospitals(st, print_row, &t, err);
        cli_table_print(t, stdout);
        cli_table_free(t);
    }
    if (!rc && what && !strcmp(what, "departments")) {
        t = cli_table_new(4, dh);
        rc = cb_store_list_departments(st, o->hospital, print_row, &t, err);
        cli_table_print(t, stdout);
        cli_table_free(t);
    }
    if (what && strcmp(what, "groups") && strcmp(what, "hospitals") &&
        strcmp(what, "departments")) {
        cli_error("org", "unknown list '%s' (groups, hospitals, departments)", what);
        return CB_EXIT_USAGE;
    }
    return rc ? CB_EXIT_FAIL : CB_EXIT_OK;
}

struct load_ctx {
    struct cb_store *st;
    int c_code, c_name, c_level, c_group;
    unsigned long n;
};

static enum cb_err
load_header(const struct cb_tsv_line *l, void *ctx, struct cb_buf *err)
{
    struct load_ctx *lc = ctx;

    lc->c_code = cb_tsv_col(l, "zzjgdm");
    lc->c_name = cb_tsv_col(l, "name");
    lc->c_level = cb_tsv_col(l, "level");
    lc->c_group = cb_tsv_col(l, "consortium");
    if (lc->c_code < 0) {
        cb_errf(err, "'%s' has no 'zzjgdm' column", l->path);
        return CB_ERR_PROTO;
    }
    return CB_OK;
}

static enum cb_err
load_line(const struct cb_tsv_line *l, void *ctx, struct cb_buf *err)
{
    struct load_ctx *lc = ctx;
    char code[64], name[256], level[32], group[128];
    enum cb_err rc;

#define COL(i, buf) \
    snprintf(buf, sizeof(buf), "%.*s", (i) >= 0 && (size_t)(i) < l->ncols ? \
             (int)l->col[i].len : 0, (i) >= 0 && (size_t)(i) < l->ncols ? l->col[i].ptr : "")
    COL(lc->c_code, code);
    COL(lc->c_name, name);
    COL(lc->c_level, level);
    COL(lc->c_group, group);
#undef COL
    if (!code[0])
        return CB_OK;
    if ((rc = cb_store_hospital_set(lc->st, code, name[0] ? name : NULL,
                                    level[0] ? level : NULL, err)))
        return rc;
    if (group[0] && ((rc = cb_store_group_set(lc->st, "consortium", group, NULL, err)) ||
                     (rc = cb_store_group_member(lc->st, group, code, 0, err))))
        return rc;
    lc->n++;
    return CB_OK;
}

int
cmd_org(int argc, char **argv, const struct cb_cli *cli)
{
    struct cb_store *st = NULL;
    struct cb_buf err = CB_BUF_INIT;
    struct org_opts o;
    const char *verb, *kind = NULL;
    enum cb_err rc = CB_OK;
    int status = CB_EXIT_OK, i;

    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(cmd_org_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CB_EXIT_USAGE : CB_EXIT_OK;
    }
    verb = argv[1];
    /* Parse from the verb on (it plays argv[0]); getopt moves positionals last. */
    argv++;
    argc--;
    optind = 0;
    if (parse_opts(argc, argv, &o)) {
        fputs(cmd_org_usage, stderr);
        return CB_EXIT_USAGE;
    }
    argv += optind;
    argc -= optind;
    if (cb_store_open(&st, cli->db_path, &err) != CB_OK) {
        cli_error("org", "%s", cb_buf_cstr(&err));
        cb_buf_release(&err);
        return CB_EXIT_FAIL;
    }
    if (!strcmp(verb, "list")) {
        status = list(st, argc > 0 ? argv[0] : NULL, &o, &err);
        goto out;
    }
    if ((rc = cb_store_begin(st, &err)))
        goto out;
    if ((!strcmp(verb, "add") || !strcmp(verb, "set")) && argc >= 2) {
        kind = argv[0];
        if (!strcmp(kind, "hospital")) {
            const char *name = o.name ? o.name : argc >= 3 ? argv[2] : NULL;
            if (!strcmp(verb, "add") && !name) {
                cli_error("org", "add hospital needs a NAME");
                status = CB_EXIT_USAGE;
            } else {
                rc = cb_store_hospital_set(st, argv[1], name, o.level, &err);
                if (!rc && o.group)
                    rc = cb_store_group_member(st, o.group, argv[1], 0, &err);
            }
        } else if (!strcmp(kind, "consortium") || !strcmp(kind, "region")) {
            rc = cb_store_group_set(st, kind, argv[1],
                                    o.name ? o.name : argc >= 3 ? argv[2] : NULL, &err);
        } else {
            cli_error("org", "unknown kind '%s' (consortium, region, hospital)", kind);
            status = CB_EXIT_USAGE;
        }
    } else if ((!strcmp(verb, "join") || !strcmp(verb, "leave")) && argc >= 2) {
        for (i = 1; i < argc && !rc; i++)
            rc = cb_store_group_member(st, argv[0], argv[i], !strcmp(verb, "leave"), &err);
    } else if (!strcmp(verb, "load") && argc == 1) {
        struct load_ctx lc = { st, -1, -1, -1, -1, 0 };
        rc = cb_tsv_read(argv[0], load_header, load_line, &lc, &err);
        if (!rc && !cli->quiet)
            fprintf(stderr, "loaded %lu hospitals from %s\n", lc.n, argv[0]);
    } else {
        fputs(cmd_org_usage, stderr);
        status = CB_EXIT_USAGE;
    }
    if (!rc && status == CB_EXIT_OK)
        rc = cb_store_commit(st, &err);
    else
        cb_store_rollback(st);

out:
    if (rc) {
        cli_error("org", "%s", cb_buf_cstr(&err));
        status = rc == CB_ERR_USAGE ? CB_EXIT_USAGE : CB_EXIT_FAIL;
    }
    cb_store_close(st);
    cb_buf_release(&err);
    return status;
}
