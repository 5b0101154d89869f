/*
 * ready — the --ready-fd line: one JSON object and a newline written to a
 * descriptor, which is then closed, so a reader sees the line or, if the
 * server died first, EOF.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server.h"

/*
 * Written without blocking: a reader that never reads costs it the line, not
 * the server. Returns 0 or -errno after saying why. Takes o's reference.
 */
int server_ready_write(int fd, json_t *o)
{
	char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
	int err = 0;

	json_decref(o);
	if (line == NULL)
		err = -ENOMEM;
	int flags = fcntl(fd, F_GETFL);
	if (err == 0 && (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0))
		err = -errno;
	size_t len = line ? strlen(line) : 0, off = 0;
	if (line != NULL)
		line[len++] = '\n'; /* the line and its newline, in place of the NUL */
	while (err == 0 && off < len) {
		ssize_t n = write(fd, line + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			err = -errno;
		else
			off += (size_t)n;
	}
	free(line);
	if (flags >= 0)
		fcntl(fd, F_SETFL, flags); /* stdout or stderr (kept open) stay as they were */
	if (err < 0)
		fprintf(stderr, "server: --ready-fd %d: cannot write the ready line: %s\n", fd,
		        strerror(-err));
	if (fd > STDERR_FILENO)
		close(fd);
	return err;
}
