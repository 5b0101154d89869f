/*
 * unit.proto.reason — the agent's engine and the wire name every failure
 * reason alike, index for index: the agent copies failed[] from one to the
 * other by index, so a reason moved in one list and not the other would be
 * reported under the wrong name. Both come from reason.h's one list.
 */
#include <string.h>

#include "check.h"
#include "engine.h"
#include "msg.h"

static void same_names(void)
{
	CHECK_EQ_U(ENGINE_REASON_COUNT, MSG_REASON_COUNT);
	for (int r = 0; r < MSG_REASON_COUNT && r < ENGINE_REASON_COUNT; r++) {
		const char *e = engine_reason_name((enum engine_reason)r);
		const char *m = msg_reason_name((enum msg_reason)r);
		if (strcmp(e, m) != 0)
			fprintf(stderr, "  reason %d: engine '%s', wire '%s'\n", r, e, m);
		CHECK(strcmp(e, m) == 0);
	}
	CHECK((int)ENGINE_EOF_EARLY == (int)MSG_EOF_EARLY);
	CHECK(strcmp(engine_reason_name(ENGINE_REASON_COUNT), "?") == 0);
}

static const struct check_case cases[] = {
    {"same_names", same_names},
};

int main(int argc, char **argv)
{
	return CHECK_MAIN(cases);
}
