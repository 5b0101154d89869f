/*
 * sockdiag — TCP sockets by state and local port from NETLINK_SOCK_DIAG
 * (inet_diag_req_v2 dumps, one per address family), fed to a host_tcp_tally.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "sockdiag.h"

/* One recv() of a dump: the kernel fills it with as many messages as fit (~88 bytes each). */
#define SOCKDIAG_BUF (64 * 1024)
/* A dump that stalls this long is an error, not a wait. */
#define SOCKDIAG_TIMEOUT_S 5

/* A port comparison: the op, then its operand in the `no` field of the next op. */
#define SOCKDIAG_BLOCK 16 /* S_GE port, S_LE port */
#define SOCKDIAG_JMP   4

int sockdiag_open(struct sockdiag *d)
{
	struct timeval tv = {.tv_sec = SOCKDIAG_TIMEOUT_S};

	memset(d, 0, sizeof(*d));
	d->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (d->fd < 0)
		return -errno;
	if (setsockopt(d->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    (d->buf = malloc(SOCKDIAG_BUF)) == NULL) {
		int err = d->buf == NULL ? ENOMEM : errno;

		sockdiag_close(d);
		return -err;
	}
	d->size = SOCKDIAG_BUF;
	return 0;
}

void sockdiag_close(struct sockdiag *d)
{
	if (d->fd >= 0)
		close(d->fd);
	free(d->buf);
	free(d->rows);
	memset(d, 0, sizeof(*d));
	d->fd = -1;
}

/*
 * After a dump that ended half-way (a timeout, no memory) the kernel would
 * refuse the next request on this socket (EBUSY) until the old one is read
 * out: a new socket instead. Failing that, fd is -1 and every later call
 * fails (-EBADF), which the watcher reports as it does a failed /proc read.
 */
static void sockdiag_reset(struct sockdiag *d)
{
	struct timeval tv = {.tv_sec = SOCKDIAG_TIMEOUT_S};

	if (d->fd >= 0)
		close(d->fd);
	d->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (d->fd >= 0 && setsockopt(d->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		close(d->fd);
		d->fd = -1;
	}
}

static struct inet_diag_bc_op sockdiag_op(unsigned char code, unsigned char yes, unsigned no)
{
	struct inet_diag_bc_op op = {.code = code, .yes = yes, .no = (unsigned short)no};

	return op;
}

/*
 * "local port is one of ports": per port a block S_GE p, S_LE p; a block that
 * fails jumps to the next, the last one's failure past the end (reject); a
 * block that matches falls into a JMP to the end (accept). The JMP's `yes` of 4
 * keeps every block on the chain of `yes` jumps, which the kernel's audit
 * walks. Returns the length in bytes (SOCKDIAG_MAX_PORTS * 20 at most).
 */
static size_t sockdiag_bytecode(const unsigned *ports, size_t n, struct inet_diag_bc_op *bc)
{
	size_t len = n * (SOCKDIAG_BLOCK + SOCKDIAG_JMP) - SOCKDIAG_JMP, k = 0;

	for (size_t i = 0; i < n; i++) {
		size_t left = len - i * (SOCKDIAG_BLOCK + SOCKDIAG_JMP); /* bytes from this block */
		int last = i + 1 == n;

		bc[k++] = sockdiag_op(INET_DIAG_BC_S_GE, 8, last ? left + 4 : 20);
		bc[k++] = sockdiag_op(INET_DIAG_BC_NOP, 0, ports[i]);
		bc[k++] = sockdiag_op(INET_DIAG_BC_S_LE, 8, last ? left - 8 + 4 : 12);
		bc[k++] = sockdiag_op(INET_DIAG_BC_NOP, 0, ports[i]);
		if (!last)
			bc[k++] =
			    sockdiag_op(INET_DIAG_BC_JMP, 4, (unsigned)(left - SOCKDIAG_BLOCK));
	}
	return len;
}

/* Sends one dump request for `family`. */
static int sockdiag_request(struct sockdiag *d, int family, unsigned states, const unsigned *ports,
                            size_t nports)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
		struct nlattr attr;
		struct inet_diag_bc_op bc[SOCKDIAG_MAX_PORTS * 5];
	} msg;
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	size_t bclen = 0;
	ssize_t n;

	memset(&msg, 0, sizeof(msg));
	if (nports > 0 && nports <= SOCKDIAG_MAX_PORTS)
		bclen = sockdiag_bytecode(ports, nports, msg.bc);
	msg.nlh.nlmsg_len =
	    (uint32_t)(NLMSG_LENGTH(sizeof(msg.req)) + (bclen ? NLA_HDRLEN + bclen : 0));
	msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	msg.nlh.nlmsg_seq = ++d->seq;
	msg.req.sdiag_family = (uint8_t)family;
	msg.req.sdiag_protocol = IPPROTO_TCP;
	msg.req.idiag_states = states;
	msg.attr.nla_type = INET_DIAG_REQ_BYTECODE;
	msg.attr.nla_len = (unsigned short)(NLA_HDRLEN + bclen);
	do
		n = sendto(d->fd, &msg, msg.nlh.nlmsg_len, 0, (struct sockaddr *)&kernel,
		           sizeof(kernel));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == (ssize_t)msg.nlh.nlmsg_len ? 0 : -EIO;
}

/* Keeps a row of the process's own (its inode in own) for sockdiag_feed(). */
static int sockdiag_row(struct sockdiag *d, const struct inet_diag_msg *m,
                        const struct host_inodes *own)
{
	struct host_tcp_row *row;

	if (m->idiag_inode == 0 || !host_inodes_has(own, m->idiag_inode))
		return 0;
	if (d->nrows == d->caprows) {
		size_t cap = d->caprows ? 2 * d->caprows : 1024;
		struct host_tcp_row *v = realloc(d->rows, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		d->rows = v;
		d->caprows = cap;
	}
	row = &d->rows[d->nrows++];
	memset(row, 0, sizeof(*row));
	row->family = m->idiag_family;
	memcpy(row->addr, m->id.idiag_src, m->idiag_family == AF_INET ? 4 : 16);
	row->port = ntohs(m->id.idiag_sport);
	row->state = m->idiag_state;
	row->inode = m->idiag_inode;
	return 0;
}

static int sockdiag_cmp_inode(const void *a, const void *b)
{
	unsigned long x = ((const struct host_tcp_row *)a)->inode;
	unsigned long y = ((const struct host_tcp_row *)b)->inode;

	return (x > y) - (x < y);
}

/* The kept rows into the tally, each inode once. */
static void sockdiag_feed(struct sockdiag *d, const struct host_inodes *own,
                          struct host_tcp_tally *t)
{
	if (d->nrows > 1)
		qsort(d->rows, d->nrows, sizeof(*d->rows), sockdiag_cmp_inode);
	for (size_t i = 0; i < d->nrows; i++)
		if (i == 0 || d->rows[i].inode != d->rows[i - 1].inode)
			host_tcp_tally_row(t, &d->rows[i], own);
	d->nrows = 0;
}

/* Reads one dump to its NLMSG_DONE, keeping own rows: 0, or the kernel's -errno. */
static int sockdiag_read(struct sockdiag *d, const struct host_inodes *own)
{
	for (;;) {
		ssize_t n = recv(d->fd, d->buf, d->size, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		if (n == 0)
			return -EIO;
		for (struct nlmsghdr *h = (struct nlmsghdr *)d->buf; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != d->seq)
				continue; /* an answer to an earlier request that failed half-way */
			if (h->nlmsg_type == NLMSG_DONE) {
				int err = 0;

				if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
					memcpy(&err, NLMSG_DATA(h), sizeof(err));
				return err < 0 ? err : 0;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr e = {.error = -EIO};

				if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(e)))
					memcpy(&e, NLMSG_DATA(h), sizeof(e));
				return e.error < 0 ? e.error : -EIO;
			}
			if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
			    h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg)) &&
			    sockdiag_row(d, NLMSG_DATA(h), own) < 0)
				return -ENOMEM;
		}
	}
}

int sockdiag_tally(struct sockdiag *d, unsigned states, const unsigned *ports, size_t nports,
                   const struct host_inodes *own, struct host_tcp_tally *t)
{
	static const int families[] = {AF_INET, AF_INET6};

	if (d->fd < 0)
		return -EBADF;
	d->nrows = 0;
	for (size_t i = 0; i < 2; i++) {
		int rc = sockdiag_request(d, families[i], states, ports, nports);

		if (rc == 0)
			rc = sockdiag_read(d, own);
		/* A kernel without IPv6 has no AF_INET6 handler: no IPv6 sockets, no error. */
		if (rc < 0 &&
		    !(families[i] == AF_INET6 && (rc == -ENOENT || rc == -EAFNOSUPPORT))) {
			d->nrows = 0;
			sockdiag_reset(d);
			return rc;
		}
	}
	sockdiag_feed(d, own, t);
	return 0;
}
