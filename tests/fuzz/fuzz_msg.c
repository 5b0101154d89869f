/*
 * fuzz_msg — the message decoder on arbitrary bytes: proto_decode(), then
 * every strict unpack (each must refuse a message of another type cleanly),
 * stats_unpack() and hist_from_json() on whatever decodes.
 *
 * What an unpack accepts must pack back to a message that decodes and
 * unpacks to the same thing, so the two sides of the wire cannot disagree.
 */
#include "fuzz.h"

#include <string.h>

#include "hist.h"
#include "msg.h"
#include "stats.h"

/* The big ones (a result holds two 44 KB histograms) stay off the stack. */
static union {
	struct msg_hello hello;
	struct msg_welcome welcome;
	struct msg_assign assign;
	struct msg_reject reject;
	struct msg_go go;
	struct msg_progress progress;
	struct msg_result result;
	struct msg_stop stop;
	struct server_stats stats;
} fuzz_a, fuzz_b;
static struct hist fuzz_hist_a, fuzz_hist_b;
/* Where a progress message's optional "hist" lands: one for each of fuzz_a, fuzz_b. */
static struct hist fuzz_phase_hist[2];

/* One row per unpack: it and the pack that inverts it, through void * to share one table. */
struct fuzz_codec {
	const char *name;
	int (*unpack)(json_t *msg, void *out, struct proto_err *err);
	json_t *(*pack)(enum proto_type type, const void *m);
};

/* Wrappers with the table's signature (calling through a cast pointer is undefined). */
#define FUZZ_CODEC(name, type)                                                                     \
	static int fuzz_unpack_##name(json_t *msg, void *out, struct proto_err *err)               \
	{                                                                                          \
		return msg_##name##_unpack(msg, (type *)out, err);                                 \
	}                                                                                          \
	static json_t *fuzz_pack_##name(enum proto_type t, const void *m)                          \
	{                                                                                          \
		(void)t;                                                                           \
		return msg_##name##_pack((const type *)m);                                         \
	}
FUZZ_CODEC(hello, struct msg_hello)
FUZZ_CODEC(welcome, struct msg_welcome)
FUZZ_CODEC(assign, struct msg_assign)
FUZZ_CODEC(go, struct msg_go)
FUZZ_CODEC(result, struct msg_result)
FUZZ_CODEC(stop, struct msg_stop)

static int fuzz_unpack_empty(json_t *msg, void *out, struct proto_err *err)
{
	(void)out;
	return msg_empty_unpack(msg, err);
}

static json_t *fuzz_pack_empty(enum proto_type type, const void *m)
{
	(void)m;
	return msg_empty_pack(type);
}

static int fuzz_unpack_reject(json_t *msg, void *out, struct proto_err *err)
{
	return msg_reject_unpack(msg, out, err);
}

static json_t *fuzz_pack_reject(enum proto_type type, const void *m)
{
	return msg_reject_pack(type, m);
}

/* The caller points hist at storage (as the coordinator does) to get the phase's latencies. */
static int fuzz_unpack_progress(json_t *msg, void *out, struct proto_err *err)
{
	struct msg_progress *m = out;

	m->hist = &fuzz_phase_hist[out == (void *)&fuzz_a ? 0 : 1];
	return msg_progress_unpack(msg, m, err);
}

/* Packs "hist" only if the message had one, as an agent packs only what it measured. */
static json_t *fuzz_pack_progress(enum proto_type type, const void *m)
{
	struct msg_progress p = *(const struct msg_progress *)m;

	if (!p.has_hist)
		p.hist = NULL;
	return msg_progress_pack(type, &p);
}

static int fuzz_unpack_stats(json_t *msg, void *out, struct proto_err *err)
{
	return stats_unpack(msg, out, err);
}

static json_t *fuzz_pack_stats(enum proto_type type, const void *m)
{
	(void)type;
	return stats_pack(m);
}

static const struct fuzz_codec fuzz_codecs[] = {
    {"hello", fuzz_unpack_hello, fuzz_pack_hello},
    {"welcome", fuzz_unpack_welcome, fuzz_pack_welcome},
    {"assign", fuzz_unpack_assign, fuzz_pack_assign},
    {"empty", fuzz_unpack_empty, fuzz_pack_empty},
    {"reject", fuzz_unpack_reject, fuzz_pack_reject},
    {"go", fuzz_unpack_go, fuzz_pack_go},
    {"progress", fuzz_unpack_progress, fuzz_pack_progress},
    {"result", fuzz_unpack_result, fuzz_pack_result},
    {"stop", fuzz_unpack_stop, fuzz_pack_stop},
    {"server_stats", fuzz_unpack_stats, fuzz_pack_stats},
};
#define FUZZ_NCODECS (sizeof(fuzz_codecs) / sizeof(fuzz_codecs[0]))

/* Pack what codec c accepted, send it through encode/decode, unpack it again: same message. */
static void fuzz_round_trip(const struct fuzz_codec *c, enum proto_type type)
{
	struct proto_err err = {{0}};
	enum proto_type type2;
	json_t *packed = c->pack(type, &fuzz_a), *decoded, *repacked;
	size_t len;
	char *wire;

	FUZZ_ASSERT(packed != NULL);
	wire = proto_encode(packed, &len);
	FUZZ_ASSERT(wire != NULL);
	decoded = proto_decode(wire, len, &type2, &err);
	if (decoded == NULL) {
		fprintf(stderr, "%s: its own packing does not decode: %s\n%s\n", c->name, err.msg,
		        wire);
		abort();
	}
	FUZZ_ASSERT(type2 == type);
	if (c->unpack(decoded, &fuzz_b, &err) != 0) {
		fprintf(stderr, "%s: its own packing does not unpack: %s\n%s\n", c->name, err.msg,
		        wire);
		abort();
	}
	repacked = c->pack(type, &fuzz_b);
	FUZZ_ASSERT(repacked != NULL && json_equal(packed, repacked));
	json_decref(repacked);
	json_decref(decoded);
	json_decref(packed);
	free(wire);
}

/* A histogram that hist_from_json accepted survives hist_to_json and back unchanged. */
static void fuzz_hist(const json_t *j)
{
	struct proto_err err = {{0}};
	json_t *out;

	if (j == NULL || hist_from_json(j, &fuzz_hist_a, &err) != 0)
		return;
	fuzz_accepted++;
	FUZZ_ASSERT(fuzz_hist_a.count == 0 || fuzz_hist_a.min_us <= fuzz_hist_a.max_us);
	FUZZ_ASSERT(hist_percentile(&fuzz_hist_a, 1.0) <= fuzz_hist_a.max_us);
	out = hist_to_json(&fuzz_hist_a);
	FUZZ_ASSERT(out != NULL);
	FUZZ_ASSERT(hist_from_json(out, &fuzz_hist_b, &err) == 0);
	FUZZ_ASSERT(memcmp(&fuzz_hist_a, &fuzz_hist_b, sizeof(fuzz_hist_a)) == 0);
	json_decref(hist_summary_json(&fuzz_hist_a));
	json_decref(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_err err = {{0}};
	enum proto_type type = PROTO_TYPE_COUNT;
	json_t *root = proto_decode(data, size, &type, &err), *hist;
	int accepted = 0;

	if (root == NULL) {
		FUZZ_ASSERT(err.msg[0] != '\0' && type == PROTO_TYPE_COUNT);
		return 0;
	}
	FUZZ_ASSERT(proto_type_name(type) != NULL);
	for (size_t i = 0; i < FUZZ_NCODECS; i++) {
		if (fuzz_codecs[i].unpack(root, &fuzz_a, &err) != 0)
			continue;
		accepted++;
		fuzz_round_trip(&fuzz_codecs[i], type);
	}
	/* Types are exclusive; reject and bye share one unpack, as do the empty ones. */
	FUZZ_ASSERT(accepted <= 1);
	fuzz_accepted += accepted;
	/* Histograms travel inside result and phase_done; the root itself is tried too. */
	hist = json_object_get(root, "hist");
	fuzz_hist(hist);
	fuzz_hist(json_object_get(hist, "connect"));
	fuzz_hist(json_object_get(hist, "echo"));
	fuzz_hist(root);
	json_decref(root);
	return 0;
}
