/* The shim's configuration: one `key=value` per line, written by the TypeScript side. Repeated keys
 * (arg, env, group, cgroup_procs, cgroup_v1, exit_arg, exit_env) append; mount_source starts a mount that the following
 * mount_target and mount_readonly lines complete. Values escape backslash, newline and tab as
 * \\, \n and \t, so any byte string but NUL survives. */
#include "shim.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_error(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int append(void **array, size_t *count, size_t size) {
    void *grown = realloc(*array, (*count + 2) * size);
    if (!grown) return -1;
    *array = grown;
    memset((char *)grown + (*count + 1) * size, 0, size); /* keeps string arrays NULL-terminated */
    (*count)++;
    return 0;
}

static void unescape(char *value) {
    char *out = value;
    for (char *in = value; *in; in++) {
        if (*in == '\\' && in[1]) {
            in++;
            *out++ = *in == 'n' ? '\n' : *in == 't' ? '\t' : *in;
        } else {
            *out++ = *in;
        }
    }
    *out = '\0';
}

static int parse_id(const char *value, unsigned int *id) {
    char *end;
    errno = 0;
    unsigned long parsed = strtoul(value, &end, 10);
    if (errno || *value == '\0' || *end != '\0' || parsed > 0xfffffffeUL) return -1;
    *id = (unsigned int)parsed;
    return 0;
}

static int parse_flag(const char *value, int *flag) {
    if (strcmp(value, "0") && strcmp(value, "1")) return -1;
    *flag = value[0] == '1';
    return 0;
}

static int push_string(char ***array, size_t *count, char *value) {
    if (append((void **)array, count, sizeof(char *))) return -1;
    (*array)[*count - 1] = value;
    return 0;
}

static int apply(struct shim_config *c, const char *key, char *value, char *err, size_t errlen) {
    struct shim_process *p = &c->process;
    unsigned int id;
    if (!strcmp(key, "arg")) return push_string(&p->args, &p->nargs, value);
    if (!strcmp(key, "env")) return push_string(&p->env, &p->nenv, value);
    if (!strcmp(key, "cgroup_procs")) return push_string(&c->cgroup_procs, &c->ncgroup_procs, value);
    if (!strcmp(key, "cgroup_v1")) return push_string(&c->cgroup_v1, &c->ncgroup_v1, value);
    if (!strcmp(key, "cgroup_v2")) return c->cgroup_v2 = value, 0;
    if (!strcmp(key, "cwd")) return p->cwd = value, 0;
    if (!strcmp(key, "caps")) {
        char *end;
        errno = 0;
        unsigned long long mask = strtoull(value, &end, 16);
        if (errno || end == value || *end) {
            set_error(err, errlen, "caps must be a hexadecimal mask, got \"%s\"", value);
            return -2;
        }
        p->caps = mask;
        free(value);
        return 0;
    }
    if (!strcmp(key, "hostname")) return c->hostname = value, 0;
    if (!strcmp(key, "rootfs")) return c->rootfs = value, 0;
    if (!strcmp(key, "overlay")) return c->overlay = value, 0;
    if (!strcmp(key, "netns")) return c->netns = value, 0;
    if (!strcmp(key, "uid_map")) return c->uid_map = value, 0;
    if (!strcmp(key, "gid_map")) return c->gid_map = value, 0;
    if (!strcmp(key, "oom_file")) return c->oom_file = value, 0;
    if (!strcmp(key, "log")) return c->log_path = value, 0;
    if (!strcmp(key, "uid") || !strcmp(key, "gid") || !strcmp(key, "group")) {
        if (parse_id(value, &id)) {
            set_error(err, errlen, "%s must be a number, got \"%s\"", key, value);
            return -2;
        }
        if (key[0] == 'u') p->uid = id;
        else if (key[1] == 'i') p->gid = id;
        else {
            if (append((void **)&p->groups, &p->ngroups, sizeof(gid_t))) return -1;
            p->groups[p->ngroups - 1] = id;
        }
        return 0;
    }
    if (!strcmp(key, "exit_arg")) return push_string(&c->exit_args, &c->nexit_args, value);
    if (!strcmp(key, "exit_env")) return push_string(&c->exit_env, &c->nexit_env, value);
    if (!strcmp(key, "tty") || !strcmp(key, "readonly_rootfs") || !strcmp(key, "wait_attach") ||
        !strcmp(key, "stdin")) {
        int *flag = key[0] == 't'   ? &p->tty
                    : key[0] == 'r' ? &c->readonly_rootfs
                    : key[0] == 'w' ? &c->wait_attach
                                    : &c->open_stdin;
        if (parse_flag(value, flag)) {
            set_error(err, errlen, "%s must be 0 or 1, got \"%s\"", key, value);
            return -2;
        }
        return 0;
    }
    if (!strcmp(key, "mount_source")) {
        if (append((void **)&c->mounts, &c->nmounts, sizeof(struct shim_mount))) return -1;
        c->mounts[c->nmounts - 1].source = value;
        return 0;
    }
    if (!strcmp(key, "mount_target") || !strcmp(key, "mount_readonly")) {
        if (c->nmounts == 0) {
            set_error(err, errlen, "%s must follow a mount_source line", key);
            return -2;
        }
        struct shim_mount *m = &c->mounts[c->nmounts - 1];
        if (key[6] == 't') {
            m->target = value;
            return 0;
        }
        if (parse_flag(value, &m->readonly)) {
            set_error(err, errlen, "mount_readonly must be 0 or 1, got \"%s\"", value);
            return -2;
        }
        return 0;
    }
    set_error(err, errlen, "unknown key \"%s\"", key);
    return -2;
}

int config_load(const char *path, struct shim_config *config, char *err, size_t errlen) {
    memset(config, 0, sizeof(*config));
    config->process.caps = SHIM_DEFAULT_CAPS;
    FILE *file = fopen(path, "re");
    if (!file) {
        set_error(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t capacity = 0;
    ssize_t length;
    unsigned int number = 0;
    int result = 0;
    while ((length = getline(&line, &capacity, file)) >= 0) {
        number++;
        if (length > 0 && line[length - 1] == '\n') line[--length] = '\0';
        if (length == 0 || line[0] == '#') continue;
        char *equals = strchr(line, '=');
        if (!equals) {
            set_error(err, errlen, "%s:%u: expected key=value", path, number);
            result = -1;
            break;
        }
        *equals = '\0';
        char *value = strdup(equals + 1);
        if (!value) {
            set_error(err, errlen, "out of memory");
            result = -1;
            break;
        }
        unescape(value);
        char detail[256] = "out of memory";
        int applied = apply(config, line, value, detail, sizeof(detail));
        if (applied) {
            free(value);
            set_error(err, errlen, "%s:%u: %s", path, number, detail);
            result = -1;
            break;
        }
    }
    if (result == 0 && ferror(file)) {
        set_error(err, errlen, "cannot read %s: %s", path, strerror(errno));
        result = -1;
    }
    free(line);
    fclose(file);
    if (result) return result;
    if (config->process.nargs == 0) {
        set_error(err, errlen, "%s: no arg= line: the container needs a command", path);
        return -1;
    }
    for (size_t i = 0; i < config->nmounts; i++) {
        if (!config->mounts[i].target) {
            set_error(err, errlen, "%s: mount of %s has no mount_target", path, config->mounts[i].source);
            return -1;
        }
    }
    if (!!config->uid_map != !!config->gid_map) {
        set_error(err, errlen, "%s: uid_map and gid_map go together", path);
        return -1;
    }
    return 0;
}
