/*
 * host_net.c — sockets: inode sets, the kernel's TCP tables read for one
 * process or port, and which processes hold a set of sockets.
 */
#include "grow.h"
#include "host.h"
#include "host_int.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

int host_inodes_add(struct host_inodes *set, unsigned long inode)
{
	if (set->n == set->cap && grow((void **)&set->v, &set->cap, sizeof(*set->v), 256) < 0)
		return -ENOMEM;
	set->v[set->n++] = inode;
	return 0;
}

static int host_cmp_ulong(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return (x > y) - (x < y);
}

void host_inodes_sort(struct host_inodes *set)
{
	size_t out = 0;

	if (set->n == 0)
		return;
	qsort(set->v, set->n, sizeof(*set->v), host_cmp_ulong);
	for (size_t i = 1; i < set->n; i++)
		if (set->v[i] != set->v[out])
			set->v[++out] = set->v[i];
	set->n = out + 1;
}

int host_inodes_has(const struct host_inodes *set, unsigned long inode)
{
	return set->n > 0 &&
	       bsearch(&inode, set->v, set->n, sizeof(*set->v), host_cmp_ulong) != NULL;
}

void host_inodes_free(struct host_inodes *set)
{
	free(set->v);
	memset(set, 0, sizeof(*set));
}

/* The kernel prints each 32-bit word of the address as the hex of its native value. */
static int host_parse_tcp_addr(const char *hex, struct host_tcp_row *row)
{
	size_t len = strlen(hex);
	char word[9] = {0};

	if (len != 8 && len != 32)
		return -EINVAL;
	row->family = len == 8 ? AF_INET : AF_INET6;
	memset(row->addr, 0, sizeof(row->addr));
	for (size_t i = 0; i < len / 8; i++) {
		uint32_t w;

		memcpy(word, hex + 8 * i, 8);
		w = (uint32_t)strtoul(word, NULL, 16);
		memcpy(row->addr + 4 * i, &w, sizeof(w));
	}
	return 0;
}

int host_parse_tcp_row(const char *line, struct host_tcp_row *out)
{
	struct host_tcp_row row;
	char addr[40];
	unsigned port, state;
	unsigned long inode;
	int used = 0;

	if (!line)
		return -EINVAL;
	/* sl: local rem st tx:rx tr:when retrnsmt uid timeout inode ... */
	if (sscanf(line,
	           " %*u: %32[0-9A-Fa-f]:%4x %*[0-9A-Fa-f]:%*4x %2x %*s %*s %*s %*u %*u %lu%n",
	           addr, &port, &state, &inode, &used) != 4 ||
	    used == 0 || host_parse_tcp_addr(addr, &row) < 0)
		return -EINVAL;
	row.port = port;
	row.state = state;
	row.inode = inode;
	*out = row;
	return 0;
}

void host_tcp_tally_clear(struct host_tcp_tally *t)
{
	memset(t, 0, sizeof(*t));
}

void host_tcp_tally_row(struct host_tcp_tally *t, const struct host_tcp_row *row,
                        const struct host_inodes *own)
{
	if (row->inode == 0 || !host_inodes_has(own, row->inode))
		return;
	t->rows++;
	if (row->state == HOST_TCP_LISTEN)
		t->listen[row->port & 0xffff] = 1;
	else if (row->state == HOST_TCP_ESTABLISHED)
		t->established[row->port & 0xffff]++;
}

/* Calls fn for each row of DIR/tcp and DIR/tcp6; a missing tcp6 (no IPv6) is no error. */
static int host_tcp_scan(const char *dir, void (*fn)(const struct host_tcp_row *, void *),
                         void *ctx)
{
	static const char *const files[] = {"tcp", "tcp6"};
	char path[96];
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;

	for (size_t i = 0; i < 2 && rc == 0; i++) {
		struct host_tcp_row row;
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		f = fopen(path, "re");
		if (!f) {
			if (errno != ENOENT || i == 0)
				rc = -errno;
			continue;
		}
		while (getline(&line, &cap, f) > 0)
			if (host_parse_tcp_row(line, &row) == 0)
				fn(&row, ctx);
		if (ferror(f))
			rc = -EIO;
		fclose(f);
	}
	free(line);
	return rc;
}

struct host_tally_ctx {
	struct host_tcp_tally *t;
	const struct host_inodes *own;
};

static void host_tally_fn(const struct host_tcp_row *row, void *ctx)
{
	struct host_tally_ctx *c = ctx;

	host_tcp_tally_row(c->t, row, c->own);
}

int host_tcp_tally_read(pid_t pid, const struct host_inodes *own, struct host_tcp_tally *t)
{
	char dir[64];
	struct host_tally_ctx ctx = {t, own};

	snprintf(dir, sizeof(dir), "/proc/%ld/net", (long)pid);
	host_tcp_tally_clear(t);
	return host_tcp_scan(dir, host_tally_fn, &ctx);
}

long host_tcp_tally_conns(const struct host_tcp_tally *t, unsigned port)
{
	long n = 0;

	if (port > 0)
		return port <= 0xffff ? (long)t->established[port] : 0;
	for (size_t p = 1; p <= 0xffff; p++)
		if (t->listen[p])
			n += t->established[p];
	return n;
}

struct host_listen_ctx {
	unsigned port;
	struct host_inodes *out;
	char *addr;
	size_t addr_size;
	int rc;
};

static void host_listen_fn(const struct host_tcp_row *row, void *ctx)
{
	struct host_listen_ctx *c = ctx;

	if (row->state != HOST_TCP_LISTEN || row->port != c->port || row->inode == 0 || c->rc < 0)
		return;
	if (c->out->n == 0 && c->addr_size > 0)
		inet_ntop(row->family, row->addr, c->addr, (socklen_t)c->addr_size);
	c->rc = host_inodes_add(c->out, row->inode);
}

int host_tcp_listeners(unsigned port, struct host_inodes *out, char *addr, size_t addr_size)
{
	struct host_listen_ctx ctx = {port, out, addr, addr_size, 0};
	int rc = host_tcp_scan("/proc/self/net", host_listen_fn, &ctx);

	if (rc == 0)
		rc = ctx.rc;
	host_inodes_sort(out);
	return rc;
}

/* 1 if any of pid's sockets is in `sockets`, 0 if none, or -errno. */
static int host_holds_any(pid_t pid, const struct host_inodes *sockets, struct host_inodes *tmp)
{
	long fds = 0;
	tmp->n = 0;
	int rc = host_fds_read(pid, &fds, tmp);

	/* No descriptor at all: maybe a main thread that called pthread_exit(); ask a live one. */
	if (rc == 0 && fds == 0) {
		pid_t live = host_live_task(pid);

		if (live > 0 && live != pid)
			rc = host_socket_inodes_read(live, tmp);
	}
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < tmp->n; i++)
		if (host_inodes_has(sockets, tmp->v[i]))
			return 1;
	return 0;
}

int host_socket_owners(const struct host_inodes *sockets, pid_t *pids, size_t max, size_t *n,
                       long *unreadable)
{
	struct host_inodes tmp = {0};
	struct dirent *de;
	DIR *d = opendir("/proc");
	int rc = 0;

	*n = 0;
	*unreadable = 0;
	if (!d)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end != '\0' || pid <= 0 || pid == (long)getpid())
			continue;
		rc = host_holds_any((pid_t)pid, sockets, &tmp);
		if (rc == -EACCES || rc == -EPERM)
			(*unreadable)++;
		if (rc == 1 && *n < max)
			pids[(*n)++] = (pid_t)pid;
		rc = rc == -ENOMEM ? rc : 0; /* a process gone meanwhile is no error */
		if (rc < 0)
			break;
	}
	closedir(d);
	host_inodes_free(&tmp);
	for (size_t i = 1; i < *n; i++) /* /proc lists pids ascending, mostly: make it so */
		for (size_t j = i; j > 0 && pids[j - 1] > pids[j]; j--) {
			pid_t x = pids[j];
			pids[j] = pids[j - 1];
			pids[j - 1] = x;
		}
	return rc;
}
