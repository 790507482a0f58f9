/* The container's filesystem, set up by the init inside its new mount namespace before pivot_root.
 * Every mount target is resolved inside the new root with openat2(RESOLVE_IN_ROOT) and refuses
 * magic links, so an image cannot point a mount or a device node at the host: a symlinked /dev,
 * /dev/null, /proc or volume target resolves inside the container or fails. */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static int openat2_in_root(int root_fd, const char *path) {
    struct open_how how = {
        .flags = O_PATH | O_CLOEXEC,
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    return (int)syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
}

/* Symlinks met while creating are followed inside the root (an image may point /dev elsewhere in
 * itself); this bounds how many, as the kernel's own 40. */
#define MAX_LINK_DEPTH 40

static int open_in_root_at_depth(int root_fd, const char *path, int create_kind, int depth) {
    while (*path == '/') path++;
    if (*path == '\0') path = ".";
    int fd = openat2_in_root(root_fd, path);
    if (fd >= 0 || errno != ENOENT || create_kind == OPEN_EXISTING) return fd;

    char parent[4096];
    if (strlen(path) >= sizeof(parent)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(parent, path);
    char *slash = strrchr(parent, '/');
    const char *last = slash ? slash + 1 : parent;
    if (slash) *slash = '\0';
    if (!strcmp(last, ".") || !strcmp(last, "..") || *last == '\0') {
        errno = EINVAL;
        return -1;
    }
    int parent_fd = open_in_root_at_depth(root_fd, slash ? parent : ".", CREATE_DIR, depth);
    if (parent_fd < 0) return -1;
    int made;
    if (create_kind == CREATE_DIR) {
        made = mkdirat(parent_fd, last, 0755);
    } else {
        made = openat(parent_fd, last, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (made >= 0) made = close(made);
    }
    if (made < 0 && errno == EEXIST) {
        /* A dangling symlink: create what it names, resolved inside the root like everything else. */
        char link[4096], target[8192];
        ssize_t length = readlinkat(parent_fd, last, link, sizeof(link) - 1);
        close(parent_fd);
        if (length < 0) {
            errno = EEXIST;
            return -1;
        }
        if (depth >= MAX_LINK_DEPTH) {
            errno = ELOOP;
            return -1;
        }
        link[length] = '\0';
        snprintf(target, sizeof(target), "%s/%s", link[0] == '/' || !slash ? "" : parent, link);
        return open_in_root_at_depth(root_fd, target, create_kind, depth + 1);
    }
    int saved = errno;
    close(parent_fd);
    if (made < 0) {
        errno = saved;
        return -1;
    }
    /* Resolve again from the root: what now exists there may be a symlink the image put in place. */
    return openat2_in_root(root_fd, path);
}

int open_in_root(int root_fd, const char *path, int create_kind) {
    return open_in_root_at_depth(root_fd, path, create_kind, 0);
}

static void fd_path(char *buf, size_t len, int fd) { snprintf(buf, len, "/proc/self/fd/%d", fd); }

static int open_target(int root_fd, const char *path, int create_kind) {
    int fd = open_in_root(root_fd, path, create_kind);
    if (fd < 0)
        child_fail("cannot use %s inside the container as a mount point: %s (a symlink out of the root "
                   "or through /proc is refused)",
                   path, strerror(errno));
    return fd;
}

static void mount_at(int root_fd, const char *target, const char *source, const char *fstype,
                     unsigned long flags, const char *data) {
    int fd = open_target(root_fd, target, CREATE_DIR);
    char path[64];
    fd_path(path, sizeof(path), fd);
    if (mount(source, path, fstype, flags, data) < 0)
        child_fail("mounting %s on /%s: %s", fstype ? fstype : source, target, strerror(errno));
    close(fd);
}

/* A bind mount's read-only flag only takes effect on a remount of the new mount itself. */
static void remount_readonly(int root_fd, const char *target, unsigned long extra) {
    int fd = open_target(root_fd, target, OPEN_EXISTING);
    char path[64];
    fd_path(path, sizeof(path), fd);
    if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | extra, NULL) < 0)
        child_fail("making /%s read-only: %s", target, strerror(errno));
    close(fd);
}

/* name: what errors call the source (it may be a /proc/self/fd path opened earlier). */
static void bind_named(int root_fd, const char *source, const char *name, const char *target, int readonly,
                       unsigned long extra) {
    struct stat st;
    if (stat(source, &st) < 0) child_fail("volume source %s: %s", name, strerror(errno));
    int fd = open_target(root_fd, target, S_ISDIR(st.st_mode) ? CREATE_DIR : CREATE_FILE);
    char path[64];
    fd_path(path, sizeof(path), fd);
    if (mount(source, path, NULL, MS_BIND | MS_REC, NULL) < 0)
        child_fail("binding %s on %s: %s", name, target, strerror(errno));
    close(fd);
    if (readonly) remount_readonly(root_fd, target, extra);
}

static void bind_at(int root_fd, const char *source, const char *target, int readonly, unsigned long extra) {
    bind_named(root_fd, source, source, target, readonly, extra);
}

static void populate_dev(int root_fd, int in_userns) {
    static const struct {
        const char *name;
        unsigned int major, minor;
    } devices[] = {{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
    static const struct {
        const char *name, *target;
    } links[] = {{"fd", "/proc/self/fd"},        {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
                 {"stderr", "/proc/self/fd/2"}, {"ptmx", "pts/ptmx"},         {"core", "/proc/kcore"}};
    int dev_fd = open_target(root_fd, "dev", OPEN_EXISTING);
    for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++) {
        if (!in_userns) {
            if (mknodat(dev_fd, devices[i].name, S_IFCHR | 0666, makedev(devices[i].major, devices[i].minor)) < 0)
                child_fail("creating /dev/%s: %s", devices[i].name, strerror(errno));
            continue;
        }
        /* A user namespace may not make device nodes: bind the host's instead. */
        char host[64], inside[64];
        snprintf(host, sizeof(host), "/dev/%s", devices[i].name);
        snprintf(inside, sizeof(inside), "dev/%s", devices[i].name);
        bind_at(root_fd, host, inside, 0, 0);
    }
    for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
        if (symlinkat(links[i].target, dev_fd, links[i].name) < 0)
            child_fail("creating /dev/%s: %s", links[i].name, strerror(errno));
    }
    close(dev_fd);
}

static void mount_sys(int root_fd) {
    int fd = open_target(root_fd, "sys", CREATE_DIR);
    char path[64];
    fd_path(path, sizeof(path), fd);
    if (mount("sysfs", path, "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0) {
        close(fd);
        return;
    }
    /* sysfs needs a network namespace we own; with the host's network in a user namespace it cannot
     * be mounted fresh, so bind the host's read-only as runc does. */
    if (errno != EPERM) child_fail("mounting sysfs on /sys: %s", strerror(errno));
    close(fd);
    bind_at(root_fd, "/sys", "sys", 1, MS_NOSUID | MS_NODEV | MS_NOEXEC);
}

/* Docker's masked and read-only paths. */
static const char *const masked_paths[] = {
    "proc/acpi",        "proc/kcore",       "proc/keys",    "proc/latency_stats", "proc/timer_list",
    "proc/timer_stats", "proc/sched_debug", "proc/scsi",    "sys/firmware",       "sys/devices/virtual/powercap",
};
static const char *const readonly_paths[] = {"proc/bus", "proc/fs", "proc/irq", "proc/sys", "proc/sysrq-trigger"};

static void mask_paths(int root_fd) {
    for (size_t i = 0; i < sizeof(masked_paths) / sizeof(masked_paths[0]); i++) {
        int fd = open_in_root(root_fd, masked_paths[i], OPEN_EXISTING);
        if (fd < 0 && errno == ENOENT) continue;
        if (fd < 0) child_fail("masking /%s: %s", masked_paths[i], strerror(errno));
        struct stat st;
        if (fstat(fd, &st) < 0) child_fail("masking /%s: %s", masked_paths[i], strerror(errno));
        char path[64];
        fd_path(path, sizeof(path), fd);
        int mounted = S_ISDIR(st.st_mode) ? mount("tmpfs", path, "tmpfs", MS_RDONLY, "size=0")
                                          : mount("/dev/null", path, NULL, MS_BIND, NULL);
        if (mounted < 0) child_fail("masking /%s: %s", masked_paths[i], strerror(errno));
        close(fd);
    }
    for (size_t i = 0; i < sizeof(readonly_paths) / sizeof(readonly_paths[0]); i++) {
        int fd = open_in_root(root_fd, readonly_paths[i], OPEN_EXISTING);
        if (fd < 0 && errno == ENOENT) continue;
        if (fd < 0) child_fail("making /%s read-only: %s", readonly_paths[i], strerror(errno));
        char path[64];
        fd_path(path, sizeof(path), fd);
        if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
            child_fail("making /%s read-only: %s", readonly_paths[i], strerror(errno));
        close(fd);
        remount_readonly(root_fd, readonly_paths[i], MS_NOSUID | MS_NODEV | MS_NOEXEC);
    }
}

void setup_rootfs(const struct shim_config *c, int root_mount_fd) {
    int in_userns = c->uid_map != NULL;
    /* Nothing we mount may propagate back to the host. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        child_fail("making the mount namespace private: %s", strerror(errno));
    if (!c->rootfs) child_fail("no rootfs= line in the configuration");
    if (root_mount_fd >= 0) {
        if (syscall(SYS_move_mount, root_mount_fd, "", AT_FDCWD, c->rootfs, MOVE_MOUNT_F_EMPTY_PATH) < 0)
            child_fail("moving the idmapped overlay root onto %s: %s", c->rootfs, strerror(errno));
        close(root_mount_fd);
    } else if (c->overlay) {
        if (mount("overlay", c->rootfs, "overlay", 0, c->overlay) < 0)
            child_fail("mounting the overlay root on %s: %s", c->rootfs, strerror(errno));
    } else if (mount(c->rootfs, c->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) {
        child_fail("binding the root %s: %s", c->rootfs, strerror(errno));
    }
    int root_fd = open(c->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0) child_fail("opening the root %s: %s", c->rootfs, strerror(errno));
    /* Volume sources are opened while we are still the host's root: the namespace's root may not
     * be able to reach them (a 0700 directory on the way), and binding from the fd needs no path. */
    int *sources = in_userns && c->nmounts > 0 ? calloc(c->nmounts, sizeof(int)) : NULL;
    if (in_userns && c->nmounts > 0 && !sources) child_fail("out of memory");
    for (size_t i = 0; sources && i < c->nmounts; i++) {
        sources[i] = open(c->mounts[i].source, O_PATH | O_CLOEXEC);
        if (sources[i] < 0) child_fail("volume source %s: %s", c->mounts[i].source, strerror(errno));
    }
    /* Until now we were the host's root, which the namespace does not map: that id could reach the
     * root through the state dir, but files made under it would be refused (EOVERFLOW). From here on
     * we work below root_fd as the namespace's root, as runc does; the capabilities stay. */
    if (in_userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
        child_fail("becoming root in the user namespace: %s (container uid and gid 0 must be mapped)",
                   strerror(errno));

    mount_at(root_fd, "proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    /* A fresh tmpfs hides whatever the image has at /dev, symlinks included. */
    mount_at(root_fd, "dev", "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
    populate_dev(root_fd, in_userns);
    const char *pts_options = in_userns ? "newinstance,ptmxmode=0666,mode=0620"
                                        : "newinstance,ptmxmode=0666,mode=0620,gid=5";
    mount_at(root_fd, "dev/pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC, pts_options);
    mount_at(root_fd, "dev/shm", "shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k");
    mount_at(root_fd, "dev/mqueue", "mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    mount_sys(root_fd);

    for (size_t i = 0; i < c->nmounts; i++) {
        char source[64];
        if (sources) fd_path(source, sizeof(source), sources[i]);
        bind_named(root_fd, sources ? source : c->mounts[i].source, c->mounts[i].source, c->mounts[i].target,
                   c->mounts[i].readonly, 0);
        if (sources) close(sources[i]);
    }
    free(sources);
    mask_paths(root_fd);

    /* Through root_fd: in a user namespace the host path may no longer be reachable (see above). */
    char root_path[64];
    fd_path(root_path, sizeof(root_path), root_fd);
    if (c->readonly_rootfs && mount(NULL, root_path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
        child_fail("making the root read-only: %s", strerror(errno));

    /* pivot_root(".", ".") stacks the old root on the new one; detaching it leaves only the container. */
    if (fchdir(root_fd) < 0) child_fail("entering the root: %s", strerror(errno));
    if (syscall(SYS_pivot_root, ".", ".") < 0) child_fail("pivot_root: %s", strerror(errno));
    if (umount2(".", MNT_DETACH) < 0) child_fail("detaching the host's root: %s", strerror(errno));
    if (chdir("/") < 0) child_fail("chdir /: %s", strerror(errno));
    close(root_fd);
}
