/* The container's root in a user namespace: the image layers on disk belong to host ids (mostly 0),
 * which mean nothing inside a namespace that maps container 0 to, say, host 100000. Instead of a
 * chown'd copy of every layer, each lower layer is cloned as an idmapped mount (Linux 5.12+,
 * overlayfs layers 5.19+, detached ones 6.15+) carrying the namespace's mapping, so host uid 0 reads
 * as 100000 and hence as 0 inside. The overlay is then built on those mounts here, in the host's
 * user namespace (so its copy-ups and xattrs work as for any container), and handed to the init,
 * which moves it onto its root. The upper dir stays a plain directory: what the container writes
 * is stored under the host ids it runs as (100000 + n), as with Docker's userns-remap. */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static int fsconfig_string(int fs, const char *key, const char *value) {
    return (int)syscall(SYS_fsconfig, fs, value ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, key, value, 0);
}

/* The kernel's own words on a failed fsconfig, read from the fs context (e.g. "overlay: ..."). */
static void kernel_message(int fs, char *buf, size_t len) {
    buf[0] = '\0';
    ssize_t n = read(fs, buf, len - 1);
    if (n > 0) buf[n] = '\0';
    else buf[0] = '\0';
    char *newline = strchr(buf, '\n');
    if (newline) *newline = '\0';
}

/* One lower layer as a detached idmapped mount; its /proc/self/fd path goes into lowerdir. */
static int idmapped_layer(const char *layer, int userns_fd) {
    int tree = (int)syscall(SYS_open_tree, AT_FDCWD, layer, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (tree < 0) die("cloning layer %s for the user namespace (open_tree): %s", layer, strerror(errno));
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (unsigned long long)userns_fd};
    if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
        die("idmapping layer %s for the user namespace: %s (idmapped mounts need Linux 5.12+ and a "
            "filesystem that supports them, e.g. ext4, xfs, btrfs or tmpfs 6.3+)",
            layer, strerror(errno));
    return tree;
}

int build_idmapped_overlay(const struct shim_config *c, pid_t init) {
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)init);
    int userns_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (userns_fd < 0) die("opening the container's user namespace %s: %s", path, strerror(errno));
    int fs = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
    if (fs < 0) die("fsopen overlay: %s (the new mount API needs Linux 5.2+)", strerror(errno));

    char *options = strdup(c->overlay);
    if (!options) die("out of memory");
    int *trees = NULL;
    size_t ntrees = 0;
    char *save = NULL;
    for (char *option = strtok_r(options, ",", &save); option; option = strtok_r(NULL, ",", &save)) {
        char *value = strchr(option, '=');
        if (value) *value++ = '\0';
        if (strcmp(option, "lowerdir") || !value) {
            if (fsconfig_string(fs, option, value) < 0) die("overlay option %s: %s", option, strerror(errno));
            continue;
        }
        /* Each layer becomes /proc/self/fd/N (":" + 14 + at most 10 characters) in a new lowerdir list. */
        size_t layers = 1;
        for (const char *p = value; *p; p++) layers += *p == ':';
        char *lowerdir = calloc(layers, 32);
        int *grown = realloc(trees, (ntrees + layers) * sizeof(int));
        if (!lowerdir || !grown) die("out of memory");
        trees = grown;
        char *layer_save = NULL;
        size_t used = 0;
        for (char *layer = strtok_r(value, ":", &layer_save); layer; layer = strtok_r(NULL, ":", &layer_save)) {
            int tree = idmapped_layer(layer, userns_fd);
            trees[ntrees++] = tree;
            used += (size_t)snprintf(lowerdir + used, layers * 32 - used, "%s/proc/self/fd/%d", used ? ":" : "", tree);
        }
        if (fsconfig_string(fs, "lowerdir", lowerdir) < 0) {
            char message[512];
            int saved = errno;
            kernel_message(fs, message, sizeof(message));
            die("overlay on idmapped layers: %s%s%s (overlayfs takes detached idmapped layers from Linux 6.15)",
                strerror(saved), message[0] ? ": " : "", message);
        }
        free(lowerdir);
    }
    free(options);
    if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
        char message[512];
        int saved = errno;
        kernel_message(fs, message, sizeof(message));
        die("creating the overlay root on idmapped layers: %s%s%s", strerror(saved), message[0] ? ": " : "", message);
    }
    int mount_fd = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0);
    if (mount_fd < 0) die("fsmount of the overlay root: %s", strerror(errno));
    /* The overlay holds its layers now; the detached trees and the namespace fd may go. */
    for (size_t i = 0; i < ntrees; i++) close(trees[i]);
    free(trees);
    close(fs);
    close(userns_fd);
    return mount_fd;
}
