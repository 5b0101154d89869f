/*
 * coord.c — the run's view of its agents and its server: what each message
 * means and whether it may be believed, heartbeats and loss detection,
 * server samples and when the next is due. No sockets here: messages come
 * in through coord_on_agent(), coord_on_stats() and coord_on_stats_event()
 * from whatever c->io waits on (link.c: the ZeroMQ pump; a unit test: its
 * own scripted agents), and go out through c->io.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "coord.h"
#include "grow.h"
#include "timeline.h"

void coord_text(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, size, fmt, ap);
	va_end(ap);
}

struct coord_agent *coord_agent_find(struct coord *c, const char *id)
{
	for (int i = 0; i < c->nagents; i++)
		if (strcmp(c->agents[i].id, id) == 0)
			return &c->agents[i];
	return NULL;
}

/* Sends msg (consumed) to one agent; -1 if it is unreachable or the send fails. */
int coord_send(struct coord *c, const char *id, json_t *msg)
{
	size_t len;
	char *body = msg ? proto_encode(msg, &len) : NULL;
	int rc = -1;

	json_decref(msg);
	if (body != NULL)
		rc = c->io->send(c, id, body, len);
	if (body == NULL)
		fprintf(stderr, "coordinator: send to %s failed: out of memory\n", id);
	else if (rc < 0 && errno != EHOSTUNREACH)
		fprintf(stderr, "coordinator: send to %s failed: %s\n", id, strerror(errno));
	free(body);
	return rc;
}

bool coord_agent_active(const struct coord_agent *a)
{
	return a->state != AGENT_LOST && a->state != AGENT_REJECTED && a->state != AGENT_DONE;
}

void coord_mark_lost(struct coord *c, struct coord_agent *a, const char *why)
{
	if (a->state == AGENT_LOST)
		return;
	a->state = AGENT_LOST;
	a->lost_step = c->step;
	coord_text(a->why, sizeof(a->why), "%s", why);
	coord_progress_end(c);
	fprintf(stderr, "coordinator: agent %s lost: %s\n", a->id, why);
}

static void log_summary(struct coord *c, struct coord_loglimit *l)
{
	if (l->suppressed == 0)
		return;
	coord_progress_end(c);
	fprintf(stderr, "coordinator: %ld more %s not shown in the last %d s\n", l->suppressed,
	        l->kind, COORD_LOG_WINDOW_MS / 1000);
	l->suppressed = 0;
}

void coord_log_flush(struct coord *c)
{
	log_summary(c, &c->log_drop);
	log_summary(c, &c->log_stop);
}

bool coord_log_allowed(struct coord *c, struct coord_loglimit *l, const char *kind)
{
	int64_t now = clock_ms();

	if (now - l->window_start_ms >= COORD_LOG_WINDOW_MS) {
		log_summary(c, l);
		l->window_start_ms = now;
		l->n = 0;
		l->suppressed = 0;
	}
	if (l->n < COORD_LOG_BURST) {
		l->n++;
		return true;
	}
	l->suppressed++;
	l->kind = kind;
	return false;
}

/* Counts a message that is not acted on, and says why (within the log limit). */
static void drop(struct coord *c, const char *id, const char *why)
{
	c->dropped++;
	if (!coord_log_allowed(c, &c->log_drop, "dropped messages"))
		return;
	coord_progress_end(c);
	fprintf(stderr, "coordinator: dropped a message from %s: %s\n", id, why);
}

void coord_beat_set(struct coord *c, int64_t agents)
{
	int64_t beat = agents * 1000 / COORD_BEATS_PER_S;

	c->beat_ms = beat > COORD_BEAT_MIN_MS ? beat : COORD_BEAT_MIN_MS;
	/*
	 * Five beats: a link down for 2 s delays what follows by up to twice as
	 * long again (TCP's retransmission backoff: 0.2, 0.4, 0.8, 1.6 s...),
	 * plus the beat the agent was waiting out. An agent on it still counts.
	 */
	c->lost_ms = 5 * c->beat_ms;
	c->lost_alone_ms = 15 * c->beat_ms;
	/*
	 * Agents hold on longer than we wait for them: we say "lost" first, and
	 * tell them. They beat once an eighth of it: once a beat, as we do.
	 */
	c->deadman_ms = 8 * c->beat_ms;
}

void coord_welcome(struct coord *c, const char *id)
{
	struct msg_welcome w = {.heartbeat_timeout_ms = c->deadman_ms};

	coord_text(w.run, sizeof(w.run), "%s", c->plan->name);
	coord_send(c, id, msg_welcome_pack(&w));
}

/* A stranger's message while no one may join: one stop says why (within a limit). */
static void refuse_stranger(struct coord *c, const char *id)
{
	struct msg_stop st;

	c->dropped++;
	if (!coord_log_allowed(c, &c->log_stop, "messages from agents not in this run"))
		return;
	coord_progress_end(c);
	fprintf(stderr, "coordinator: %s is not an agent of this run; told it to stop\n", id);
	coord_text(st.reason, sizeof(st.reason), "run \"%s\" is under way", c->plan->name);
	coord_send(c, id, msg_stop_pack(&st));
}

/*
 * a spoke. After a time in which no agent at all was heard, say how long it
 * was: it is the host (or the link), not the agents, and it explains a late
 * verdict on silence.
 */
static void agent_heard(struct coord *c, struct coord_agent *a)
{
	int64_t now = clock_ms();

	if (c->joined_ms != 0 && c->last_any_ms != 0 && now - c->last_any_ms > c->lost_ms) {
		coord_progress_end(c);
		fprintf(stderr,
		        "coordinator: no agent was heard for %.1f s (the host or the link "
		        "stalled, not one agent)\n",
		        (double)(now - c->last_any_ms) / 1000);
	}
	a->last_seen_ms = c->last_any_ms = now;
}

static void on_hello(struct coord *c, const char *id, const char *key, struct coord_agent *a,
                     json_t *msg)
{
	struct msg_hello h;
	struct proto_err err;

	if (msg_hello_unpack(msg, &h, &err) < 0) {
		drop(c, id, err.msg);
		return;
	}
	if (strcmp(h.name, id) != 0) {
		drop(c, id, "hello: name differs from the routing id");
		return;
	}
	if (a == NULL) {
		coord_on_new_agent(c, id, key, &h);
		return;
	}
	if (a->state == AGENT_JOINED) {
		agent_heard(c, a);
		coord_welcome(c, id); /* our welcome crossed its next hello */
		return;
	}
	/*
	 * Before its first go, a hello may just have crossed our welcome. After
	 * it, and until its result is in, a second hello is not acted on: it neither restarts the
	 * agent's part nor keeps it alive. An agent that really started over sends nothing else, so
	 * it is marked lost when its silence runs out, and the report says it restarted.
	 */
	/* Done (or out): back to idle, it says hello for the next run. */
	if (!coord_agent_active(a) || a->go_phase < 0)
		return;
	a->restarted = true;
	drop(c, id, "hello in the middle of the run");
}

/* The largest counter, so one bound covers each without summing (no overflow). */
static int64_t counts_max(const struct msg_counts *k)
{
	int64_t m = k->attempted;
	const int64_t v[] = {k->established, k->lost, k->echo_ok, k->echo_errors};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		m = v[i] > m ? v[i] : m;
	for (int r = 0; r < MSG_REASON_COUNT; r++)
		m = k->failed[r] > m ? k->failed[r] : m;
	return m;
}

/*
 * What an agent may report is bounded by what it was asked: each step opens
 * at most its level, so no counter (each failure reason on its own, so no
 * sum can wrap) passes assigned x steps, nothing is open past `open_max`
 * (the step's level, or the whole assignment), and no histogram holds more
 * samples than connections x echo rounds. Returns NULL, or what is impossible.
 */
static const char *counts_impossible(const struct coord *c, const struct coord_agent *a,
                                     const struct msg_counts *k, int64_t open_max,
                                     const struct hist *connect, const struct hist *echo, char *buf,
                                     size_t size)
{
	int64_t assigned = a->assign.connections;
	int64_t ever = assigned * c->plan->nsteps;
	int64_t rounds = c->plan->rounds > 0 ? c->plan->rounds : 1;

	if (k->current > open_max || k->max_concurrent > assigned)
		coord_text(buf, size, "%lld connections open, but it was assigned %lld",
		           (long long)(k->current > open_max ? k->current : k->max_concurrent),
		           (long long)(k->current > open_max ? open_max : assigned));
	else if (counts_max(k) > ever)
		coord_text(buf, size,
		           "counters past %lld (%lld connections at most in each of %lld steps)",
		           (long long)ever, (long long)assigned, (long long)c->plan->nsteps);
	else if ((connect && connect->count > (uint64_t)ever) ||
	         (echo && echo->count > (uint64_t)(ever * rounds)))
		coord_text(buf, size,
		           "more latencies than its connections could give (%lld x %lld)",
		           (long long)ever, (long long)rounds);
	else
		return NULL;
	return buf;
}

/*
 * A load or churn answer is bounded by its go: no counter past go_bound (the
 * agent's rate x duration, with room for every held connection's last send),
 * so no sum of a thousand agents can wrap; no more verified than sent, no more
 * ok and failed than attempted, exactly one latency per verified message (or
 * connection), and no more time or CPU than the phase could take (go_seconds;
 * CPU on up to 1,024 cores). Returns NULL, or what is impossible.
 */
static const char *work_impossible(const struct coord_agent *a, const struct msg_progress *p,
                                   char *buf, size_t size)
{
	int64_t v[4 + MSG_REASON_COUNT], n = 0, max = 0, done = 0, failed = 0, of = 0;
	double elapsed = 0, cpu = 0;

	if (p->phase == MSG_PHASE_LOAD) {
		v[n++] = p->load.sent;
		v[n++] = p->load.verified;
		v[n++] = p->load.errors > p->load.behind ? p->load.errors : p->load.behind;
		v[n++] = p->load.scheduled;
		done = p->load.verified;
		of = p->load.sent;
		if (p->load.sent > p->load.scheduled) {
			coord_text(buf, size, "load: %lld sent of %lld scheduled",
			           (long long)p->load.sent, (long long)p->load.scheduled);
			return buf;
		}
		elapsed = p->load.elapsed_s;
		cpu = p->load.cpu_user_s + p->load.cpu_sys_s;
	} else if (p->phase == MSG_PHASE_CHURN) {
		v[n++] = p->churn.attempted;
		v[n++] = p->churn.ok;
		for (int r = 0; r < MSG_REASON_COUNT; r++)
			v[n++] = p->churn.failed[r];
		done = p->churn.ok;
		of = p->churn.attempted;
		elapsed = p->churn.elapsed_s;
		cpu = p->churn.cpu_user_s + p->churn.cpu_sys_s;
	} else {
		return NULL;
	}
	for (int i = 0; i < n; i++)
		max = v[i] > max ? v[i] : max;
	if (max > a->go_bound) {
		coord_text(buf, size, "%s counters past %lld, more than its rate and time allow",
		           msg_phase_name(p->phase), (long long)a->go_bound);
		return buf;
	}
	/* Each at most go_bound (< 2^62 here), so these sums cannot wrap. */
	for (int i = 2; p->phase == MSG_PHASE_CHURN && i < n; i++)
		failed += v[i];
	if (done + failed > of) {
		coord_text(buf, size, "%s: %lld verified and %lld failed of %lld started",
		           msg_phase_name(p->phase), (long long)done, (long long)failed,
		           (long long)of);
		return buf;
	}
	if (p->has_hist && p->hist->count != (uint64_t)done) {
		coord_text(buf, size, "%s: %llu latencies for %lld verified",
		           msg_phase_name(p->phase), (unsigned long long)p->hist->count,
		           (long long)done);
		return buf;
	}
	/* Its ticks said more was verified than its phase_done does: one of them lied. */
	if (p->phase == MSG_PHASE_LOAD && a->has_tick && a->tick_step == (int)p->step &&
	    a->tick.sub == p->load.sub && a->tick.verified > p->load.verified) {
		coord_text(buf, size, "load: %lld verified, after a tick that said %lld",
		           (long long)p->load.verified, (long long)a->tick.verified);
		return buf;
	}
	if (elapsed > a->go_seconds || cpu > a->go_seconds * 1024) {
		coord_text(buf, size,
		           "%s: %.3g s elapsed and %.3g s of CPU in a phase of %.3g s at most",
		           msg_phase_name(p->phase), elapsed, cpu, a->go_seconds);
		return buf;
	}
	return NULL;
}

static void merge_phase_hist(struct coord *c, const struct msg_progress *p)
{
	struct coord_step *st = &c->steps[p->step];
	struct hist **into = p->phase == MSG_PHASE_CONNECT ? &st->connect
	                     : p->phase == MSG_PHASE_ECHO  ? &st->echo
	                     : p->phase == MSG_PHASE_LOAD && p->has_load
	                         ? &st->load[p->load.sub].latency
	                     : p->phase == MSG_PHASE_CHURN ? &st->churn.latency
	                                                   : NULL;

	if (!p->has_hist || into == NULL)
		return;
	if (*into == NULL && (*into = malloc(sizeof(**into))) != NULL)
		hist_init(*into);
	if (*into != NULL)
		hist_merge(*into, p->hist);
}

/* An agent whose numbers cannot be true leaves the run at once, saying which. */
static void impossible(struct coord *c, struct coord_agent *a, const char *why)
{
	char lost[224];

	c->dropped++;
	coord_text(lost, sizeof(lost), "its counts are impossible: %s", why);
	coord_mark_lost(c, a, lost);
}

/* A load's or churn's phase_done, summed into its step (the figures were checked). */
static void add_work(struct coord_step *st, const struct msg_progress *p)
{
	if (p->phase == MSG_PHASE_LOAD) {
		struct coord_load *l = &st->load[p->load.sub];

		l->agents++;
		l->scheduled += p->load.scheduled;
		l->sent += p->load.sent;
		l->verified += p->load.verified;
		l->errors += p->load.errors;
		l->behind += p->load.behind;
		l->elapsed_s = fmax(l->elapsed_s, p->load.elapsed_s);
		l->agent_cpu_s += p->load.cpu_user_s + p->load.cpu_sys_s;
	}
	if (p->phase == MSG_PHASE_CHURN) {
		struct coord_churn *ch = &st->churn;

		ch->agents++;
		ch->attempted += p->churn.attempted;
		ch->ok += p->churn.ok;
		for (int r = 0; r < MSG_REASON_COUNT; r++)
			ch->failed[r] += p->churn.failed[r];
		ch->elapsed_s = fmax(ch->elapsed_s, p->churn.elapsed_s);
		ch->agent_cpu_s += p->churn.cpu_user_s + p->churn.cpu_sys_s;
	}
}

static void on_counts(struct coord *c, struct coord_agent *a, enum proto_type type, json_t *msg)
{
	struct msg_progress p;
	struct proto_err err;
	char why[160];

	p.hist = c->phase_hist;
	if (msg_progress_unpack(msg, &p, &err) < 0) {
		drop(c, a->id, err.msg);
		return;
	}
	if (a->go_phase < 0) {
		drop(c, a->id, "progress before any go");
		return;
	}
	/* Late news from an agent that is done or lost (a resent answer): not counted. */
	if (a->state != AGENT_READY)
		return;
	/* A resent answer to an earlier go is old news: ignored, not an offence. */
	if ((int)p.phase != a->go_phase || p.step != a->go_step)
		return;
	/* A step opens connections up to its level, never past it. */
	const struct hist *h = p.has_hist ? p.hist : NULL;
	if (counts_impossible(c, a, &p.counts, a->assign.steps[p.step],
	                      p.phase == MSG_PHASE_CONNECT ? h : NULL,
	                      p.phase == MSG_PHASE_ECHO ? h : NULL, why, sizeof(why)) != NULL) {
		drop(c, a->id, why);
		return;
	}
	a->counts = p.counts;
	if (p.has_tick && p.phase == MSG_PHASE_LOAD && p.tick.sub == a->go_sub && !a->phase_done) {
		/* A view over time, bounded like the figures of its phase_done, never going back.
		 */
		bool same = a->has_tick && a->tick_step == (int)p.step && a->tick.sub == p.tick.sub;
		if (p.tick.verified > a->go_bound || p.tick.count > a->go_bound ||
		    (same && p.tick.verified < a->tick.verified)) {
			drop(c, a->id, "a load tick past its part of the load, or going back");
			return;
		}
		timeline_tick(a, (int)p.step, &p.tick);
	}
	if (type != PROTO_PHASE_DONE || (int)p.phase != c->cur_phase || p.step != c->step ||
	    a->phase_done)
		return;
	/* An earlier rate's answer, resent before our go arrived: old news too. */
	if (p.phase == MSG_PHASE_LOAD && p.has_load && p.load.sub != a->go_sub)
		return;
	if ((p.phase == MSG_PHASE_LOAD && !p.has_load) ||
	    (p.phase == MSG_PHASE_CHURN && !p.has_churn)) {
		drop(c, a->id, "a load or churn phase_done without its figures");
		return;
	}
	/*
	 * A load's or churn's figures come once, in its phase_done: impossible ones
	 * are not a stray message to drop and wait past, the agent is lying.
	 */
	if (work_impossible(a, &p, why, sizeof(why)) != NULL) {
		impossible(c, a, why);
		return;
	}
	a->phase_done = true;
	if (p.phase == MSG_PHASE_VERIFY)
		a->held[p.step] = p.counts.current;
	if (p.phase == MSG_PHASE_CLOSE)
		a->result_due = true;
	add_work(&c->steps[p.step], &p);
	merge_phase_hist(c, &p);
}

static void on_result(struct coord *c, struct coord_agent *a, json_t *msg)
{
	struct proto_err err;
	struct msg_result *r;
	char why[160], lost[200];

	if (a->state == AGENT_DONE) {
		/* Our ack was lost: ack again; the numbers are already in. */
		coord_send(c, a->id, msg_empty_pack(PROTO_RESULT_ACK));
		return;
	}
	if (a->state != AGENT_READY || !a->result_due) {
		drop(c, a->id, "a result before the agent was told to close");
		return;
	}
	r = malloc(sizeof(*r));
	if (r == NULL || msg_result_unpack(msg, r, &err) < 0) {
		drop(c, a->id, r ? err.msg : "out of memory");
		free(r);
		return;
	}
	if (counts_impossible(c, a, &r->counts, a->assign.connections, &r->connect, &r->echo, why,
	                      sizeof(why)) != NULL) {
		free(r);
		coord_text(lost, sizeof(lost), "its result is impossible: %s", why);
		coord_mark_lost(c, a, lost);
		return;
	}
	a->result = r;
	a->counts = r->counts;
	a->state = AGENT_DONE;
	coord_send(c, a->id, msg_empty_pack(PROTO_RESULT_ACK));
}

static void on_agent_message(struct coord *c, struct coord_agent *a, enum proto_type type,
                             json_t *msg)
{
	struct proto_err err;
	struct msg_reject rj;

	switch (type) {
	case PROTO_READY:
		if (a->state == AGENT_ASSIGNED)
			a->state = AGENT_READY;
		else if (a->state != AGENT_READY) /* READY: its resend, until our go */
			drop(c, a->id, "ready without an assignment");
		break;
	case PROTO_REJECT:
	case PROTO_BYE:
		if (msg_reject_unpack(msg, &rj, &err) < 0) {
			drop(c, a->id, err.msg);
			break;
		}
		if (type == PROTO_REJECT && a->state == AGENT_ASSIGNED) {
			a->state = AGENT_REJECTED;
			coord_text(a->why, sizeof(a->why), "%s", rj.reason);
		} else if (type == PROTO_BYE && coord_agent_active(a)) {
			char why[MSG_TEXT_MAX + 32];
			coord_text(why, sizeof(why), "it left: %s", rj.reason);
			coord_mark_lost(c, a, why);
		} else if (type == PROTO_REJECT) {
			drop(c, a->id, "reject without an assignment");
		}
		break;
	case PROTO_PROGRESS:
	case PROTO_PHASE_DONE:
		on_counts(c, a, type, msg);
		break;
	case PROTO_RESULT:
		on_result(c, a, msg);
		break;
	case PROTO_HEARTBEAT:
		break;
	default:
		coord_text(err.msg, sizeof(err.msg), "unexpected %s", proto_type_name(type));
		drop(c, a->id, err.msg);
	}
}

/*
 * A lost agent spoke again (its link was down longer than lost_ms, or it
 * was found lying): the run went on without it, so it closes what it holds
 * now rather than when its dead man's switch would. Once a beat at most.
 */
static void tell_lost(struct coord *c, struct coord_agent *a)
{
	int64_t now = clock_ms();
	struct msg_stop st;

	if (now < a->next_told_ms)
		return;
	a->next_told_ms = now + c->beat_ms;
	coord_text(st.reason, sizeof(st.reason),
	           "this agent was counted lost (%.160s); the run goes on without it", a->why);
	coord_send(c, a->id, msg_stop_pack(&st));
}

static void on_message(struct coord *c, const char *id, const char *key, struct coord_agent *a,
                       const void *body, size_t len)
{
	enum proto_type type;
	struct proto_err err;
	json_t *msg = proto_decode(body, len, &type, &err);

	if (msg == NULL) {
		drop(c, id, err.msg);
		/* Tell a peer speaking another version why nothing will happen. */
		if (proto_other_version(body, len)) {
			struct msg_stop st;
			coord_text(st.reason, sizeof(st.reason), "refused by the coordinator: %s",
			           err.msg);
			coord_send(c, id, msg_stop_pack(&st));
		}
		return;
	}
	if (type == PROTO_HELLO) {
		on_hello(c, id, key, a, msg);
	} else if (a == NULL) {
		drop(c, id, "not from an agent of this run (no hello)");
	} else if (a->state == AGENT_LOST && type == PROTO_RESULT) {
		/* What it sends after our stop: taken (so it stops resending), not counted. */
		coord_send(c, a->id, msg_empty_pack(PROTO_RESULT_ACK));
	} else if (a->state == AGENT_LOST) {
		tell_lost(c, a);
	} else {
		agent_heard(c, a);
		on_agent_message(c, a, type, msg);
	}
	json_decref(msg);
}

/* A routing id as text for a log line: printable bytes as they are, others as \xNN. */
static void id_printable(const unsigned char *b, size_t n, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 5 < size; i++)
		o += (size_t)snprintf(out + o, size - o,
		                      b[i] > ' ' && b[i] <= '~' ? "%c" : "\\x%02x", b[i]);
	out[o] = '\0';
}

/*
 * With keys, a name is the key file's: NAME.pub admits the agent NAME, and
 * NAME-1, NAME-2... for several agent processes sharing one host's key.
 */
static bool name_of_key(const char *name, const char *keyname)
{
	size_t n = strlen(keyname);

	return n > 0 && strncmp(name, keyname, n) == 0 && (name[n] == '\0' || name[n] == '-');
}

/*
 * Who sent a message, before a byte of it is parsed: the routing id must be
 * an agent name (bytes, so "a1\0x" is not "a1"), a stranger may send a hello
 * and nothing larger, and with keys the name stays with the key it joined
 * with. Returns the agent (NULL for a stranger), or sets *refuse.
 */
static struct coord_agent *sender(struct coord *c, const unsigned char *id, size_t idlen,
                                  const char *user_id, size_t len, char *name, char *key,
                                  bool *refuse)
{
	struct coord_agent *a;
	char shown[4 * MSG_NAME_MAX];

	*refuse = true;
	if (!msg_agent_name_valid(id, idlen)) {
		id_printable(id, idlen, shown, sizeof(shown));
		drop(c, shown,
		     "its routing id is not an agent name (1 to 47 printable ASCII characters, no "
		     "spaces)");
		return NULL;
	}
	memcpy(name, id, idlen);
	name[idlen] = '\0';
	coord_text(key, KEYS_NAME_MAX, "%s", user_id);
	if (c->curve && !name_of_key(name, key)) {
		drop(
		    c, name,
		    "a name its key does not carry (an agent keyed by NAME.pub is NAME or NAME-*)");
		return NULL;
	}
	a = coord_agent_find(c, name);
	if (a != NULL && strcmp(a->key, key) != 0) {
		drop(c, name, "the name of an agent that joined with another key");
		return NULL;
	}
	if (a == NULL && !c->joining) {
		refuse_stranger(c, name);
		return NULL;
	}
	if (a == NULL && len > COORD_HELLO_MAX) {
		drop(c, name, "a stranger's message larger than any hello");
		return NULL;
	}
	*refuse = false;
	return a;
}

void coord_on_agent(struct coord *c, const unsigned char *id, size_t idlen, const char *user_id,
                    const void *body, size_t len)
{
	char name[MSG_NAME_MAX], key[KEYS_NAME_MAX];
	bool refuse;
	struct coord_agent *a = sender(c, id, idlen, user_id, len, name, key, &refuse);

	if (!refuse)
		on_message(c, name, key, a, body, len);
}

void coord_on_garbled(struct coord *c)
{
	c->dropped++;
}

static void record_sample(struct coord *c, const struct server_stats *st)
{
	/* Out of memory: the samples thin out; the run goes on. */
	if ((size_t)c->nsamples == c->samples_cap &&
	    grow((void **)&c->samples, &c->samples_cap, sizeof(*c->samples), 256) < 0)
		return;
	c->samples[c->nsamples].t_s = (double)(clock_ms() - c->started_ms) / 1000.0;
	c->samples[c->nsamples++].stats = *st;
	c->last_stats = *st;
	c->have_last_stats = true;
}

/* A stats reply: any reply settles its request; unreadable ones are counted. */
void coord_on_stats(struct coord *c, bool has_seq, uint64_t seq, const void *body, size_t len)
{
	enum proto_type type;
	struct proto_err err;
	struct server_stats st;

	if (!has_seq) {
		drop(c, "the server", "stats reply without its request number");
		return;
	}
	if (seq == c->stats_sent_seq)
		c->stats_sent_ms = 0;
	json_t *msg = body ? proto_decode(body, len, &type, &err) : NULL;
	if (msg != NULL && stats_unpack(msg, &st, &err) == 0) {
		c->last_answer_ms = clock_ms();
		c->stats_bad = 0;
		record_sample(c, &st);
		if (seq > c->stats_seq)
			c->stats_seq = seq;
	} else {
		const char *why = body == NULL ? "stats reply too large" : err.msg;
		drop(c, "the server", why);
		if (++c->stats_bad == COORD_STATS_BAD_MAX)
			coord_server_lost(
			    c, "the server at %s answered %d unreadable replies in a row (%s)",
			    c->stats_endpoint, COORD_STATS_BAD_MAX, why);
	}
	json_decref(msg);
}

void coord_server_lost(struct coord *c, const char *fmt, ...)
{
	va_list ap;

	if (c->server_gone)
		return;
	c->server_gone = true;
	va_start(ap, fmt);
	vsnprintf(c->server_error, sizeof(c->server_error), fmt, ap);
	va_end(ap);
	coord_progress_end(c);
	fprintf(stderr, "coordinator: %s; not asking it again\n", c->server_error);
}

static double run_s(const struct coord *c, int64_t ms)
{
	return (double)(ms - c->started_ms) / 1000.0;
}

void coord_on_stats_event(struct coord *c, enum pump_stats_event ev)
{
	if (ev == PUMP_STATS_CONNECTED) {
		c->stats_connected = true;
	} else if (ev == PUMP_STATS_DISCONNECTED && c->stats_connected) {
		c->stats_connected = false;
		coord_server_lost(c, "the server stopped answering at t=%.1f s (%s closed)",
		                  run_s(c, clock_ms()), c->stats_endpoint);
	} else if (ev != PUMP_STATS_DISCONNECTED) {
		coord_server_lost(c, "the server at %s failed the CURVE handshake (%s)",
		                  c->stats_endpoint,
		                  ev == PUMP_STATS_KEY_REFUSED
		                      ? "it refused the coordinator's key"
		                      : "it is not the server of --stats-key, or speaks no CURVE");
	}
}

/* A request unanswered too long: the server is hung, or was never there. */
static void check_server(struct coord *c, int64_t now)
{
	if (!c->sampling || c->server_gone || c->stats_sent_ms == 0 ||
	    now - c->stats_sent_ms < COORD_STATS_SILENT_MS)
		return;
	if (c->last_answer_ms == 0)
		coord_server_lost(c, "the server never answered at %s", c->stats_endpoint);
	else
		coord_server_lost(c,
		                  "the server stopped answering at t=%.1f s (no answer for %d s)",
		                  run_s(c, c->last_answer_ms), COORD_STATS_SILENT_MS / 1000);
}

/* Asks the server for a sample; `fresh` sends a new request even if one is outstanding. */
void coord_request_stats(struct coord *c, bool fresh)
{
	int64_t now = clock_ms();
	size_t len;

	/*
	 * One outstanding periodic request at a time (a server holding 300K
	 * threads needs seconds to sum its memory).
	 */
	if (!c->sampling || c->server_gone ||
	    (!fresh && c->stats_sent_ms && now - c->stats_sent_ms < COORD_STATS_SILENT_MS))
		return;
	json_t *req = stats_req_new();
	char *body = req ? proto_encode(req, &len) : NULL;
	uint64_t seq = c->stats_sent_seq + 1;
	json_decref(req);
	if (body && c->io->stats_send(c, seq, body, len) == 0) {
		c->stats_sent_ms = now;
		c->stats_sent_seq = seq;
	}
	free(body);
}

void coord_mark(struct coord *c, const char *phase, int step)
{
	if (c->nmarks == COORD_MAX_MARKS)
		return;
	c->marks[c->nmarks].t_s = (double)(clock_ms() - c->started_ms) / 1000.0;
	c->marks[c->nmarks].phase = phase;
	c->marks[c->nmarks++].step = step;
}

void coord_free(struct coord *c)
{
	for (int k = 0; k < MSG_MAX_STEPS; k++) {
		free(c->steps[k].connect);
		free(c->steps[k].echo);
		for (int r = 0; r < MSG_MAX_LOADS; r++)
			free(c->steps[k].load[r].latency);
		free(c->steps[k].churn.latency);
	}
	for (int i = 0; i < c->nagents; i++)
		free(c->agents[i].result);
	free(c->agents);
	free(c->samples);
	free(c->phase_hist);
	free(c->tl_t);
	free(c->tl_current);
	free(c->tl_load);
	free(c->tl_cells);
}

/* One heartbeat, encoded once, to every agent still taking part. */
static void send_heartbeats(struct coord *c, int64_t now)
{
	size_t len;

	if (now < c->next_heartbeat_ms)
		return;
	c->next_heartbeat_ms = now + c->beat_ms;
	json_t *msg = msg_empty_pack(PROTO_HEARTBEAT);
	char *body = msg ? proto_encode(msg, &len) : NULL;
	json_decref(msg);
	for (int i = 0; body != NULL && i < c->nagents; i++) {
		if (coord_agent_active(&c->agents[i]))
			c->io->send(c, c->agents[i].id, body, len);
	}
	free(body);
}

/*
 * Whether an agent's silence is its own. Others heard from well after it
 * went quiet say it is: the control plane works. When no agent at all was
 * heard, the whole host or the coordinator's link stalled (a thousand agent
 * processes waking on two cores at once do that for seconds); an agent is
 * then lost only after lost_alone_ms. `drained`: every message that had
 * arrived was read; with a backlog, its heartbeat may be among the unread
 * (twice the limit ends that benefit of the doubt, so a flood cannot hide a
 * dead agent for ever).
 */
static bool agent_silent(const struct coord *c, const struct coord_agent *a, int64_t now,
                         bool drained)
{
	int64_t silent = now - a->last_seen_ms;
	int64_t others_since = c->last_any_ms - a->last_seen_ms;

	if (silent > c->lost_alone_ms)
		return true;
	if (silent <= c->lost_ms || others_since <= c->lost_ms)
		return false;
	return drained || silent > 2 * c->lost_ms;
}

static void housekeeping(struct coord *c, bool drained)
{
	int64_t now = clock_ms();

	send_heartbeats(c, now);
	for (int i = 0; i < c->nagents; i++) {
		struct coord_agent *a = &c->agents[i];
		if (!coord_agent_active(a) || !agent_silent(c, a, now, drained))
			continue;
		char why[96];
		if (a->restarted)
			coord_text(
			    why, sizeof(why),
			    "it started over (said hello again mid-run: what it held is gone)");
		else if (c->last_any_ms - a->last_seen_ms > c->lost_ms)
			coord_text(why, sizeof(why), "silent for %lld s while the others answered",
			           (long long)(c->lost_ms / 1000));
		else
			coord_text(why, sizeof(why),
			           "silent for %lld s (no agent at all was heard)",
			           (long long)(c->lost_alone_ms / 1000));
		coord_mark_lost(c, a, why);
	}
	if (now >= c->next_timeline_ms && c->nagents > 0) {
		c->next_timeline_ms = now + COORD_TIMELINE_MS;
		timeline_add(c, now);
	}
	check_server(c, now);
	if (c->sampling && now >= c->next_sample_ms) {
		c->next_sample_ms = now + c->plan->server_interval_ms;
		coord_request_stats(c, false);
	}
	coord_progress(c, false);
}

void coord_pump(struct coord *c, int timeout_ms)
{
	/* Due heartbeats go out before any bulk work, whatever is arriving. */
	send_heartbeats(c, clock_ms());
	housekeeping(c, c->io->wait(c, timeout_ms));
}
