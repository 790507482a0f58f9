/* flotilla-shim: see shim.h. Three modes:
 *   flotilla-shim run CONTAINER_DIR [STATUS_FD]   start the container described by CONTAINER_DIR/shim.conf
 *   flotilla-shim exec CONTAINER_DIR CONFIG       run one more process inside a running container
 *   flotilla-shim launcher                        start many `run`s, asked on stdin (launcher.c) */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

/* The container's init is a clone of this binary until it calls execve, so an image whose program
 * is `#!/proc/self/exe` would run us inside the container and could then open us for writing
 * through /proc (CVE-2019-5736). Running from a sealed in-memory copy leaves nothing on the host
 * to overwrite. */
static void reexec_from_sealed_copy(char **argv) {
    int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (self < 0) die("opening /proc/self/exe: %s", strerror(errno));
    int seals = fcntl(self, F_GET_SEALS);
    if (seals >= 0 && (seals & F_SEAL_WRITE)) {
        close(self);
        return;
    }
    struct stat st;
    if (fstat(self, &st) < 0) die("stat /proc/self/exe: %s", strerror(errno));
    int copy = memfd_create("flotilla-shim", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (copy < 0) die("memfd_create: %s", strerror(errno));
    for (off_t done = 0; done < st.st_size;) {
        ssize_t n = sendfile(copy, self, &done, (size_t)(st.st_size - done));
        if (n <= 0) die("copying the shim into memory: %s", n < 0 ? strerror(errno) : "short read");
    }
    close(self);
    if (fcntl(copy, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
        die("sealing the shim copy: %s", strerror(errno));
    fexecve(copy, argv, environ);
    die("re-executing the sealed shim copy: %s", strerror(errno));
}

static int usage(void) {
    fprintf(stderr, "usage: flotilla-shim run CONTAINER_DIR [STATUS_FD]\n"
                    "       flotilla-shim exec CONTAINER_DIR EXEC_CONFIG [RESIZE_FD]\n"
                    "       flotilla-shim launcher\n"
                    "The shim is started by Flotilla's runtime; see libs/runtime/src/shim.\n");
    return 2;
}

int main(int argc, char **argv) {
    if (argc == 2 && !strcmp(argv[1], "--version")) {
        puts("flotilla-shim 1");
        return 0;
    }
    if (argc == 2 && !strcmp(argv[1], "launcher")) {
        trace_open();
        reexec_from_sealed_copy(argv);
        return run_launcher();
    }
    if (argc < 3) return usage();
    trace_open();
    trace_mark("shim runs"); /* twice: before and after the re-exec from the sealed copy */
    if (!strcmp(argv[1], "run") && argc <= 4) {
        int status_fd = -1;
        if (argc == 4) {
            char *end;
            status_fd = (int)strtol(argv[3], &end, 10);
            if (*end || status_fd < 3 || fcntl(status_fd, F_GETFD) < 0) {
                fprintf(stderr, "flotilla-shim: STATUS_FD must be an open descriptor above 2, got %s\n", argv[3]);
                return 2;
            }
        }
        set_report_fd(status_fd);
        reexec_from_sealed_copy(argv);
        return run_container(argv[2], status_fd, 1);
    }
    if (!strcmp(argv[1], "exec") && (argc == 4 || argc == 5)) {
        int resize_fd = -1;
        if (argc == 5) {
            char *end;
            resize_fd = (int)strtol(argv[4], &end, 10);
            if (*end || resize_fd < 3 || fcntl(resize_fd, F_GETFD) < 0) {
                fprintf(stderr, "flotilla-shim: RESIZE_FD must be an open descriptor above 2, got %s\n", argv[4]);
                return 2;
            }
        }
        reexec_from_sealed_copy(argv);
        return exec_in_container(argv[2], argv[3], resize_fd);
    }
    return usage();
}
