/* unit.agent.fence: --allow-target parsing, CIDR matching and the default fence. */
#include <arpa/inet.h>
#include <errno.h>

#include "check.h"
#include "fence.h"
#include "options.h"

static struct in_addr ip(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a;
}

static void test_match(void)
{
	struct fence f;
	char err[256], buf[256];

	CHECK(fence_parse("10.0.0.0/8,192.168.1.0/24,198.18.0.1", &f, err, sizeof(err)) == 0);
	CHECK_EQ_U(f.nnets, 3);
	CHECK(fence_allows(&f, ip("10.0.0.0")));
	CHECK(fence_allows(&f, ip("10.255.255.255")));
	CHECK(!fence_allows(&f, ip("11.0.0.0")));
	CHECK(!fence_allows(&f, ip("9.255.255.255")));
	CHECK(fence_allows(&f, ip("192.168.1.77")));
	CHECK(!fence_allows(&f, ip("192.168.2.1")));
	CHECK(fence_allows(&f, ip("198.18.0.1")));
	CHECK(!fence_allows(&f, ip("198.18.0.2")));
	CHECK(!fence_allows(&f, ip("127.0.0.1")));
	fence_format(&f, buf, sizeof(buf));
	CHECK_STR_EQ(buf, "10.0.0.0/8,192.168.1.0/24,198.18.0.1/32");

	CHECK(fence_parse("0.0.0.0/0", &f, err, sizeof(err)) == 0);
	CHECK(fence_allows(&f, ip("8.8.8.8")));
	CHECK(fence_allows(&f, ip("255.255.255.255")));
	CHECK(fence_parse("198.18.0.0/15", &f, err, sizeof(err)) == 0);
	CHECK(fence_allows(&f, ip("198.19.255.254")));
	CHECK(!fence_allows(&f, ip("198.20.0.1")));
	CHECK(fence_parse("127.0.0.1/31", &f, err, sizeof(err)) == -EINVAL);
}

static void test_errors(void)
{
	struct fence f = {.nnets = 1};
	char err[256], many[1024] = "";

	CHECK(fence_parse("10.0.0.0/33", &f, err, sizeof(err)) == -EINVAL);
	CHECK_STR_EQ(err, "agent: --allow-target: expected an IPv4 network a.b.c.d/len, got "
	                  "'10.0.0.0/33'");
	CHECK(fence_parse("10.0.0/8", &f, err, sizeof(err)) == -EINVAL);
	CHECK(fence_parse("10.0.0.0/", &f, err, sizeof(err)) == -EINVAL);
	CHECK(fence_parse("10.0.0.0/-1", &f, err, sizeof(err)) == -EINVAL);
	CHECK(fence_parse("10.0.0.0/8x", &f, err, sizeof(err)) == -EINVAL);
	CHECK(fence_parse("example.com/8", &f, err, sizeof(err)) == -EINVAL);
	CHECK(fence_parse("10.1.2.3/8", &f, err, sizeof(err)) == -EINVAL);
	CHECK_STR_EQ(err, "agent: --allow-target: '10.1.2.3/8' has host bits set; did you mean "
	                  "10.0.0.0/8?");
	CHECK(fence_parse("10.0.0.0/8,,127.0.0.0/8", &f, err, sizeof(err)) == -EINVAL);
	CHECK_STR_EQ(
	    err, "agent: --allow-target: empty or oversized entry in '10.0.0.0/8,,127.0.0.0/8'");
	CHECK(fence_parse("", &f, err, sizeof(err)) == -EINVAL);
	for (int i = 0; i <= FENCE_MAX_NETS; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%s10.0.%d.0/24",
		         i ? "," : "", i);
	CHECK(fence_parse(many, &f, err, sizeof(err)) == -EINVAL);
	CHECK_STR_EQ(err, "agent: --allow-target: more than 32 networks");
	CHECK_EQ_U(f.nnets, 1); /* untouched on error */
}

static void test_options(void)
{
	struct agent_options o;
	char err[512];
	char *deflt[] = {"agent", "--target", "127.0.0.1:9", "-n", "1", NULL};
	char *out[] = {"agent", "--target", "198.18.0.1:9", "-n", "1", NULL};
	char *wide[] = {"agent", "--target",       "198.18.0.1:9",  "-n",
	                "1",     "--allow-target", "198.18.0.0/15", NULL};

	CHECK(options_parse(5, deflt, &o, err, sizeof(err)) == 0);
	CHECK_EQ_U(o.fence.nnets, 1);
	CHECK(fence_allows(&o.fence, ip("127.255.0.1")));
	CHECK(!fence_allows(&o.fence, ip("128.0.0.1")));
	options_free(&o);
	CHECK(options_parse(5, out, &o, err, sizeof(err)) == -EINVAL);
	CHECK_STR_EQ(err,
	             "agent: --target 198.18.0.1:9 (198.18.0.1) is outside the allowed networks "
	             "(127.0.0.0/8); widen them with --allow-target CIDR");
	CHECK(options_parse(7, wide, &o, err, sizeof(err)) == 0);
	options_free(&o);
}

int main(void)
{
	test_match();
	test_errors();
	test_options();
	return check_exit("unit.agent.fence");
}
