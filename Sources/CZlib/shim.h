#ifndef MYWEBSITE_CZLIB_H
#define MYWEBSITE_CZLIB_H
// ZLIB_CONST makes `z_stream.next_in` a `const Bytef *`, so Swift can point it at an immutable buffer.
#define ZLIB_CONST
#include <zlib.h>

// `static inline` wrappers for zlib's init macros, which Swift cannot import: `deflateInit2` and
// `inflateInit2` expand to `deflateInit2_`/`inflateInit2_` with ZLIB_VERSION and sizeof(z_stream), which zlib
// checks against the library it was linked with.

// deflateInit2(strm, level, Z_DEFLATED, windowBits, memLevel, Z_DEFAULT_STRATEGY): windowBits 15 + 16 asks
// for a gzip wrapper (RFC 1952) instead of zlib's.
static inline int czlib_deflate_init(z_stream *strm, int level, int windowBits, int memLevel) {
    return deflateInit2(strm, level, Z_DEFLATED, windowBits, memLevel, Z_DEFAULT_STRATEGY);
}

// inflateInit2(strm, windowBits): 15 + 16 accepts a gzip wrapper only.
static inline int czlib_inflate_init(z_stream *strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}

#endif
