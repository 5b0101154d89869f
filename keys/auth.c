#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "auth.h"

/* A draft option in libzmq 4.3's header, but compiled into the library Debian ships. */
#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93
#endif

#define AUTH_ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define AUTH_POLL_MS      100 /* how soon the thread notices auth_stop */

/* ZAP request frames (RFC 27): version, request id, domain, address, identity, mechanism, creds */
enum { ZAP_VERSION, ZAP_ID, ZAP_DOMAIN, ZAP_ADDRESS, ZAP_IDENTITY, ZAP_MECH, ZAP_CRED, ZAP_NF };

/* Logs a refused key once: a refused peer reconnects every 100 ms and would flood the log. */
static void auth_log_refused(struct auth *a, const uint8_t *key, const char *address)
{
	char z85[KEYS_Z85_LEN + 1];

	for (int i = 0; i < a->nrefused; i++)
		if (memcmp(a->refused[i], key, KEYS_BIN_LEN) == 0)
			return;
	if (a->refused == NULL)
		a->refused = calloc(AUTH_MAX_LOGGED, KEYS_BIN_LEN);
	if (a->refused != NULL && a->nrefused < AUTH_MAX_LOGGED)
		memcpy(a->refused[a->nrefused++], key, KEYS_BIN_LEN);
	else if (a->nrefused == AUTH_MAX_LOGGED)
		return; /* the memory is bounded; so is the log */
	zmq_z85_encode(z85, key, KEYS_BIN_LEN);
	fprintf(stderr, "%s: refused %s with unknown key %s (from %s)\n", a->prog, a->peer, z85,
	        address[0] ? address : "an unknown address");
}

/* Decides one request: "200" for a listed CURVE key in our domain, else "400". */
static const char *auth_decide(struct auth *a, zmq_msg_t *f, int nf, const char **text)
{
	char address[64] = "";

	if (nf != ZAP_NF || zmq_msg_size(&f[ZAP_VERSION]) != 3 ||
	    memcmp(zmq_msg_data(&f[ZAP_VERSION]), "1.0", 3) != 0) {
		*text = "malformed ZAP request";
		return "400";
	}
	if (zmq_msg_size(&f[ZAP_DOMAIN]) != strlen(AUTH_DOMAIN) ||
	    memcmp(zmq_msg_data(&f[ZAP_DOMAIN]), AUTH_DOMAIN, strlen(AUTH_DOMAIN)) != 0) {
		*text = "unknown domain";
		return "400";
	}
	if (zmq_msg_size(&f[ZAP_MECH]) != 5 ||
	    memcmp(zmq_msg_data(&f[ZAP_MECH]), "CURVE", 5) != 0 ||
	    zmq_msg_size(&f[ZAP_CRED]) != KEYS_BIN_LEN) {
		*text = "CURVE required";
		return "400";
	}
	const uint8_t *key = zmq_msg_data(&f[ZAP_CRED]);
	if (keys_set_contains(&a->allowed, key)) {
		atomic_fetch_add(&a->admitted, 1);
		*text = "OK";
		return "200";
	}
	atomic_fetch_add(&a->denied, 1);
	size_t n = zmq_msg_size(&f[ZAP_ADDRESS]);
	if (n >= sizeof(address))
		n = sizeof(address) - 1;
	memcpy(address, zmq_msg_data(&f[ZAP_ADDRESS]), n);
	address[n] = '\0';
	auth_log_refused(a, key, address);
	*text = "unknown key";
	return "400";
}

/* Reads one request (every frame), answers it. REP: every request gets exactly one reply. */
static void auth_serve_one(struct auth *a)
{
	zmq_msg_t f[ZAP_NF + 1];
	int nf = 0, more = 1;
	const char *text = "";

	while (more) {
		zmq_msg_init(&f[nf]);
		if (zmq_msg_recv(&f[nf], a->zap, 0) < 0) {
			zmq_msg_close(&f[nf]);
			goto out;
		}
		more = zmq_msg_more(&f[nf]);
		if (nf < ZAP_NF)
			nf++;
		else
			zmq_msg_close(&f[nf]); /* too many frames: keep the count, drop the data */
	}
	const char *status = auth_decide(a, f, nf, &text);
	/*
	 * The user id is the NAME of the key's NAME.pub: libzmq hands it to every
	 * message of the connection ("User-Id"), so a peer's name can be checked
	 * against the key file it was admitted by.
	 */
	const char *user = strcmp(status, "200") == 0
	                       ? keys_set_name(&a->allowed, zmq_msg_data(&f[ZAP_CRED]))
	                       : "";
	const char *id = nf > ZAP_ID ? zmq_msg_data(&f[ZAP_ID]) : "";
	size_t idlen = nf > ZAP_ID ? zmq_msg_size(&f[ZAP_ID]) : 0;
	/* version, request id, status code, status text, user id, metadata */
	if (zmq_send(a->zap, "1.0", 3, ZMQ_SNDMORE) < 0 ||
	    zmq_send(a->zap, id, idlen, ZMQ_SNDMORE) < 0 ||
	    zmq_send(a->zap, status, 3, ZMQ_SNDMORE) < 0 ||
	    zmq_send(a->zap, text, strlen(text), ZMQ_SNDMORE) < 0 ||
	    zmq_send(a->zap, user, strlen(user), ZMQ_SNDMORE) < 0 || zmq_send(a->zap, "", 0, 0) < 0)
		fprintf(stderr, "%s: ZAP reply failed: %s\n", a->prog, zmq_strerror(zmq_errno()));
out:
	for (int i = 0; i < nf; i++)
		zmq_msg_close(&f[i]);
}

static void *auth_thread(void *arg)
{
	struct auth *a = arg;

	while (!atomic_load(&a->stop)) {
		zmq_pollitem_t item = {.socket = a->zap, .events = ZMQ_POLLIN};
		int rc = zmq_poll(&item, 1, AUTH_POLL_MS);
		if (rc < 0 && zmq_errno() != EINTR)
			break;
		if (rc > 0)
			auth_serve_one(a);
	}
	return NULL;
}

int auth_start(struct auth *a, void *ctx, const char *dir, const char *prog, const char *peer,
               char *err, size_t errlen)
{
	int linger = 0, rc;

	memset(a, 0, sizeof(*a));
	atomic_init(&a->stop, false);
	atomic_init(&a->admitted, 0);
	atomic_init(&a->denied, 0);
	a->prog = prog;
	a->peer = peer;
	rc = keys_load_dir(dir, &a->allowed, err, errlen);
	if (rc < 0)
		return rc;
	a->zap = zmq_socket(ctx, ZMQ_REP);
	if (a->zap == NULL || zmq_setsockopt(a->zap, ZMQ_LINGER, &linger, sizeof(linger)) < 0 ||
	    zmq_bind(a->zap, AUTH_ZAP_ENDPOINT) < 0) {
		rc = -zmq_errno();
		snprintf(err, errlen, "cannot start the ZAP handler on %s: %s", AUTH_ZAP_ENDPOINT,
		         zmq_strerror(-rc));
		goto fail;
	}
	rc = pthread_create(&a->thread, NULL, auth_thread, a);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the ZAP handler thread: %s", strerror(rc));
		rc = -rc;
		goto fail;
	}
	a->running = true;
	fprintf(stderr, "%s: %d authorized key%s in %s\n", prog, a->allowed.nkeys,
	        a->allowed.nkeys == 1 ? "" : "s", dir);
	return 0;
fail:
	auth_stop(a);
	return rc;
}

void auth_stop(struct auth *a)
{
	if (a->running) {
		atomic_store(&a->stop, true);
		pthread_join(a->thread, NULL);
		a->running = false;
	}
	if (a->zap != NULL)
		zmq_close(a->zap);
	a->zap = NULL;
	free(a->refused);
	a->refused = NULL;
	a->nrefused = 0;
	keys_set_free(&a->allowed);
}

int auth_curve_server(void *sock, const struct keys_pair *kp, bool zap)
{
	int one = 1;

	if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof(one)) < 0 ||
	    zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, kp->secret_z85, KEYS_Z85_LEN) < 0)
		return -1;
	if (zap && (zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, AUTH_DOMAIN, strlen(AUTH_DOMAIN)) < 0 ||
	            zmq_setsockopt(sock, ZMQ_ZAP_ENFORCE_DOMAIN, &one, sizeof(one)) < 0))
		return -1;
	return 0;
}

int auth_curve_client(void *sock, const struct keys_pair *kp, const char *server_z85)
{
	if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server_z85, KEYS_Z85_LEN) < 0 ||
	    zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, kp->public_z85, KEYS_Z85_LEN) < 0 ||
	    zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, kp->secret_z85, KEYS_Z85_LEN) < 0)
		return -1;
	return 0;
}

static bool auth_host_is_loopback(const char *host)
{
	struct in_addr a;
	struct in6_addr a6;

	if (strcmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a) == 1)
		return (ntohl(a.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

bool auth_endpoint_is_loopback(const char *endpoint)
{
	char host[256];
	const char *p, *colon;

	if (strncmp(endpoint, "ipc://", 6) == 0 || strncmp(endpoint, "inproc://", 9) == 0)
		return true;
	if (strncmp(endpoint, "tcp://", 6) != 0)
		return false;
	p = endpoint + 6;
	/* tcp://SOURCE;HOST:PORT (connect with a source address): the peer is after ';'. */
	if (strchr(p, ';') != NULL)
		p = strchr(p, ';') + 1;
	colon = strrchr(p, ':');
	if (colon == NULL || colon == p || (size_t)(colon - p) >= sizeof(host))
		return false;
	memcpy(host, p, (size_t)(colon - p));
	host[colon - p] = '\0';
	if (host[0] == '[') { /* [::1] */
		size_t n = strlen(host);
		if (n < 3 || host[n - 1] != ']')
			return false;
		memmove(host, host + 1, n - 2);
		host[n - 2] = '\0';
	}
	return auth_host_is_loopback(host);
}
