/* Putting a new process into the container's cgroups without paying for an RCU grace period.
 *
 * Writing another process's pid to cgroup.procs takes the kernel's global cgroup_threadgroup_rwsem
 * for writing, and taking that percpu semaphore waits for an RCU grace period: 5-20 ms on an idle
 * machine, which was most of a container start. Two ways around it, both used by the kernel's own
 * fast paths:
 *   - cgroup v1: a single-threaded process writing "0" (itself) to a hierarchy's `tasks` file skips
 *     the global lock (kernel/cgroup/cgroup.c, cgroup_procs_write_start). The shim opens the tasks
 *     files before cloning; the init writes "0" to each before it does anything else.
 *   - cgroup v2: clone3(CLONE_INTO_CGROUP) creates the init inside its cgroup, under a read lock
 *     (permission is the shim's, so this works with a user namespace too).
 * Where neither is possible (a user namespace on v1, a kernel without CLONE_INTO_CGROUP) the pid is
 * written to cgroup.procs the slow way, still before the user's program runs. */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int open_v1_tasks(const char *dir) {
    char path[4096];
    if ((size_t)snprintf(path, sizeof(path), "%s/tasks", dir) >= sizeof(path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return open(path, O_WRONLY | O_CLOEXEC);
}

void cgroup_join_prepare(const struct shim_config *c, struct cgroup_join *join) {
    memset(join, 0, sizeof(*join));
    join->v2_fd = -1;
    /* In a user namespace an older kernel checks the writer's own credentials, which are no longer
     * the host's root: let the shim, still root on the host, write the pid instead. */
    join->self = c->uid_map == NULL;
    if (join->self && c->ncgroup_v1 > 0) {
        join->v1_fds = calloc(c->ncgroup_v1, sizeof(int));
        if (!join->v1_fds) die("out of memory");
        for (size_t i = 0; i < c->ncgroup_v1; i++) {
            join->v1_fds[i] = open_v1_tasks(c->cgroup_v1[i]);
            if (join->v1_fds[i] < 0)
                die("opening the tasks file of cgroup %s: %s (was the cgroup created?)", c->cgroup_v1[i],
                    strerror(errno));
        }
        join->nv1 = c->ncgroup_v1;
    }
    if (c->cgroup_v2) {
        join->v2_fd = open(c->cgroup_v2, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (join->v2_fd < 0)
            die("opening cgroup %s: %s (was the cgroup created?)", c->cgroup_v2, strerror(errno));
    }
}

void cgroup_join_self(const struct cgroup_join *join, const struct shim_config *c) {
    for (size_t i = 0; i < join->nv1; i++) {
        if (write(join->v1_fds[i], "0", 1) != 1)
            child_fail("joining cgroup %s: %s", c->cgroup_v1[i], strerror(errno));
        close(join->v1_fds[i]);
    }
    if (!c->cgroup_v2 || join->joined_v2 || !join->self) return;
    /* A kernel without CLONE_INTO_CGROUP: the slow way, still before anything of the user's runs. */
    char path[4096];
    snprintf(path, sizeof(path), "%s/cgroup.procs", c->cgroup_v2);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "0", 1) != 1) child_fail("joining cgroup %s: %s", c->cgroup_v2, strerror(errno));
    close(fd);
}

void cgroup_join_release(struct cgroup_join *join) {
    for (size_t i = 0; i < join->nv1; i++) close(join->v1_fds[i]);
    free(join->v1_fds);
    join->v1_fds = NULL;
    join->nv1 = 0;
    if (join->v2_fd >= 0) close(join->v2_fd);
    join->v2_fd = -1;
}

pid_t clone_process(int flags, struct cgroup_join *join) {
    struct clone_args args;
    memset(&args, 0, sizeof(args));
    args.flags = (unsigned long long)(flags & ~CSIGNAL);
    args.exit_signal = SIGCHLD;
    if (join->v2_fd >= 0) {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = (unsigned long long)join->v2_fd;
    }
    /* Without a stack clone3 returns twice, like fork: 0 in the child. */
    long pid = syscall(SYS_clone3, &args, sizeof(args));
    if (pid >= 0) {
        join->joined_v2 = join->v2_fd >= 0;
        return (pid_t)pid;
    }
    /* ENOSYS: no clone3 (before 5.3); EINVAL or E2BIG: no CLONE_INTO_CGROUP (before 5.7). */
    if (errno != ENOSYS && errno != EINVAL && errno != E2BIG) return -1;
    args.flags &= ~CLONE_INTO_CGROUP;
    args.cgroup = 0;
    if (errno != ENOSYS) {
        pid = syscall(SYS_clone3, &args, sizeof(args));
        if (pid >= 0) return (pid_t)pid;
    }
    pid = syscall(SYS_clone, (unsigned long)(flags & ~CSIGNAL) | SIGCHLD, NULL, NULL, NULL, 0);
    return (pid_t)pid;
}

static void write_pid(const char *dir, const char *file, pid_t pid) {
    char path[4096], text[32];
    int len = snprintf(text, sizeof(text), "%d\n", (int)pid);
    if (dir) snprintf(path, sizeof(path), "%s/%s", dir, file);
    else snprintf(path, sizeof(path), "%s", file);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write_all(fd, text, (size_t)len) < 0) {
        int saved = errno;
        kill(pid, SIGKILL);
        die("putting the container into cgroup %s: %s", path, strerror(saved));
    }
    close(fd);
}

void cgroup_join_by_pid(const struct cgroup_join *join, const struct shim_config *c, pid_t pid) {
    for (size_t i = 0; i < c->ncgroup_procs; i++) write_pid(NULL, c->cgroup_procs[i], pid);
    if (!join->self)
        for (size_t i = 0; i < c->ncgroup_v1; i++) write_pid(c->cgroup_v1[i], "cgroup.procs", pid);
    if (!join->self && c->cgroup_v2 && !join->joined_v2) write_pid(c->cgroup_v2, "cgroup.procs", pid);
}
