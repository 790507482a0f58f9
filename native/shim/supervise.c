/* `flotilla-shim run DIR [STATUS_FD]`: daemonizes, clones the container's init into new namespaces,
 * puts it in its cgroups before it may continue, then stays as its parent: copies its output to the
 * log in CRI format, relays the pty to attach clients, forwards signals, reaps it and records how it
 * ended. Files live in DIR: shim.conf (input), shim.pid, init.pid, container.log, attach.sock (the
 * terminal with a tty; stdin with `stdin=1` and no tty), status (output, written once the init has
 * exited). An exit command, when configured, then replaces the shim. */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 16384
#define MAX_CLIENTS 16
#define ATTACH_WAIT_MS 10000
#define DRAIN_AFTER_EXIT_MS 5000

extern char **environ;

/* Attach protocol, client to shim: a type byte, a 32-bit big-endian length, the payload. */
enum { FRAME_STDIN = 0, FRAME_RESIZE = 1, FRAME_CLOSE_STDIN = 2 };

struct log_stream {
    int fd;
    const char *name;
    size_t used;
    char line[LINE_MAX_BYTES];
};

struct client {
    int fd;
    size_t used;
    size_t stdin_done; /* bytes of the first buffered stdin frame already in the pipe */
    int stalled;       /* waiting for the container to read its stdin before taking more */
    unsigned char buf[8192];
};

struct child_args {
    const struct shim_config *config;
    const struct cgroup_join *join;
    int sync_fd, error_fd, stdin_fd, stdout_fd, stderr_fd, console_fd;
    int rootfs_fd; /* with a user namespace and an overlay: the socket the idmapped root arrives on */
    int sync_writer; /* the shim's end of sync_fd, inherited by the clone */
};

/* A network namespace the container joins (not "new", not "host"). */
static int joins_netns(const struct shim_config *c) {
    return c->netns && strcmp(c->netns, "new") && strcmp(c->netns, "host");
}

static int log_fd = -1;
/* run -i without a tty: the write end of the init's stdin pipe, non-blocking. */
static int stdin_writer = -1;

/* A fresh network namespace has only a loopback interface, and it is down: as with Docker's
 * --network none, programs expect 127.0.0.1 to work. */
static void bring_loopback_up(void) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) child_fail("socket for the loopback interface: %s", strerror(errno));
    struct ifreq request;
    memset(&request, 0, sizeof(request));
    strcpy(request.ifr_name, "lo");
    if (ioctl(fd, SIOCGIFFLAGS, &request) < 0) child_fail("reading the loopback flags: %s", strerror(errno));
    request.ifr_flags |= IFF_UP;
    if (ioctl(fd, SIOCSIFFLAGS, &request) < 0) child_fail("bringing the loopback up: %s", strerror(errno));
    close(fd);
}

/* The terminal comes from the container's own devpts (so `tty` names /dev/pts/0 inside), opened
 * after pivot_root; the master goes to the parent over the console socket (SCM_RIGHTS). */
static int open_container_pty(int console_fd) {
    int master, slave;
    char err[256];
    if (open_devpts_pty(&master, &slave, err, sizeof(err)) < 0) child_fail("%s", err);
    if (send_fd(console_fd, master) < 0) child_fail("handing the terminal to the shim: %s", strerror(errno));
    close(master);
    close(console_fd);
    return slave;
}

static int child_main(void *arg) {
    struct child_args *a = arg;
    const struct shim_config *c = a->config;
    child_set_error_fd(a->error_fd);
    /* Our copy of the shim's end would keep the pipe open: a shim that dies before releasing us
     * (an id map or the idmapped root refused) must end us, not leave us waiting in our namespaces. */
    close(a->sync_writer);
    char go;
    ssize_t n;
    do n = read(a->sync_fd, &go, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1) _exit(1); /* the shim died before releasing us */
    trace_mark("init released");
    cgroup_join_self(a->join, c);
    trace_mark("init in its cgroups");
    int root_mount_fd = -1;
    if (a->rootfs_fd >= 0) {
        root_mount_fd = receive_fd(a->rootfs_fd);
        if (root_mount_fd < 0) child_fail("receiving the idmapped root from the shim: %s", strerror(errno));
        close(a->rootfs_fd);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    umask(0);

    /* In a user namespace the shim put us in the network namespace already (see run_container). */
    if (joins_netns(c) && !c->uid_map) {
        int ns = open(c->netns, O_RDONLY | O_CLOEXEC);
        if (ns < 0) child_fail("opening network namespace %s: %s", c->netns, strerror(errno));
        if (setns(ns, CLONE_NEWNET) < 0) child_fail("joining network namespace %s: %s", c->netns, strerror(errno));
        close(ns);
    }
    if (!c->netns || !strcmp(c->netns, "new")) bring_loopback_up();
    setup_rootfs(c, root_mount_fd);
    trace_mark("init rootfs ready");
    if (c->hostname && sethostname(c->hostname, strlen(c->hostname)) < 0)
        child_fail("setting hostname %s: %s", c->hostname, strerror(errno));
    if (a->console_fd >= 0) {
        take_controlling_tty(open_container_pty(a->console_fd));
        /* Held until the parent has the master and, with wait_attach, the first client's size. */
        char again;
        do n = read(a->sync_fd, &again, 1);
        while (n < 0 && errno == EINTR);
        if (n != 1) _exit(1);
    } else if (dup2(a->stdin_fd, 0) < 0 || dup2(a->stdout_fd, 1) < 0 || dup2(a->stderr_fd, 2) < 0) {
        child_fail("connecting standard streams: %s", strerror(errno));
    }
    exec_process(&c->process);
}

static void log_line(struct log_stream *s, int partial) {
    if (log_fd < 0) return;
    size_t len = s->used;
    if (!partial && len > 0 && s->line[len - 1] == '\r') len--; /* terminals end lines with \r\n */
    char stamp[64];
    format_timestamp(stamp, sizeof(stamp));
    char head[128];
    int head_len = snprintf(head, sizeof(head), "%s %s %s ", stamp, s->name, partial ? "P" : "F");
    struct iovec parts[3] = {{head, (size_t)head_len}, {s->line, len}, {"\n", 1}};
    if (writev(log_fd, parts, 3) < 0) fprintf(stderr, "flotilla-shim: writing the log: %s\n", strerror(errno));
    s->used = 0;
}

static void log_feed(struct log_stream *s, const char *data, size_t len) {
    while (len > 0) {
        const char *newline = memchr(data, '\n', len);
        size_t take = newline ? (size_t)(newline - data) : len;
        size_t room = sizeof(s->line) - s->used;
        if (take > room) {
            memcpy(s->line + s->used, data, room);
            s->used += room;
            data += room;
            len -= room;
            log_line(s, 1);
            continue;
        }
        memcpy(s->line + s->used, data, take);
        s->used += take;
        data += take;
        len -= take;
        if (newline) {
            log_line(s, 0);
            data++;
            len--;
        }
    }
}

static void close_stream(struct log_stream *s) {
    if (s->used > 0) log_line(s, 0);
    close(s->fd);
    s->fd = -1;
}

static void drop_client(struct client *c) {
    close(c->fd);
    c->fd = -1;
    c->used = 0;
    c->stdin_done = 0;
    c->stalled = 0;
}

static void close_stdin_writer(void) {
    if (stdin_writer >= 0) close(stdin_writer);
    stdin_writer = -1;
}

/* Writes the rest of one stdin frame to the pipe; 0 when done, -1 when the pipe is full (the
 * container has not read yet: the client waits, nothing is dropped). */
static int feed_stdin(struct client *c, const unsigned char *payload, size_t len) {
    while (c->stdin_done < len) {
        ssize_t n = write(stdin_writer, payload + c->stdin_done, len - c->stdin_done);
        if (n > 0) {
            c->stdin_done += (size_t)n;
        } else if (n < 0 && errno == EAGAIN) {
            return -1;
        } else if (!(n < 0 && errno == EINTR)) {
            close_stdin_writer(); /* EPIPE: the container closed its stdin; the rest has no reader */
            break;
        }
    }
    c->stdin_done = 0;
    return 0;
}

static void broadcast(struct client *clients, const char *data, size_t len) {
    for (int i = 0; i < MAX_CLIENTS; i++) {
        if (clients[i].fd < 0) continue;
        /* A client that cannot keep up is dropped rather than allowed to stall the container. */
        if (send(clients[i].fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)len) drop_client(&clients[i]);
    }
}

/* Acts on the complete frames buffered for a client, stopping at stdin the pipe cannot take yet. */
static void deliver_frames(struct client *c, int master_fd) {
    size_t at = 0;
    c->stalled = 0;
    while (c->used - at >= 5) {
        unsigned char type = c->buf[at];
        uint32_t len = ((uint32_t)c->buf[at + 1] << 24) | ((uint32_t)c->buf[at + 2] << 16) |
                       ((uint32_t)c->buf[at + 3] << 8) | c->buf[at + 4];
        if (len > sizeof(c->buf) - 5) {
            drop_client(c);
            return;
        }
        if (c->used - at - 5 < len) break;
        unsigned char *payload = c->buf + at + 5;
        if (type == FRAME_STDIN && stdin_writer >= 0) {
            if (feed_stdin(c, payload, len) < 0) {
                c->stalled = 1;
                break;
            }
        } else if (type == FRAME_STDIN && master_fd >= 0) {
            /* Input the container does not read is dropped, never allowed to block the shim. */
            (void)write_all(master_fd, payload, len);
        } else if (type == FRAME_CLOSE_STDIN) {
            close_stdin_writer();
        } else if (type == FRAME_RESIZE && len == 4 && master_fd >= 0) {
            struct winsize size = {.ws_row = (unsigned short)((payload[0] << 8) | payload[1]),
                                   .ws_col = (unsigned short)((payload[2] << 8) | payload[3])};
            (void)ioctl(master_fd, TIOCSWINSZ, &size);
        }
        at += 5 + len;
    }
    memmove(c->buf, c->buf + at, c->used - at);
    c->used -= at;
}

static void client_input(struct client *c, int master_fd) {
    ssize_t n = read(c->fd, c->buf + c->used, sizeof(c->buf) - c->used);
    if (n <= 0) {
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
        drop_client(c);
        return;
    }
    c->used += (size_t)n;
    deliver_frames(c, master_fd);
}

static void accept_client(int listen_fd, struct client *clients) {
    int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;
    for (int i = 0; i < MAX_CLIENTS; i++) {
        if (clients[i].fd < 0) {
            clients[i].fd = fd;
            clients[i].used = 0;
            clients[i].stdin_done = 0;
            clients[i].stalled = 0;
            return;
        }
    }
    close(fd);
}

static int oom_killed(const char *oom_file) {
    char text[4096];
    if (!oom_file || read_small_file(oom_file, text, sizeof(text)) < 0) return 0;
    for (char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (!strncmp(line, "oom_kill ", 9)) return strtoull(line + 9, NULL, 10) > 0;
    }
    return 0;
}

static void write_status(const struct shim_config *c, int wait_status, const char *error) {
    char finished[64], content[8192];
    format_timestamp(finished, sizeof(finished));
    int signal_number = WIFSIGNALED(wait_status) ? WTERMSIG(wait_status) : 0;
    int exit_code = error ? 127 : signal_number ? 128 + signal_number : WEXITSTATUS(wait_status);
    snprintf(content, sizeof(content), "exit_code=%d\nsignal=%d\noom_killed=%d\nfinished_at=%s\n%s%s%s", exit_code,
             signal_number, oom_killed(c->oom_file), finished, error ? "error=" : "", error ? error : "",
             error ? "\n" : "");
    if (write_file_atomic("status", content) < 0)
        fprintf(stderr, "flotilla-shim: writing the status file: %s\n", strerror(errno));
}

static void write_pid_file(const char *name, pid_t pid) {
    char content[64];
    snprintf(content, sizeof(content), "%d %llu\n", (int)pid, process_start_time(pid));
    if (write_file_atomic(name, content) < 0) die("writing %s: %s", name, strerror(errno));
}

static void daemonize(int fork_first) {
    /* Spawned directly, the shim forks so that its spawner's wait returns at once; a child of the
     * resident launcher, which reaps without waiting, need not. */
    pid_t pid = fork_first ? fork() : 0;
    if (pid < 0) die("fork: %s", strerror(errno));
    if (pid > 0) _exit(0);
    /* Our own session: the launcher's exit or its terminal's hang-up does not reach us. */
    if (setsid() < 0) die("setsid: %s", strerror(errno));
    int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    int err_fd = open("shim.log", O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (null_fd < 0 || err_fd < 0) die("opening /dev/null and shim.log: %s", strerror(errno));
    if (dup2(null_fd, 0) < 0 || dup2(null_fd, 1) < 0 || dup2(err_fd, 2) < 0) die("dup2: %s", strerror(errno));
    close(null_fd);
    close(err_fd);
}

static int open_attach_socket(void) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) die("socket: %s", strerror(errno));
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    strcpy(address.sun_path, "attach.sock"); /* relative: we run inside the container dir */
    unlink(address.sun_path);
    if (bind(fd, (struct sockaddr *)&address, sizeof(address)) < 0 || listen(fd, MAX_CLIENTS) < 0)
        die("listening on attach.sock: %s", strerror(errno));
    return fd;
}

static void write_id_map(pid_t pid, const char *name, const char *map) {
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write_all(fd, map, strlen(map)) < 0) die("writing %s \"%s\": %s", name, map, strerror(errno));
    close(fd);
}

/* The first client's first frame is its window size: applying it before the init runs means the
 * program's first look at the terminal already sees the right size. */
static void wait_for_first_client(int listen_fd, struct client *clients, int master_fd) {
    struct pollfd pfd = {.fd = listen_fd, .events = POLLIN};
    if (poll(&pfd, 1, ATTACH_WAIT_MS) <= 0) return;
    accept_client(listen_fd, clients);
    if (clients[0].fd < 0) return;
    struct pollfd first = {.fd = clients[0].fd, .events = POLLIN};
    if (poll(&first, 1, ATTACH_WAIT_MS) > 0) client_input(&clients[0], master_fd);
}

/* The exit command replaces the shim once the status is on disk (podman's conmon does the same), so
 * whoever asked for it, e.g. `run -d --rm`, has the container removed although nobody waits. */
static void run_exit_command(const struct shim_config *c) {
    if (c->nexit_args == 0) return;
    static char *empty_env[] = {NULL};
    environ = c->exit_env ? c->exit_env : empty_env;
    execv(c->exit_args[0], c->exit_args);
    fprintf(stderr, "flotilla-shim: running the exit command %s: %s\n", c->exit_args[0], strerror(errno));
}

int run_container(const char *container_dir, int status_fd, int fork_first) {
    set_report_fd(status_fd);
    if (chdir(container_dir) < 0) die("container directory %s: %s", container_dir, strerror(errno));
    static struct shim_config config;
    char err[4096];
    if (config_load("shim.conf", &config, err, sizeof(err)) < 0) die("%s", err);
    const struct shim_config *c = &config;
    trace_mark("shim config read");
    daemonize(fork_first);

    sigset_t handled;
    sigemptyset(&handled);
    int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
    for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++) sigaddset(&handled, forwarded[i]);
    sigaddset(&handled, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &handled, NULL) < 0) die("sigprocmask: %s", strerror(errno));
    signal(SIGPIPE, SIG_IGN);
    int signal_fd = signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK);
    if (signal_fd < 0) die("signalfd: %s", strerror(errno));

    log_fd = open(c->log_path ? c->log_path : "container.log", O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (log_fd < 0) die("opening the log: %s", strerror(errno));

    int sync_pipe[2], error_pipe[2], out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
    int master_fd = -1, stdin_fd = -1, listen_fd = -1;
    if (pipe2(sync_pipe, O_CLOEXEC) < 0 || pipe2(error_pipe, O_CLOEXEC) < 0) die("pipe: %s", strerror(errno));
    int console[2] = {-1, -1};
    if (c->process.tty) {
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, console) < 0) die("socketpair: %s", strerror(errno));
        listen_fd = open_attach_socket();
    } else {
        if (pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0) die("pipe: %s", strerror(errno));
        if (c->open_stdin) {
            int in_pipe[2];
            if (pipe2(in_pipe, O_CLOEXEC) < 0) die("pipe: %s", strerror(errno));
            stdin_fd = in_pipe[0];
            stdin_writer = in_pipe[1];
            fcntl(stdin_writer, F_SETFL, O_NONBLOCK);
            listen_fd = open_attach_socket();
        } else {
            stdin_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
            if (stdin_fd < 0) die("opening /dev/null: %s", strerror(errno));
        }
    }

    int flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC;
    if (!c->netns || !strcmp(c->netns, "new")) flags |= CLONE_NEWNET;
    if (c->uid_map) flags |= CLONE_NEWUSER;
    int rootfs_socket[2] = {-1, -1};
    if (c->uid_map && c->overlay && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, rootfs_socket) < 0)
        die("socketpair: %s", strerror(errno));
    /* A process in a new user namespace may not join a network namespace the host's owns, so the
     * shim enters it for the clone (the init inherits it) and returns to its own. */
    int shim_netns = -1;
    if (c->uid_map && joins_netns(c)) {
        shim_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        int ns = open(c->netns, O_RDONLY | O_CLOEXEC);
        if (shim_netns < 0 || ns < 0) die("opening network namespace %s: %s", c->netns, strerror(errno));
        if (setns(ns, CLONE_NEWNET) < 0) die("joining network namespace %s: %s", c->netns, strerror(errno));
        close(ns);
    }
    struct cgroup_join join;
    cgroup_join_prepare(c, &join);
    struct child_args args = {c,           &join,       sync_pipe[0],     error_pipe[1], stdin_fd,
                              out_pipe[1], err_pipe[1], console[1],       rootfs_socket[1], sync_pipe[1]};
    trace_mark("shim cloning");
    pid_t init = clone_process(flags, &join);
    if (init < 0) die("clone: %s (are namespaces available to root here?)", strerror(errno));
    if (init == 0) _exit(child_main(&args));
    trace_mark("shim cloned");
    if (shim_netns >= 0) {
        if (setns(shim_netns, CLONE_NEWNET) < 0) die("returning to the shim's network namespace: %s", strerror(errno));
        close(shim_netns);
    }
    if (rootfs_socket[1] >= 0) close(rootfs_socket[1]);
    close(sync_pipe[0]);
    close(error_pipe[1]);
    if (console[1] >= 0) close(console[1]);
    if (stdin_fd >= 0) close(stdin_fd);
    if (out_pipe[1] >= 0) close(out_pipe[1]);
    if (err_pipe[1] >= 0) close(err_pipe[1]);

    if (c->uid_map) {
        write_id_map(init, "uid_map", c->uid_map);
        write_id_map(init, "gid_map", c->gid_map);
    }
    if (rootfs_socket[0] >= 0) {
        int root_mount = build_idmapped_overlay(c, init);
        if (send_fd(rootfs_socket[0], root_mount) < 0) die("handing the idmapped root to the init: %s", strerror(errno));
        close(root_mount);
        close(rootfs_socket[0]);
    }
    cgroup_join_by_pid(&join, c, init);
    cgroup_join_release(&join);
    report("created %d", (int)init);

    struct client clients[MAX_CLIENTS];
    for (int i = 0; i < MAX_CLIENTS; i++) clients[i].fd = -1;
    if (write_all(sync_pipe[1], "g", 1) < 0) die("releasing the container: %s", strerror(errno));
    /* Written while the init sets up its root on the other CPU; "started" is reported after them. */
    write_pid_file("shim.pid", getpid());
    write_pid_file("init.pid", init);
    if (console[0] >= 0) {
        master_fd = receive_fd(console[0]); /* -1: the child failed before sending it */
        close(console[0]);
        /* No master: the child failed on the way; the error pipe says why. */
        if (master_fd >= 0) {
            if (c->wait_attach) wait_for_first_client(listen_fd, clients, master_fd);
            if (write_all(sync_pipe[1], "g", 1) < 0) die("releasing the container: %s", strerror(errno));
        }
    }
    close(sync_pipe[1]);

    /* The error pipe closes on a successful execve; anything read from it is why the start failed. */
    char failure[4096];
    size_t failure_len = 0;
    ssize_t n;
    while ((n = read(error_pipe[0], failure + failure_len, sizeof(failure) - 1 - failure_len)) != 0) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        failure_len += (size_t)n;
    }
    close(error_pipe[0]);
    failure[failure_len] = '\0';
    if (failure_len > 0) {
        int status = 0;
        while (waitpid(init, &status, 0) < 0 && errno == EINTR) {
        }
        write_status(c, status, failure);
        report("error %s", failure);
        if (listen_fd >= 0) unlink("attach.sock");
        return 1;
    }
    trace_mark("shim saw the exec");
    report("started");
    close_report();

    struct log_stream streams[2];
    int nstreams = 0;
    if (master_fd >= 0) {
        streams[nstreams++] = (struct log_stream){.fd = master_fd, .name = "stdout"};
        fcntl(master_fd, F_SETFL, O_NONBLOCK);
    } else {
        streams[nstreams++] = (struct log_stream){.fd = out_pipe[0], .name = "stdout"};
        streams[nstreams++] = (struct log_stream){.fd = err_pipe[0], .name = "stderr"};
    }

    int init_status = 0, init_exited = 0;
    struct timespec exited_at = {0, 0};
    for (;;) {
        struct pollfd fds[2 + 2 + MAX_CLIENTS + 1];
        int count = 0, open_streams = 0;
        fds[count++] = (struct pollfd){.fd = signal_fd, .events = POLLIN};
        for (int i = 0; i < nstreams; i++) {
            fds[count++] = (struct pollfd){.fd = streams[i].fd, .events = POLLIN};
            if (streams[i].fd >= 0) open_streams++;
        }
        fds[count++] = (struct pollfd){.fd = init_exited ? -1 : listen_fd, .events = POLLIN};
        int any_stalled = 0;
        for (int i = 0; i < MAX_CLIENTS; i++) {
            /* A stalled client is not read from: its input waits in the socket (back-pressure). */
            int readable = clients[i].fd >= 0 && !clients[i].stalled;
            any_stalled |= clients[i].fd >= 0 && clients[i].stalled;
            fds[count++] = (struct pollfd){.fd = readable ? clients[i].fd : -1, .events = POLLIN};
        }
        fds[count++] = (struct pollfd){.fd = any_stalled ? stdin_writer : -1, .events = POLLOUT};
        int timeout = -1;
        if (init_exited) {
            if (open_streams == 0) break;
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            long waited = (now.tv_sec - exited_at.tv_sec) * 1000 + (now.tv_nsec - exited_at.tv_nsec) / 1000000;
            if (waited >= DRAIN_AFTER_EXIT_MS) break;
            timeout = (int)(DRAIN_AFTER_EXIT_MS - waited);
        }
        if (poll(fds, (nfds_t)count, timeout) < 0) {
            if (errno == EINTR) continue;
            die("poll: %s", strerror(errno));
        }
        if (fds[0].revents) {
            struct signalfd_siginfo info;
            while (read(signal_fd, &info, sizeof(info)) == sizeof(info)) {
                if (info.ssi_signo != SIGCHLD) {
                    if (!init_exited) kill(init, (int)info.ssi_signo);
                    continue;
                }
                int status;
                pid_t reaped;
                while ((reaped = waitpid(-1, &status, WNOHANG)) > 0) {
                    if (reaped != init) continue;
                    init_status = status;
                    init_exited = 1;
                    trace_mark("init exited");
                    close_stdin_writer();
                    clock_gettime(CLOCK_MONOTONIC, &exited_at);
                }
            }
        }
        for (int i = 0; i < nstreams; i++) {
            if (!fds[1 + i].revents || streams[i].fd < 0) continue;
            char data[65536];
            ssize_t got = read(streams[i].fd, data, sizeof(data));
            if (got > 0) {
                log_feed(&streams[i], data, (size_t)got);
                if (master_fd >= 0) broadcast(clients, data, (size_t)got);
            } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
                /* EIO on a pty master means every slave is closed: the same as end of file. */
                close_stream(&streams[i]);
                if (streams[i].fd == -1 && i == 0 && master_fd >= 0) master_fd = -1;
            }
        }
        int base = 1 + nstreams;
        if (fds[base].revents) accept_client(listen_fd, clients);
        for (int i = 0; i < MAX_CLIENTS; i++) {
            if (fds[base + 1 + i].revents && clients[i].fd >= 0) client_input(&clients[i], master_fd);
        }
        if (fds[base + 1 + MAX_CLIENTS].revents) {
            for (int i = 0; i < MAX_CLIENTS; i++)
                if (clients[i].fd >= 0 && clients[i].stalled) deliver_frames(&clients[i], master_fd);
        }
    }
    for (int i = 0; i < nstreams; i++)
        if (streams[i].fd >= 0) close_stream(&streams[i]);
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (clients[i].fd >= 0) drop_client(&clients[i]);
    if (listen_fd >= 0) unlink("attach.sock");
    write_status(c, init_status, NULL);
    trace_mark("shim wrote the status");
    run_exit_command(c);
    return 0;
}
