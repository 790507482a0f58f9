/* `flotilla-shim exec DIR CONFIG`: runs one more process in a running container. It joins the
 * init's namespaces and forks (a pid namespace applies to children); the child joins the
 * container's cgroups as the init does (cgroup.c) and applies the same capabilities, identity and
 * no_new_privs before execve. It stays in the
 * foreground: the caller's stdio are the process's (non-tty), or it relays a pty from the
 * container's own devpts (tty), opened once it is in the container's mount namespace.
 * With a tty and piped stdio (the node agent), window sizes arrive as "ROWS COLS\n" lines on
 * RESIZE_FD. */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* The user namespace last: the others may be owned by the host's (a bridge network's namespace is),
 * and once inside the container's we would have no rights left over them. */
static const struct {
    const char *name;
    int type;
} namespaces[] = {{"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS}, {"net", CLONE_NEWNET},
                  {"pid", CLONE_NEWPID}, {"mnt", CLONE_NEWNS},  {"user", CLONE_NEWUSER}};
#define NAMESPACE_COUNT (sizeof(namespaces) / sizeof(namespaces[0]))

static pid_t running_init(const char *container_dir) {
    char path[4096], text[128];
    snprintf(path, sizeof(path), "%s/init.pid", container_dir);
    if (read_small_file(path, text, sizeof(text)) < 0)
        die("container in %s has no init.pid (%s): is it started?", container_dir, strerror(errno));
    int pid = 0;
    unsigned long long start = 0;
    if (sscanf(text, "%d %llu", &pid, &start) != 2 || pid <= 0) die("%s is malformed", path);
    char status[128];
    snprintf(status, sizeof(status), "%s/status", container_dir);
    if (access(status, F_OK) == 0 || process_start_time(pid) != start)
        die("the container in %s is not running", container_dir);
    return pid;
}

/* Same namespace as ours (e.g. --network host): joining it again is pointless, and for a user
 * namespace an error. */
static int same_namespace(int fd, const char *name) {
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/ns/%s", name);
    struct stat ours, theirs;
    return stat(path, &ours) == 0 && fstat(fd, &theirs) == 0 && ours.st_ino == theirs.st_ino &&
           ours.st_dev == theirs.st_dev;
}

static int exit_code_of(int status) {
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

static void copy_window_size(int master_fd) {
    struct winsize size;
    if (ioctl(0, TIOCGWINSZ, &size) == 0) (void)ioctl(master_fd, TIOCSWINSZ, &size);
}

/* Applies every complete "ROWS COLS" line in the buffer; keeps a partial line for the next read.
 * Returns 0 while the channel is open, -1 once it has ended. */
static int read_resizes(int resize_fd, int master_fd, char *buffer, size_t *used, size_t size) {
    ssize_t n = read(resize_fd, buffer + *used, size - 1 - *used);
    if (n < 0 && errno == EINTR) return 0;
    if (n <= 0) return -1;
    *used += (size_t)n;
    buffer[*used] = '\0';
    char *line = buffer, *newline;
    while ((newline = strchr(line, '\n')) != NULL) {
        *newline = '\0';
        unsigned rows = 0, columns = 0;
        if (sscanf(line, "%u %u", &rows, &columns) == 2 && rows > 0 && columns > 0 && rows < 65536 &&
            columns < 65536 && master_fd >= 0) {
            struct winsize size = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)columns};
            (void)ioctl(master_fd, TIOCSWINSZ, &size);
        }
        line = newline + 1;
    }
    *used = strlen(line);
    memmove(buffer, line, *used);
    /* A line longer than the buffer is nonsense: drop it rather than stall. */
    if (*used >= size - 1) *used = 0;
    return 0;
}

int exec_in_container(const char *container_dir, const char *exec_config_path, int resize_fd) {
    static struct shim_config config;
    char err[4096];
    if (config_load(exec_config_path, &config, err, sizeof(err)) < 0) die("%s", err);
    const struct shim_process *p = &config.process;
    pid_t init = running_init(container_dir);

    int ns_fds[NAMESPACE_COUNT];
    for (size_t i = 0; i < NAMESPACE_COUNT; i++) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)init, namespaces[i].name);
        ns_fds[i] = open(path, O_RDONLY | O_CLOEXEC);
        if (ns_fds[i] < 0) die("opening %s: %s", path, strerror(errno));
        if (same_namespace(ns_fds[i], namespaces[i].name)) {
            close(ns_fds[i]);
            ns_fds[i] = -1;
        }
    }
    char pid_text[32];
    int pid_len = snprintf(pid_text, sizeof(pid_text), "%d\n", (int)getpid());
    for (size_t i = 0; i < config.ncgroup_procs; i++) {
        int fd = open(config.cgroup_procs[i], O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write_all(fd, pid_text, (size_t)pid_len) < 0)
            die("joining cgroup %s: %s", config.cgroup_procs[i], strerror(errno));
        close(fd);
    }
    /* The process joins the container's cgroups itself, as the init does (see cgroup.c). */
    struct cgroup_join join;
    cgroup_join_prepare(&config, &join);
    for (size_t i = 0; i < NAMESPACE_COUNT; i++) {
        if (ns_fds[i] < 0) continue;
        if (setns(ns_fds[i], namespaces[i].type) < 0)
            die("joining the container's %s namespace: %s", namespaces[i].name, strerror(errno));
        close(ns_fds[i]);
    }
    int master_fd = -1, slave_fd = -1;
    if (p->tty) {
        /* Now inside the container's mount namespace: its own devpts, so `tty` names /dev/pts/N. */
        if (open_devpts_pty(&master_fd, &slave_fd, err, sizeof(err)) < 0) die("%s", err);
        /* As runc does for stdio: the process's user owns its terminal, so it can reopen /dev/tty. */
        if (p->uid != 0 && fchown(slave_fd, p->uid, (gid_t)-1) < 0)
            die("giving the terminal to uid %u: %s", (unsigned)p->uid, strerror(errno));
    }

    sigset_t handled, previous;
    sigemptyset(&handled);
    int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
    for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++) sigaddset(&handled, forwarded[i]);
    sigaddset(&handled, SIGCHLD);
    sigaddset(&handled, SIGWINCH);
    if (sigprocmask(SIG_BLOCK, &handled, &previous) < 0) die("sigprocmask: %s", strerror(errno));
    int signal_fd = signalfd(-1, &handled, SFD_CLOEXEC);
    if (signal_fd < 0) die("signalfd: %s", strerror(errno));
    int error_pipe[2];
    if (pipe2(error_pipe, O_CLOEXEC) < 0) die("pipe: %s", strerror(errno));

    pid_t child = clone_process(0, &join);
    if (child < 0) die("fork: %s", strerror(errno));
    if (child == 0) {
        sigprocmask(SIG_SETMASK, &previous, NULL);
        child_set_error_fd(error_pipe[1]);
        cgroup_join_self(&join, &config);
        if (slave_fd >= 0) take_controlling_tty(slave_fd);
        exec_process(p);
    }
    close(error_pipe[1]);
    cgroup_join_release(&join);
    if (slave_fd >= 0) close(slave_fd);
    char failure[4096];
    ssize_t failure_len;
    do failure_len = read(error_pipe[0], failure, sizeof(failure) - 1);
    while (failure_len < 0 && errno == EINTR);
    close(error_pipe[0]);
    if (failure_len > 0) {
        failure[failure_len] = '\0';
        fprintf(stderr, "flotilla-shim: %s\n", failure);
        int status = 0;
        while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
        }
        return exit_code_of(status);
    }

    struct termios saved_terminal;
    int restore_terminal = 0;
    if (master_fd >= 0 && isatty(0) && tcgetattr(0, &saved_terminal) == 0) {
        struct termios raw = saved_terminal;
        cfmakeraw(&raw);
        restore_terminal = tcsetattr(0, TCSANOW, &raw) == 0;
        copy_window_size(master_fd);
    }
    int status = 0, exited = 0, stdin_open = master_fd >= 0;
    if (master_fd < 0 && resize_fd >= 0) {
        close(resize_fd);
        resize_fd = -1;
    }
    char resize_buffer[128];
    size_t resize_used = 0;
    while (!exited || master_fd >= 0) {
        struct pollfd fds[4] = {{.fd = signal_fd, .events = POLLIN},
                                {.fd = stdin_open ? 0 : -1, .events = POLLIN},
                                {.fd = master_fd, .events = POLLIN},
                                {.fd = resize_fd, .events = POLLIN}};
        /* Once the process is gone, whatever it wrote is still in the pty: drain it, briefly. */
        int ready = poll(fds, 4, exited ? 200 : -1);
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) break;
        if (fds[0].revents) {
            struct signalfd_siginfo info;
            if (read(signal_fd, &info, sizeof(info)) == sizeof(info)) {
                if (info.ssi_signo == SIGWINCH) {
                    if (master_fd >= 0) copy_window_size(master_fd);
                } else if (info.ssi_signo == SIGCHLD) {
                    if (waitpid(child, &status, WNOHANG) == child) exited = 1;
                } else {
                    kill(child, (int)info.ssi_signo);
                }
            }
        }
        if (fds[3].revents &&
            read_resizes(resize_fd, master_fd, resize_buffer, &resize_used, sizeof(resize_buffer)) < 0) {
            close(resize_fd);
            resize_fd = -1;
        }
        char data[16384];
        if (fds[1].revents) {
            ssize_t n = read(0, data, sizeof(data));
            if (n > 0) (void)write_all(master_fd, data, (size_t)n);
            else if (n == 0 || errno != EINTR) stdin_open = 0;
        }
        if (fds[2].revents) {
            ssize_t n = read(master_fd, data, sizeof(data));
            if (n > 0) {
                (void)write_all(1, data, (size_t)n);
            } else if (n == 0 || errno != EINTR) {
                close(master_fd);
                master_fd = -1;
            }
        }
    }
    if (!exited) {
        while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
        }
    }
    if (restore_terminal) tcsetattr(0, TCSANOW, &saved_terminal);
    return exit_code_of(status);
}
