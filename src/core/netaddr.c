/*
 * netaddr.c - listening addresses from their settings (netaddr.h).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "carebase/netaddr.h"
#include "carebase/str.h"

enum cb_err
cb_netaddr_parse(const char *what, const char *text, struct sockaddr_storage *ss,
                 unsigned *sslen, char *host, size_t hostcap, int *port, struct cb_buf *err)
{
    char h[64];
    const char *colon, *hs = text, *he;
    int64_t p;

    memset(ss, 0, sizeof(*ss));
    if (text[0] == '[') {
        hs = text + 1;
        he = strchr(hs, ']');
        if (!he || he[1] != ':')
            goto bad;
        colon = he + 1;
    } else {
        colon = strrchr(text, ':');
        if (!colon)
            goto bad;
        he = colon;
    }
    if ((size_t)(he - hs) >= sizeof(h))
        goto bad;
    memcpy(h, hs, (size_t)(he - hs));
    h[he - hs] = '\0';
    if (cb_parse_i64(cb_str_c(colon + 1), &p) || p < 0 || p > 65535)
        goto bad;
    *port = (int)p;
    if (text[0] == '[') {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        if (inet_pton(AF_INET6, h, &a6->sin6_addr) != 1)
            goto bad;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)p);
        *sslen = sizeof(*a6);
        snprintf(host, hostcap, "[%s]", h);
        return CB_OK;
    }
    {
        struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
        if (!h[0] || !strcmp(h, "*"))
            snprintf(h, sizeof(h), "0.0.0.0");
        else if (!strcmp(h, "localhost"))
            snprintf(h, sizeof(h), "127.0.0.1");
        if (inet_pton(AF_INET, h, &a4->sin_addr) != 1)
            goto bad;
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)p);
        *sslen = sizeof(*a4);
        snprintf(host, hostcap, "%s", h);
        return CB_OK;
    }
bad:
    cb_errf(err, "%s wants HOST:PORT (an IPv4 address, [IPv6] or localhost), not '%s'",
            what, text);
    return CB_ERR_USAGE;
}
