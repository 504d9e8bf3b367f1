// Forwarders for calls that glibc declares only under _GNU_SOURCE (see CLinux.h).
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include "CLinux.h"

int clinux_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags) {
    return accept4(fd, addr, len, flags);
}

int clinux_pthread_setname(const char *name) {
    return pthread_setname_np(pthread_self(), name);
}

// See CLinux.h. Between fork and execve the child only makes async-signal-safe calls: the parent may have
// other threads, holding locks the child would never see released.
pid_t clinux_spawn_with_listeners(
    const char *path, char *const argv[], char *const envp[], char *pid_slot, const int *fds, int count) {
    if (count < 0 || count > CLINUX_MAX_HANDED_FDS) {
        errno = EINVAL;
        return -1;
    }
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) return -1;
    pid_t pid = fork();
    if (pid < 0) {
        int saved = errno;
        close(report[0]);
        close(report[1]);
        errno = saved;
        return -1;
    }
    if (pid == 0) {
        int first = 3;
        // Everything the child keeps moves above the target range first, so no dup2 overwrites a source.
        int writer = fcntl(report[1], F_DUPFD_CLOEXEC, first + count);
        int moved[CLINUX_MAX_HANDED_FDS];
        for (int i = 0; i < count; i++) {
            moved[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, first + count + 1);
            if (moved[i] < 0 || writer < 0) goto failed;
        }
        for (int i = 0; i < count; i++) {
            if (dup2(moved[i], first + i) < 0) goto failed;  // dup2 clears FD_CLOEXEC on the target
        }
        // LISTEN_PID=<this pid>: the slot has room for ten digits.
        char digits[16];
        int n = 0;
        for (pid_t p = getpid(); p > 0 && n < 10; p /= 10) digits[n++] = (char)('0' + p % 10);
        for (int i = 0; i < n; i++) pid_slot[i] = digits[n - 1 - i];
        pid_slot[n] = '\0';
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execve(path, argv, envp);
    failed:;
        int code = errno;
        if (writer >= 0) {
            ssize_t unused = write(writer, &code, sizeof code);
            (void)unused;
        }
        _exit(127);
    }
    close(report[1]);
    int code = 0;
    ssize_t got;
    do {
        got = read(report[0], &code, sizeof code);
    } while (got < 0 && errno == EINTR);
    close(report[0]);
    if (got == (ssize_t)sizeof code) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        errno = code;
        return -1;
    }
    return pid;
}
