/*
 * mllp_load.c - load client for the MLLP listener (bench/run_feed.sh).
 *
 *   mllp_load PORT CONNS WINDOW COUNT [RATE] [PREFIX]
 *
 * Opens CONNS connections to 127.0.0.1:PORT and sends COUNT synthetic ADT
 * messages in all (about 520 bytes each, unique control ids PREFIX-N),
 * reading every ACK (MSA-1 must be AA).
 *
 *   RATE 0 (default): closed loop. Each connection keeps WINDOW messages
 *     unanswered (pipelining): sustained throughput.
 *   RATE > 0: open loop. Message i is due at start + i / RATE seconds, on
 *     connection i mod CONNS, and sent when due whatever is outstanding
 *     (WINDOW is ignored): latency at an offered load.
 *
 * Latency: from the message's due time (closed loop: its first byte
 * written) to its ACK's last byte read. Output: one JSON object.
 *
 * One thread and one epoll set, so that the client takes little CPU from
 * the server on a 2-core machine.
 */
#define _GNU_SOURCE   /* memmem */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MSG_MAX  1024
#define IN_MAX   (256 * 1024)

struct conn {
    int     fd;
    char   *in;               /* received bytes not yet parsed */
    size_t  inlen;
    char   *out;              /* bytes not yet written, from outoff */
    size_t  outlen, outoff, outcap;
    double *due;              /* ring of the outstanding messages' times */
    size_t  qhead, qn, qcap;
    bool    want_out;
};

static double
now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
die(const char *what)
{
    fprintf(stderr, "mllp_load: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int
fcntl_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void *
xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p)
        die("malloc");
    return p;
}

/* A synthetic ADT^A01 of about 520 bytes, framed, into buf. */
static size_t
make_msg(char *buf, const char *prefix, long i)
{
    static const char *const wards[] = { "W01", "W02", "W03", "ICU", "ED" };
    int n = snprintf(buf, MSG_MAX,
        "\x0b"
        "MSH|^~\\&|HIS|HOSP%ld|CAREBASE|CB|20260301083000||ADT^A01^ADT_A01|%s-%ld|P|2.5\r"
        "EVN|A01|20260301082900|||OP001^SYNTH^OPERATOR\r"
        "PID|1||P%08ld^^^HOSP1^MR~110101190001011234^^^CHN^NI||SYNTH^PATIENT^Q||19800101|M|||"
        "1 TEST ROAD^^TESTCITY^^100000^CHN||^PRN^PH^^^^5550100\r"
        "PV1|1|I|%s^%03ld^%ld^HOSP1^^^^^WARD||||D01^DOCTOR^ONE^^^DR|||MED||||7|||"
        "D01^DOCTOR^ONE^^^DR|IP|V%08ld|||||||||||||||||||||||||20260301083000\r"
        "PV2|||I10^HYPERTENSION^ICD10\r"
        "DG1|1||I10^ESSENTIAL HYPERTENSION^ICD10||20260301|A\r"
        "\x1c\r",
        i % 5 + 1, prefix, i, i, wards[i % 5], i % 500, i % 4 + 1, i);
    if (n < 0 || n >= MSG_MAX) {
        fprintf(stderr, "mllp_load: message too long\n");
        exit(1);
    }
    return (size_t)n;
}

static void
queue_msg(struct conn *c, const char *prefix, long i, double due)
{
    char msg[MSG_MAX];
    size_t n = make_msg(msg, prefix, i);

    if (c->outlen + n > c->outcap) {
        c->outcap = (c->outlen + n) * 2;
        c->out = realloc(c->out, c->outcap);
        if (!c->out)
            die("realloc");
    }
    memcpy(c->out + c->outlen, msg, n);
    c->outlen += n;
    if (c->qn == c->qcap) {
        size_t cap = c->qcap ? c->qcap * 2 : 64;
        double *q = xmalloc(cap * sizeof(*q));
        for (size_t k = 0; k < c->qn; k++)
            q[k] = c->due[(c->qhead + k) % c->qcap];
        free(c->due);
        c->due = q;
        c->qhead = 0;
        c->qcap = cap;
    }
    c->due[(c->qhead + c->qn) % c->qcap] = due;
    c->qn++;
}

/* Writes what it can; returns false on a broken connection. */
static bool
flush_out(struct conn *c)
{
    while (c->outoff < c->outlen) {
        ssize_t w = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
        if (w > 0) {
            c->outoff += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        return false;
    }
    c->outoff = c->outlen = 0;
    return true;
}

static void
set_out_interest(int ep, struct conn *c, int idx)
{
    bool want = c->outoff < c->outlen;
    struct epoll_event ev = { 0 };

    if (want == c->want_out)
        return;
    ev.events = EPOLLIN | (want ? EPOLLOUT : 0);
    ev.data.u32 = (uint32_t)idx;
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = want;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
    int port, nconn, window, ep;
    long count, sent = 0, acked = 0, errors = 0;
    double rate = 0, t0, t1;
    const char *prefix;
    char defprefix[32];
    struct conn *conns;
    double *lat;
    struct sockaddr_in a;
    struct epoll_event evs[256];

    if (argc < 5) {
        fprintf(stderr, "usage: mllp_load PORT CONNS WINDOW COUNT [RATE] [PREFIX]\n");
        return 2;
    }
    port = (int)strtol(argv[1], NULL, 10);
    nconn = (int)strtol(argv[2], NULL, 10);
    window = (int)strtol(argv[3], NULL, 10);
    count = strtol(argv[4], NULL, 10);
    if (argc > 5)
        rate = strtod(argv[5], NULL);
    snprintf(defprefix, sizeof(defprefix), "L%lx", (long)time(NULL) ^ (long)getpid() << 20);
    prefix = argc > 6 ? argv[6] : defprefix;
    if (port <= 0 || nconn <= 0 || window <= 0 || count <= 0) {
        fprintf(stderr, "mllp_load: bad arguments\n");
        return 2;
    }
    conns = calloc((size_t)nconn, sizeof(*conns));
    lat = xmalloc((size_t)count * sizeof(*lat));
    if (!conns)
        die("calloc");
    ep = epoll_create1(0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < nconn; i++) {
        struct conn *c = &conns[i];
        struct epoll_event ev = { 0 };
        int one = 1;

        c->fd = socket(AF_INET, SOCK_STREAM, 0);
        if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&a, sizeof(a)) < 0)
            die("connect");
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (fcntl_nonblock(c->fd) < 0)
            die("fcntl");
        c->in = xmalloc(IN_MAX);
        ev.events = EPOLLIN;
        ev.data.u32 = (uint32_t)i;
        if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
            die("epoll_ctl");
    }

    t0 = now();
    if (rate <= 0) {
        /* Closed loop: fill every window. */
        for (int i = 0; i < nconn && sent < count; i++)
            for (int w = 0; w < window && sent < count; w++) {
                queue_msg(&conns[i], prefix, sent, now());
                sent++;
            }
        for (int i = 0; i < nconn; i++) {
            if (!flush_out(&conns[i]))
                die("send");
            set_out_interest(ep, &conns[i], i);
        }
    }
    while (acked < count) {
        struct timespec wait_ts = { 1, 0 };
        int k;
        double tn;

        if (rate > 0 && sent < count) {
            double due = t0 + (double)sent / rate;
            tn = now();
            while (sent < count && due <= tn) {
                struct conn *c = &conns[sent % nconn];
                queue_msg(c, prefix, sent, due);
                if (!flush_out(c))
                    die("send");
                set_out_interest(ep, c, (int)(sent % nconn));
                sent++;
                due = t0 + (double)sent / rate;
            }
            if (sent < count) {
                /* Sleep exactly until the next message is due (epoll's
                   millisecond timeout would spin or send late). */
                double wait = due - now();
                if (wait < 0)
                    wait = 0;
                wait_ts.tv_sec = (time_t)wait;
                wait_ts.tv_nsec = (long)((wait - (double)wait_ts.tv_sec) * 1e9);
            }
        }
        k = epoll_pwait2(ep, evs, 256, &wait_ts, NULL);
        if (k < 0 && errno != EINTR)
            die("epoll_wait");
        for (int e = 0; e < k; e++) {
            int idx = (int)evs[e].data.u32;
            struct conn *c = &conns[idx];

            if (evs[e].events & EPOLLOUT) {
                if (!flush_out(c))
                    die("send");
                set_out_interest(ep, c, idx);
            }
            if (!(evs[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                continue;
            for (;;) {
                ssize_t r = recv(c->fd, c->in + c->inlen, IN_MAX - c->inlen, 0);
                size_t start = 0;

                if (r == 0) {
                    fprintf(stderr, "mllp_load: the server closed a connection\n");
                    return 1;
                }
                if (r < 0) {
                    if (errno == EAGAIN || errno == EWOULDBLOCK)
                        break;
                    if (errno == EINTR)
                        continue;
                    die("recv");
                }
                c->inlen += (size_t)r;
                tn = now();
                /* Complete frames: SB ... EB CR; MSA|AA| or not. */
                for (;;) {
                    char *sb = memchr(c->in + start, 0x0b, c->inlen - start);
                    char *eb, *msa;
                    if (!sb)
                        break;
                    eb = memchr(sb, 0x1c, c->inlen - (size_t)(sb - c->in));
                    if (!eb || (size_t)(eb - c->in) + 1 >= c->inlen)
                        break;
                    msa = memmem(sb, (size_t)(eb - sb), "\rMSA|", 5);
                    if (!msa || memcmp(msa + 5, "AA|", 3) != 0)
                        errors++;
                    if (c->qn) {
                        if (acked < count)
                            lat[acked] = tn - c->due[c->qhead];
                        c->qhead = (c->qhead + 1) % c->qcap;
                        c->qn--;
                    }
                    acked++;
                    start = (size_t)(eb - c->in) + 2;
                    /* Closed loop: one answered, one more sent. */
                    if (rate <= 0 && sent < count) {
                        queue_msg(c, prefix, sent, tn);
                        sent++;
                    }
                }
                memmove(c->in, c->in + start, c->inlen - start);
                c->inlen -= start;
                if (rate <= 0) {
                    if (!flush_out(c))
                        die("send");
                    set_out_interest(ep, c, idx);
                }
            }
        }
    }
    t1 = now();
    qsort(lat, (size_t)count, sizeof(*lat), cmp_double);
    printf("{\"conns\":%d,\"window\":%d,\"rate\":%.0f,\"messages\":%ld,\"seconds\":%.3f,"
           "\"msgs_per_s\":%.0f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,"
           "\"errors\":%ld}\n",
           nconn, window, rate, count, t1 - t0, (double)count / (t1 - t0),
           lat[count / 2] * 1000, lat[(size_t)((double)count * 0.99)] * 1000,
           lat[count - 1] * 1000, errors);
    return errors ? 1 : 0;
}
