/* `flotilla-shim launcher`: a resident, tiny parent that starts container shims for one runtime
 * process. Forking a Node.js process costs time in proportion to its memory (about 1 ms at 50 MB,
 * 11 ms at 250 MB, measured here) and the shim's re-exec from its sealed copy costs another half
 * millisecond; forking this process costs neither, and its children already run from the sealed
 * copy (see main.c), so they keep the CVE-2019-5736 protection.
 *
 * Requests arrive on stdin, one per line: `run ID CONTAINER_DIR`. Each child is `flotilla-shim run
 * CONTAINER_DIR STATUS_FD` in all but the exec; its status lines come back on stdout prefixed with
 * the request's ID (`ID created PID`, `ID started`, `ID error ...`), then `ID end` once the child has
 * nothing more to say. `net ID DEVICE ADDRESS/PREFIX GATEWAY NETNS_PATH` configures a pod's network
 * namespace the same way, in a child that answers `ID ok` or `ID error STEP: REASON` (netns.c). The launcher exits when its stdin closes (the runtime process is gone);
 * started containers do not notice: their shims, in sessions of their own, pass to init. */
#include "shim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_PENDING 256
#define LINE_BYTES 8192

struct pending {
    int fd; /* read end of the child's status pipe, or -1 */
    unsigned long id;
    size_t used;
    char line[LINE_BYTES];
};

static struct pending pending[MAX_PENDING];

static void reply(unsigned long id, const char *text, size_t len) {
    char head[32];
    int n = snprintf(head, sizeof(head), "%lu ", id);
    char out[LINE_BYTES + 64];
    if (len > LINE_BYTES) len = LINE_BYTES;
    memcpy(out, head, (size_t)n);
    memcpy(out + n, text, len);
    out[(size_t)n + len] = '\n';
    /* The runtime process may be gone; then nobody is waiting for the answer. */
    (void)write_all(1, out, (size_t)n + len + 1);
}

static void finish(struct pending *p) {
    if (p->used > 0) reply(p->id, p->line, p->used);
    reply(p->id, "end", 3);
    close(p->fd);
    p->fd = -1;
    p->used = 0;
}

static void relay(struct pending *p) {
    char data[4096];
    ssize_t n = read(p->fd, data, sizeof(data));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {
        finish(p);
        return;
    }
    for (ssize_t i = 0; i < n; i++) {
        if (data[i] == '\n') {
            reply(p->id, p->line, p->used);
            p->used = 0;
        } else if (p->used < LINE_BYTES) {
            p->line[p->used++] = data[i];
        }
    }
}

/* Answers a request that never got a child: its error, then its end. */
static void refuse(unsigned long id, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void refuse(unsigned long id, const char *fmt, ...) {
    char message[512] = "error ";
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(message + 6, sizeof(message) - 6, fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 6 : 6 + ((size_t)n < sizeof(message) - 6 ? (size_t)n : sizeof(message) - 7);
    reply(id, message, len);
    reply(id, "end", 3);
}

/* The work of one request in its own child; status_fd takes its status lines. Returns the exit code. */
typedef int (*job_fn)(int status_fd, const void *arg);

static void start_job(unsigned long id, job_fn job, const void *arg) {
    struct pending *slot = NULL;
    for (int i = 0; i < MAX_PENDING && !slot; i++)
        if (pending[i].fd < 0) slot = &pending[i];
    if (!slot) {
        refuse(id, "the launcher has too many requests in flight; retry");
        return;
    }
    int status[2];
    if (pipe2(status, O_CLOEXEC) < 0) {
        refuse(id, "pipe: %s", strerror(errno));
        return;
    }
    pid_t child = fork();
    if (child == 0) {
        /* Nothing of the launcher's may reach the container's shim: not the runtime's pipes (the
         * shim's daemonize puts /dev/null and shim.log on 0-2), not other starts' status pipes. */
        for (int i = 0; i < MAX_PENDING; i++)
            if (pending[i].fd >= 0) close(pending[i].fd);
        close(status[0]);
        signal(SIGCHLD, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        _exit(job(status[1], arg));
    }
    close(status[1]);
    if (child < 0) {
        close(status[0]);
        refuse(id, "fork: %s", strerror(errno));
        return;
    }
    slot->fd = status[0];
    slot->id = id;
    slot->used = 0;
}

static int run_job(int status_fd, const void *container_dir) {
    int fd = fcntl(status_fd, F_DUPFD, 3); /* without FD_CLOEXEC, as a status fd from a spawn */
    if (fd < 0) return 125;
    close(status_fd);
    return run_container(container_dir, fd, 0);
}

/* `ok`, or `error STEP: REASON`. */
static int net_job(int status_fd, const void *config) {
    char line[1024] = "error ";
    size_t len;
    int failed = configure_netns(config, line + 6, sizeof(line) - 7) < 0;
    if (failed) {
        len = strlen(line);
    } else {
        strcpy(line, "ok");
        len = 2;
    }
    line[len++] = '\n';
    return write_all(status_fd, line, len) < 0 || failed ? 1 : 0;
}

/* `net ID DEVICE ADDRESS/PREFIX GATEWAY NETNS_PATH` (the path last: it is the rest of the line). */
static void start_net(unsigned long id, char *args) {
    char *fields[3];
    for (int i = 0; i < 3; i++) {
        fields[i] = args;
        char *space = strchr(args, ' ');
        if (!space) {
            refuse(id, "a net request needs DEVICE ADDRESS/PREFIX GATEWAY NETNS_PATH");
            return;
        }
        *space = '\0';
        args = space + 1;
    }
    struct netns_interface config = {.netns_path = args, .device = fields[0], .address_text = fields[1],
                                     .gateway_text = fields[2]};
    char *slash = strchr(fields[1], '/');
    int valid = slash != NULL;
    if (valid) {
        char *end;
        unsigned long prefix = strtoul(slash + 1, &end, 10);
        *slash = '\0';
        valid = end != slash + 1 && !*end && prefix <= 32 && inet_pton(AF_INET, fields[1], &config.address) == 1;
        config.prefix_length = (unsigned)prefix;
        if (!valid) *slash = '/';
    }
    if (!valid) {
        refuse(id, "net: %s is not an IPv4 address with a prefix length", fields[1]);
        return;
    }
    if (inet_pton(AF_INET, fields[2], &config.gateway) != 1) {
        refuse(id, "net: the gateway %s is not an IPv4 address", fields[2]);
        return;
    }
    size_t device_len = strlen(fields[0]);
    if (device_len == 0 || device_len >= IFNAMSIZ || strchr(fields[0], '/')) {
        refuse(id, "net: %s is not an interface name", fields[0]);
        return;
    }
    if (*args != '/') {
        refuse(id, "net: the namespace must be an absolute path, not %s", args);
        return;
    }
    start_job(id, net_job, &config);
}

/* `VERB ID ARGUMENTS`; a verb this launcher does not know is answered, so its caller never waits. */
static void handle_request(char *line) {
    char *space = strchr(line, ' ');
    if (!space) return;
    char *end;
    unsigned long id = strtoul(space + 1, &end, 10);
    if (end == space + 1 || *end != ' ' || end[1] == '\0') return;
    *space = '\0';
    if (!strcmp(line, "run"))
        start_job(id, run_job, end + 1);
    else if (!strcmp(line, "net"))
        start_net(id, end + 1);
    else
        refuse(id, "this launcher does not know %.32s requests", line);
}

int run_launcher(void) {
    /* Shims are our children until they end (or we do): let the kernel reap them. */
    struct sigaction reap = {.sa_handler = SIG_DFL, .sa_flags = SA_NOCLDWAIT};
    sigaction(SIGCHLD, &reap, NULL);
    signal(SIGPIPE, SIG_IGN);
    for (int i = 0; i < MAX_PENDING; i++) pending[i].fd = -1;
    char request[LINE_BYTES];
    size_t used = 0;
    int input_open = 1;
    while (input_open) {
        struct pollfd fds[1 + MAX_PENDING];
        fds[0] = (struct pollfd){.fd = 0, .events = POLLIN};
        for (int i = 0; i < MAX_PENDING; i++) fds[1 + i] = (struct pollfd){.fd = pending[i].fd, .events = POLLIN};
        if (poll(fds, 1 + MAX_PENDING, -1) < 0) {
            if (errno == EINTR) continue;
            die("poll: %s", strerror(errno));
        }
        for (int i = 0; i < MAX_PENDING; i++)
            if (fds[1 + i].revents && pending[i].fd >= 0) relay(&pending[i]);
        if (!fds[0].revents) continue;
        ssize_t n = read(0, request + used, sizeof(request) - 1 - used);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            input_open = 0;
            break;
        }
        used += (size_t)n;
        char *newline;
        while ((newline = memchr(request, '\n', used))) {
            *newline = '\0';
            handle_request(request);
            size_t taken = (size_t)(newline - request) + 1;
            memmove(request, request + taken, used - taken);
            used -= taken;
        }
        if (used == sizeof(request) - 1) used = 0; /* a line too long for any path: drop it */
    }
    return 0;
}
