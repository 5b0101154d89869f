#include "tbucket.h"

void tbucket_init(struct tbucket *tb, uint64_t rate, uint64_t burst, uint64_t now_ns)
{
	tb->interval_ns = rate ? 1000000000ULL / rate : 0;
	if (rate && tb->interval_ns == 0)
		tb->interval_ns = 1;
	/* Credit kept by an idle bucket: burst tokens = the slots (burst - 1) intervals back. */
	tb->burst_ns = ((burst ? burst : 1) - 1) * tb->interval_ns;
	atomic_store(&tb->tat_ns, now_ns > tb->burst_ns ? now_ns - tb->burst_ns : 0);
}

uint64_t tbucket_take(struct tbucket *tb, uint64_t now_ns, uint64_t want, uint64_t *wait_ns)
{
	uint64_t tat, start, n, next;

	if (tb->interval_ns == 0 || want == 0)
		return want;
	tat = atomic_load(&tb->tat_ns);
	for (;;) {
		/* Tokens are issued at slots tat, tat + T, ...; an idle bucket keeps only burst. */
		start = tat;
		if (now_ns > tb->burst_ns && start < now_ns - tb->burst_ns)
			start = now_ns - tb->burst_ns;
		if (start > now_ns) {
			if (wait_ns)
				*wait_ns = start - now_ns;
			return 0;
		}
		n = (now_ns - start) / tb->interval_ns + 1;
		if (n > want)
			n = want;
		next = start + n * tb->interval_ns;
		if (atomic_compare_exchange_weak(&tb->tat_ns, &tat, next))
			break;
	}
	if (n < want && wait_ns)
		*wait_ns = next > now_ns ? next - now_ns : 1;
	return n;
}
