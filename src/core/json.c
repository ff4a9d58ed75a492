#include "carebase/json.h"

enum cb_err
cb_json_str(struct cb_buf *b, struct cb_str s)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, run = 0;
    enum cb_err rc;

    if ((rc = cb_buf_addc(b, '"')))
        return rc;
    for (i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        char esc[6];
        size_t n = 0;

        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if ((rc = cb_buf_add(b, s.ptr + run, i - run)))
            return rc;
        run = i + 1;
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
