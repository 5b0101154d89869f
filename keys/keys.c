#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

#include "keys.h"

/* A key file is 40 characters and a newline; anything much longer is not one. */
#define KEYS_FILE_MAX 128

static const char keys_z85_alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz"
                                        "ABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

int keys_parse(const char *path, const char *text, size_t len, char *z85, uint8_t *bin, char *err,
               size_t errlen)
{
	/* One trailing newline (or CRLF) is the file's, not the key's. */
	if (len > 0 && text[len - 1] == '\n')
		len--;
	if (len > 0 && text[len - 1] == '\r')
		len--;
	if (len != KEYS_Z85_LEN) {
		snprintf(err, errlen, "%s: expected a %d-character Z85 key, got %zu characters",
		         path, KEYS_Z85_LEN, len);
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\0' || strchr(keys_z85_alphabet, text[i]) == NULL) {
			snprintf(err, errlen,
			         "%s: not a Z85 key: character %zu (byte 0x%02x) is outside the "
			         "Z85 alphabet",
			         path, i + 1, (unsigned char)text[i]);
			return -EINVAL;
		}
	}
	memcpy(z85, text, KEYS_Z85_LEN);
	z85[KEYS_Z85_LEN] = '\0';
	if (zmq_z85_decode(bin, z85) == NULL) {
		snprintf(err, errlen, "%s: not a Z85 key (it does not decode)", path);
		return -EINVAL;
	}
	return 0;
}

/* What a path that is not a regular file is, for the message that refuses it. */
static const char *keys_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "of another kind";
}

/*
 * Reads a small key file whole; secret files must be private to their owner.
 * A symlink is followed (systemd credentials and key stores hand keys out that
 * way); what it leads to must be a regular file. O_NONBLOCK: opening a FIFO
 * would otherwise wait for a writer forever, before fstat could refuse it.
 */
static int keys_slurp(const char *path, bool secret, char *buf, size_t *len, char *err,
                      size_t errlen)
{
	struct stat st;
	ssize_t n;
	int rc = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot open the %s key: %s", path,
		         secret ? "secret" : "public", strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		snprintf(err, errlen, "%s: the %s key is %s, not a regular file", path,
		         secret ? "secret" : "public", keys_kind(st.st_mode));
		goto out;
	}
	if (secret && (st.st_mode & 077) != 0) {
		rc = -EPERM;
		snprintf(err, errlen,
		         "%s: the secret key is readable by group or others (mode %04o); "
		         "chmod 600 it",
		         path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	do
		n = read(fd, buf, KEYS_FILE_MAX);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	*len = (size_t)n;
out:
	close(fd);
	return rc;
}

int keys_read_public(const char *path, char *z85, char *err, size_t errlen)
{
	char buf[KEYS_FILE_MAX];
	uint8_t bin[KEYS_BIN_LEN];
	size_t len = 0;
	int rc = keys_slurp(path, false, buf, &len, err, errlen);

	return rc < 0 ? rc : keys_parse(path, buf, len, z85, bin, err, errlen);
}

int keys_read_secret(const char *path, struct keys_pair *out, char *err, size_t errlen)
{
	char buf[KEYS_FILE_MAX];
	uint8_t bin[KEYS_BIN_LEN];
	size_t len = 0;
	int rc = keys_slurp(path, true, buf, &len, err, errlen);

	if (rc == 0)
		rc = keys_parse(path, buf, len, out->secret_z85, bin, err, errlen);
	memset(buf, 0, sizeof(buf));
	memset(bin, 0, sizeof(bin));
	if (rc < 0)
		return rc;
	if (zmq_curve_public(out->public_z85, out->secret_z85) < 0) {
		snprintf(err, errlen, "%s: cannot derive the public key: %s", path,
		         zmq_strerror(zmq_errno()));
		return -EINVAL;
	}
	return 0;
}

static int keys_write_file(const char *path, mode_t mode, const char *z85, char *err, size_t errlen)
{
	char line[KEYS_Z85_LEN + 1];
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	int rc = 0;

	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s%s", path, strerror(errno),
		         errno == EEXIST ? "; refusing to overwrite a key" : "");
		return rc;
	}
	memcpy(line, z85, KEYS_Z85_LEN);
	line[KEYS_Z85_LEN] = '\n';
	/* The umask must not widen or narrow what we ask for. */
	errno = 0;
	if (fchmod(fd, mode) < 0 || write(fd, line, sizeof(line)) != (ssize_t)sizeof(line) ||
	    fsync(fd) < 0) {
		rc = errno ? -errno : -EIO;
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(-rc));
	}
	if (close(fd) < 0 && rc == 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
	}
	memset(line, 0, sizeof(line));
	if (rc < 0)
		unlink(path);
	return rc;
}

int keys_generate(const char *dir, const char *name, char *pub, char *secret, size_t pathlen,
                  char *err, size_t errlen)
{
	struct keys_pair kp;
	int rc;

	if (name[0] == '\0' || name[0] == '.' || strchr(name, '/') != NULL || strlen(name) > 63) {
		snprintf(err, errlen,
		         "--gen-keys: '%s' cannot name a key file (1 to 63 characters, no '/', "
		         "not starting with '.')",
		         name);
		return -EINVAL;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot create the directory: %s", dir, strerror(errno));
		return rc;
	}
	if ((size_t)snprintf(pub, pathlen, "%s/%s.pub", dir, name) >= pathlen ||
	    (size_t)snprintf(secret, pathlen, "%s/%s.key", dir, name) >= pathlen) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -ENAMETOOLONG;
	}
	if (zmq_curve_keypair(kp.public_z85, kp.secret_z85) < 0) {
		snprintf(err, errlen, "cannot generate a CURVE key pair: %s",
		         zmq_strerror(zmq_errno()));
		return -ENOTSUP;
	}
	/* Secret first: if the public file then exists, we remove only what we made. */
	rc = keys_write_file(secret, 0600, kp.secret_z85, err, errlen);
	if (rc == 0) {
		rc = keys_write_file(pub, 0644, kp.public_z85, err, errlen);
		if (rc < 0)
			unlink(secret);
	}
	memset(&kp, 0, sizeof(kp));
	return rc;
}

static int keys_is_pub(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 4 && strcmp(d->d_name + n - 4, ".pub") == 0;
}

int keys_load_dir(const char *dir, struct keys_set *set, char *err, size_t errlen)
{
	struct dirent **names = NULL;
	char path[4096], z85[KEYS_Z85_LEN + 1];
	int rc = 0;
	int n = scandir(dir, &names, keys_is_pub, alphasort);

	set->keys = NULL;
	set->nkeys = 0;
	if (n < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot read the key directory: %s", dir,
		         strerror(errno));
		return rc;
	}
	if (n == 0 || n > KEYS_MAX_AUTHORIZED) {
		rc = n == 0 ? -ENOENT : -E2BIG;
		if (n == 0)
			snprintf(err, errlen, "%s: no *.pub keys: nobody could be admitted", dir);
		else
			snprintf(err, errlen, "%s: %d keys, more than the %d supported", dir, n,
			         KEYS_MAX_AUTHORIZED);
		goto out;
	}
	set->keys = calloc((size_t)n, sizeof(*set->keys));
	set->names = calloc((size_t)n, sizeof(*set->names));
	if (set->keys == NULL || set->names == NULL) {
		keys_set_free(set);
		rc = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", dir);
		goto out;
	}
	for (int i = 0; i < n && rc == 0; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		char buf[KEYS_FILE_MAX];
		size_t len = 0;
		rc = keys_slurp(path, false, buf, &len, err, errlen);
		if (rc == 0)
			rc = keys_parse(path, buf, len, z85, set->keys[set->nkeys], err, errlen);
		if (rc == 0) {
			/* NAME: the file name without ".pub" (longer names are cut, never matched).
			 */
			snprintf(set->names[set->nkeys], KEYS_NAME_MAX, "%.*s",
			         (int)(strlen(names[i]->d_name) - 4), names[i]->d_name);
			set->nkeys++;
		}
	}
	if (rc < 0)
		keys_set_free(set);
out:
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

const char *keys_set_name(const struct keys_set *set, const uint8_t *key)
{
	for (int i = 0; i < set->nkeys; i++)
		if (memcmp(set->keys[i], key, KEYS_BIN_LEN) == 0)
			return set->names[i];
	return NULL;
}

int keys_set_contains(const struct keys_set *set, const uint8_t *key)
{
	return keys_set_name(set, key) != NULL;
}

void keys_set_free(struct keys_set *set)
{
	free(set->keys);
	free(set->names);
	set->keys = NULL;
	set->names = NULL;
	set->nkeys = 0;
}
