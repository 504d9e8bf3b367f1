#ifndef MYWEBSITE_CNGHTTP2_H
#define MYWEBSITE_CNGHTTP2_H
// libnghttp2 (Debian libnghttp2-dev): the HTTP/2 framing, HPACK and stream state machine. Its session API
// works on memory buffers, so it sits on the TLS byte stream the way OpenSSL sits on the socket.
#include <nghttp2/nghttp2.h>
#endif
