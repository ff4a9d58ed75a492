#include <stdint.h>
#include <string.h>

#include "carebase/json.h"


enum cb_err
cb_json_str(struct cb_buf *b, struct cb_str s)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0, run = 0;
    enum cb_err rc;

    if ((rc = cb_buf_addc(b, '"')))
        return rc;
    for (;;) {
        uint64_t w;
        unsigned char c;
        char esc[6];
        size_t n = 0;

        /* Skip clean stretches eight bytes at a time. */
        while (i + 8 <= s.len) {
            memcpy(&w, s.ptr + i, 8);
            if (cb_json_needs_escape8(w))
                break;
            i += 8;
        }
        while (i < s.len) {
            c = (unsigned char)s.ptr[i];
            if (c < 0x20 || c == '"' || c == '\\')
                break;
            i++;
            if ((i & 7) == 0)
                break; /* back to the word loop */
        }
        if (i >= s.len)
            break;
        c = (unsigned char)s.ptr[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if ((rc = cb_buf_add(b, s.ptr + run, i - run)))
            return rc;
        run = ++i;
        esc[n++] = '\\';
        switch (c) {
        case '"':  esc[n++] = '"'; break;
        case '\\': esc[n++] = '\\'; break;
        case '\n': esc[n++] = 'n'; break;
        case '\r': esc[n++] = 'r'; break;
        case '\t': esc[n++] = 't'; break;
        default:
            esc[n++] = 'u';
            esc[n++] = '0';
            esc[n++] = '0';
            esc[n++] = hex[c >> 4];
            esc[n++] = hex[c & 15];
        }
        if ((rc = cb_buf_add(b, esc, n)))
            return rc;
    }
    if ((rc = cb_buf_add(b, s.ptr + run, s.len - run)))
        return rc;
    return cb_buf_addc(b, '"');
}

enum cb_err
cb_json_strz(struct cb_buf *b, const char *z)
{
    return cb_json_str(b, cb_str_c(z));
}
