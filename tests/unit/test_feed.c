/*
 * test_feed.c - the MLLP listener's contract with its handler (feed.h),
 * in process, on real loopback sockets and a real database file: check
 * and its rejection, apply in journal order, duplicates, the replay at
 * start, a graceful stop that answers everything read, bad settings.
 *
 * The messages are synthetic.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "carebase/feed.h"
#include "testutil.h"

#define MAX_SEEN 512

struct seen {
    pthread_mutex_t mu;
    int64_t         seq[MAX_SEEN];
    char            ctrl[MAX_SEEN][16];
    int             n;
    int             checks;
};

static enum cb_feed_verdict
check(void *ctx, struct cb_hl7_msg *m, struct cb_hl7_ack_opts *reject)
{
    struct seen *s = ctx;
    struct cb_str ctrl = cb_hl7_raw(m, 0, 10, 0, 0, 0);

    pthread_mutex_lock(&s->mu);
    s->checks++;
    pthread_mutex_unlock(&s->mu);
    if (!cb_str_starts(ctrl, "REJ"))
        return CB_FEED_ACCEPT;
    reject->code = "AE";
    reject->err_code = CB_HL7_E_REQUIRED;
    reject->err_seg = "PID";
    reject->err_seq = 1;
    reject->err_field = 3;
    reject->err_text = CB_STR_LIT("patient identifier missing");
    return CB_FEED_REJECT;
}

static void
apply(void *ctx, int64_t seq, struct cb_str raw, int64_t received_ms, struct cb_str sender)
{
    struct seen *s = ctx;
    char text[512];
    const char *p, *b;

    /* raw is not NUL-terminated: a copy to search in (...|CTRL|P|2.5) */
    assert_true(raw.len < sizeof(text));
    memcpy(text, raw.ptr, raw.len);
    text[raw.len] = '\0';
    p = strstr(text, "|P|");
    b = p;
    assert_true(received_ms > 1700000000000);
    assert_true(cb_str_eqz(sender, "HIS|HOSP1"));
    assert_non_null(p);
    while (b > text && b[-1] != '|')
        b--;
    pthread_mutex_lock(&s->mu);
    assert_true(s->n < MAX_SEEN);
    s->seq[s->n] = seq;
    snprintf(s->ctrl[s->n], sizeof(s->ctrl[0]), "%.*s", (int)(p - b), b);
    s->n++;
    pthread_mutex_unlock(&s->mu);
}

static size_t
message(char *buf, size_t cap, const char *ctrl)
{
    int n = snprintf(buf, cap,
                     "\x0bMSH|^~\\&|HIS|HOSP1|CB|CB|20260301083000||ADT^A01|%s|P|2.5\r"
                     "PID|1||P1^^^H^MR||SYNTH^ONE\rPV1|1|I|W1^1^1\r\x1c\r", ctrl);
    assert_true(n > 0 && (size_t)n < cap);
    return (size_t)n;
}

static int
connect_to(int port)
{
    struct sockaddr_in a;
    struct timeval tv = { 10, 0 };
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

static void
send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        assert_true(w > 0);
        p += w;
        n -= (size_t)w;
    }
}

/* Reads ACKs until n frames; each "CODE|REF;" appended to out. */
static void
read_acks(int fd, int n, struct cb_buf *out)
{
    char buf[65536];
    size_t len = 0;
    int got = 0;

    while (got < n) {
        char *eb;
        ssize_t r = recv(fd, buf + len, sizeof(buf) - len, 0);

        assert_true(r > 0);
        len += (size_t)r;
        while ((eb = memchr(buf, 0x1c, len)) && (size_t)(eb - buf) + 1 < len) {
            char *msa = strstr(buf, "\rMSA|");
            assert_non_null(msa);
            assert_true(msa < eb);
            msa += 5;
            while (*msa != '\r' && *msa != 0x1c) {
                assert_int_equal(cb_buf_addc(out, *msa), CB_OK);
                msa++;
            }
            assert_int_equal(cb_buf_addc(out, ';'), CB_OK);
            got++;
            len -= (size_t)(eb - buf) + 2;
            memmove(buf, eb + 2, len);
            buf[len] = '\0';
        }
        buf[len] = '\0';
    }
}

static const char *db_name = "feed.db";

static const char *
db_path(void)
{
    static char p[512];
    snprintf(p, sizeof(p), "%s/%s", tu_tmpdir(), db_name);
    return p;
}

static struct cb_feed *
start(struct seen *s, struct cb_buf *err)
{
    struct cb_feed_config c;
    struct cb_feed_handler h = { check, apply, s };
    struct cb_feed *f;

    cb_feed_config_init(&c);
    c.listen = "127.0.0.1:0";
    if (cb_feed_start(&f, &c, db_path(), &h, err) != CB_OK)
        fail_msg("start: %s", cb_buf_cstr(err));
    assert_true(cb_feed_port(f) > 0);
    assert_string_equal(cb_feed_host(f), "127.0.0.1");
    return f;
}

static void
test_handler_contract(void **state)
{
    struct seen s;
    struct cb_buf err = CB_BUF_INIT, acks = CB_BUF_INIT, wire = CB_BUF_INIT;
    struct cb_feed *f;
    struct cb_feed_stats st;
    char msg[512];
    int fd;

    (void)state;
    memset(&s, 0, sizeof(s));
    pthread_mutex_init(&s.mu, NULL);
    f = start(&s, &err);
    fd = connect_to(cb_feed_port(f));
    /* accepted, accepted, rejected, duplicate of the first, rejected again */
    static const char *const ctrls[] = { "A1", "A2", "REJ1", "A1", "REJ1", "A3" };
    for (size_t i = 0; i < 6; i++) {
        size_t n = message(msg, sizeof(msg), ctrls[i]);
        assert_int_equal(cb_buf_add(&wire, msg, n), CB_OK);
    }
    send_all(fd, wire.ptr, wire.len);   /* all at once: one or two batches */
    read_acks(fd, 6, &acks);
    assert_string_equal(cb_buf_cstr(&acks), "AA|A1;AA|A2;AE|REJ1;AA|A1;AE|REJ1;AA|A3;");

    /* apply: the new accepted ones only, in journal order */
    pthread_mutex_lock(&s.mu);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.ctrl[0], "A1");
    assert_string_equal(s.ctrl[1], "A2");
    assert_string_equal(s.ctrl[2], "A3");
    assert_true(s.seq[0] < s.seq[1] && s.seq[1] < s.seq[2]);
    assert_int_equal(s.checks, 6);   /* check sees every parsed message */
    pthread_mutex_unlock(&s.mu);

    cb_feed_stats(f, &st);
    assert_int_equal(st.received, 6);
    assert_int_equal(st.accepted, 3);
    assert_int_equal(st.rejected, 1);
    assert_int_equal(st.duplicate, 2);
    assert_int_equal(st.acks, 6);
    assert_int_equal(st.connections_open, 1);
    assert_int_equal(st.ack_count, 6);
    assert_int_equal(st.ack_bucket[CB_FEED_LAT_BUCKETS - 1], 6);
    close(fd);
    cb_feed_stop(f);

    /* A restart replays the accepted messages, in the same order. */
    {
        struct seen r;
        memset(&r, 0, sizeof(r));
        pthread_mutex_init(&r.mu, NULL);
        f = start(&r, &err);
        cb_feed_stats(f, &st);
        assert_int_equal(st.replayed, 3);
        assert_int_equal(r.n, 3);
        for (int i = 0; i < 3; i++) {
            assert_int_equal(r.seq[i], s.seq[i]);
            assert_string_equal(r.ctrl[i], s.ctrl[i]);
        }
        cb_feed_stop(f);
        pthread_mutex_destroy(&r.mu);
    }
    pthread_mutex_destroy(&s.mu);
    cb_buf_release(&err);
    cb_buf_release(&acks);
    cb_buf_release(&wire);
}

/* A stop answers every message that was read before it. */
static void
test_graceful_stop(void **state)
{
    struct seen s;
    struct cb_buf err = CB_BUF_INIT, acks = CB_BUF_INIT, wire = CB_BUF_INIT, want = CB_BUF_INIT;
    struct cb_feed *f;
    struct cb_feed_stats st;
    char msg[512], ctrl[16];
    int fd;

    (void)state;
    db_name = "stop.db";
    memset(&s, 0, sizeof(s));
    pthread_mutex_init(&s.mu, NULL);
    f = start(&s, &err);
    fd = connect_to(cb_feed_port(f));
    for (int i = 0; i < 300; i++) {
        size_t n;
        snprintf(ctrl, sizeof(ctrl), "S%d", i);
        n = message(msg, sizeof(msg), ctrl);
        assert_int_equal(cb_buf_add(&wire, msg, n), CB_OK);
        assert_int_equal(cb_buf_addf(&want, "AA|%s;", ctrl), CB_OK);
    }
    send_all(fd, wire.ptr, wire.len);
    for (int tries = 0; tries < 1000; tries++) {   /* until all are read */
        struct timespec nap = { 0, 5 * 1000000L };
        cb_feed_stats(f, &st);
        if (st.received == 300)
            break;
        nanosleep(&nap, NULL);
    }
    assert_int_equal(st.received, 300);
    cb_feed_stop(f);          /* the ACKs wait in the socket */
    read_acks(fd, 300, &acks);
    assert_string_equal(cb_buf_cstr(&acks), cb_buf_cstr(&want));
    assert_int_equal(s.n, 300);
    {
        char c;
        assert_int_equal(recv(fd, &c, 1, 0), 0);   /* then it was closed */
    }
    close(fd);
    pthread_mutex_destroy(&s.mu);
    cb_buf_release(&err);
    cb_buf_release(&acks);
    cb_buf_release(&wire);
    cb_buf_release(&want);
}

/* Past max_connections a connection is closed at once; the others go on. */
static void
test_max_connections(void **state)
{
    struct cb_feed_config c;
    struct cb_buf err = CB_BUF_INIT, acks = CB_BUF_INIT;
    struct cb_feed *f;
    struct cb_feed_stats st;
    char msg[512], byte;
    int a, b, x;

    (void)state;
    db_name = "conns.db";
    cb_feed_config_init(&c);
    c.listen = "127.0.0.1:0";
    c.max_connections = 2;
    if (cb_feed_start(&f, &c, db_path(), NULL, &err) != CB_OK)
        fail_msg("start: %s", cb_buf_cstr(&err));
    a = connect_to(cb_feed_port(f));
    b = connect_to(cb_feed_port(f));
    send_all(a, msg, message(msg, sizeof(msg), "M1"));   /* both are in */
    send_all(b, msg, message(msg, sizeof(msg), "M2"));
    read_acks(a, 1, &acks);
    read_acks(b, 1, &acks);
    x = connect_to(cb_feed_port(f));
    assert_int_equal(recv(x, &byte, 1, 0), 0);          /* the third: closed */
    close(x);
    send_all(a, msg, message(msg, sizeof(msg), "M3"));
    read_acks(a, 1, &acks);
    assert_string_equal(cb_buf_cstr(&acks), "AA|M1;AA|M2;AA|M3;");
    cb_feed_stats(f, &st);
    assert_int_equal(st.connections_refused, 1);
    assert_int_equal(st.connections_total, 2);
    close(a);
    close(b);
    cb_feed_stop(f);
    cb_buf_release(&err);
    cb_buf_release(&acks);
}

static void
test_bad_settings(void **state)
{
    struct cb_feed_config c;
    struct cb_buf err = CB_BUF_INIT;
    struct cb_feed *f = NULL;

    (void)state;
    cb_feed_config_init(&c);
    assert_string_equal(c.listen, "127.0.0.1:2575");
    assert_int_equal(c.max_message, CB_MLLP_MAX_DEFAULT);
    assert_int_equal(c.max_connections, 256);
    assert_int_equal(c.idle_timeout_s, 300);
    c.listen = "nowhere";
    assert_int_equal(cb_feed_start(&f, &c, db_path(), NULL, &err), CB_ERR_USAGE);
    assert_null(f);
    assert_non_null(strstr(cb_buf_cstr(&err), "nowhere"));
    c.listen = "127.0.0.1:0";
    c.max_batch = 0;
    assert_int_equal(cb_feed_start(&f, &c, db_path(), NULL, &err), CB_ERR_USAGE);
    cb_feed_stop(NULL);   /* a no-op */
    cb_buf_release(&err);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handler_contract),
        cmocka_unit_test(test_graceful_stop),
        cmocka_unit_test(test_max_connections),
        cmocka_unit_test(test_bad_settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
