/* Flotilla's container shim: the per-container parent (like conmon) plus the namespace set-up that
 * runs before the user's process (like runc's nsexec). Everything else lives in TypeScript. */
#ifndef FLOTILLA_SHIM_H
#define FLOTILLA_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/types.h>

/* Docker's default capability set: CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID SETUID
 * SETFCAP SETPCAP NET_BIND_SERVICE SYS_CHROOT KILL AUDIT_WRITE. A `caps` line replaces it (--cap-add,
 * --cap-drop, resolved in TypeScript); configs written before that line existed get this one. */
#define SHIM_DEFAULT_CAPS 0xa80425fbULL

struct shim_mount {
    char *source;
    char *target;
    int readonly;
};

/* What a process inside the container looks like; shared by the init and by exec. */
struct shim_process {
    char **args;
    size_t nargs;
    char **env;
    size_t nenv;
    char *cwd;
    uid_t uid;
    gid_t gid;
    gid_t *groups;
    size_t ngroups;
    int tty;
    uint64_t caps; /* bounding, permitted and effective capabilities, one bit per capability number */
};

struct shim_config {
    struct shim_process process;
    char *hostname;
    char *rootfs;  /* host path where the container's root is mounted */
    char *overlay; /* overlayfs options (lowerdir=...,upperdir=...,workdir=...) or NULL to bind rootfs */
    int readonly_rootfs;
    struct shim_mount *mounts;
    size_t nmounts;
    char *netns; /* NULL or "new": a new namespace; "host": the host's; otherwise a path to join */
    char *uid_map; /* when set (with gid_map), the container gets a new user namespace */
    char *gid_map;
    char **cgroup_procs; /* files the init's pid is written to before it may continue */
    size_t ncgroup_procs;
    char **cgroup_v1; /* v1 cgroup directories the init joins itself (see cgroup.c) */
    size_t ncgroup_v1;
    char *cgroup_v2; /* the v2 cgroup directory the init is cloned into */
    char *oom_file; /* memory.events (v2) or memory.oom_control (v1): read at exit for the OOM hint */
    char *log_path;
    int wait_attach; /* with a tty: hold the init until the first client attaches */
    int open_stdin;  /* without a tty: stdin is a pipe fed by attach clients (run -i), not /dev/null */
    char **exit_args; /* run once the status is written (podman's exit command), e.g. to remove the container */
    size_t nexit_args;
    char **exit_env;
    size_t nexit_env;
};

/* config.c */
int config_load(const char *path, struct shim_config *config, char *err, size_t errlen);

/* util.c */
void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void set_report_fd(int fd);
void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void close_report(void);
/* FLOTILLA_SHIM_TRACE=FILE appends "<CLOCK_MONOTONIC ns> <pid> <step>" lines, to see where a start goes. */
void trace_open(void);
void trace_mark(const char *step);
int write_all(int fd, const void *buf, size_t len);
int send_fd(int socket_fd, int fd);
int receive_fd(int socket_fd);
int write_file_atomic(const char *path, const char *content);
int read_small_file(const char *path, char *buf, size_t len);
void format_timestamp(char *buf, size_t len);
unsigned long long process_start_time(pid_t pid);

/* Errors in the child are written to an error pipe and end the child; the parent reports them. */
void child_set_error_fd(int fd);
void child_fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* cgroup.c: joining the container's cgroups without the kernel's global migration lock. */
struct cgroup_join {
    int self;     /* the init writes "0" to the v1 tasks files itself */
    int *v1_fds;  /* open tasks files, one per v1 directory */
    size_t nv1;
    int v2_fd;    /* the v2 directory for CLONE_INTO_CGROUP, or -1 */
    int joined_v2; /* clone3 put the child there */
};
void cgroup_join_prepare(const struct shim_config *c, struct cgroup_join *join);
/* fork-like: returns 0 in the child, which runs on a copy of the caller's stack. */
pid_t clone_process(int namespace_flags, struct cgroup_join *join);
void cgroup_join_self(const struct cgroup_join *join, const struct shim_config *c);
/* In the run shim, what the init does not do itself: cgroup_procs files, and v1 with a user namespace. */
void cgroup_join_by_pid(const struct cgroup_join *join, const struct shim_config *c, pid_t pid);
void cgroup_join_release(struct cgroup_join *join);

/* rootfs.c */
int open_in_root(int root_fd, const char *path, int create_kind);
enum { OPEN_EXISTING = 0, CREATE_DIR = 1, CREATE_FILE = 2 };
/* root_mount_fd: -1 to mount the overlay (or bind) here, else a ready mount to move onto the root. */
void setup_rootfs(const struct shim_config *config, int root_mount_fd);

/* idmap.c: the overlay root on idmapped layers for a user namespace (see there). */
int build_idmapped_overlay(const struct shim_config *config, pid_t init);

/* process.c */
void exec_process(const struct shim_process *process) __attribute__((noreturn));
void take_controlling_tty(int slave_fd);

/* supervise.c */
/* fork_first: fork before setsid, so the process that spawned us sees us exit at once. */
int run_container(const char *container_dir, int status_fd, int fork_first);

/* launcher.c */
int run_launcher(void);

/* netns.c: a pod namespace's side of its bridge attachment (`net` requests to the launcher). */
struct netns_interface {
    const char *netns_path; /* the namespace to join, e.g. /var/run/netns/NAME */
    const char *device;     /* the veth's end inside it, e.g. eth0 */
    struct in_addr address;
    unsigned prefix_length;
    struct in_addr gateway;
    const char *address_text; /* the same two as written, for messages */
    const char *gateway_text;
};
/* Joins the namespace (call it in a child: setns moves the whole process), brings up lo, adds the
 * address to the device, brings it up, adds the default route. On failure err says which step
 * failed and why; returns -1. */
int configure_netns(const struct netns_interface *config, char *err, size_t errlen);

/* exec.c */
/* resize_fd: -1, or a pipe of "ROWS COLS\n" lines for the pty when stdio are not a terminal. */
int exec_in_container(const char *container_dir, const char *exec_config_path, int resize_fd);

/* The container's own terminal (master and slave) from its devpts; see util.c. */
int open_devpts_pty(int *master, int *slave, char *err, size_t errlen);

#endif
