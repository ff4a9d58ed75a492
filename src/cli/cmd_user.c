/*
 * cmd_user.c - `carebase user`: the accounts of `carebase serve`.
 *
 * Prompt-free, so that it scripts: a password comes from standard input
 * (--password-stdin, the first line) or from $CAREBASE_PASSWORD, never
 * from the command line (where `ps` would show it).
 */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "carebase/store.h"
#include "carebase/web.h"
#include "cli.h"
#include "cli_env.h"

const char cmd_user_usage[] =
    "usage: carebase user add NAME --role ROLE --scope CODE [--department CODE]\n"
    "                         [--password-stdin] [--show-identifiers]\n"
    "       carebase user set NAME --show-identifiers | --no-show-identifiers\n"
    "       carebase user passwd NAME [--password-stdin]\n"
    "       carebase user disable NAME\n"
    "       carebase user list [--format table|csv|json]\n"
    "\n"
    "Accounts of the web API (carebase serve). Roles and scopes:\n"
    "  consortium_admin   --scope GROUP: every hospital of a consortium or region\n"
    "                     (org code), and the consortium aggregates\n"
    "  hospital_admin     --scope ZZJGDM: one hospital\n"
    "  department_viewer  --scope ZZJGDM --department CODE: one department (CYKB\n"
    "                     code) of one hospital: its cases, not its rejects\n"
    "\n"
    "Patient identifiers (names, ID numbers, addresses, phone numbers) are left\n"
    "out of the case details a user reads unless --show-identifiers allows them\n"
    "(default: not allowed); 'set' changes that, from the user's next request\n"
    "on. Each read of case-level data is audited, and says whether identifiers\n"
    "were shown. Case lists and their exports never carry identifiers.\n"
    "\n"
    "The password (8 to 1024 bytes) is read from the first line of standard\n"
    "input with --password-stdin, else from $CAREBASE_PASSWORD; there is no\n"
    "prompt. It is stored as an argon2id hash. 'passwd' and 'disable' end the\n"
    "user's sessions. 'list' never shows hashes.\n";

/* --show-identifiers / --no-show-identifiers: not given, on, off. */
enum ids_opt { IDS_UNSET = 0, IDS_ON, IDS_OFF };

struct user_opts {
    const char *role, *scope, *department;
    int         password_stdin;
    enum ids_opt ids;
    enum cli_fmt fmt;
};

static int
parse_opts(int argc, char **argv, struct user_opts *o)
{
    static const struct option opts[] = {
        { "role", required_argument, NULL, 'r' },
        { "scope", required_argument, NULL, 's' },
        { "department", required_argument, NULL, 'd' },
        { "password-stdin", no_argument, NULL, 'p' },
        { "format", required_argument, NULL, 'f' },
        { "show-identifiers", no_argument, NULL, 'I' },
        { "no-show-identifiers", no_argument, NULL, 'N' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    memset(o, 0, sizeof(*o));
    o->fmt = CLI_FMT_TABLE;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'r': o->role = optarg; break;
        case 's': o->scope = optarg; break;
        case 'd': o->department = optarg; break;
        case 'p': o->password_stdin = 1; break;
        case 'I': o->ids = IDS_ON; break;
        case 'N': o->ids = IDS_OFF; break;
        case 'f':
            if (cli_parse_fmt(optarg, &o->fmt)) {
                cli_error("user", "--format wants table, csv or json");
                return -1;
            }
            break;
        default: return -1;
        }
    }
    return 0;
}

/* The password into buf (cap bytes): stdin's first line or the environment. */
static int
read_password(const struct user_opts *o, char *buf, size_t cap)
{
    size_t n;

    buf[0] = '\0';
    if (o->password_stdin) {
        if (!fgets(buf, (int)cap, stdin)) {
            cli_error("user", "no password on standard input");
            return -1;
        }
        n = strlen(buf);
        if (n == cap - 1 && buf[n - 1] != '\n') {
            cli_error("user", "the password is longer than %d bytes", CB_WEB_PASSWORD_MAX);
            return -1;
        }
        while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
            buf[--n] = '\0';
        return 0;
    }
    const char *env = getenv("CAREBASE_PASSWORD");
    if (!env || !*env) {
        cli_error("user", "give the password on standard input (--password-stdin)"
                  " or in $CAREBASE_PASSWORD");
        return -1;
    }
    if (strlen(env) >= cap) {
        cli_error("user", "the password is longer than %d bytes", CB_WEB_PASSWORD_MAX);
        return -1;
    }
    snprintf(buf, cap, "%s", env);
    return 0;
}

/* Hashes the password given by o into hash; prints why not. */
static int
password_hash(const struct user_opts *o, char *hash, size_t cap)
{
    char pw[CB_WEB_PASSWORD_MAX + 2];
    struct cb_buf err = CB_BUF_INIT;
    int rc = 0;

    if (read_password(o, pw, sizeof pw))
        return -1;
    if (cb_web_password_hash(pw, hash, cap, &err)) {
        cli_error("user", "%s", cb_buf_cstr(&err));
        rc = -1;
    }
    sodium_memzero(pw, sizeof pw);
    cb_buf_release(&err);
    return rc;
}

static int
copy_field(char *dst, size_t cap, const char *v, const char *what)
{
    if (strlen(v) >= cap) {
        cli_error("user", "%s is longer than %zu bytes", what, cap - 1);
        return -1;
    }
    snprintf(dst, cap, "%s", v);
    return 0;
}

int
cmd_user(int argc, char **argv, const struct cb_cli *cli)
{
    struct cb_store *st = NULL;
    struct cb_buf err = CB_BUF_INIT;
    struct user_opts o;
    const char *verb;
    enum cb_err rc = CB_OK;
    int status = CB_EXIT_OK;

    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(cmd_user_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CB_EXIT_USAGE : CB_EXIT_OK;
    }
    verb = argv[1];
    /* Parse from the verb on (it plays argv[0]); getopt moves positionals last. */
    argv++;
    argc--;
    optind = 0;
    if (parse_opts(argc, argv, &o)) {
        fputs(cmd_user_usage, stderr);
        return CB_EXIT_USAGE;
    }
    argv += optind;
    argc -= optind;
    if (strcmp(verb, "list") ? argc != 1 : argc != 0) {
        fputs(cmd_user_usage, stderr);
        return CB_EXIT_USAGE;
    }
    if (strcmp(verb, "add") && strcmp(verb, "set") && strcmp(verb, "passwd") &&
        strcmp(verb, "disable") && strcmp(verb, "list")) {
        cli_error("user", "unknown verb '%s' (add, set, passwd, disable, list)", verb);
        return CB_EXIT_USAGE;
    }
    if (!strcmp(verb, "set") && o.ids == IDS_UNSET) {
        cli_error("user", "set needs --show-identifiers or --no-show-identifiers");
        return CB_EXIT_USAGE;
    }
    if (cb_store_open(&st, cli->db_path, &err) != CB_OK) {
        cli_error("user", "%s", cb_buf_cstr(&err));
        cb_buf_release(&err);
        return CB_EXIT_FAIL;
    }

    if (!strcmp(verb, "add")) {
        struct cb_store_user u;
        memset(&u, 0, sizeof u);
        if (!o.role || !o.scope) {
            cli_error("user", "add needs --role and --scope");
            status = CB_EXIT_USAGE;
            goto out;
        }
        if (copy_field(u.name, sizeof u.name, argv[0], "the name") ||
            copy_field(u.role, sizeof u.role, o.role, "the role") ||
            copy_field(u.scope_code, sizeof u.scope_code, o.scope, "the scope") ||
            (o.department &&
             copy_field(u.department, sizeof u.department, o.department, "the department"))) {
            status = CB_EXIT_USAGE;
            goto out;
        }
        if (password_hash(&o, u.pw_hash, sizeof u.pw_hash)) {
            status = CB_EXIT_USAGE;
            goto out;
        }
        u.show_identifiers = o.ids == IDS_ON;
        rc = cb_store_user_add(st, &u, &err);
        if (!rc && !cli->quiet)
            fprintf(stderr, "user '%s' added (id %lld, %s of %s %s%s%s%s)\n", u.name,
                    (long long)u.id, u.role, u.scope_kind, u.scope_code,
                    u.department[0] ? ", department " : "", u.department,
                    u.show_identifiers ? ", may see patient identifiers" : "");
    } else if (!strcmp(verb, "set")) {
        rc = cb_store_user_set_identifiers(st, argv[0], o.ids == IDS_ON, &err);
        if (!rc && !cli->quiet)
            fprintf(stderr, "user '%s' %s patient identifiers\n", argv[0],
                    o.ids == IDS_ON ? "may now see" : "may no longer see");
    } else if (!strcmp(verb, "passwd")) {
        char hash[CB_PWHASH_MAX];
        if (password_hash(&o, hash, sizeof hash)) {
            status = CB_EXIT_USAGE;
            goto out;
        }
        rc = cb_store_user_set_password(st, argv[0], hash, &err);
        if (!rc && !cli->quiet)
            fprintf(stderr, "password of '%s' changed; its sessions ended\n", argv[0]);
    } else if (!strcmp(verb, "disable")) {
        rc = cb_store_user_disable(st, argv[0], &err);
        if (!rc && !cli->quiet)
            fprintf(stderr, "user '%s' disabled; its sessions ended\n", argv[0]);
    } else {
        static const char *const header[] = {
            "id", "name", "role", "scope_kind", "scope_code", "department", "disabled",
            "created_at", "sessions", "show_identifiers" };
        struct cli_rows rows;
        cli_rows_init(&rows, o.fmt);
        if (o.fmt == CLI_FMT_CSV)
            cli_rows_header(&rows, 10, header);
        rc = cb_store_user_list(st, (int64_t)time(NULL), cli_rows_add, &rows, &err);
        if (!rc)
            cli_rows_finish(&rows, stdout);
        cli_rows_release(&rows);
    }
out:
    if (rc) {
        cli_error("user", "%s", cb_buf_cstr(&err));
        status = rc == CB_ERR_USAGE ? CB_EXIT_USAGE : CB_EXIT_FAIL;
    }
    cb_store_close(st);
    cb_buf_release(&err);
    return status;
}
