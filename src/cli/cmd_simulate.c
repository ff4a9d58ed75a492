/*
 * cmd_simulate.c - `carebase simulate`: a realistic HL7 v2 ADT stream for
 * the consortium (src/sim), written to a file or sent over MLLP
 * (cli_send.c), with the wards file and the ground truth on the side.
 *
 * Time: the history (--days, ending now by default) is generated as fast
 * as the receiver acknowledges; --live then goes on in real time,
 * accelerated by --speed, until --duration or a signal.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "carebase/alloc.h"
#include "carebase/date.h"
#include "carebase/hl7.h"
#include "carebase/json.h"
#include "carebase/sim.h"
#include "carebase/store.h"
#include "carebase/tsvfile.h"
#include "cli.h"
#include "cli_send.h"

const char cmd_simulate_usage[] =
    "usage: carebase simulate [--to HOST:PORT | --out FILE] [options]\n"
    "\n"
    "Generates a realistic HL7 v2 ADT stream for the hospitals of the\n"
    "consortium (the database's, or --orgs FILE) and sends it over MLLP, or\n"
    "writes it to a file. Each hospital gets wards sized by its level; the\n"
    "wards start about 85% occupied; ED arrivals, elective and direct\n"
    "admissions, transfers, discharges, bed housekeeping, swaps, merges,\n"
    "cancels and a share of malformed messages follow. All data is synthetic.\n"
    "\n"
    "What to produce:\n"
    "  --to HOST:PORT        send over MLLP (e.g. 127.0.0.1:2575)\n"
    "  --out FILE            write the stream to FILE ('-' for stdout)\n"
    "  --out-format F        mllp (default: framed as on the wire; what\n"
    "                        python3-hl7's mllp_send reads) or lines (one\n"
    "                        message per line, segments ending in CR)\n"
    "  --wards-out FILE      the wards as TSV (hospital, ward, name,\n"
    "                        care_level, beds, staffed): the live state's\n"
    "                        ward configuration\n"
    "  --expect FILE         the ground truth at the end of the stream, JSON:\n"
    "                        census, beds, ED, boarders and daily flows per\n"
    "                        hospital and ward, from the well-formed messages\n"
    "\n"
    "The consortium:\n"
    "  --orgs FILE           a consortium TSV (zzjgdm, name, level, as\n"
    "                        'carebase generate --orgs' writes); default: the\n"
    "                        hospitals of the database (--db)\n"
    "\n"
    "The stream:\n"
    "  --seed N              random seed (default 1): same seed, same stream\n"
    "  --start 'YYYY-MM-DD HH:MM'  first simulated minute (default: now\n"
    "                        minus the history)\n"
    "  --days D              days of history, sent as fast as acknowledged\n"
    "                        (default 3; fractions allowed)\n"
    "  --live                then go on in real time\n"
    "  --speed X             simulated seconds per real second in --live\n"
    "                        (default 1; 60 = an hour a minute)\n"
    "  --catch-up            with --speed: once the simulated clock reaches\n"
    "                        the wall clock, go on in real time (the stream\n"
    "                        never runs into the future)\n"
    "  --duration T          stop the live phase after T real seconds (or\n"
    "                        Tm, Th); default: until interrupted\n"
    "  --malformed P         share of malformed messages, each followed by\n"
    "                        its corrected resend (default 0.01)\n"
    "  --malformed-kinds K   comma list of truncated, escape, pid3, trigger,\n"
    "                        type (default all)\n"
    "  --utc-offset +HHMM    the hospitals' local time (default +0800)\n"
    "\n"
    "Sending (--to):\n"
    "  --connections N       MLLP connections (default 1); a hospital's\n"
    "                        messages always use the same one, in order\n"
    "  --window W            unacknowledged messages per connection (default 1)\n"
    "  --rate R              at most R messages/s (default: no limit)\n"
    "  --timeout S           give up after S seconds without an ACK while\n"
    "                        messages wait, reconnecting meanwhile (default 30)\n"
    "  --json                the summary as JSON on stdout\n"
    "\n"
    "Exit status: 0 when every well-formed message got AA and every malformed\n"
    "one AE or AR; 1 otherwise (or on an error); 2 on bad usage.\n";

struct sim_cli {
    const char *to, *out, *wards_out, *expect, *orgs, *start;
    int         lines, live, catch_up, json, connections, window;
    double      days, speed, duration, rate, timeout, malformed;
    uint64_t    seed;
    unsigned    kinds;
    long        utc_offset;   /* seconds */
};

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
    (void)sig;
    if (stop_requested)
        _exit(CB_EXIT_FAIL);   /* a second one: leave now */
    stop_requested = 1;
}

/* ---------------------------------------------------------- options */

static int
parse_double(const char *z, double *out)
{
    char *end;

    *out = strtod(z, &end);
    return end != z && *end == '\0' && isfinite(*out) ? 0 : -1;
}

static int
parse_duration(const char *z, double *out)
{
    char *end;
    double v = strtod(z, &end), unit = 1;

    if (end == z || v < 0)
        return -1;
    if (!strcmp(end, "m"))
        unit = 60;
    else if (!strcmp(end, "h"))
        unit = 3600;
    else if (!strcmp(end, "d"))
        unit = 86400;
    else if (*end && strcmp(end, "s"))
        return -1;
    *out = v * unit;
    return 0;
}

static int
parse_kinds(const char *z, unsigned *out)
{
    static const struct { const char *name; unsigned bit; } k[] = {
        { "truncated", CB_SIM_MAL_TRUNCATED }, { "escape", CB_SIM_MAL_ESCAPE },
        { "pid3", CB_SIM_MAL_NO_PID3 }, { "trigger", CB_SIM_MAL_TRIGGER },
        { "type", CB_SIM_MAL_TYPE },
    };
    const char *p = z;

    *out = 0;
    while (*p) {
        size_t n = strcspn(p, ","), i;

        for (i = 0; i < sizeof(k) / sizeof(k[0]); i++)
            if (strlen(k[i].name) == n && !strncmp(p, k[i].name, n))
                break;
        if (i == sizeof(k) / sizeof(k[0]))
            return -1;
        *out |= k[i].bit;
        p += n + (p[n] == ',');
    }
    return *out ? 0 : -1;
}

static int
parse_offset(const char *z, long *out)
{
    int sign = 1, h, m;

    if (*z == '+' || *z == '-')
        sign = *z++ == '-' ? -1 : 1;
    if (strlen(z) != 4 || strspn(z, "0123456789") != 4)
        return -1;
    h = (z[0] - '0') * 10 + (z[1] - '0');
    m = (z[2] - '0') * 10 + (z[3] - '0');
    if (h > 14 || m > 59)
        return -1;
    *out = sign * (h * 3600L + m * 60L);
    return 0;
}

static int
parse_args(int argc, char **argv, struct sim_cli *o)
{
    static const struct option opts[] = {
        { "to", required_argument, NULL, 't' },
        { "out", required_argument, NULL, 'o' },
        { "out-format", required_argument, NULL, 'F' },
        { "wards-out", required_argument, NULL, 'W' },
        { "expect", required_argument, NULL, 'e' },
        { "orgs", required_argument, NULL, 'g' },
        { "seed", required_argument, NULL, 's' },
        { "start", required_argument, NULL, 'S' },
        { "days", required_argument, NULL, 'd' },
        { "live", no_argument, NULL, 'l' },
        { "speed", required_argument, NULL, 'x' },
        { "catch-up", no_argument, NULL, 'C' },
        { "duration", required_argument, NULL, 'D' },
        { "malformed", required_argument, NULL, 'm' },
        { "malformed-kinds", required_argument, NULL, 'k' },
        { "utc-offset", required_argument, NULL, 'z' },
        { "connections", required_argument, NULL, 'c' },
        { "window", required_argument, NULL, 'w' },
        { "rate", required_argument, NULL, 'r' },
        { "timeout", required_argument, NULL, 'T' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    double v;
    int c;

    memset(o, 0, sizeof(*o));
    o->days = 3;
    o->speed = 1;
    o->malformed = 0.01;
    o->connections = 1;
    o->window = 1;
    o->timeout = 30;
    o->seed = 1;
    o->utc_offset = 8 * 3600;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 't': o->to = optarg; break;
        case 'o': o->out = optarg; break;
        case 'F':
            if (!strcmp(optarg, "lines")) o->lines = 1;
            else if (!strcmp(optarg, "mllp")) o->lines = 0;
            else return -1;
            break;
        case 'W': o->wards_out = optarg; break;
        case 'e': o->expect = optarg; break;
        case 'g': o->orgs = optarg; break;
        case 's': {
            char *end;

            errno = 0;
            o->seed = strtoull(optarg, &end, 10);
            if (end == optarg || *end || errno || *optarg == '-')
                return -1;
            break;
        }
        case 'S': o->start = optarg; break;
        case 'd':
            if (parse_double(optarg, &o->days) || o->days < 0 || o->days > 3650) return -1;
            break;
        case 'l': o->live = 1; break;
        case 'C': o->catch_up = 1; break;
        case 'x':
            if (parse_double(optarg, &o->speed) || o->speed <= 0) return -1;
            break;
        case 'D':
            if (parse_duration(optarg, &o->duration)) return -1;
            break;
        case 'm':
            if (parse_double(optarg, &o->malformed) || o->malformed < 0 ||
                o->malformed > 0.5) return -1;
            break;
        case 'k':
            if (parse_kinds(optarg, &o->kinds)) return -1;
            break;
        case 'z':
            if (parse_offset(optarg, &o->utc_offset)) return -1;
            break;
        case 'c':
            if (parse_double(optarg, &v) || v < 1 || v > 256 || v != floor(v)) return -1;
            o->connections = (int)v;
            break;
        case 'w':
            if (parse_double(optarg, &v) || v < 1 || v > 65536 || v != floor(v)) return -1;
            o->window = (int)v;
            break;
        case 'r':
            if (parse_double(optarg, &o->rate) || o->rate < 0) return -1;
            break;
        case 'T':
            if (parse_double(optarg, &o->timeout) || o->timeout <= 0) return -1;
            break;
        case 'j': o->json = 1; break;
        case 'h': return 1;
        default: return -1;
        }
    }
    if (optind < argc || (o->to && o->out) ||
        (!o->to && !o->out && !o->wards_out && !o->expect))
        return -1;
    return 0;
}

/* ---------------------------------------------------------- hospitals */

struct hlist {
    struct cb_sim_hospital *h;
    size_t n, cap;
    int c_code, c_name, c_level;
};

static enum cb_err
hlist_add(struct hlist *l, const char *code, const char *name, const char *level)
{
    struct cb_sim_hospital *h;

    if (!code || !*code)
        return CB_OK;
    if (l->n == l->cap) {
        size_t n = l->cap ? l->cap * 2 : 16;

        if (!(h = cb_reallocarray(l->h, n, sizeof(*h))))
            return CB_ERR_NOMEM;
        l->h = h;
        l->cap = n;
    }
    h = &l->h[l->n];
    h->zzjgdm = cb_strdup(code);
    h->name = cb_strdup(name && *name ? name : code);
    h->level = cb_strdup(level ? level : "");
    if (!h->zzjgdm || !h->name || !h->level)
        return CB_ERR_NOMEM;
    l->n++;
    return CB_OK;
}

static void
hlist_release(struct hlist *l)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        cb_free((char *)l->h[i].zzjgdm);
        cb_free((char *)l->h[i].name);
        cb_free((char *)l->h[i].level);
    }
    cb_free(l->h);
}

static enum cb_err
tsv_header(const struct cb_tsv_line *line, void *ctx, struct cb_buf *err)
{
    struct hlist *l = ctx;

    l->c_code = cb_tsv_col(line, "zzjgdm");
    l->c_name = cb_tsv_col(line, "name");
    l->c_level = cb_tsv_col(line, "level");
    if (l->c_code < 0) {
        cb_errf(err, "'%s' has no 'zzjgdm' column", line->path);
        return CB_ERR_PROTO;
    }
    return CB_OK;
}

static char *
col(const struct cb_tsv_line *line, int i)
{
    if (i < 0 || (size_t)i >= line->ncols)
        return cb_strdup("");
    return cb_strndup(line->col[i].ptr, line->col[i].len);
}

static enum cb_err
tsv_row(const struct cb_tsv_line *line, void *ctx, struct cb_buf *err)
{
    struct hlist *l = ctx;
    char *code = col(line, l->c_code), *name = col(line, l->c_name),
         *level = col(line, l->c_level);
    enum cb_err rc = code && name && level ? hlist_add(l, code, name, level)
                                           : CB_ERR_NOMEM;

    (void)err;
    cb_free(code);
    cb_free(name);
    cb_free(level);
    return rc;
}

static enum cb_err
db_row(void *ctx, int ncols, const char *const *names, const char *const *values)
{
    (void)names;
    return ncols >= 3 ? hlist_add(ctx, values[0], values[1], values[2]) : CB_OK;
}

static int
load_hospitals(const struct sim_cli *o, const struct cb_cli *cli, struct hlist *l)
{
    struct cb_buf err = CB_BUF_INIT;
    struct cb_store *st = NULL;
    enum cb_err rc;

    if (o->orgs) {
        rc = cb_tsv_read(o->orgs, tsv_header, tsv_row, l, &err);
    } else if (access(cli->db_path, F_OK) != 0) {
        cb_errf(&err, "no database '%s': give --orgs FILE or --db PATH", cli->db_path);
        rc = CB_ERR_NOT_FOUND;
    } else {
        rc = cb_store_open(&st, cli->db_path, &err);
        if (!rc)
            rc = cb_store_list_hospitals(st, db_row, l, &err);
        cb_store_close(st);
    }
    if (!rc && l->n == 0) {
        cb_errf(&err, "no hospitals: load a consortium ('carebase org load FILE') "
                "or give --orgs FILE");
        rc = CB_ERR_NOT_FOUND;
    }
    if (rc)
        cli_error("simulate", "%s", cb_buf_cstr(&err));
    cb_buf_release(&err);
    return rc ? -1 : 0;
}

/* ---------------------------------------------------------- files */

static int
write_file(const char *path, struct cb_str data)
{
    FILE *f = fopen(path, "wb");
    int ok;

    if (!f) {
        cli_error("simulate", "cannot write '%s'", path);
        return -1;
    }
    ok = fwrite(data.ptr, 1, data.len, f) == data.len;
    ok = fclose(f) == 0 && ok;
    if (!ok)
        cli_error("simulate", "cannot write '%s'", path);
    return ok ? 0 : -1;
}

/* ---------------------------------------------------------- the clock */

static double
mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/*
 * Which simulated time is due now: the whole history at once, then in
 * --live the simulated clock runs at --speed from the end of the history;
 * with --catch-up, no further than the wall clock (then in real time).
 */
struct clock {
    int64_t hist_end;
    double  live_start;   /* monotonic seconds, 0 before the live phase */
    double  speed, duration;
    int     live, catch_up;
    long    utc_offset;   /* the simulated clock's offset from UTC (seconds) */
};

static int64_t
wall_now(long offset)
{
    return (int64_t)time(NULL) + offset;
}

static int64_t
due(const struct clock *k)
{
    int64_t t, wall;

    if (!k->live || k->live_start == 0)
        return k->hist_end;
    t = k->hist_end + (int64_t)((mono() - k->live_start) * k->speed);
    if (k->catch_up && t > (wall = wall_now(k->utc_offset)))
        t = wall > k->hist_end ? wall : k->hist_end;
    return t;
}

static bool
finished(struct clock *k, const struct cb_sim *s)
{
    if (stop_requested)
        return true;
    if (cb_sim_next_time(s) <= due(k))
        return false;
    if (!k->live)
        return true;
    if (k->live_start == 0)
        k->live_start = mono();   /* history done: the clock starts */
    return k->duration > 0 && mono() - k->live_start >= k->duration;
}

/* Milliseconds until the next message is due (live phase). */
static int
wait_ms(const struct clock *k, const struct cb_sim *s)
{
    double ms, speed;
    int64_t now;

    if (!k->live || k->live_start == 0)
        return 0;
    now = due(k);
    speed = k->catch_up && now >= wall_now(k->utc_offset) ? 1 : k->speed;
    ms = (double)(cb_sim_next_time(s) - now) * 1000.0 / speed;
    return ms < 1 ? 1 : ms > 200 ? 200 : (int)ms;
}

/* ---------------------------------------------------------- output */

static int
run_out(const struct sim_cli *o, struct cb_sim *s, struct clock *k)
{
    FILE *f = strcmp(o->out, "-") ? fopen(o->out, "wb") : stdout;
    struct cb_buf err = CB_BUF_INIT;
    struct cb_sim_msg m;
    int status = CB_EXIT_OK;
    enum cb_err rc;

    if (!f) {
        cli_error("simulate", "cannot write '%s'", o->out);
        return CB_EXIT_FAIL;
    }
    while (!finished(k, s)) {
        rc = cb_sim_next(s, due(k), &m, &err);
        if (rc == CB_EOF) {
            struct timespec ts;
            int ms = wait_ms(k, s);

            fflush(f);
            ts.tv_sec = ms / 1000;
            ts.tv_nsec = (long)(ms % 1000) * 1000000;
            nanosleep(&ts, NULL);
            continue;
        }
        if (rc) {
            cli_error("simulate", "%s", cb_buf_cstr(&err));
            status = CB_EXIT_FAIL;
            break;
        }
        if (!o->lines)
            fputc(CB_MLLP_SB, f);
        fwrite(m.text.ptr, 1, m.text.len, f);
        if (o->lines) {
            fputc('\n', f);
        } else {
            fputc(CB_MLLP_EB, f);
            fputc(CB_MLLP_CR, f);
        }
    }
    if (ferror(f) || (f != stdout ? fclose(f) : fflush(f)) != 0) {
        cli_error("simulate", "cannot write '%s'", o->out);
        status = CB_EXIT_FAIL;
    }
    cb_buf_release(&err);
    return status;
}

static void
summary(const struct sim_cli *o, const struct cli_send_stats *st,
        const struct cb_sim_counts *c, const struct cb_cli *cli)
{
    double rate = st->seconds > 0 ? (double)st->acked / st->seconds : 0;
    uint64_t unexpected = st->well_formed_not_aa + st->malformed_accepted +
                          (st->offered - st->acked);

    if (o->json) {
        struct cb_buf to = CB_BUF_INIT;

        if (cb_json_strz(&to, o->to) != CB_OK)
            cb_buf_reset(&to);
        printf("{\"to\":%s,\"connections\":%d,\"window\":%d,"
               "\"messages\":%llu,\"well_formed\":%llu,\"malformed\":%llu,"
               "\"sent\":%llu,\"acknowledged\":%llu,\"resent\":%llu,"
               "\"reconnects\":%llu,\"unmatched_acks\":%llu,"
               "\"acks\":{\"AA\":%llu,\"AE\":%llu,\"AR\":%llu,\"CA\":%llu,"
               "\"CE\":%llu,\"CR\":%llu,\"other\":%llu},"
               "\"unexpected\":%llu,\"well_formed_not_aa\":%llu,"
               "\"malformed_accepted\":%llu,\"unacknowledged\":%llu,"
               "\"seconds\":%.3f,\"msgs_per_s\":%.1f,"
               "\"ack_latency_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f}}\n",
               to.len ? cb_buf_cstr(&to) : "null", o->connections, o->window,
               (unsigned long long)c->total,
               (unsigned long long)(c->total - c->malformed),
               (unsigned long long)c->malformed, (unsigned long long)st->sent,
               (unsigned long long)st->acked, (unsigned long long)st->resent,
               (unsigned long long)st->reconnects,
               (unsigned long long)st->unmatched, (unsigned long long)st->aa,
               (unsigned long long)st->ae, (unsigned long long)st->ar,
               (unsigned long long)st->ca, (unsigned long long)st->ce,
               (unsigned long long)st->cr, (unsigned long long)st->other,
               (unsigned long long)unexpected,
               (unsigned long long)st->well_formed_not_aa,
               (unsigned long long)st->malformed_accepted,
               (unsigned long long)(st->offered - st->acked), st->seconds, rate,
               st->p50_ms, st->p99_ms, st->max_ms);
        cb_buf_release(&to);
        return;
    }
    if (cli->quiet)
        return;
    fprintf(stderr,
            "carebase simulate: %llu messages (%llu malformed) to %s over %d "
            "connection(s), window %d\n"
            "  acknowledged %llu in %.2f s (%.0f msg/s): AA %llu, AE %llu, AR %llu",
            (unsigned long long)c->total, (unsigned long long)c->malformed, o->to,
            o->connections, o->window, (unsigned long long)st->acked, st->seconds,
            rate, (unsigned long long)st->aa, (unsigned long long)st->ae,
            (unsigned long long)st->ar);
    if (st->ca || st->ce || st->cr || st->other)
        fprintf(stderr, ", CA %llu, CE %llu, CR %llu, other %llu",
                (unsigned long long)st->ca, (unsigned long long)st->ce,
                (unsigned long long)st->cr, (unsigned long long)st->other);
    fprintf(stderr,
            "\n  ACK latency p50 %.2f ms, p99 %.2f ms; %llu resent after %llu "
            "reconnect(s)\n",
            st->p50_ms, st->p99_ms, (unsigned long long)st->resent,
            (unsigned long long)st->reconnects);
    if (unexpected)
        fprintf(stderr,
                "  unexpected: %llu well-formed not accepted, %llu malformed "
                "accepted, %llu never acknowledged\n",
                (unsigned long long)st->well_formed_not_aa,
                (unsigned long long)st->malformed_accepted,
                (unsigned long long)(st->offered - st->acked));
}

static int
run_send(const struct sim_cli *o, struct cb_sim *s, struct clock *k,
         const struct cb_cli *cli)
{
    struct cli_send_opts so;
    struct cli_send *snd;
    struct cli_send_stats st;
    struct cb_sim_counts counts;
    struct cb_buf err = CB_BUF_INIT;
    struct cb_sim_msg m;
    char host[256];
    const char *colon = strrchr(o->to, ':');
    bool have = false, alive = true;
    double stop_at = 0;
    int status = CB_EXIT_OK;
    enum cb_err rc;

    if (!colon || colon == o->to || !colon[1] ||
        (size_t)(colon - o->to) >= sizeof(host)) {
        cli_error("simulate", "--to wants HOST:PORT, not '%s'", o->to);
        return CB_EXIT_USAGE;
    }
    snprintf(host, sizeof(host), "%.*s", (int)(colon - o->to), o->to);
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {   /* [::1]:2575 */
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    memset(&so, 0, sizeof(so));
    so.host = host;
    so.port = colon + 1;
    so.connections = o->connections;
    so.window = o->window;
    so.rate = o->rate;
    so.stall = o->timeout;
    if (!(snd = cli_send_new(&so, &err))) {
        cli_error("simulate", "%s", cb_buf_cstr(&err));
        cb_buf_release(&err);
        return CB_EXIT_FAIL;
    }
    while (alive) {
        /* Stopped (a signal): what is in flight gets a few seconds. */
        if (stop_requested && stop_at == 0)
            stop_at = mono() + 5;
        if (stop_at > 0 && mono() > stop_at)
            break;
        /* Offer everything due that the queues take, then do I/O. */
        while (!have && !finished(k, s)) {
            rc = cb_sim_next(s, due(k), &m, &err);
            if (rc == CB_EOF)
                break;
            if (rc) {
                cli_error("simulate", "%s", cb_buf_cstr(&err));
                status = CB_EXIT_FAIL;
                goto out;
            }
            have = true;
            if (cli_send_offer(snd, (unsigned)m.hospital, m.text, m.control_id,
                               m.malformed != 0))
                have = false;
        }
        if (!have && finished(k, s) && cli_send_idle(snd))
            break;
        if (have && cli_send_offer(snd, (unsigned)m.hospital, m.text, m.control_id,
                                   m.malformed != 0))
            have = false;
        alive = cli_send_pump(snd, have ? 50 : !finished(k, s) ? wait_ms(k, s) : 50);
    }
    if (!alive)
        cli_error("simulate", "gave up: no acknowledgment for %.0f s", o->timeout);
out:
    cli_send_stats(snd, &st);
    cb_sim_counts(s, &counts);
    summary(o, &st, &counts, cli);
    if (status == CB_EXIT_OK &&
        (!alive || st.offered != st.acked || st.well_formed_not_aa ||
         st.malformed_accepted))
        status = CB_EXIT_FAIL;
    cli_send_free(snd);
    cb_buf_release(&err);
    return status;
}

/* ---------------------------------------------------------- main */

int
cmd_simulate(int argc, char **argv, const struct cb_cli *cli)
{
    struct sim_cli o;
    struct hlist hl;
    struct cb_sim_opts so;
    struct cb_sim *s = NULL;
    struct cb_buf err = CB_BUF_INIT, buf = CB_BUF_INIT;
    struct clock k;
    struct sigaction sa;
    int status = CB_EXIT_OK, p;

    if ((p = parse_args(argc, argv, &o)) != 0) {
        fputs(cmd_simulate_usage, p > 0 ? stdout : stderr);
        return p > 0 ? CB_EXIT_OK : CB_EXIT_USAGE;
    }
    memset(&hl, 0, sizeof(hl));
    if (load_hospitals(&o, cli, &hl)) {
        hlist_release(&hl);
        return CB_EXIT_FAIL;
    }
    memset(&so, 0, sizeof(so));
    so.seed = o.seed;
    so.malformed = o.malformed;
    so.malformed_kinds = o.kinds;
    if (o.start) {
        bool has_time;

        if (cb_parse_datetime(cb_str_c(o.start), &so.start, &has_time) != CB_OK) {
            cli_error("simulate", "--start wants 'YYYY-MM-DD HH:MM', not '%s'", o.start);
            hlist_release(&hl);
            return CB_EXIT_USAGE;
        }
    } else {
        so.start = wall_now(o.utc_offset) - (int64_t)(o.days * 86400);
        so.start -= so.start % 60;
    }
    if (cb_sim_new(&s, &so, hl.h, hl.n, &err) != CB_OK) {
        cli_error("simulate", "%s", cb_buf_cstr(&err));
        status = CB_EXIT_FAIL;
        goto out;
    }
    if (o.wards_out) {
        if (cb_sim_wards_tsv(s, &buf) != CB_OK ||
            write_file(o.wards_out, cb_buf_str(&buf))) {
            status = CB_EXIT_FAIL;
            goto out;
        }
    }
    memset(&k, 0, sizeof(k));
    k.hist_end = so.start + (int64_t)(o.days * 86400);
    k.live = o.live;
    k.catch_up = o.catch_up;
    k.utc_offset = o.utc_offset;
    k.speed = o.speed;
    k.duration = o.duration;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (o.out)
        status = run_out(&o, s, &k);
    else if (o.to)
        status = run_send(&o, s, &k, cli);
    else if (o.expect) {   /* only the truth: run the stream to its end */
        struct cb_sim_msg m;
        enum cb_err rc;

        while ((rc = cb_sim_next(s, k.hist_end, &m, &err)) == CB_OK)
            ;
        if (rc != CB_EOF) {
            cli_error("simulate", "%s", cb_buf_cstr(&err));
            status = CB_EXIT_FAIL;
        }
    }
    if (o.expect && status != CB_EXIT_USAGE) {
        cb_buf_reset(&buf);
        if (cb_sim_expect_json(s, &buf) != CB_OK ||
            write_file(o.expect, cb_buf_str(&buf)))
            status = CB_EXIT_FAIL;
    }
out:
    cb_sim_free(s);
    hlist_release(&hl);
    cb_buf_release(&err);
    cb_buf_release(&buf);
    return status;
}
