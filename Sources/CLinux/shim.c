// Forwarders for calls that glibc declares only under _GNU_SOURCE (see CLinux.h).
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/socket.h>
#include "CLinux.h"

int clinux_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags) {
    return accept4(fd, addr, len, flags);
}

int clinux_pthread_setname(const char *name) {
    return pthread_setname_np(pthread_self(), name);
}
