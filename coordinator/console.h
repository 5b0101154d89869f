/*
 * console — the local children's lines on a terminal. The coordinator redraws
 * one status line in place (progress.c); a local server or agent writing to
 * the same terminal would glue its line onto it. So, on a TTY, the children
 * are started with a pipe as their stderr, and a thread copies each of their
 * lines to the terminal as "\r\033[K" LINE "\n": the status line erased
 * first, drawn again below by the next progress tick.
 *
 *   console_capture(&con, quiet);   fd 2 is the pipe: what starts now writes there
 *   local_start(...);               the children inherit it
 *   console_release(&con);          fd 2 is the terminal again for us
 *   ...
 *   local_stop(...); console_stop(&con);
 *
 * Off a TTY, or with --quiet, nothing changes (every call does nothing).
 */
#ifndef CONNSCALE_CONSOLE_H
#define CONNSCALE_CONSOLE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#define CONSOLE_LINE_MAX 4096 /* a longer line is cut in pieces of this size */

struct console {
	bool on;         /* capturing or relaying */
	int terminal_fd; /* our stderr, saved while fd 2 is the pipe; -1 once restored */
	int pipe_w;      /* the pipe's write end, ours until console_release */
	int pipe_r;      /* its read end, the thread's */
	int out_fd;      /* where lines go: a dup of the terminal */
	pthread_t thread;
	atomic_bool stop;
};

/* Returns 0 (capturing, or nothing to do); on failure nothing changed. */
int console_capture(struct console *con, bool quiet);
void console_release(struct console *con);
/* Once the children are gone: copies what is left (1 s at most) and joins the thread. */
void console_stop(struct console *con);

/*
 * Each complete line of buf[0..len) written to fd as "\r\033[K" LINE "\n",
 * in one write; with all, an unterminated rest too. Returns the bytes left
 * at the start of buf (an incomplete line). For the thread and the tests.
 */
size_t console_relay_lines(int fd, char *buf, size_t len, bool all);
/* All of buf to fd, retried on EINTR and short writes; a write that fails is not retried. */
void console_write(int fd, const char *buf, size_t len);

#endif
