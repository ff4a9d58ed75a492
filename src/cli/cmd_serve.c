/*
 * cmd_serve.c - `carebase serve`: the HTTP server with the JSON API
 * (include/carebase/web.h, docs/api.md) and the MLLP listener for HL7 v2
 * messages (include/carebase/feed.h).
 *
 * The server runs on its own threads; this thread only waits for SIGTERM
 * or SIGINT (blocked before the server starts, so no server thread takes
 * them) and then stops it gracefully. Request log lines go to stderr.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carebase/web.h"
#include "cli.h"

const char cmd_serve_usage[] =
    "usage: carebase serve [--listen HOST:PORT] [--mllp HOST:PORT|off] [--config FILE]\n"
    "\n"
    "Serves the JSON API (docs/api.md) and the web application (GET / and\n"
    "/app/: the files of web_dir). Prints 'listening on http://HOST:PORT' on\n"
    "standard output once it accepts connections (port 0 picks a free port),\n"
    "one log line per request on standard error (time, method, route, status,\n"
    "milliseconds, user id: no query strings, no patient data), and stops\n"
    "gracefully on SIGTERM or SIGINT: no new connections, requests in progress\n"
    "finish.\n"
    "\n"
    "It also listens for HL7 v2 messages over MLLP (default 127.0.0.1:2575):\n"
    "each is stored in the journal (table hl7_message) before its ACK, and\n"
    "the journal is replayed at start. Before the 'listening on' line it\n"
    "prints 'mllp listening on HOST:PORT'.\n"
    "\n"
    "Options:\n"
    "  --listen A     address and port (default 127.0.0.1:8080); [::1]:8080\n"
    "                 for IPv6\n"
    "  --mllp A       the MLLP listener's address (default 127.0.0.1:2575;\n"
    "                 port 0 picks a free port); 'off': none\n"
    "  --config FILE  settings as 'key = value' lines: listen, db, scheme,\n"
    "                 refdata, datadir, tls_cert, tls_key (both: HTTPS), web_dir\n"
    "                 (the web application: default $CAREBASE_WEBDIR or web/ of\n"
    "                 the source tree), and the limits (threads,\n"
    "                 max_connections, max_inflight, timeout, max_body,\n"
    "                 session_ttl, login_failures, login_window, refresh,\n"
    "                 shutdown_grace), mllp_listen, mllp_max_message,\n"
    "                 mllp_max_connections, mllp_idle_timeout; see\n"
    "                 docs/api.md. The file's db, refdata, datadir and scheme\n"
    "                 override the global options; --listen and --mllp\n"
    "                 override the file's listen and mllp_listen.\n"
    "\n"
    "Users are managed with 'carebase user'.\n";

static void
log_stderr(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "%s\n", line);
}

static int
set(struct cb_web_config *c, const char *key, const char *value)
{
    struct cb_buf err = CB_BUF_INIT;
    int rc = 0;

    if (value && *value && cb_web_config_set(c, key, value, &err)) {
        cli_error("serve", "%s", cb_buf_cstr(&err));
        rc = -1;
    }
    cb_buf_release(&err);
    return rc;
}

int
cmd_serve(int argc, char **argv, const struct cb_cli *cli)
{
    static const struct option opts[] = {
        { "listen", required_argument, NULL, 'l' },
        { "mllp", required_argument, NULL, 'm' },
        { "config", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *listen = NULL, *mllp = NULL, *config = NULL;
    struct cb_web_config cfg;
    struct cb_web_server *srv = NULL;
    struct cb_buf err = CB_BUF_INIT;
    sigset_t sigs;
    enum cb_err rc;
    int c, sig = 0, status = CB_EXIT_FAIL;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'l': listen = optarg; break;
        case 'm': mllp = optarg; break;
        case 'c': config = optarg; break;
        case 'h': fputs(cmd_serve_usage, stdout); return CB_EXIT_OK;
        default: fputs(cmd_serve_usage, stderr); return CB_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("serve", "unexpected argument '%s'", argv[optind]);
        return CB_EXIT_USAGE;
    }

    /* Defaults, then the environment and global options, then the file,
       then --listen. */
    cb_web_config_init(&cfg);
    if (set(&cfg, "listen", "127.0.0.1:8080") || set(&cfg, "mllp_listen", "127.0.0.1:2575") ||
        set(&cfg, "db", cli->db_path) ||
        set(&cfg, "refdata", cli->refdata) || set(&cfg, "datadir", cli->datadir) ||
        set(&cfg, "scheme", cli->scheme_dir) ||
        set(&cfg, "web_dir", getenv("CAREBASE_WEBDIR") ? getenv("CAREBASE_WEBDIR")
                                                      : CB_DEFAULT_WEBDIR) ||
        set(&cfg, "indicators", getenv("CAREBASE_INDICATORS")) ||
        set(&cfg, "catalogue_complications", getenv("CAREBASE_CATALOGUE_COMPLICATIONS")) ||
        set(&cfg, "catalogue_mis", getenv("CAREBASE_CATALOGUE_MIS")) ||
        set(&cfg, "catalogue_level4", getenv("CAREBASE_CATALOGUE_LEVEL4")) ||
        set(&cfg, "catalogue_level3", getenv("CAREBASE_CATALOGUE_LEVEL3")))
        goto out;
    if (config && cb_web_config_load(&cfg, config, &err)) {
        cli_error("serve", "%s", cb_buf_cstr(&err));
        status = CB_EXIT_USAGE;
        goto out;
    }
    if ((listen && set(&cfg, "listen", listen)) || (mllp && set(&cfg, "mllp_listen", mllp))) {
        status = CB_EXIT_USAGE;
        goto out;
    }

    /* Before any server thread exists: they inherit the mask. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    if ((rc = cb_web_start(&srv, &cfg, log_stderr, NULL, &err))) {
        cli_error("serve", "%s", cb_buf_cstr(&err));
        status = rc == CB_ERR_USAGE ? CB_EXIT_USAGE : CB_EXIT_FAIL;
        goto out;
    }
    /* The MLLP line first: whoever waits for "listening on" has both. */
    if (cb_web_mllp_port(srv))
        printf("mllp listening on %s:%d\n", cb_web_mllp_host(srv), cb_web_mllp_port(srv));
    printf("listening on %s://%s:%d\n", cb_web_tls(srv) ? "https" : "http",
           cb_web_host(srv), cb_web_port(srv));
    fflush(stdout);
    if (!cli->quiet)
        fprintf(stderr, "carebase serve: database %s; stop with SIGTERM or Ctrl-C\n",
                cfg.db);
    while (sigwait(&sigs, &sig) != 0) {
    }
    if (!cli->quiet)
        fprintf(stderr, "carebase serve: %s: stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    cb_web_stop(srv);
    status = CB_EXIT_OK;
out:
    cb_web_config_release(&cfg);
    cb_buf_release(&err);
    return status;
}
