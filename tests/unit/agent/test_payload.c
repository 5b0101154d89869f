/* Payload generation: regenerable at any offset, unique per (id, round), verified byte-exactly. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "payload.h"

#define LEN 1000

static void test_pieces_equal_whole(void)
{
	unsigned char whole[LEN], piece[LEN];
	size_t off, step;

	payload_fill(42, 3, 0, whole, LEN);
	/* Any split (odd sizes, unaligned offsets) regenerates the same bytes. */
	for (step = 1; step <= 13; step += 3) {
		for (off = 0; off < LEN; off += step) {
			size_t n = off + step > LEN ? LEN - off : step;

			payload_fill(42, 3, off, piece + off, n);
		}
		CHECK(memcmp(whole, piece, LEN) == 0);
		CHECK_EQ_U(payload_check(42, 3, 0, whole, LEN), LEN);
		CHECK_EQ_U(payload_check(42, 3, 7, whole + 7, LEN - 7), LEN - 7);
	}
}

static void test_unique(void)
{
	unsigned char a[64], b[64];
	uint32_t id, round;
	int same = 0;

	payload_fill(1, 0, 0, a, sizeof(a));
	for (id = 0; id < 200; id++)
		for (round = 0; round < 20; round++) {
			if (id == 1 && round == 0)
				continue;
			payload_fill(id, round, 0, b, sizeof(b));
			same += memcmp(a, b, sizeof(a)) == 0;
			/* Even the first 8 bytes differ: a short payload is unique too. */
			same += memcmp(a, b, 8) == 0;
		}
	CHECK_EQ_U(same, 0);
}

static void test_mismatch_located(void)
{
	unsigned char buf[LEN];
	size_t i;

	payload_fill(7, 1, 0, buf, LEN);
	for (i = 0; i < LEN; i += 37) {
		buf[i] ^= 0x01;
		CHECK_EQ_U(payload_check(7, 1, 0, buf, LEN), i);
		/* Checked from an offset, the index is relative to the buffer. */
		if (i >= 100)
			CHECK_EQ_U(payload_check(7, 1, 100, buf + 100, LEN - 100), i - 100);
		buf[i] ^= 0x01;
	}
	/* Right bytes, wrong round or connection: a mismatch at byte 0 (all but ~1/256). */
	CHECK(payload_check(7, 2, 0, buf, LEN) < 8);
	CHECK(payload_check(8, 1, 0, buf, LEN) < 8);
}

int main(void)
{
	test_pieces_equal_whole();
	test_unique();
	test_mismatch_located();
	return check_exit("unit.agent.payload");
}
