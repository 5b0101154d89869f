/*
 * keys — CURVE key files: generating a pair, reading a public or a secret
 * key, and loading a directory of authorized public keys.
 *
 * A key file holds one Z85 key (40 characters) and an optional newline:
 * NAME.pub the public key, NAME.key the secret key (mode 0600). Functions
 * return 0 or -errno and fill err with one sentence that starts with the
 * file's path: "keys/a.pub: expected a 40-character Z85 key, got 12 characters".
 */
#ifndef CONNSCALE_KEYS_H
#define CONNSCALE_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define KEYS_Z85_LEN        40 /* a 32-byte key in Z85 */
#define KEYS_BIN_LEN        32
#define KEYS_MAX_AUTHORIZED 4096

/* Our own pair, both halves in Z85 (NUL-terminated). */
struct keys_pair {
	char public_z85[KEYS_Z85_LEN + 1];
	char secret_z85[KEYS_Z85_LEN + 1];
};

#define KEYS_NAME_MAX 64 /* NAME of NAME.pub, with its NUL */

/* The public keys found in a directory of NAME.pub files, with their NAMEs. */
struct keys_set {
	uint8_t (*keys)[KEYS_BIN_LEN]; /* malloc'ed, nkeys entries */
	char (*names)[KEYS_NAME_MAX];  /* keys[i] came from names[i].pub */
	int nkeys;
};

/*
 * Writes DIR/NAME.pub and DIR/NAME.key (0600) from a fresh zmq_curve_keypair.
 * Creates DIR (0700) if missing; refuses (-EEXIST) if either file exists, and
 * leaves nothing behind on failure. The paths written go to pub/secret.
 */
int keys_generate(const char *dir, const char *name, char *pub, char *secret, size_t pathlen,
                  char *err, size_t errlen);
/* Reads a public key file into z85 (41 bytes). */
int keys_read_public(const char *path, char *z85, char *err, size_t errlen);
/*
 * Reads a secret key file and derives its public half. Refuses a file that
 * group or others can read, as ssh does.
 */
int keys_read_secret(const char *path, struct keys_pair *out, char *err, size_t errlen);
/* Checks text as one Z85 key (length and alphabet) and decodes it. */
int keys_parse(const char *path, const char *text, size_t len, char *z85, uint8_t *bin, char *err,
               size_t errlen);
/* Loads every DIR/NAME.pub (name order); one unreadable or malformed file is an error. */
int keys_load_dir(const char *dir, struct keys_set *set, char *err, size_t errlen);
int keys_set_contains(const struct keys_set *set, const uint8_t *key);
/* The NAME whose .pub holds key, or NULL. */
const char *keys_set_name(const struct keys_set *set, const uint8_t *key);
void keys_set_free(struct keys_set *set);

#endif
