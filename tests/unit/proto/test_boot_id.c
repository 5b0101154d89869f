/*
 * unit.proto.boot_id.* — the kernel's identity that server_stats and hello
 * carry so the coordinator can tell whether agents share the server's kernel
 * (report server.kernel_scope): read from /proc, optional on the wire (absent
 * is "", unknown), round-trips through encode and decode, and a malformed one
 * is refused naming the message and the field.
 */
#include <stdlib.h>

#include "check.h"
#include "msg.h"
#include "stats.h"

#define BOOT_ID "8c3f5a1e-2b7d-4c19-9e0a-5f6b7c8d9e01"

/* msg through encode and decode, as on the wire; NULL if the envelope fails. */
static json_t *wire(json_t *msg)
{
	struct proto_err err;
	enum proto_type type;
	size_t len = 0;
	char *buf = msg ? proto_encode(msg, &len) : NULL;
	json_t *back = buf ? proto_decode(buf, len, &type, &err) : NULL;

	free(buf);
	json_decref(msg);
	return back;
}

/* This kernel's, as /proc/sys/kernel/random/boot_id says it: 36 characters, no newline. */
static void read_proc(void)
{
	char id[STATS_BOOT_ID_MAX], want[64] = "";
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	CHECK(f != NULL);
	if (f == NULL)
		return;
	CHECK(fgets(want, sizeof(want), f) != NULL);
	fclose(f);
	want[strcspn(want, "\n")] = '\0';
	CHECK_EQ(stats_boot_id_read(id, sizeof(id)), 0);
	CHECK_STR_EQ(id, want);
	CHECK_EQ((long long)strlen(id), 36);
	CHECK(stats_boot_id_valid(id));
	/* Too small a buffer for the whole id: refused, and "" rather than a prefix. */
	CHECK(stats_boot_id_read(id, 8) < 0);
	CHECK_STR_EQ(id, "");
}

static void valid(void)
{
	CHECK(stats_boot_id_valid(BOOT_ID));
	CHECK(!stats_boot_id_valid(""));
	CHECK(!stats_boot_id_valid("8C3F5A1E")); /* the kernel writes lower case */
	CHECK(!stats_boot_id_valid("8c3f 5a1e"));
	CHECK(!stats_boot_id_valid(BOOT_ID "\n"));
	CHECK(!stats_boot_id_valid(BOOT_ID "0123")); /* 40 characters: more than any */
}

static void stats_round_trip(void)
{
	struct server_stats in, out;
	struct proto_err err;

	memset(&in, 0, sizeof(in));
	snprintf(in.model, sizeof(in.model), "epoll");
	snprintf(in.boot_id, sizeof(in.boot_id), BOOT_ID);
	json_t *m = wire(stats_pack(&in));
	CHECK(m != NULL);
	CHECK_STR_EQ(json_string_value(json_object_get(m, "boot_id")), BOOT_ID);
	CHECK(stats_unpack(m, &out, &err) == 0, "%s", err.msg);
	CHECK_STR_EQ(out.boot_id, BOOT_ID);
	json_decref(m);
}

/* A server that does not say its kernel (an older build): the key is absent, the id "". */
static void stats_absent(void)
{
	struct server_stats in, out;
	struct proto_err err;

	memset(&in, 0, sizeof(in));
	snprintf(in.model, sizeof(in.model), "threads");
	json_t *m = wire(stats_pack(&in));
	CHECK(m != NULL);
	CHECK(json_object_get(m, "boot_id") == NULL);
	memset(&out, 'x', sizeof(out));
	CHECK(stats_unpack(m, &out, &err) == 0, "%s", err.msg);
	CHECK_STR_EQ(out.boot_id, "");
	json_decref(m);
}

static void stats_bad(void)
{
	struct server_stats in, out;
	struct proto_err err;

	memset(&in, 0, sizeof(in));
	snprintf(in.model, sizeof(in.model), "epoll");
	json_t *m = wire(stats_pack(&in));
	json_object_set_new(m, "boot_id", json_integer(5));
	CHECK_EQ(stats_unpack(m, &out, &err), -1);
	CHECK_CONTAINS(err.msg, "server_stats: field \"boot_id\": expected a boot id");
	CHECK_CONTAINS(err.msg, "got integer");
	json_object_set_new(m, "boot_id", json_string("not an id"));
	CHECK_EQ(stats_unpack(m, &out, &err), -1);
	CHECK_CONTAINS(err.msg, "got another string");
	json_decref(m);
}

static void sample_hello(struct msg_hello *h)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "a1");
	snprintf(h->version, sizeof(h->version), "0.1.0");
	snprintf(h->host, sizeof(h->host), "lab-a");
	h->max_connections = 100;
	h->threads = 1;
	h->nofile = 1024;
	h->ports_per_source = 28232;
}

static void hello_round_trip(void)
{
	struct msg_hello in, out;
	struct proto_err err;

	sample_hello(&in);
	snprintf(in.boot_id, sizeof(in.boot_id), BOOT_ID);
	json_t *m = wire(msg_hello_pack(&in));
	CHECK(m != NULL);
	CHECK(msg_hello_unpack(m, &out, &err) == 0, "%s", err.msg);
	CHECK_STR_EQ(out.boot_id, BOOT_ID);
	CHECK_STR_EQ(out.host, "lab-a");
	json_decref(m);
}

static void hello_absent(void)
{
	struct msg_hello in, out;
	struct proto_err err;

	sample_hello(&in);
	json_t *m = wire(msg_hello_pack(&in));
	CHECK(m != NULL);
	CHECK(json_object_get(m, "boot_id") == NULL);
	CHECK(msg_hello_unpack(m, &out, &err) == 0, "%s", err.msg);
	CHECK_STR_EQ(out.boot_id, "");
	json_decref(m);
}

static void hello_bad(void)
{
	struct msg_hello in, out;
	struct proto_err err;

	sample_hello(&in);
	json_t *m = wire(msg_hello_pack(&in));
	json_object_set_new(m, "boot_id", json_null());
	CHECK_EQ(msg_hello_unpack(m, &out, &err), -1);
	CHECK_CONTAINS(err.msg, "hello: field \"boot_id\": expected a boot id");
	CHECK_CONTAINS(err.msg, "got null");
	json_decref(m);
}

static const struct check_case cases[] = {
    {"read_proc", read_proc},
    {"valid", valid},
    {"stats_round_trip", stats_round_trip},
    {"stats_absent", stats_absent},
    {"stats_bad", stats_bad},
    {"hello_round_trip", hello_round_trip},
    {"hello_absent", hello_absent},
    {"hello_bad", hello_bad},
};

int main(int argc, char **argv)
{
	return CHECK_MAIN(cases);
}
