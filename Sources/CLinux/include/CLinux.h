#ifndef MYWEBSITE_CLINUX_H
#define MYWEBSITE_CLINUX_H

// Linux headers that Glibc's Swift module map does not export, plus `static inline` wrappers for
// macros and variadic calls that Swift cannot import. Nothing here holds state.

#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/sendfile.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <unistd.h>

// `errno` is a macro over a thread-local; Swift's Glibc import is fine but a function keeps call sites uniform.
static inline int clinux_errno(void) { return errno; }

// `fcntl` is variadic: Swift cannot call it directly.
static inline int clinux_fcntl_setfl(int fd, int flags) { return fcntl(fd, F_SETFL, flags); }
static inline int clinux_fcntl_getfl(int fd) { return fcntl(fd, F_GETFL); }
static inline int clinux_fcntl_setfd(int fd, int flags) { return fcntl(fd, F_SETFD, flags); }
static inline int clinux_dup_cloexec(int fd) { return fcntl(fd, F_DUPFD_CLOEXEC, 0); }

// `ioctl` is variadic too. SIOCOUTQ (= TIOCOUTQ): bytes in a TCP socket's send queue the peer has not
// acknowledged yet; -1 on error.
static inline int clinux_unacknowledged_bytes(int fd) {
    int value = 0;
    return ioctl(fd, TIOCOUTQ, &value) == 0 ? value : -1;
}

// EPOLL* constants are enum members of a C enum typed int in glibc; expose them as uint32_t.
static const uint32_t CLINUX_EPOLLIN = EPOLLIN;
static const uint32_t CLINUX_EPOLLOUT = EPOLLOUT;
static const uint32_t CLINUX_EPOLLERR = EPOLLERR;
static const uint32_t CLINUX_EPOLLHUP = EPOLLHUP;
static const uint32_t CLINUX_EPOLLRDHUP = EPOLLRDHUP;
static const uint32_t CLINUX_EPOLLET = EPOLLET;
static const uint32_t CLINUX_EPOLLEXCLUSIVE = EPOLLEXCLUSIVE;

// `sigaddset`/`sigemptyset` may be macros; wrap so Swift sees functions.
static inline int clinux_sigemptyset(sigset_t *set) { return sigemptyset(set); }
static inline int clinux_sigaddset(sigset_t *set, int sig) { return sigaddset(set, sig); }

// accept4(2) and pthread_setname_np(3) are declared only under _GNU_SOURCE, which Swift's Glibc import
// does not set; shim.c defines it and forwards.
int clinux_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
int clinux_pthread_setname(const char *name);

// The most listening sockets one hand-over passes (a few per port and loop in practice).
#define CLINUX_MAX_HANDED_FDS 1024

// Starts `path` (argv, envp) in a child whose descriptors 3, 4, ... are `fds` in order (the systemd
// socket-activation layout), with an empty signal mask. `pid_slot` points inside one of the `envp` strings,
// just after "LISTEN_PID=", with room for ten digits: the child writes its own pid there before execve.
// Returns the child's pid once execve succeeded, or -1 with errno (from fork, or from execve in the child).
pid_t clinux_spawn_with_listeners(
    const char *path, char *const argv[], char *const envp[], char *pid_slot, const int *fds, int count);

#endif
