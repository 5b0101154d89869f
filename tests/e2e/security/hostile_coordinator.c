/*
 * hostile_coordinator CASE AGENT [SERVER] — a fake coordinator (a real ZeroMQ
 * ROUTER on a free loopback port) that misbehaves at a real agent process and
 * checks what the agent does about it. Exit 0 when every check held.
 *
 *   overgo    go connect beyond the assignment (target 999999 of 200), and a
 *             go whose step is past the assignment's steps: the server sees
 *             no connection; a lawful go still works.
 *   oversize  one 2 MiB message (over the 1 MiB limit): the agent says it lost
 *             the coordinator, reconnects and says hello again.
 *   flood     10,000 junk and unexpected messages: the agent's log stays short
 *             and its heartbeats keep coming at least every 1.5 s (its
 *             beat is 1 s: an eighth of the 8 s dead man's switch welcome gave).
 *   stoploop  every hello answered with stop: hellos stay about one a second,
 *             and so do the log lines.
 *   badwelcome  welcomes with a dead man's switch of 0, -5, "5000" are dropped
 *             and said; one of 1 ms is raised to the 1 s floor.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "msg.h"
#include "check.h"
#include "testlib.h"

#define AGENT_LOG_MAX (8 * 1024 * 1024)

struct peer {
	void *ctx;
	void *router;
	char endpoint[128];
	const char *agent_bin;
	pid_t agent;
	int log_fd; /* read end of the agent's stdout+stderr */
	char *log;  /* everything it printed */
	size_t loglen;
	long last_hb;   /* when the agent's last heartbeat arrived */
	long max_gap;   /* longest wait between two heartbeats while counting */
	long last_read; /* when we last looked for the agent's messages */
	long max_stall; /* longest we did not look, while counting: our share of max_gap */
	bool count_gaps;
	int hellos;
	int heartbeats;
	char name[64]; /* the agent under test: messages from earlier ones are ignored */
};

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void log_drain(struct peer *p)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(p->log_fd, buf, sizeof(buf))) > 0) {
		size_t room = AGENT_LOG_MAX - p->loglen;
		size_t take = (size_t)n < room ? (size_t)n : room;
		memcpy(p->log + p->loglen, buf, take);
		p->loglen += take;
		p->log[p->loglen] = '\0';
	}
}

static int log_lines(const struct peer *p)
{
	int n = 0;

	for (size_t i = 0; i < p->loglen; i++)
		n += p->log[i] == '\n';
	return n;
}

static int peer_open(struct peer *p)
{
	size_t len = sizeof(p->endpoint);
	int zero = 0, linger = 0;

	p->log = calloc(1, AGENT_LOG_MAX + 1);
	p->ctx = zmq_ctx_new();
	p->router = zmq_socket(p->ctx, ZMQ_ROUTER);
	/* No high-water mark: a flood must reach the agent, not be dropped here. */
	if (p->log == NULL || p->router == NULL ||
	    zmq_setsockopt(p->router, ZMQ_SNDHWM, &zero, sizeof(zero)) < 0 ||
	    zmq_setsockopt(p->router, ZMQ_LINGER, &linger, sizeof(linger)) < 0 ||
	    zmq_bind(p->router, "tcp://127.0.0.1:*") < 0 ||
	    zmq_getsockopt(p->router, ZMQ_LAST_ENDPOINT, p->endpoint, &len) < 0) {
		fprintf(stderr, "peer: %s\n", zmq_strerror(zmq_errno()));
		return -1;
	}
	return 0;
}

/* Starts the agent in control mode against our ROUTER; its output on a pipe. */
static int agent_start(struct peer *p, const char *name)
{
	int fds[2];
	char *argv[] = {(char *)p->agent_bin,
	                "--coordinator",
	                p->endpoint,
	                "--name",
	                (char *)name,
	                "--threads",
	                "1",
	                "--source-ip",
	                "127.0.0.46",
	                NULL};

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	p->agent = fork();
	if (p->agent < 0)
		return -1;
	if (p->agent == 0) {
		dup2(fds[1], STDOUT_FILENO);
		dup2(fds[1], STDERR_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->log_fd = fds[0];
	fcntl(p->log_fd, F_SETFL, O_NONBLOCK);
	p->loglen = 0;
	p->log[0] = '\0';
	p->hellos = p->heartbeats = 0;
	return 0;
}

static void agent_stop(struct peer *p)
{
	int status;
	long deadline = now_ms() + 5000;

	if (p->agent <= 0)
		return;
	kill(p->agent, SIGTERM);
	while (waitpid(p->agent, &status, WNOHANG) == 0) {
		if (now_ms() > deadline) {
			kill(p->agent, SIGKILL);
			waitpid(p->agent, &status, 0);
			break;
		}
		log_drain(p);
		usleep(20000);
	}
	log_drain(p);
	close(p->log_fd);
	p->agent = 0;
}

static void send_to(struct peer *p, const char *id, const void *body, size_t len)
{
	zmq_send(p->router, id, strlen(id), ZMQ_SNDMORE);
	zmq_send(p->router, body, len, 0);
}

static void send_msg(struct peer *p, const char *id, json_t *msg)
{
	size_t len;
	char *body = proto_encode(msg, &len);

	if (body != NULL)
		send_to(p, id, body, len);
	free(body);
	json_decref(msg);
}

/*
 * Waits up to timeout_ms for a message of type want (any type with -1) from
 * the agent, reading its log meanwhile. Returns the type, -1 on timeout.
 * Every heartbeat is counted (and its gap measured) on the way.
 */
static int recv_type(struct peer *p, int want, int timeout_ms, json_t **out)
{
	long deadline = now_ms() + timeout_ms;

	for (;;) {
		long left = deadline - now_ms();
		zmq_pollitem_t items[2] = {{.socket = p->router, .events = ZMQ_POLLIN},
		                           {.fd = p->log_fd, .events = ZMQ_POLLIN}};
		if (left <= 0)
			return -1;
		long polled = now_ms();
		if (p->count_gaps && p->last_read > 0 && polled - p->last_read > p->max_stall)
			p->max_stall = polled - p->last_read;
		int rc = zmq_poll(items, 2, left < 100 ? left : 100);
		p->last_read = now_ms();
		if (rc < 0 && zmq_errno() != EINTR)
			return -1;
		log_drain(p);
		if (!(items[0].revents & ZMQ_POLLIN))
			continue;
		zmq_msg_t id, body;
		zmq_msg_init(&id);
		zmq_msg_init(&body);
		if (zmq_msg_recv(&id, p->router, 0) < 0 || zmq_msg_recv(&body, p->router, 0) < 0) {
			zmq_msg_close(&id);
			zmq_msg_close(&body);
			continue;
		}
		enum proto_type type;
		struct proto_err err;
		bool ours = zmq_msg_size(&id) == strlen(p->name) &&
		            memcmp(zmq_msg_data(&id), p->name, strlen(p->name)) == 0;
		json_t *msg = proto_decode(zmq_msg_data(&body), zmq_msg_size(&body), &type, &err);
		zmq_msg_close(&id);
		zmq_msg_close(&body);
		if (msg == NULL || !ours) {
			json_decref(msg);
			continue;
		}
		if (type == PROTO_HELLO)
			p->hellos++;
		if (type == PROTO_HEARTBEAT) {
			long t = now_ms();
			if (p->count_gaps && p->last_hb > 0 && t - p->last_hb > p->max_gap)
				p->max_gap = t - p->last_hb;
			p->last_hb = t;
			p->heartbeats++;
		}
		if (want < 0 || (int)type == want) {
			if (out != NULL)
				*out = msg;
			else
				json_decref(msg);
			return (int)type;
		}
		json_decref(msg);
	}
}

static void welcome(struct peer *p, const char *id, int64_t timeout_ms)
{
	struct msg_welcome w = {.heartbeat_timeout_ms = timeout_ms};

	snprintf(w.run, sizeof(w.run), "hostile");
	send_msg(p, id, msg_welcome_pack(&w));
}

/* hello -> welcome -> assign (one step of 200 to target) -> ready. */
static int agent_join(struct peer *p, const char *name, const char *host, int port)
{
	struct msg_assign a = {.target_port = port,
	                       .connections = 200,
	                       .nsteps = 1,
	                       .steps = {200},
	                       .connect_timeout_ms = 3000,
	                       .payload_bytes = 16,
	                       .rounds = 1,
	                       .echo_timeout_ms = 3000};

	snprintf(a.target_host, sizeof(a.target_host), "%s", host);
	if (agent_start(p, name) < 0 || recv_type(p, PROTO_HELLO, 5000, NULL) < 0)
		return -1;
	welcome(p, name, 30000);
	send_msg(p, name, msg_assign_pack(&a));
	return recv_type(p, PROTO_READY, 5000, NULL) < 0 ? -1 : 0;
}

/* Reads and heartbeats for ms (so the agent's dead man never fires). */
static void idle_for(struct peer *p, const char *id, int ms)
{
	long until = now_ms() + ms;

	while (now_ms() < until) {
		send_msg(p, id, msg_empty_pack(PROTO_HEARTBEAT));
		recv_type(p, PROTO_TYPE_COUNT, 250, NULL);
	}
}

static int case_overgo(struct peer *p, const char *server_bin)
{
	struct tl_proc srv;
	struct server_stats st;
	char addr[64], stats[128];
	struct sockaddr_in sa;
	char *args[] = {(char *)server_bin, "--listen",          "127.0.0.1:0", "--model", "epoll",
	                "--stats",          "tcp://127.0.0.1:*", NULL};

	if (tl_spawn(&srv, args, 0) < 0 ||
	    tl_expect_line(&srv, "server: listening on ", addr, sizeof(addr), 5000) < 0 ||
	    tl_expect_line(&srv, "server: stats on ", stats, sizeof(stats), 5000) < 0 ||
	    tl_parse_addr(addr, &sa) < 0) {
		fprintf(stderr, "the server did not start\n");
		return 1;
	}
	int port = ntohs(sa.sin_port);

	/* A target beyond the assignment: refused whole, not clamped. */
	CHECK(agent_join(p, "greedy", "127.0.0.1", port) == 0, "greedy did not join: %s", p->log);
	struct msg_go go = {.phase = MSG_PHASE_CONNECT, .step = 0, .target = 999999};
	send_msg(p, "greedy", msg_go_pack(&go));
	idle_for(p, "greedy", 3000);
	CHECK(tl_stats(stats, &st, 3000) == 0, "no stats");
	CHECK(st.conns_max == 0, "go target 999999 of 200: the server saw %lld connections at once",
	      (long long)st.conns_max);
	CHECK(strstr(p->log, "refused go connect (step 0, target 999999): more than the 200 "
	                     "connections assigned") != NULL,
	      "no refusal in the agent's log:\n%s", p->log);
	agent_stop(p);
	printf("--- agent log ---\n%s", p->log);

	/* A step past the assignment's steps. */
	CHECK(agent_join(p, "stepper", "127.0.0.1", port) == 0, "stepper did not join: %s", p->log);
	go.step = 7;
	go.target = 100;
	send_msg(p, "stepper", msg_go_pack(&go));
	idle_for(p, "stepper", 2000);
	CHECK(tl_stats(stats, &st, 3000) == 0, "no stats");
	CHECK(st.conns_max == 0, "go step 7 of 1: the server saw %lld connections at once",
	      (long long)st.conns_max);
	CHECK(strstr(p->log,
	             "refused go connect (step 7, target 100): the assignment has 1 step") != NULL,
	      "no refusal in the agent's log:\n%s", p->log);
	agent_stop(p);
	printf("--- agent log ---\n%s", p->log);

	/* The lawful go still works: 200 held at the server. */
	CHECK(agent_join(p, "lawful", "127.0.0.1", port) == 0, "lawful did not join: %s", p->log);
	go.step = 0;
	go.target = 200;
	send_msg(p, "lawful", msg_go_pack(&go));
	long until = now_ms() + 10000;
	int got = -1;
	while (got != PROTO_PHASE_DONE && now_ms() < until) {
		send_msg(p, "lawful", msg_empty_pack(PROTO_HEARTBEAT));
		got = recv_type(p, PROTO_PHASE_DONE, 500, NULL);
	}
	CHECK(got == PROTO_PHASE_DONE, "no phase_done for a lawful go:\n%s", p->log);
	long cur = tl_wait_current(stats, 200, 5000);
	CHECK_EQ(cur, 200);
	CHECK(tl_stats(stats, &st, 3000) == 0, "no stats");
	CHECK_EQ(st.conns_max, 200);
	printf("overgo: refused gos opened nothing; the lawful go holds %ld (max %lld)\n", cur,
	       (long long)st.conns_max);
	agent_stop(p);
	tl_stop(&srv, SIGTERM, 10000);
	return 0;
}

static int case_oversize(struct peer *p)
{
	size_t big = 2 * 1024 * 1024;
	char *junk = malloc(big);

	CHECK(agent_start(p, "sized") == 0, "spawn");
	CHECK(recv_type(p, PROTO_HELLO, 5000, NULL) == PROTO_HELLO, "no hello:\n%s", p->log);
	welcome(p, "sized", 60000);
	idle_for(p, "sized", 500);
	memset(junk, 'x', big);
	send_to(p, "sized", junk, big);
	free(junk);
	long t0 = now_ms();
	/* Our heartbeats keep going, so only a rejoin explains a hello. */
	int got = -1;
	while (got != PROTO_HELLO && now_ms() - t0 < 6000) {
		send_msg(p, "sized", msg_empty_pack(PROTO_HEARTBEAT));
		got = recv_type(p, PROTO_HELLO, 250, NULL);
	}
	CHECK(got == PROTO_HELLO, "no hello within 6 s of a 2 MiB message:\n%s", p->log);
	CHECK(strstr(p->log, "lost the connection to the coordinator at ") != NULL,
	      "the agent did not say it lost the coordinator:\n%s", p->log);
	printf("oversize: hello again %ld ms after a 2 MiB message\n", now_ms() - t0);
	agent_stop(p);
	printf("--- agent log ---\n%s", p->log);
	return 0;
}

static int case_flood(struct peer *p)
{
	static const char *const junk[] = {
	    "\x01not json{",
	    "{\"v\":1,\"type\":\"hello\",\"name\":\"x\"}",
	    "{\"v\":1,\"type\":\"go\",\"phase\":\"connect\",\"step\":0,\"target\":5}",
	    "{\"v\":1,\"type\":\"go\",\"phase\":\"warp\"}",
	    "{\"v\":1,\"type\":\"ready\"}",
	    "{\"v\":2,\"type\":\"stop\",\"reason\":\"x\"}",
	    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
	};
	const int nj = (int)(sizeof(junk) / sizeof(junk[0]));
	/* Some heavy ones too: valid JSON near the size limit costs a parse each. */
	size_t heavy_len = 900 * 1024;
	char *heavy = malloc(heavy_len);

	snprintf(heavy, 64, "{\"v\":1,\"type\":\"progress\",\"pad\":\"");
	memset(heavy + strlen(heavy), 'p', heavy_len - strlen(heavy));
	memcpy(heavy + heavy_len - 2, "\"}", 2);

	CHECK(agent_start(p, "flooded") == 0, "spawn");
	CHECK(recv_type(p, PROTO_HELLO, 5000, NULL) == PROTO_HELLO, "no hello:\n%s", p->log);
	/* An 8 s dead man's switch: the agent's beat is an eighth of it, 1 s. */
	welcome(p, "flooded", 8000);
	idle_for(p, "flooded", 1500);
	int before = log_lines(p);
	p->count_gaps = true;
	p->max_gap = p->max_stall = 0;
	p->last_read = now_ms();
	long t0 = now_ms();
	/* 10,000 over about 3 s, reading the agent's messages meanwhile. */
	for (int i = 0; i < 10000; i++) {
		if (i % 50 == 49)
			send_to(p, "flooded", heavy, heavy_len);
		else
			send_to(p, "flooded", junk[i % nj], strlen(junk[i % nj]));
		/* Read often, so a heartbeat's arrival is timed by the agent, not by us. */
		if (i % 10 == 9)
			recv_type(p, PROTO_TYPE_COUNT, 1, NULL);
		if (i % 100 == 99)
			send_msg(p, "flooded", msg_empty_pack(PROTO_HEARTBEAT));
	}
	long sent_ms = now_ms() - t0;
	/* Heartbeats go on after it, and the summary comes once the agent's 10 s window ends. */
	idle_for(p, "flooded", 3000);
	for (int s = 0; s < 12 && strstr(p->log, "more like this suppressed") == NULL; s++)
		idle_for(p, "flooded", 1000);
	p->count_gaps = false;
	free(heavy);
	int lines = log_lines(p) - before;
	printf("flood: 10000 messages sent in %ld ms; agent log %d lines; longest heartbeat gap "
	       "%ld ms (we did not look for at most %ld ms of it); %d heartbeats\n",
	       sent_ms, lines, p->max_gap, p->max_stall, p->heartbeats);
	CHECK(lines < 50, "the agent wrote %d lines for a flood", lines);
	/* A gap we caused by not reading (a loaded test host) is not the agent's. */
	CHECK(p->max_gap > 0 && p->max_gap - p->max_stall <= 1500,
	      "longest heartbeat gap %ld ms, %ld ms of it ours", p->max_gap, p->max_stall);
	CHECK(strstr(p->log, "more like this suppressed") != NULL,
	      "no suppression summary:\n%.4000s", p->log);
	agent_stop(p);
	printf("--- agent log ---\n%.6000s", p->log);
	return 0;
}

static int case_stoploop(struct peer *p)
{
	struct msg_stop st;

	snprintf(st.reason, sizeof(st.reason), "has no place for this agent");
	CHECK(agent_start(p, "unwanted") == 0, "spawn");
	long t0 = now_ms();
	while (now_ms() - t0 < 5000)
		if (recv_type(p, PROTO_HELLO, 100, NULL) == PROTO_HELLO)
			send_msg(p, "unwanted", msg_stop_pack(&st));
	agent_stop(p);
	int lines = log_lines(p);
	printf("stoploop: %d hellos and %d log lines in 5 s\n", p->hellos, lines);
	CHECK(p->hellos >= 3 && p->hellos <= 8, "%d hellos in 5 s", p->hellos);
	CHECK(lines <= 20, "%d log lines in 5 s:\n%.3000s", lines, p->log);
	return 0;
}

/*
 * Welcomes with a dead man's switch of 0, -5 and "5000": each is dropped with
 * a line saying so, and the agent goes on saying hello. Then one of 1 ms: the
 * agent takes 1 s (its floor), beats every 125 ms (not faster), and, left
 * unanswered, closes after that second.
 */
static int case_badwelcome(struct peer *p)
{
	json_t *bad[3];

	CHECK(agent_start(p, "welcomed") == 0, "spawn");
	CHECK(recv_type(p, PROTO_HELLO, 5000, NULL) == PROTO_HELLO, "no hello:\n%s", p->log);
	for (int i = 0; i < 3; i++) {
		struct msg_welcome w = {.heartbeat_timeout_ms = 5000};
		snprintf(w.run, sizeof(w.run), "hostile");
		bad[i] = msg_welcome_pack(&w);
	}
	json_object_set_new(bad[0], "heartbeat_timeout_ms", json_integer(0));
	json_object_set_new(bad[1], "heartbeat_timeout_ms", json_integer(-5));
	json_object_set_new(bad[2], "heartbeat_timeout_ms", json_string("5000"));
	for (int i = 0; i < 3; i++)
		send_msg(p, "welcomed", bad[i]);
	int hellos = p->hellos;
	for (int i = 0; i < 2; i++)
		CHECK(recv_type(p, PROTO_HELLO, 3000, NULL) == PROTO_HELLO,
		      "no hello after bad welcomes");
	CHECK(p->hellos >= hellos + 2, "hellos stopped after bad welcomes");
	CHECK(strstr(p->log, "dropped a welcome") != NULL, "bad welcomes dropped silently:\n%s",
	      p->log);
	CHECK(strstr(p->log, "joined run") == NULL, "joined on a bad welcome:\n%s", p->log);

	welcome(p, "welcomed", 1);
	int beats = p->heartbeats;
	long t0 = now_ms();
	while (now_ms() - t0 < 3000 && strstr(p->log, "silent for 1000 ms") == NULL)
		recv_type(p, PROTO_TYPE_COUNT, 50, NULL);
	beats = p->heartbeats - beats;
	printf("badwelcome: %d heartbeats before the 1 s switch fired\n", beats);
	CHECK(strstr(p->log, "the coordinator is silent for 1000 ms") != NULL,
	      "a 1 ms switch not raised to 1 s:\n%s", p->log);
	CHECK(beats >= 3 && beats <= 12, "%d heartbeats in the 1 s before the switch", beats);
	return 0;
}

int main(int argc, char **argv)
{
	struct peer p = {0};

	if (argc < 3 || (strcmp(argv[1], "overgo") == 0 && argc < 4)) {
		fprintf(stderr,
		        "usage: hostile_coordinator overgo|oversize|flood|stoploop|badwelcome "
		        "AGENT [SERVER]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	p.agent_bin = argv[2];
	if (peer_open(&p) < 0)
		return 1;
	if (strcmp(argv[1], "overgo") == 0)
		case_overgo(&p, argv[3]);
	else if (strcmp(argv[1], "oversize") == 0)
		case_oversize(&p);
	else if (strcmp(argv[1], "flood") == 0)
		case_flood(&p);
	else if (strcmp(argv[1], "stoploop") == 0)
		case_stoploop(&p);
	else if (strcmp(argv[1], "badwelcome") == 0)
		case_badwelcome(&p);
	else
		return 2;
	agent_stop(&p);
	zmq_close(p.router);
	zmq_ctx_term(p.ctx);
	free(p.log);
	if (check_failed())
		printf("FAIL: %d check(s)\n", check_failed());
	else
		printf("PASS\n");
	return check_failed() ? 1 : 0;
}
