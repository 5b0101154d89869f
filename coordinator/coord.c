/*
 * coord.c — the run's view of its agents: who sent a message, what it means
 * and whether it may be believed (the bounds are in bounds.c), heartbeats
 * and loss detection, and when the server's next sample is due (its replies:
 * sampling.c). No sockets here: messages come in through coord_on_agent(),
 * coord_on_stats() and coord_on_stats_event() from whatever c->io waits on
 * (link.c: the ZeroMQ pump; a unit test: its own scripted agents), and go
 * out through c->io.
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
void coord_drop(struct coord *c, const char *id, const char *why)
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
		coord_drop(c, id, err.msg);
		return;
	}
	if (strcmp(h.name, id) != 0) {
		coord_drop(c, id, "hello: name differs from the routing id");
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
	coord_drop(c, id, "hello in the middle of the run");
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

/* A phase's place in a step, in the order run.c sends them; close ends the run. */
static int phase_rank(int64_t phase)
{
	static const int rank[MSG_PHASE_COUNT] = {
	    [MSG_PHASE_CONNECT] = 0, [MSG_PHASE_ECHO] = 1,   [MSG_PHASE_LOAD] = 2,
	    [MSG_PHASE_CHURN] = 3,   [MSG_PHASE_VERIFY] = 4, [MSG_PHASE_CLOSE] = 5};

	return phase >= 0 && phase < MSG_PHASE_COUNT ? rank[phase] : MSG_PHASE_COUNT;
}

/* Whether (step, phase) came before the go (go_step, go_phase) in the run. */
static bool go_earlier(int64_t step, int64_t phase, int64_t go_step, int64_t go_phase)
{
	if (phase_rank(go_phase) == phase_rank(MSG_PHASE_CLOSE))
		return phase_rank(phase) < phase_rank(MSG_PHASE_CLOSE);
	return step < go_step || (step == go_step && phase_rank(phase) < phase_rank(go_phase));
}

static void on_counts(struct coord *c, struct coord_agent *a, enum proto_type type, json_t *msg)
{
	struct msg_progress p;
	struct proto_err err;
	char why[160];

	p.hist = c->phase_hist;
	if (msg_progress_unpack(msg, &p, &err) < 0) {
		coord_drop(c, a->id, err.msg);
		return;
	}
	if (a->go_phase < 0) {
		coord_drop(c, a->id, "progress before any go");
		return;
	}
	/* Late news from an agent that is done or lost (a resent answer): not counted. */
	if (a->state != AGENT_READY)
		return;
	/*
	 * A resent answer to an earlier go is old news: ignored, not an offence.
	 * An answer to a go not sent yet is out of place: dropped and counted.
	 */
	if ((int)p.phase != a->go_phase || p.step != a->go_step) {
		/* A stopped agent closes everything: its close is no offence either. */
		if (!go_earlier(p.step, p.phase, a->go_step, a->go_phase) &&
		    !(a->result_due && p.phase == MSG_PHASE_CLOSE))
			coord_drop(c, a->id, "an answer to a go not sent yet");
		return;
	}
	/* A step opens connections up to its level, never past it. */
	const struct hist *h = p.has_hist ? p.hist : NULL;
	if (coord_counts_impossible(
	        c, a, &p.counts, a->assign.steps[p.step], p.phase == MSG_PHASE_CONNECT ? h : NULL,
	        p.phase == MSG_PHASE_ECHO ? h : NULL, why, sizeof(why)) != NULL) {
		coord_drop(c, a->id, why);
		return;
	}
	a->counts = p.counts;
	if (p.has_tick && p.phase == MSG_PHASE_LOAD && p.tick.sub == a->go_sub && !a->phase_done) {
		/* A view over time, bounded like the figures of its phase_done, never going back.
		 */
		bool same = a->has_tick && a->tick_step == (int)p.step && a->tick.sub == p.tick.sub;
		if (p.tick.verified > a->go_bound || p.tick.count > a->go_bound ||
		    (same && p.tick.verified < a->tick.verified)) {
			coord_drop(c, a->id,
			           "a load tick past its part of the load, or going back");
			return;
		}
		timeline_tick(a, (int)p.step, &p.tick);
	}
	if (type != PROTO_PHASE_DONE || (int)p.phase != c->cur_phase || p.step != c->step ||
	    a->phase_done)
		return;
	/* An earlier rate's answer, resent before our go arrived: old news too. */
	if (p.phase == MSG_PHASE_LOAD && p.has_load && p.load.sub != a->go_sub) {
		if (p.load.sub > a->go_sub)
			coord_drop(c, a->id, "an answer to a load rate not sent yet");
		return;
	}
	if ((p.phase == MSG_PHASE_LOAD && !p.has_load) ||
	    (p.phase == MSG_PHASE_CHURN && !p.has_churn)) {
		coord_drop(c, a->id, "a load or churn phase_done without its figures");
		return;
	}
	/*
	 * A load's or churn's figures come once, in its phase_done: impossible ones
	 * are not a stray message to drop and wait past, the agent is lying.
	 */
	if (coord_work_impossible(a, &p, why, sizeof(why)) != NULL) {
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
		coord_drop(c, a->id, "a result before the agent was told to close");
		return;
	}
	r = malloc(sizeof(*r));
	if (r == NULL || msg_result_unpack(msg, r, &err) < 0) {
		coord_drop(c, a->id, r ? err.msg : "out of memory");
		free(r);
		return;
	}
	if (coord_counts_impossible(c, a, &r->counts, a->assign.connections, &r->connect, &r->echo,
	                            why, sizeof(why)) != NULL) {
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
			coord_drop(c, a->id, "ready without an assignment");
		break;
	case PROTO_REJECT:
	case PROTO_BYE:
		if (msg_reject_unpack(msg, &rj, &err) < 0) {
			coord_drop(c, a->id, err.msg);
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
			coord_drop(c, a->id, "reject without an assignment");
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
		coord_drop(c, a->id, err.msg);
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
		coord_drop(c, id, err.msg);
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
		coord_drop(c, id, "not from an agent of this run (no hello)");
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
		coord_drop(
		    c, shown,
		    "its routing id is not an agent name (1 to 47 printable ASCII characters, no "
		    "spaces)");
		return NULL;
	}
	memcpy(name, id, idlen);
	name[idlen] = '\0';
	coord_text(key, KEYS_NAME_MAX, "%s", user_id);
	if (c->curve && !name_of_key(name, key)) {
		coord_drop(
		    c, name,
		    "a name its key does not carry (an agent keyed by NAME.pub is NAME or NAME-*)");
		return NULL;
	}
	a = coord_agent_find(c, name);
	if (a != NULL && strcmp(a->key, key) != 0) {
		coord_drop(c, name, "the name of an agent that joined with another key");
		return NULL;
	}
	if (a == NULL && !c->joining) {
		refuse_stranger(c, name);
		return NULL;
	}
	if (a == NULL && len > COORD_HELLO_MAX) {
		coord_drop(c, name, "a stranger's message larger than any hello");
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
	coord_check_server(c, now);
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
