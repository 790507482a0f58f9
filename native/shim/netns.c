/* The namespace side of a pod's bridge attachment, done from inside the namespace with rtnetlink:
 * loopback up, the address on the veth's inner end, that link up, the default route via the
 * bridge. `ip netns exec NS ip -batch FILE` did the same at 7-12 ms per pod (a fork, an exec of ip,
 * and ip's private mount of /sys); a fork of the small launcher and five netlink requests cost a
 * fraction of that. setns(2) moves the whole calling process, so this runs in a child of the
 * launcher (launcher.c), which must stay in the host's namespace for the shims it starts. */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#define REQUEST_BYTES 256

/* Requests are a header, one fixed struct and a few small attributes; replies are acks. */
struct request {
    struct nlmsghdr header;
    char payload[REQUEST_BYTES];
};

/* The kernel's own words from an extended ack (e.g. "Nexthop has invalid gateway"), if any. */
static char kernel_says[256];

static int add_attribute(struct request *r, unsigned short type, const void *data, size_t len) {
    size_t offset = NLMSG_ALIGN(r->header.nlmsg_len);
    if (offset + RTA_SPACE(len) > sizeof(*r)) {
        errno = ENOBUFS;
        return -1;
    }
    struct rtattr *attribute = (struct rtattr *)((char *)r + offset);
    attribute->rta_type = type;
    attribute->rta_len = (unsigned short)RTA_LENGTH(len);
    memcpy(RTA_DATA(attribute), data, len);
    r->header.nlmsg_len = (unsigned)(offset + RTA_SPACE(len));
    return 0;
}

/* The message attribute of an extended ack (NLMSGERR_ATTR_MSG), copied into kernel_says. */
static void read_extended_ack(const struct nlmsghdr *h) {
    if (!(h->nlmsg_flags & NLM_F_ACK_TLVS)) return;
    /* With NETLINK_CAP_ACK the request is not echoed: the attributes follow the nlmsgerr. */
    size_t offset = NLMSG_LENGTH(sizeof(struct nlmsgerr));
    while (offset + sizeof(struct nlattr) <= h->nlmsg_len) {
        const struct nlattr *attribute = (const struct nlattr *)((const char *)h + offset);
        if (attribute->nla_len < sizeof(struct nlattr) || offset + attribute->nla_len > h->nlmsg_len) return;
        if ((attribute->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
            size_t len = attribute->nla_len - sizeof(struct nlattr);
            if (len >= sizeof(kernel_says)) len = sizeof(kernel_says) - 1;
            memcpy(kernel_says, (const char *)attribute + sizeof(struct nlattr), len);
            kernel_says[len] = '\0';
            return;
        }
        offset += NLA_ALIGN(attribute->nla_len);
    }
}

/* Sends one request and waits for its ack: 0, or -1 with errno set to the kernel's answer. */
static int talk(int fd, struct request *r) {
    static unsigned sequence;
    r->header.nlmsg_seq = ++sequence;
    r->header.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
    kernel_says[0] = '\0';
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    ssize_t sent;
    do sent = sendto(fd, r, r->header.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel));
    while (sent < 0 && errno == EINTR);
    if (sent < 0) return -1;
    for (;;) {
        union {
            struct nlmsghdr header;
            char bytes[8192];
        } reply;
        ssize_t n = recv(fd, &reply, sizeof(reply), 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        int left = (int)n;
        for (struct nlmsghdr *h = &reply.header; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
            if (h->nlmsg_seq != r->header.nlmsg_seq || h->nlmsg_type != NLMSG_ERROR) continue;
            if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
                errno = EPROTO;
                return -1;
            }
            const struct nlmsgerr *answer = NLMSG_DATA(h);
            if (answer->error == 0) return 0;
            read_extended_ack(h);
            errno = -answer->error;
            return -1;
        }
    }
}

static void start_request(struct request *r, unsigned short type, unsigned short flags, const void *head,
                          size_t head_len) {
    memset(r, 0, sizeof(*r));
    r->header.nlmsg_len = (unsigned)NLMSG_LENGTH(head_len);
    r->header.nlmsg_type = type;
    r->header.nlmsg_flags = flags;
    memcpy(NLMSG_DATA(&r->header), head, head_len);
}

/* RTM_NEWLINK with IFF_UP, the link named by index (or by name when index is 0). */
static int set_link_up(int fd, int index, const char *name) {
    struct ifinfomsg link = {.ifi_family = AF_UNSPEC, .ifi_index = index, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
    struct request r;
    start_request(&r, RTM_NEWLINK, 0, &link, sizeof(link));
    if (index == 0 && add_attribute(&r, IFLA_IFNAME, name, strlen(name) + 1) < 0) return -1;
    return talk(fd, &r);
}

/* What `ip addr add ADDRESS/PREFIX dev DEVICE` sends: local and peer address both the address. */
static int add_address(int fd, int index, const struct netns_interface *config) {
    struct ifaddrmsg address = {.ifa_family = AF_INET, .ifa_prefixlen = (unsigned char)config->prefix_length,
                                .ifa_scope = RT_SCOPE_UNIVERSE, .ifa_index = (unsigned)index};
    struct request r;
    start_request(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &address, sizeof(address));
    if (add_attribute(&r, IFA_LOCAL, &config->address, sizeof(config->address)) < 0 ||
        add_attribute(&r, IFA_ADDRESS, &config->address, sizeof(config->address)) < 0)
        return -1;
    return talk(fd, &r);
}

/* What `ip route add default via GATEWAY dev DEVICE` sends. */
static int add_default_route(int fd, int index, const struct netns_interface *config) {
    struct rtmsg route = {.rtm_family = AF_INET, .rtm_table = RT_TABLE_MAIN, .rtm_protocol = RTPROT_BOOT,
                          .rtm_scope = RT_SCOPE_UNIVERSE, .rtm_type = RTN_UNICAST};
    struct request r;
    start_request(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &route, sizeof(route));
    if (add_attribute(&r, RTA_GATEWAY, &config->gateway, sizeof(config->gateway)) < 0 ||
        add_attribute(&r, RTA_OIF, &index, sizeof(index)) < 0)
        return -1;
    return talk(fd, &r);
}

/* err = "STEP: REASON", with the kernel's explanation when it gave one; always -1. */
static int failed(char *err, size_t errlen, int error, const char *step_format, ...)
    __attribute__((format(printf, 4, 5)));
static int failed(char *err, size_t errlen, int error, const char *step_format, ...) {
    char step[512];
    va_list ap;
    va_start(ap, step_format);
    vsnprintf(step, sizeof(step), step_format, ap);
    va_end(ap);
    if (kernel_says[0])
        snprintf(err, errlen, "%s: %s (%s)", step, strerror(error), kernel_says);
    else
        snprintf(err, errlen, "%s: %s", step, strerror(error));
    return -1;
}

int configure_netns(const struct netns_interface *config, char *err, size_t errlen) {
    int ns = open(config->netns_path, O_RDONLY | O_CLOEXEC);
    if (ns < 0) return failed(err, errlen, errno, "opening the namespace %s", config->netns_path);
    int joined = setns(ns, CLONE_NEWNET);
    int error = errno;
    close(ns);
    if (joined < 0) return failed(err, errlen, error, "joining the namespace %s", config->netns_path);
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) return failed(err, errlen, errno, "opening a netlink socket");
    int one = 1;
    /* Both only improve messages: without them (old kernels) errors still arrive as errno. */
    (void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
    (void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
    int result = -1;
    int index = 0;
    if (set_link_up(fd, 0, "lo") < 0) {
        failed(err, errlen, errno, "bringing up lo");
    } else if ((index = (int)if_nametoindex(config->device)) == 0) {
        failed(err, errlen, errno, "finding %s", config->device);
    } else if (add_address(fd, index, config) < 0) {
        failed(err, errlen, errno, "adding %s/%u to %s", config->address_text, config->prefix_length,
               config->device);
    } else if (set_link_up(fd, index, NULL) < 0) {
        failed(err, errlen, errno, "bringing up %s", config->device);
    } else if (add_default_route(fd, index, config) < 0) {
        failed(err, errlen, errno, "adding the default route via %s dev %s", config->gateway_text,
               config->device);
    } else {
        result = 0;
    }
    close(fd);
    return result;
}
