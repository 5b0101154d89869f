/*
 * fuzz_plan — plan_parse() on arbitrary bytes.
 *
 * A plan it accepts must keep every documented limit, and its filled-in form
 * (p->json, what the report shows) must parse back to the same plan.
 */
#include "fuzz.h"

#include <string.h>

#include "netaddr.h"
#include "plan.h"

/* A plan is ~10 KB (thresholds): static, not on libFuzzer's stack. */
static struct plan fuzz_a, fuzz_b;

static void fuzz_plan_limits(const struct plan *p)
{
	FUZZ_ASSERT(memchr(p->name, '\0', sizeof(p->name)) != NULL && p->name[0] != '\0');
	/* plan_parse() does no lookup: a name stays a name until plan_resolve(). */
	FUZZ_ASSERT(proto_is_ipv4(p->target_host) || netaddr_is_hostname(p->target_host));
	FUZZ_ASSERT(strcmp(p->target_host, p->target_name) == 0);
	FUZZ_ASSERT(p->target_port >= 0 && p->target_port <= 65535);
	FUZZ_ASSERT(p->target_port > 0 || p->local);
	FUZZ_ASSERT(p->agents_count >= 1 && p->agents_count <= PLAN_MAX_AGENTS);
	FUZZ_ASSERT(p->nnames == 0 || p->nnames == p->agents_count);
	FUZZ_ASSERT(p->nweights >= 0 && p->nweights <= p->agents_count);
	FUZZ_ASSERT(p->connections >= 1 && p->connections <= PLAN_MAX_CONNECTIONS);
	FUZZ_ASSERT(p->nsteps >= 1 && p->nsteps <= MSG_MAX_STEPS);
	FUZZ_ASSERT(p->steps[p->nsteps - 1] == p->connections);
	for (int64_t i = 1; i < p->nsteps; i++)
		FUZZ_ASSERT(p->steps[i] > p->steps[i - 1]);
	FUZZ_ASSERT(p->payload_bytes >= 1 && p->payload_bytes <= 1024 * 1024);
	FUZZ_ASSERT(p->nthresholds >= 0 && p->nthresholds <= PLAN_MAX_THRESHOLDS);
	for (int64_t i = 0; i < p->nthresholds; i++)
		FUZZ_ASSERT(threshold_metric_name(p->thresholds[i].metric) != NULL);
	FUZZ_ASSERT(!p->local || p->local_agents == p->agents_count);
	FUZZ_ASSERT(p->json != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_err err = {{0}};
	char *text;

	if (plan_parse((const char *)data, size, "fuzz.json", &fuzz_a, &err) != 0) {
		/* A refusal is a sentence naming the file. */
		FUZZ_ASSERT(strncmp(err.msg, "fuzz.json", 9) == 0);
		FUZZ_ASSERT(fuzz_a.json == NULL && fuzz_a.names == NULL && fuzz_a.weights == NULL);
		return 0;
	}
	fuzz_accepted++;
	fuzz_plan_limits(&fuzz_a);
	text = json_dumps(fuzz_a.json, JSON_COMPACT);
	FUZZ_ASSERT(text != NULL);
	if (plan_parse(text, strlen(text), "again.json", &fuzz_b, &err) != 0) {
		fprintf(stderr, "the filled-in plan does not parse back: %s\n%s\n", err.msg, text);
		abort();
	}
	FUZZ_ASSERT(json_equal(fuzz_a.json, fuzz_b.json));
	FUZZ_ASSERT(fuzz_a.nthresholds == fuzz_b.nthresholds);
	for (int64_t i = 0; i < fuzz_a.nthresholds; i++) {
		FUZZ_ASSERT(fuzz_a.thresholds[i].metric == fuzz_b.thresholds[i].metric);
		FUZZ_ASSERT(fuzz_a.thresholds[i].op == fuzz_b.thresholds[i].op);
		FUZZ_ASSERT(fuzz_a.thresholds[i].value == fuzz_b.thresholds[i].value);
	}
	free(text);
	plan_free(&fuzz_b);
	plan_free(&fuzz_a);
	return 0;
}
