/* stack_size — parses "16k", "8m", "1g", "65536" or "default" (see stack_size.h). */
#include <errno.h>
#include <string.h>

#include "stack_size.h"

int stack_size_parse(const char *text, size_t *bytes)
{
	unsigned long long n = 0, unit = 1;
	const char *s = text;

	if (strcmp(text, "default") == 0) {
		*bytes = 0;
		return 0;
	}
	if (*s < '1' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		/* Stop counting past the limit, but keep reading: "99999999999x" is still EINVAL.
		 */
		if (n <= STACK_SIZE_MAX)
			n = n * 10 + (unsigned long long)(*s - '0');
	}
	if (*s == 'k' || *s == 'K')
		unit = 1ULL << 10;
	else if (*s == 'm' || *s == 'M')
		unit = 1ULL << 20;
	else if (*s == 'g' || *s == 'G')
		unit = 1ULL << 30;
	if (unit != 1)
		s++;
	if (*s != '\0')
		return -EINVAL;
	if (n > STACK_SIZE_MAX / unit)
		return -ERANGE;
	*bytes = (size_t)(n * unit);
	return 0;
}
