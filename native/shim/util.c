/* Small helpers: error reporting, whole-buffer writes, fd passing, atomic status files, timestamps. */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int report_fd = -1;
static int trace_fd = -1;

void trace_open(void) {
    const char *path = getenv("FLOTILLA_SHIM_TRACE");
    if (path && *path) trace_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

void trace_mark(const char *step) {
    if (trace_fd < 0) return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    char line[256];
    int n = snprintf(line, sizeof(line), "%lld %d %s\n", (long long)now.tv_sec * 1000000000LL + now.tv_nsec,
                     (int)getpid(), step);
    if (n > 0) (void)write_all(trace_fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}
static int child_error_fd = -1;

void set_report_fd(int fd) { report_fd = fd; }

int write_all(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* One line to the launcher on the status fd; the launcher may be gone, which is not our problem. */
void report(const char *fmt, ...) {
    if (report_fd < 0) return;
    char line[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n > sizeof(line) - 2) n = sizeof(line) - 2;
    line[n++] = '\n';
    (void)write_all(report_fd, line, (size_t)n);
}

void close_report(void) {
    if (report_fd >= 0) close(report_fd);
    report_fd = -1;
}

void die(const char *fmt, ...) {
    char message[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    fprintf(stderr, "flotilla-shim: %s\n", message);
    report("error %s", message);
    exit(125);
}

void child_set_error_fd(int fd) { child_error_fd = fd; }

void child_fail(const char *fmt, ...) {
    char message[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    if (child_error_fd >= 0) (void)write_all(child_error_fd, message, strlen(message));
    else fprintf(stderr, "flotilla-shim: %s\n", message);
    _exit(127);
}

/* Readers in other processes see either the old file or the whole new one, never half of it. */
int write_file_atomic(const char *path, const char *content) {
    char temporary[4096];
    if ((size_t)snprintf(temporary, sizeof(temporary), "%s.tmp", path) >= sizeof(temporary)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return -1;
    if (write_all(fd, content, strlen(content)) < 0) {
        int saved = errno;
        close(fd);
        unlink(temporary);
        errno = saved;
        return -1;
    }
    if (close(fd) < 0) return -1;
    return rename(temporary, path);
}

int read_small_file(const char *path, char *buf, size_t len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t used = 0;
    while (used + 1 < len) {
        ssize_t n = read(fd, buf + used, len - 1 - used);
        if (n < 0) {
            if (errno == EINTR) continue;
            int saved = errno;
            close(fd);
            errno = saved;
            return -1;
        }
        if (n == 0) break;
        used += (size_t)n;
    }
    buf[used] = '\0';
    close(fd);
    return (int)used;
}

/* RFC 3339 with nanoseconds in UTC, as CRI log files and Kubernetes expect. */
void format_timestamp(char *buf, size_t len) {
    struct timespec now;
    struct tm utc;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &utc);
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &utc);
    snprintf(buf + n, len - n, ".%09ldZ", now.tv_nsec);
}

/* Field 22 of /proc/PID/stat: with the pid it names one process for good, even after pid reuse. */
unsigned long long process_start_time(pid_t pid) {
    char path[64], stat[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if (read_small_file(path, stat, sizeof(stat)) <= 0) return 0;
    char *p = strrchr(stat, ')'); /* the command name may contain spaces and parentheses */
    if (!p) return 0;
    p++;
    /* p is at the space before field 3; field 22 is the start time. */
    for (int field = 3; field < 22 && p; field++) p = strchr(p + 1, ' ');
    return p ? strtoull(p + 1, NULL, 10) : 0;
}

/* The container's own terminal, as runc's console socket gives one: the master of /dev/pts/ptmx in
 * the devpts instance the shim mounted, so `tty` inside names /dev/pts/N. Whatever the container has
 * done to its /dev since, this never opens anything else: no symlink is followed on the way (openat2
 * RESOLVE_NO_SYMLINKS), both the directory and the master must be on devpts (fstatfs), and the slave
 * comes from the master itself (TIOCGPTPEER), never from a path. Call it with the container's root as
 * "/" (after pivot_root, or setns into its mount namespace). On failure, err says why. */
int open_devpts_pty(int *master, int *slave, char *err, size_t errlen) {
    *master = *slave = -1;
    struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                           .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
    int pts = (int)syscall(SYS_openat2, AT_FDCWD, "/dev/pts", &how, sizeof(how));
    if (pts < 0) {
        snprintf(err, errlen, "opening the container's /dev/pts: %s", strerror(errno));
        return -1;
    }
    struct statfs fs;
    if (fstatfs(pts, &fs) < 0 || fs.f_type != DEVPTS_SUPER_MAGIC) {
        snprintf(err, errlen, "the container's /dev/pts is not a devpts file system: refusing its terminals");
        close(pts);
        return -1;
    }
    *master = openat(pts, "ptmx", O_RDWR | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC);
    int saved = errno;
    close(pts);
    if (*master < 0) {
        snprintf(err, errlen, "opening the container's /dev/pts/ptmx: %s", strerror(saved));
        return -1;
    }
    if (fstatfs(*master, &fs) < 0 || fs.f_type != DEVPTS_SUPER_MAGIC) {
        snprintf(err, errlen, "the container's /dev/pts/ptmx is not on devpts: refusing it");
    } else if (unlockpt(*master) < 0) {
        snprintf(err, errlen, "unlocking the container's terminal: %s", strerror(errno));
    } else if ((*slave = ioctl(*master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
        snprintf(err, errlen, "opening the container's terminal: %s", strerror(errno));
    } else {
        return 0;
    }
    close(*master);
    *master = -1;
    return -1;
}

/* One fd over a unix socket (SCM_RIGHTS): 0 when sent, -1 with errno set otherwise. */
int send_fd(int socket_fd, int fd) {
    char byte = 'f';
    struct iovec part = {&byte, 1};
    union {
        struct cmsghdr header;
        char space[CMSG_SPACE(sizeof(int))];
    } control;
    memset(&control, 0, sizeof(control));
    struct msghdr message = {.msg_iov = &part, .msg_iovlen = 1, .msg_control = control.space,
                             .msg_controllen = sizeof(control.space)};
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(header), &fd, sizeof(int));
    ssize_t n;
    do n = sendmsg(socket_fd, &message, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n == 1 ? 0 : -1;
}

/* The fd the peer sent, or -1 when it closed its end (it failed before sending) or sent none. */
int receive_fd(int socket_fd) {
    char byte;
    struct iovec part = {&byte, 1};
    union {
        struct cmsghdr header;
        char space[CMSG_SPACE(sizeof(int))];
    } control;
    struct msghdr message = {.msg_iov = &part, .msg_iovlen = 1, .msg_control = control.space,
                             .msg_controllen = sizeof(control.space)};
    ssize_t n;
    do n = recvmsg(socket_fd, &message, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    struct cmsghdr *header = n > 0 ? CMSG_FIRSTHDR(&message) : NULL;
    if (!header || header->cmsg_type != SCM_RIGHTS) return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(header), sizeof(int));
    return fd;
}
