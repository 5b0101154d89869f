/*
 * payload — the bytes a connection sends in one echo round, generated on the
 * fly from (connection id, round) so no connection stores a buffer.
 *
 * Byte i of a payload is byte (i % 8) of a 64-bit hash of (id, round, i / 8):
 * unique per connection and round, cheap to regenerate at any offset, so a
 * partial write resumes and an echo is verified incrementally as it arrives.
 */
#ifndef CONNSCALE_PAYLOAD_H
#define CONNSCALE_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

/* Writes payload bytes [off, off + len) of (id, round) into buf. */
void payload_fill(uint32_t id, uint32_t round, size_t off, unsigned char *buf, size_t len);

/*
 * Compares buf (len bytes, which arrived at payload offset off) with what
 * (id, round) should hold there. Returns len if every byte matches, else the
 * index in buf of the first byte that differs.
 */
size_t payload_check(uint32_t id, uint32_t round, size_t off, const unsigned char *buf, size_t len);

#endif
