/*
 * unit.keys: key files (good, bad length, bad Z85, missing, too open), a
 * directory of authorized keys, and which endpoints count as this host only.
 * Files are written under a fresh mkdtemp directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

#include "auth.h"
#include "check.h"
#include "keys.h"

/* The test pair of libzmq's zmq_curve(7). */
#define SERVER_PUBLIC "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
#define SERVER_SECRET "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"

static char dir[64];

static const char *put(const char *name, const char *text, mode_t mode)
{
	static char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
	    fchmod(fd, mode) < 0)
		perror(path);
	if (fd >= 0)
		close(fd);
	return path;
}

static void test_read(void)
{
	char z85[KEYS_Z85_LEN + 1], err[512], want[256];
	struct keys_pair kp;
	const char *p;

	p = put("good.pub", SERVER_PUBLIC "\n", 0644);
	CHECK(keys_read_public(p, z85, err, sizeof(err)) == 0);
	CHECK_STR_EQ(z85, SERVER_PUBLIC);
	p = put("crlf.pub", SERVER_PUBLIC "\r\n", 0644);
	CHECK(keys_read_public(p, z85, err, sizeof(err)) == 0);

	p = put("short.pub", "rq:rM>}U?@Lns47E1%kR\n", 0644);
	CHECK(keys_read_public(p, z85, err, sizeof(err)) == -EINVAL);
	snprintf(want, sizeof(want), "%s: expected a 40-character Z85 key, got 20 characters", p);
	CHECK_STR_EQ(err, want);
	p = put("long.pub", SERVER_PUBLIC SERVER_PUBLIC, 0644);
	CHECK(keys_read_public(p, z85, err, sizeof(err)) == -EINVAL);
	snprintf(want, sizeof(want), "%s: expected a 40-character Z85 key, got 80 characters", p);
	CHECK_STR_EQ(err, want);
	p = put("empty.pub", "", 0644);
	CHECK(keys_read_public(p, z85, err, sizeof(err)) == -EINVAL);

	p = put("bad.pub", "rq:rM>}U?@Lns47E1%kR.o@n%Fcm sL/@{H8]yf7\n", 0644);
	CHECK(keys_read_public(p, z85, err, sizeof(err)) == -EINVAL);
	snprintf(want, sizeof(want),
	         "%s: not a Z85 key: character 29 (byte 0x20) is outside the Z85 alphabet", p);
	CHECK_STR_EQ(err, want);
	p = put("quote.pub", "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf\"\n", 0644);
	CHECK(keys_read_public(p, z85, err, sizeof(err)) == -EINVAL);
	CHECK_CONTAINS(err, "character 40 (byte 0x22)");

	snprintf(want, sizeof(want), "%s/missing.pub", dir);
	CHECK(keys_read_public(want, z85, err, sizeof(err)) == -ENOENT);
	CHECK(strstr(err, "missing.pub: cannot open the public key: No such file or directory") !=
	      NULL);

	p = put("server.key", SERVER_SECRET "\n", 0600);
	CHECK(keys_read_secret(p, &kp, err, sizeof(err)) == 0);
	CHECK_STR_EQ(kp.secret_z85, SERVER_SECRET);
	CHECK_STR_EQ(kp.public_z85, SERVER_PUBLIC); /* derived with zmq_curve_public */
	p = put("open.key", SERVER_SECRET "\n", 0640);
	CHECK(keys_read_secret(p, &kp, err, sizeof(err)) == -EPERM);
	snprintf(want, sizeof(want),
	         "%s: the secret key is readable by group or others (mode 0640); chmod 600 it", p);
	CHECK_STR_EQ(err, want);
	p = put("bad.key", "not a key\n", 0600);
	CHECK(keys_read_secret(p, &kp, err, sizeof(err)) == -EINVAL);
	CHECK(keys_read_secret(dir, &kp, err, sizeof(err)) < 0); /* a directory */
}

static void test_dir(void)
{
	char sub[128], err[512], other[KEYS_Z85_LEN + 1], secret[KEYS_Z85_LEN + 1];
	uint8_t bin[KEYS_BIN_LEN];
	struct keys_set set;
	char pub[256], key[256];

	snprintf(sub, sizeof(sub), "%s/authorized", dir);
	CHECK(keys_load_dir(sub, &set, err, sizeof(err)) == -ENOENT);
	CHECK_CONTAINS(err, "cannot read the key directory");
	CHECK(mkdir(sub, 0700) == 0);
	CHECK(keys_load_dir(sub, &set, err, sizeof(err)) == -ENOENT);
	CHECK_CONTAINS(err, "no *.pub keys: nobody could be admitted");

	CHECK(keys_generate(sub, "a1", pub, key, sizeof(pub), err, sizeof(err)) == 0);
	CHECK(keys_generate(sub, "a1", pub, key, sizeof(pub), err, sizeof(err)) == -EEXIST);
	CHECK(keys_generate(sub, "../x", pub, key, sizeof(pub), err, sizeof(err)) == -EINVAL);
	put("authorized/server.pub", SERVER_PUBLIC "\n", 0644);
	put("authorized/notes.txt", "ignored: not a .pub\n", 0644);
	CHECK(keys_load_dir(sub, &set, err, sizeof(err)) == 0);
	CHECK_EQ_U(set.nkeys, 2);
	CHECK(keys_parse("x", SERVER_PUBLIC, 40, other, bin, err, sizeof(err)) == 0);
	CHECK(keys_set_contains(&set, bin));
	CHECK(zmq_curve_keypair(other, secret) == 0);
	CHECK(keys_parse("x", other, 40, other, bin, err, sizeof(err)) == 0);
	CHECK(!keys_set_contains(&set, bin));
	keys_set_free(&set);

	/* One bad file spoils the directory: a typo must not silently drop a key. */
	put("authorized/broken.pub", "short\n", 0644);
	CHECK(keys_load_dir(sub, &set, err, sizeof(err)) == -EINVAL);
	CHECK_CONTAINS(err, "broken.pub: expected a 40-character Z85 key, got 5 characters");
	CHECK(set.keys == NULL && set.nkeys == 0);
}

static void test_loopback(void)
{
	CHECK(auth_endpoint_is_loopback("ipc:///tmp/x.ipc"));
	CHECK(auth_endpoint_is_loopback("inproc://x"));
	CHECK(auth_endpoint_is_loopback("tcp://127.0.0.1:5700"));
	CHECK(auth_endpoint_is_loopback("tcp://127.3.4.5:*"));
	CHECK(auth_endpoint_is_loopback("tcp://localhost:5700"));
	CHECK(auth_endpoint_is_loopback("tcp://[::1]:5700"));
	CHECK(auth_endpoint_is_loopback("tcp://10.0.0.1;127.0.0.1:5700"));
	CHECK(!auth_endpoint_is_loopback("tcp://*:5700"));
	CHECK(!auth_endpoint_is_loopback("tcp://0.0.0.0:5700"));
	CHECK(!auth_endpoint_is_loopback("tcp://198.18.0.254:5700"));
	CHECK(!auth_endpoint_is_loopback("tcp://128.0.0.1:5700"));
	CHECK(!auth_endpoint_is_loopback("tcp://lo:5700"));
	CHECK(!auth_endpoint_is_loopback("tcp://localhost.example.com:5700"));
	CHECK(!auth_endpoint_is_loopback("tcp://127.0.0.1.example.com:5700"));
	CHECK(!auth_endpoint_is_loopback("tcp://[::]:5700"));
	CHECK(!auth_endpoint_is_loopback("tcp://127.0.0.1;10.0.0.1:5700"));
	CHECK(!auth_endpoint_is_loopback("ws://127.0.0.1:5700"));
	CHECK(!auth_endpoint_is_loopback("tcp://127.0.0.1"));
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/connscale-keys-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_read();
	test_dir();
	test_loopback();
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return check_exit("unit.keys");
}
