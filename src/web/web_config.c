/*
 * web_config.c - the settings of `carebase serve` and its configuration
 * file.
 *
 * File format: one `key = value` per line; spaces around the key and the
 * value are ignored; `#` starts a comment line; blank lines are skipped.
 * A value may be wrapped in double quotes (kept verbatim inside, for paths
 * with a leading or trailing space). A key given twice: the last one wins.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "carebase/alloc.h"
#include "carebase/hl7.h"
#include "web_int.h"

#define CONFIG_LINE_MAX 4096

void
cb_web_config_init(struct cb_web_config *c)
{
    memset(c, 0, sizeof *c);
    c->threads = 4;
    c->max_connections = 256;
    c->max_inflight = 64;
    c->timeout_s = 15;
    c->max_body = 64 * 1024;
    c->session_ttl_s = 8 * 3600;
    c->login_failures = 5;
    c->login_window_s = 60;
    c->refresh_s = 5;
    c->shutdown_grace_s = 10;
    c->alert_occupancy_pct = 95;
    c->alert_boarders = 5;
    c->alert_feed_silent_min = 10;
    c->los_outlier_days = 30;
    c->utc_offset_min = 480;
    c->mllp_max_message = CB_MLLP_MAX_DEFAULT;
    c->mllp_max_connections = 256;
    c->mllp_idle_timeout_s = 300;
}

static char **
string_field(struct cb_web_config *c, const char *key)
{
    static const struct { const char *key; size_t off; } fields[] = {
        { "listen", offsetof(struct cb_web_config, listen) },
        { "db", offsetof(struct cb_web_config, db) },
        { "scheme", offsetof(struct cb_web_config, scheme) },
        { "refdata", offsetof(struct cb_web_config, refdata) },
        { "datadir", offsetof(struct cb_web_config, datadir) },
        { "indicators", offsetof(struct cb_web_config, indicators) },
        { "catalogue_complications", offsetof(struct cb_web_config, catalogue_complications) },
        { "catalogue_mis", offsetof(struct cb_web_config, catalogue_mis) },
        { "catalogue_level4", offsetof(struct cb_web_config, catalogue_level4) },
        { "catalogue_level3", offsetof(struct cb_web_config, catalogue_level3) },
        { "tls_cert", offsetof(struct cb_web_config, tls_cert) },
        { "tls_key", offsetof(struct cb_web_config, tls_key) },
        { "web_dir", offsetof(struct cb_web_config, web_dir) },
        { "wards", offsetof(struct cb_web_config, wards) },
        { "mllp_listen", offsetof(struct cb_web_config, mllp_listen) },
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (!strcmp(fields[i].key, key))
            return (char **)((char *)c + fields[i].off);
    return NULL;
}

struct num_field {
    const char *key;
    unsigned long long min, max;
};

static const struct num_field num_fields[] = {
    { "threads", 1, 64 },
    { "max_connections", 1, 100000 },
    { "max_inflight", 1, 100000 },
    { "timeout", 1, 3600 },
    { "max_body", 1024, 16u << 20 },
    { "session_ttl", 60, 30 * 86400 },
    { "login_failures", 1, 1000 },
    { "login_window", 1, 86400 },
    { "refresh", 0, 86400 },
    { "shutdown_grace", 0, 600 },
    { "alert_occupancy", 1, 100 },
    { "alert_boarders", 0, 100000 },
    { "alert_feed_silent", 1, 10080 },
    { "los_outlier_days", 1, 3650 },
    { "utc_offset", 0, 840 },
    { "mllp_max_message", 1024, 64u << 20 },
    { "mllp_max_connections", 1, 100000 },
    { "mllp_idle_timeout", 1, 86400 },
};

static void
set_num(struct cb_web_config *c, const char *key, unsigned long long v)
{
    if (!strcmp(key, "threads")) c->threads = (unsigned)v;
    else if (!strcmp(key, "max_connections")) c->max_connections = (unsigned)v;
    else if (!strcmp(key, "max_inflight")) c->max_inflight = (unsigned)v;
    else if (!strcmp(key, "timeout")) c->timeout_s = (unsigned)v;
    else if (!strcmp(key, "max_body")) c->max_body = (size_t)v;
    else if (!strcmp(key, "session_ttl")) c->session_ttl_s = (unsigned)v;
    else if (!strcmp(key, "login_failures")) c->login_failures = (unsigned)v;
    else if (!strcmp(key, "login_window")) c->login_window_s = (unsigned)v;
    else if (!strcmp(key, "refresh")) c->refresh_s = (unsigned)v;
    else if (!strcmp(key, "shutdown_grace")) c->shutdown_grace_s = (unsigned)v;
    else if (!strcmp(key, "alert_occupancy")) c->alert_occupancy_pct = (unsigned)v;
    else if (!strcmp(key, "alert_boarders")) c->alert_boarders = (unsigned)v;
    else if (!strcmp(key, "alert_feed_silent")) c->alert_feed_silent_min = (unsigned)v;
    else if (!strcmp(key, "los_outlier_days")) c->los_outlier_days = (unsigned)v;
    else if (!strcmp(key, "utc_offset")) c->utc_offset_min = (int)v;
    else if (!strcmp(key, "mllp_max_message")) c->mllp_max_message = (size_t)v;
    else if (!strcmp(key, "mllp_max_connections")) c->mllp_max_connections = (unsigned)v;
    else if (!strcmp(key, "mllp_idle_timeout")) c->mllp_idle_timeout_s = (unsigned)v;
}

enum cb_err
cb_web_config_set(struct cb_web_config *c, const char *key, const char *value,
                  struct cb_buf *err)
{
    char **sf = string_field(c, key);

    if (sf) {
        char *v;
        if (!value[0] || strlen(value) > 4000) {
            cb_errf(err, "'%s' wants a value of 1 to 4000 bytes", key);
            return CB_ERR_USAGE;
        }
        if (!(v = cb_strdup(value)))
            return CB_ERR_NOMEM;
        cb_free(*sf);
        *sf = v;
        return CB_OK;
    }
    for (size_t i = 0; i < sizeof num_fields / sizeof num_fields[0]; i++) {
        const struct num_field *f = &num_fields[i];
        int64_t v;
        if (strcmp(f->key, key))
            continue;
        if (cb_parse_i64(cb_str_c(value), &v) || v < 0 ||
            (unsigned long long)v < f->min || (unsigned long long)v > f->max) {
            cb_errf(err, "'%s' wants a whole number from %llu to %llu, not '%s'", key,
                    f->min, f->max, value);
            return CB_ERR_USAGE;
        }
        set_num(c, key, (unsigned long long)v);
        return CB_OK;
    }
    cb_errf(err, "unknown setting '%s'", key);
    return CB_ERR_USAGE;
}

void
cb_web_config_release(struct cb_web_config *c)
{
    char **fields[] = {
        &c->listen, &c->db, &c->scheme, &c->refdata, &c->datadir, &c->indicators,
        &c->catalogue_complications, &c->catalogue_mis, &c->catalogue_level4,
        &c->catalogue_level3, &c->tls_cert, &c->tls_key, &c->web_dir, &c->wards,
        &c->mllp_listen,
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        cb_free(*fields[i]);
        *fields[i] = NULL;
    }
}

static char *
trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
        *--e = '\0';
    return s;
}

enum cb_err
cb_web_config_load(struct cb_web_config *c, const char *path, struct cb_buf *err)
{
    FILE *f = fopen(path, "r");
    char line[CONFIG_LINE_MAX];
    unsigned long lineno = 0;
    enum cb_err rc = CB_OK;

    if (!f) {
        cb_errf(err, "cannot open configuration '%s': %s", path, strerror(errno));
        return CB_ERR_IO;
    }
    while (fgets(line, sizeof line, f)) {
        char *key, *value, *eq;
        size_t n = strlen(line);

        lineno++;
        if (n == sizeof line - 1 && line[n - 1] != '\n' && !feof(f)) {
            cb_errf(err, "%s:%lu: line longer than %d bytes", path, lineno,
                    CONFIG_LINE_MAX - 2);
            rc = CB_ERR_USAGE;
            break;
        }
        key = trim(line);
        if (!*key || *key == '#')
            continue;
        if (!(eq = strchr(key, '='))) {
            cb_errf(err, "%s:%lu: expected 'key = value'", path, lineno);
            rc = CB_ERR_USAGE;
            break;
        }
        *eq = '\0';
        key = trim(key);
        value = trim(eq + 1);
        n = strlen(value);
        if (n >= 2 && value[0] == '"' && value[n - 1] == '"') {
            value[n - 1] = '\0';
            value++;
        }
        if ((rc = cb_web_config_set(c, key, value, err))) {
            cb_errf(err, "in %s:%lu", path, lineno);
            break;
        }
    }
    if (!rc && ferror(f)) {
        cb_errf(err, "cannot read configuration '%s'", path);
        rc = CB_ERR_IO;
    }
    fclose(f);
    return rc;
}
