#ifndef MYWEBSITE_COPENSSL_H
#define MYWEBSITE_COPENSSL_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>

// `static inline` wrappers for OpenSSL macros (most SSL_CTX setters are SSL_CTX_ctrl macros) that Swift
// cannot import. Nothing here holds state; each wrapper says which macro or expression it stands for.

// SSL_OP_* are `SSL_OP_BIT(n)` casts, which Swift does not import: the server's option set, in one place.
// PRIORITIZE_CHACHA: a client that lists ChaCha20 first (no AES hardware) gets it despite our order.
static inline uint64_t copenssl_server_options(void) {
    return SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_PRIORITIZE_CHACHA | SSL_OP_NO_COMPRESSION
        | SSL_OP_NO_RENEGOTIATION;
}

// SSL_OP_NO_TICKET is an `SSL_OP_BIT(n)` cast too: turns session tickets off (no resumption at all).
static inline uint64_t copenssl_option_no_ticket(void) { return SSL_OP_NO_TICKET; }

// SSL_CTX_set_mode is a macro over SSL_CTX_ctrl(SSL_CTRL_MODE).
static inline long copenssl_ctx_set_mode(SSL_CTX *ctx, long mode) { return SSL_CTX_set_mode(ctx, mode); }

// SSL_CTX_set_min_proto_version is a macro over SSL_CTX_ctrl(SSL_CTRL_SET_MIN_PROTO_VERSION).
static inline int copenssl_ctx_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

// SSL_CTX_set_max_proto_version is a macro over SSL_CTX_ctrl(SSL_CTRL_SET_MAX_PROTO_VERSION).
static inline int copenssl_ctx_set_max_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_max_proto_version(ctx, version);
}

// SSL_CTX_set1_groups_list is a macro over SSL_CTX_ctrl(SSL_CTRL_SET_GROUPS_LIST).
static inline int copenssl_ctx_set1_groups_list(SSL_CTX *ctx, const char *list) {
    return (int)SSL_CTX_set1_groups_list(ctx, list);
}

// SSL_CTX_set1_sigalgs_list is a macro over SSL_CTX_ctrl(SSL_CTRL_SET_SIGALGS_LIST) (test clients).
static inline int copenssl_ctx_set1_sigalgs_list(SSL_CTX *ctx, const char *list) {
    return (int)SSL_CTX_set1_sigalgs_list(ctx, list);
}

// SSL_CTX_set_dh_auto is a macro over SSL_CTX_ctrl(SSL_CTRL_SET_DH_AUTO): RFC 7919 groups sized to the key.
static inline long copenssl_ctx_set_dh_auto(SSL_CTX *ctx, int on) { return SSL_CTX_set_dh_auto(ctx, on); }

// SSL_CTX_set_session_cache_mode is a macro over SSL_CTX_ctrl(SSL_CTRL_SET_SESS_CACHE_MODE).
static inline long copenssl_ctx_set_session_cache_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_session_cache_mode(ctx, mode);
}

// SSL_CTX_sess_set_cache_size is a macro over SSL_CTX_ctrl(SSL_CTRL_SET_SESS_CACHE_SIZE).
static inline long copenssl_ctx_sess_set_cache_size(SSL_CTX *ctx, long size) {
    return SSL_CTX_sess_set_cache_size(ctx, size);
}

// SSL_CTX_set_tlsext_servername_callback is a macro over SSL_CTX_callback_ctrl with a cast function type.
static inline long copenssl_ctx_set_servername_callback(SSL_CTX *ctx, int (*cb)(SSL *, int *, void *)) {
    return SSL_CTX_set_tlsext_servername_callback(ctx, cb);
}

// SSL_CTX_set_tlsext_servername_arg is a macro over SSL_CTX_ctrl(SSL_CTRL_SET_TLSEXT_SERVERNAME_ARG).
static inline long copenssl_ctx_set_servername_arg(SSL_CTX *ctx, void *arg) {
    return SSL_CTX_set_tlsext_servername_arg(ctx, arg);
}

// SSL_CTX_set_tlsext_ticket_key_evp_cb is a macro over SSL_CTX_callback_ctrl with a cast function type.
static inline long copenssl_ctx_set_ticket_key_evp_cb(
    SSL_CTX *ctx, int (*cb)(SSL *, unsigned char *, unsigned char *, EVP_CIPHER_CTX *, EVP_MAC_CTX *, int)) {
    return SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, cb);
}

// SSL_set_tlsext_host_name is a macro over SSL_ctrl(SSL_CTRL_SET_TLSEXT_HOSTNAME) (test clients send SNI).
static inline int copenssl_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

// An OSSL_PARAM array keeps pointers to its key strings: built here so they are literals that outlive the
// call. Sets HMAC-SHA256 with `key` on a ticket MAC context (EVP_MAC_CTX_set_params).
static inline int copenssl_mac_set_hmac_sha256_key(EVP_MAC_CTX *mac, unsigned char *key, size_t length) {
    OSSL_PARAM params[3];
    params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key, length);
    params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[2] = OSSL_PARAM_construct_end();
    return EVP_MAC_CTX_set_params(mac, params);
}


// EVP_EC_gen is a macro over the variadic EVP_PKEY_Q_keygen: an EC key on the named curve (self-signed cert).
static inline EVP_PKEY *copenssl_ec_keygen(const char *curve) { return EVP_EC_gen(curve); }

#endif
