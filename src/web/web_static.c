/*
 * web_static.c - the web application's files: GET / is web_dir/index.html,
 * GET /app/PATH is web_dir/app/PATH, and GET /app/vendor/echarts.min.js is
 * web_dir/node_modules/echarts/dist/echarts.min.js (installed by npm ci).
 *
 * Safe by construction rather than by clean-up: a path is served only when
 * every segment is a plain name (letters, digits, '.', '_', '-'; not
 * starting with a dot, so no "..", no hidden files), segments are
 * separated by single slashes, and there is no backslash, control byte or
 * encoded NUL (web_http.c turns %00 into a byte this check refuses). The
 * file must be a regular file (opened with O_NOFOLLOW: a symbolic link is
 * not followed) with a known extension, whose content type is fixed here,
 * never guessed from the content. Static files need no session: they carry
 * no data; the data comes from /api/, which does.
 *
 * Caching: index.html and the application's own files are revalidated on
 * every load (Cache-Control: no-cache, with an ETag of size and mtime, so
 * a reload costs a 304); the vendored ECharts build is cached for a day.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "web_int.h"

#define STATIC_PATH_MAX 200
#define STATIC_FILE_MAX ((off_t)32 << 20)

/* The page's policy: scripts only from this origin (no inline script, no
   eval); inline styles are allowed because ECharts' tooltips use them. */
static const char page_csp[] =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

static const char fallback_html[] =
    "<!doctype html>\n"
    "<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\n"
    "<title>Carebase</title></head>\n"
    "<body>\n"
    "<h1>Carebase</h1>\n"
    "<p>The web application is not installed on this server (setting\n"
    "<code>web_dir</code>). 本服务器未安装网页应用。</p>\n"
    "<p>The JSON API is served under <code>/api/</code>; see docs/api.md.\n"
    "Health: <a href=\"/healthz\">/healthz</a>.</p>\n"
    "</body></html>\n";

static const struct {
    const char *ext;
    const char *type;
} types[] = {
    { ".html", "text/html; charset=utf-8" },
    { ".js", "text/javascript; charset=utf-8" },
    { ".mjs", "text/javascript; charset=utf-8" },
    { ".css", "text/css; charset=utf-8" },
    { ".json", "application/json" },
    { ".svg", "image/svg+xml" },
    { ".png", "image/png" },
    { ".ico", "image/x-icon" },
    { ".woff2", "font/woff2" },
    { ".txt", "text/plain; charset=utf-8" },
};

static const char *
type_of(const char *path)
{
    const char *dot = strrchr(path, '.');

    if (!dot || strchr(dot, '/'))
        return NULL;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(dot, types[i].ext))
            return types[i].type;
    return NULL;
}

bool
cb__web_static_path_ok(const char *p)
{
    size_t n = 0;
    bool seg_start = true;

    if (!p || !*p)
        return false;
    for (; p[n]; n++) {
        unsigned char c = (unsigned char)p[n];
        if (n >= STATIC_PATH_MAX)
            return false;
        if (c == '/') {
            if (seg_start)
                return false;          /* a leading or doubled slash */
            seg_start = true;
            continue;
        }
        if (seg_start && c == '.')
            return false;              /* "..", ".", hidden files */
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;              /* backslash, control bytes, %, spaces ... */
        seg_start = false;
    }
    return !seg_start;                 /* not ending in a slash */
}

static void
not_found(struct web_resp *rs)
{
    cb__web_error(rs, 404, "not_found", "no such file");
}

void
cb__web_static(const char *web_dir, const struct web_req *rq, struct web_resp *rs)
{
    char path[4400];
    const char *rel, *type;
    struct stat sb;
    bool vendor = false;
    int fd;

    rs->route = WEB_R_STATIC;
    if (!strcmp(rq->path, "/")) {
        rs->route = WEB_R_INDEX;
        rel = "index.html";
    } else if (!strncmp(rq->path, WEB_STATIC_PREFIX, sizeof WEB_STATIC_PREFIX - 1)) {
        rel = rq->path + sizeof WEB_STATIC_PREFIX - 1;
        if (!cb__web_static_path_ok(rel) || !(type = type_of(rel))) {
            not_found(rs);
            return;
        }
        vendor = !strcmp(rel, "vendor/echarts.min.js");
    } else {
        not_found(rs);
        return;
    }
    if (!web_dir || !*web_dir) {
        if (rs->route != WEB_R_INDEX) {
            not_found(rs);
            return;
        }
        rs->content_type = "text/html; charset=utf-8";
        rs->csp = page_csp;
        if (cb_buf_adds(&rs->body, fallback_html))
            cb__web_error(rs, 500, "internal", "out of memory");
        return;
    }
    if (vendor)
        snprintf(path, sizeof path, "%s/node_modules/echarts/dist/echarts.min.js", web_dir);
    else if (rs->route == WEB_R_INDEX)
        snprintf(path, sizeof path, "%s/index.html", web_dir);
    else
        snprintf(path, sizeof path, "%s/app/%s", web_dir, rel);
    type = type_of(path);
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        not_found(rs);
        return;
    }
    if (fstat(fd, &sb) || !S_ISREG(sb.st_mode) || sb.st_size > STATIC_FILE_MAX || !type) {
        close(fd);
        not_found(rs);
        return;
    }
    rs->content_type = type;
    rs->csp = page_csp;
    rs->cache_control = vendor ? "public, max-age=86400" : "no-cache";
    snprintf(rs->etag, sizeof rs->etag, "\"%llx-%llx\"", (unsigned long long)sb.st_size,
             (unsigned long long)sb.st_mtime);
    if (rq->if_none_match && !strcmp(rq->if_none_match, rs->etag)) {
        close(fd);
        rs->status = 304;
        return;
    }
    rs->file_fd = fd;
    rs->file_size = (uint64_t)sb.st_size;
}
