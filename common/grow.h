/*
 * grow — doubles a heap table (*v, *cap elements of elem bytes; `first` the
 * first time) for the caller to call when it is full. 0, or -ENOMEM with the
 * table as it was: the caller decides whether a table that stops growing
 * ends the work or only thins a record out.
 */
#ifndef CONNSCALE_GROW_H
#define CONNSCALE_GROW_H

#include <stddef.h>

int grow(void **v, size_t *cap, size_t elem, size_t first);

#endif
