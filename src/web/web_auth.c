/*
 * web_auth.c - passwords (argon2id), session tokens, the login rate
 * limiter, and the rules of who may read what.
 *
 * A session token is 32 random bytes in hex, sent only in the HttpOnly
 * cookie; the store keeps its SHA-256, so a copy of the database cannot
 * be used to log in. The CSRF token is a second random value returned at
 * login (and by /api/me) and required in X-CSRF-Token on state-changing
 * requests.
 */
#include <sodium.h>
#include <string.h>

#include "web_int.h"

static int
sodium_ready(void)
{
    /* sodium_init is idempotent and thread-safe once it has run once. */
    return sodium_init() >= 0;
}

enum cb_err
cb_web_password_hash(const char *password, char *out, size_t out_cap, struct cb_buf *err)
{
    size_t n = strlen(password);

    if (out_cap < crypto_pwhash_STRBYTES) {
        cb_errf(err, "password hash buffer too small");
        return CB_ERR_USAGE;
    }
    if (n < CB_WEB_PASSWORD_MIN || n > CB_WEB_PASSWORD_MAX) {
        cb_errf(err, "a password has %d to %d bytes", CB_WEB_PASSWORD_MIN,
                CB_WEB_PASSWORD_MAX);
        return CB_ERR_USAGE;
    }
    if (!sodium_ready()) {
        cb_errf(err, "cannot initialise libsodium");
        return CB_ERR_IO;
    }
    if (crypto_pwhash_str(out, password, (unsigned long long)n,
                          crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        cb_errf(err, "cannot hash the password (out of memory)");
        return CB_ERR_NOMEM;
    }
    return CB_OK;
}

bool
cb_web_password_verify(const char *hash, const char *password)
{
    size_t n = strlen(password);

    if (!sodium_ready() || n > CB_WEB_PASSWORD_MAX || !hash[0])
        return false;
    return crypto_pwhash_str_verify(hash, password, (unsigned long long)n) == 0;
}

/* ---- tokens ---- */

void
cb__web_token_new(char out[WEB_TOKEN_HEX])
{
    unsigned char b[WEB_TOKEN_BYTES];

    if (!sodium_ready())
        CB_BUG("libsodium cannot be initialised");
    randombytes_buf(b, sizeof b);
    sodium_bin2hex(out, WEB_TOKEN_HEX, b, sizeof b);
    sodium_memzero(b, sizeof b);
}

void
cb__web_token_hash(const char *token, char out[WEB_TOKEN_HEX])
{
    unsigned char d[crypto_hash_sha256_BYTES];

    crypto_hash_sha256(d, (const unsigned char *)token, strlen(token));
    sodium_bin2hex(out, WEB_TOKEN_HEX, d, sizeof d);
}

bool
cb__web_token_valid(const char *s)
{
    size_t i;

    for (i = 0; s[i]; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return i == 2 * WEB_TOKEN_BYTES;
}

bool
cb__web_str_equal_ct(const char *a, const char *b)
{
    size_t n = strlen(a);

    return n == strlen(b) && sodium_memcmp(a, b, n) == 0;
}

/* ---- roles and scope ---- */

enum web_role
cb__web_role_parse(const char *s)
{
    if (!strcmp(s, "consortium_admin"))
        return WEB_ROLE_CONSORTIUM_ADMIN;
    if (!strcmp(s, "hospital_admin"))
        return WEB_ROLE_HOSPITAL_ADMIN;
    if (!strcmp(s, "department_viewer"))
        return WEB_ROLE_DEPARTMENT_VIEWER;
    return WEB_ROLE_NONE;
}

int
cb__web_by_parse(const char *s, enum web_by *by)
{
    if (!strcmp(s, "hospital"))
        *by = WEB_BY_HOSPITAL;
    else if (!strcmp(s, "department"))
        *by = WEB_BY_DEPARTMENT;
    else if (!strcmp(s, "doctor"))
        *by = WEB_BY_DOCTOR;
    else if (!strcmp(s, "consortium"))
        *by = WEB_BY_CONSORTIUM;
    else
        return -1;
    return 0;
}

int
cb__web_authorize_indicators(enum web_role role, enum web_by by, bool hospital_given,
                         bool hospital_visible)
{
    if (role == WEB_ROLE_NONE)
        return 403;
    if (hospital_given && !hospital_visible)
        return 403;
    if (by == WEB_BY_CONSORTIUM && role != WEB_ROLE_CONSORTIUM_ADMIN)
        return 403;
    if (by == WEB_BY_DOCTOR && role == WEB_ROLE_DEPARTMENT_VIEWER)
        return 403;
    return 0;
}

int
cb__web_authorize_rejects(enum web_role role, bool hospital_given, bool hospital_visible)
{
    if (role != WEB_ROLE_CONSORTIUM_ADMIN && role != WEB_ROLE_HOSPITAL_ADMIN)
        return 403;
    if (hospital_given && !hospital_visible)
        return 403;
    return 0;
}

int
cb__web_authorize_cases(enum web_role role, bool hospital_given, bool hospital_visible,
                        bool department_given, bool department_own)
{
    if (role == WEB_ROLE_NONE)
        return 403;
    if (hospital_given && !hospital_visible)
        return 403;
    if (role == WEB_ROLE_DEPARTMENT_VIEWER && department_given && !department_own)
        return 403;
    return 0;
}

/* ---- the login rate limiter ---- */

#define PROBES 8

void
cb__web_limiter_init(struct web_limiter *l, unsigned max, unsigned window)
{
    memset(l->slot, 0, sizeof l->slot);
    pthread_mutex_init(&l->mu, NULL);
    l->max = max;
    l->window = window ? window : 1;
    if (sodium_ready())
        randombytes_buf(&l->seed, sizeof l->seed);
}

void
cb__web_limiter_release(struct web_limiter *l)
{
    pthread_mutex_destroy(&l->mu);
}

static uint64_t
limit_key(const struct web_limiter *l, const char *key)
{
    uint64_t h = cb_hash64(key, strlen(key), l->seed);
    return h ? h : 1;
}

/* The slot of key, or NULL; with create, a free, stale or the oldest slot. */
static struct web_limit_slot *
find_slot(struct web_limiter *l, uint64_t k, int64_t now, bool create)
{
    struct web_limit_slot *victim = NULL;
    bool victim_unused = false;

    for (unsigned i = 0; i < PROBES; i++) {
        struct web_limit_slot *s = &l->slot[(k + i) % WEB_LIMIT_SLOTS];
        bool unused;
        if (s->key == k)
            return s;
        if (!create)
            continue;
        unused = !s->key || now - s->start >= (int64_t)l->window;
        if (victim_unused)
            continue;
        if (unused || !victim || s->start < victim->start) {
            victim = s;
            victim_unused = unused;
        }
    }
    if (victim) {
        victim->key = k;
        victim->start = now;
        victim->count = 0;
    }
    return victim;
}

bool
cb__web_limiter_blocked(struct web_limiter *l, const char *key, int64_t now)
{
    uint64_t k = limit_key(l, key);
    bool blocked = false;
    struct web_limit_slot *s;

    pthread_mutex_lock(&l->mu);
    s = find_slot(l, k, now, false);
    if (s && now - s->start < (int64_t)l->window && s->count >= l->max)
        blocked = true;
    pthread_mutex_unlock(&l->mu);
    return blocked;
}

void
cb__web_limiter_fail(struct web_limiter *l, const char *key, int64_t now)
{
    uint64_t k = limit_key(l, key);
    struct web_limit_slot *s;

    pthread_mutex_lock(&l->mu);
    s = find_slot(l, k, now, true);
    if (now - s->start >= (int64_t)l->window) {
        s->start = now;
        s->count = 0;
    }
    if (s->count < UINT32_MAX)
        s->count++;
    pthread_mutex_unlock(&l->mu);
}

void
cb__web_limiter_clear(struct web_limiter *l, const char *key)
{
    uint64_t k = limit_key(l, key);
    struct web_limit_slot *s;

    pthread_mutex_lock(&l->mu);
    s = find_slot(l, k, 0, false);
    if (s)
        memset(s, 0, sizeof *s);
    pthread_mutex_unlock(&l->mu);
}
