/*
 * netaddr.h - the listening addresses of the servers (HTTP, MLLP) as their
 * settings write them.
 */
#ifndef CAREBASE_NETADDR_H
#define CAREBASE_NETADDR_H

#include <stddef.h>

#include "carebase/buf.h"
#include "carebase/err.h"

struct sockaddr_storage;

/*
 * Parses "HOST:PORT" (an IPv4 address, "localhost", "*" or empty for all
 * IPv4 addresses, "[IPv6]"; port 0 to 65535) into a socket address; host
 * gets the address as text ("127.0.0.1", "[::1]"). CB_ERR_USAGE, with
 * "'TEXT' is not HOST:PORT ..." in err, when it is not one; what names
 * the setting in the message ("listen", "mllp_listen").
 */
CB_MUST_CHECK enum cb_err cb_netaddr_parse(const char *what, const char *text,
                                           struct sockaddr_storage *ss, unsigned *sslen,
                                           char *host, size_t hostcap, int *port,
                                           struct cb_buf *err);

#endif
