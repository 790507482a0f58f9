/* The last steps before the user's program runs, shared by the container's init and by exec:
 * capabilities, identity, no_new_privs, working directory, file descriptors, execve. */
#include "shim.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

/* The bounding set first: it limits what execve can grant, not what we hold, so set_identity still
 * has CAP_SETUID and CAP_SETGID even when the container is to run without them (--cap-drop ALL). */
static void limit_bounding_set(uint64_t caps) {
    for (unsigned int cap = 0; cap < 64; cap++) {
        if (caps & (1ULL << cap)) continue;
        /* EINVAL: the kernel has no capability with this number. */
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
            child_fail("dropping capability %u from the bounding set: %s", cap, strerror(errno));
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        child_fail("clearing ambient capabilities: %s", strerror(errno));
}

/* After set_identity, for uid 0 only: leaving uid 0 has already emptied the permitted set. */
static void set_capabilities(uint64_t caps) {
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof(data));
    data[0].effective = data[0].permitted = (uint32_t)caps;
    data[1].effective = data[1].permitted = (uint32_t)(caps >> 32);
    if (syscall(SYS_capset, &header, data) < 0) child_fail("setting capabilities: %s", strerror(errno));
}

static void set_identity(const struct shim_process *p) {
    if (setgroups(p->ngroups, p->groups) < 0) child_fail("setgroups: %s", strerror(errno));
    if (setresgid(p->gid, p->gid, p->gid) < 0) child_fail("setting gid %u: %s", p->gid, strerror(errno));
    /* Leaving uid 0 clears the permitted and effective sets, as for any unprivileged process. */
    if (setresuid(p->uid, p->uid, p->uid) < 0) child_fail("setting uid %u: %s", p->uid, strerror(errno));
}

/* Only 0, 1 and 2 may survive execve: anything else could be a handle on the host. */
static void close_inherited_fds(void) {
    if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
    DIR *dir = opendir("/proc/self/fd");
    if (!dir) child_fail("listing open file descriptors: %s", strerror(errno));
    int own = dirfd(dir);
    struct dirent *entry;
    while ((entry = readdir(dir))) {
        int fd = atoi(entry->d_name);
        if (fd > 2 && fd != own && fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
            child_fail("marking fd %d close-on-exec: %s", fd, strerror(errno));
    }
    closedir(dir);
}

void take_controlling_tty(int slave_fd) {
    if (setsid() < 0) child_fail("setsid: %s", strerror(errno));
    if (ioctl(slave_fd, TIOCSCTTY, 0) < 0) child_fail("taking the terminal: %s", strerror(errno));
    for (int fd = 0; fd < 3; fd++)
        if (dup2(slave_fd, fd) < 0) child_fail("dup2 of the terminal: %s", strerror(errno));
    if (slave_fd > 2) close(slave_fd);
}

void exec_process(const struct shim_process *p) {
    int root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0) child_fail("opening /: %s", strerror(errno));
    const char *cwd = p->cwd ? p->cwd : "/";
    /* Resolved inside the root with magic links refused: WORKDIR /proc/self/fd/N cannot reach the host. */
    int cwd_fd = open_in_root(root_fd, cwd, CREATE_DIR);
    if (cwd_fd < 0)
        child_fail("working directory %s: %s (it must be a directory inside the container)", cwd, strerror(errno));
    struct stat st;
    if (fstat(cwd_fd, &st) < 0 || !S_ISDIR(st.st_mode))
        child_fail("working directory %s is not a directory inside the container", cwd);

    limit_bounding_set(p->caps);
    set_identity(p);
    if (p->uid == 0) set_capabilities(p->caps);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) child_fail("setting no_new_privs: %s", strerror(errno));
    if (fchdir(cwd_fd) < 0) child_fail("entering working directory %s: %s", cwd, strerror(errno));
    umask(022);
    close_inherited_fds();

    static char *empty_env[] = {NULL};
    environ = p->env ? p->env : empty_env;
    execvp(p->args[0], p->args);
    if (errno == ENOENT) child_fail("executable file not found: %s", p->args[0]);
    child_fail("cannot run %s: %s", p->args[0], strerror(errno));
}
