/* grow.c — the one way a table on the heap grows here: doubling when full. */
#include <errno.h>
#include <stdlib.h>

#include "grow.h"

int grow(void **v, size_t *cap, size_t elem, size_t first)
{
	size_t n = *cap ? *cap * 2 : first;
	void *p;

	if (n < *cap || (elem != 0 && n > (size_t)-1 / elem))
		return -ENOMEM;
	p = realloc(*v, n * elem);
	if (p == NULL)
		return -ENOMEM;
	*v = p;
	*cap = n;
	return 0;
}
