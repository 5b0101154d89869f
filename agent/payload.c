#include <string.h>

#include "payload.h"

/* splitmix64's finaliser: a fast bijective mix, good enough to make payloads distinct. */
static uint64_t payload_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static uint64_t payload_word(uint32_t id, uint32_t round, uint64_t index)
{
	uint64_t seed = ((uint64_t)id << 32 | round) * 0x9e3779b97f4a7c15ULL;

	return payload_mix(seed + index * 0xd1b54a32d192ed03ULL + 1);
}

void payload_fill(uint32_t id, uint32_t round, size_t off, unsigned char *buf, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t pos = off + i;
		uint64_t w = payload_word(id, round, pos / 8);
		size_t b = pos % 8;

		for (; b < 8 && i < len; b++, i++)
			buf[i] = (unsigned char)(w >> (8 * b));
	}
}

size_t payload_check(uint32_t id, uint32_t round, size_t off, const unsigned char *buf, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t pos = off + i;
		uint64_t w = payload_word(id, round, pos / 8);
		size_t b = pos % 8;

		for (; b < 8 && i < len; b++, i++)
			if (buf[i] != (unsigned char)(w >> (8 * b)))
				return i;
	}
	return len;
}
