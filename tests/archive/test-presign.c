/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Tests of the presigned URLs the server redirects media requests to
 * (archive/s3.c): AWS's own published example of query-string signing
 * (GET /test.txt from examplebucket, 24 May 2013, valid a day) must come
 * out to the very signature AWS prints, and the URLs made for a
 * path-style endpoint keep the host's port in the signed Host, leave a
 * scheme's own port out, encode what a key or type holds, and refuse an
 * expiry AWS would refuse.  No network: a signature is arithmetic.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive-internal.h"
#include "tap.h"

/* AWS's example keys (documented, not a credential of anyone's) */
static const struct archive_s3_signer aws = {
	"https://examplebucket.s3.amazonaws.com",
	"us-east-1",
	"AKIAIOSFODNN7EXAMPLE",
	"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
};

/* 2013-05-24T00:00:00Z */
#define EXAMPLE_TIME ((time_t)1369353600)

/* The X-Amz-Signature of url, or "" */
static const char *signature_of(const char *url)
{
	const char *s = strstr(url, "X-Amz-Signature=");

	return s ? s + 16 : "";
}

static void aws_example(void)
{
	struct prl_buf url = PRL_BUF_INIT;
	int ret = archive_s3_presign_url(&aws, "GET", "/test.txt", NULL, NULL, EXAMPLE_TIME, 86400,
					 &url);

	ok(ret == 0, "AWS's example is signed");
	ok(!strcmp(prl_buf_str(&url),
		   "https://examplebucket.s3.amazonaws.com/test.txt"
		   "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
		   "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_"
		   "request"
		   "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
		   "&X-Amz-Signature="
		   "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"),
	   "... into the URL AWS publishes, its signature included: %s", prl_buf_str(&url));
	prl_buf_release(&url);
}

static void signed_differently(void)
{
	struct prl_buf a = PRL_BUF_INIT, b = PRL_BUF_INIT;

	archive_s3_presign_url(&aws, "GET", "/test.txt", NULL, NULL, EXAMPLE_TIME, 86400, &a);
	archive_s3_presign_url(&aws, "HEAD", "/test.txt", NULL, NULL, EXAMPLE_TIME, 86400, &b);
	ok(strcmp(signature_of(a.data), signature_of(b.data)) != 0,
	   "HEAD is signed as HEAD: another signature than GET's");
	prl_buf_reset(&b);
	archive_s3_presign_url(&aws, "GET", "/test.txt", NULL, NULL, EXAMPLE_TIME + 1, 86400, &b);
	ok(strcmp(signature_of(a.data), signature_of(b.data)) != 0 &&
		   strstr(b.data, "X-Amz-Date=20130524T000001Z"),
	   "a second later: another date, another signature");
	prl_buf_reset(&b);
	archive_s3_presign_url(&aws, "GET", "/test.txt", NULL, NULL, EXAMPLE_TIME, 300, &b);
	ok(strstr(b.data, "&X-Amz-Expires=300&") &&
		   strcmp(signature_of(a.data), signature_of(b.data)) != 0,
	   "the expiry is in the URL and in what is signed");
	prl_buf_release(&a);
	prl_buf_release(&b);
}

static void path_style(void)
{
	struct archive_s3_signer g = {"http://127.0.0.1:4569", "us-east-1", "S3RVER", "S3RVER"};
	struct prl_buf a = PRL_BUF_INIT, b = PRL_BUF_INIT;
	int ret = archive_s3_presign_url(&g, "GET", "/parlers/archive/media/ab/ab01.opus",
					 "audio/ogg; codecs=opus", NULL, EXAMPLE_TIME, 300, &a);

	ok(ret == 0 && !strncmp(a.data, "http://127.0.0.1:4569/parlers/archive/media/ab/ab01.opus?",
				57),
	   "path-style: endpoint, bucket, prefix and key: %s", prl_buf_str(&a));
	ok(strstr(a.data, "&X-Amz-SignedHeaders=host&response-content-type="
			  "audio%2Fogg%3B%20codecs%3Dopus&X-Amz-Signature=") != NULL,
	   "the type asked of the store is encoded and signed, after the X-Amz- names");
	prl_buf_reset(&a);
	archive_s3_presign_url(&g, "GET", "/k.wav", "audio/wav", "attachment; filename=\"r-1.wav\"",
			       EXAMPLE_TIME, 300, &a);
	ok(strstr(a.data, "&response-content-disposition=attachment%3B%20filename%3D%22r-1.wav%22"
			  "&response-content-type=audio%2Fwav&X-Amz-Signature=") != NULL,
	   "a download's name too, in the order of the parameters' names: %s", prl_buf_str(&a));
	/* a scheme's own port is not in the Host a client sends */
	prl_buf_reset(&a);
	g.base = "http://127.0.0.1:80";
	archive_s3_presign_url(&g, "GET", "/k", NULL, NULL, EXAMPLE_TIME, 300, &a);
	g.base = "http://127.0.0.1";
	archive_s3_presign_url(&g, "GET", "/k", NULL, NULL, EXAMPLE_TIME, 300, &b);
	ok(!strcmp(signature_of(strstr(a.data, "/k?")), signature_of(strstr(b.data, "/k?"))),
	   "http://host:80 is signed as http://host");
	prl_buf_reset(&a);
	prl_buf_reset(&b);
	archive_s3_presign_url(&g, "GET", "/a b+c~d", NULL, NULL, EXAMPLE_TIME, 300, &a);
	ok(strstr(a.data, "/a%20b%2Bc~d?") != NULL, "a key is URI-encoded as AWS encodes it: %s",
	   prl_buf_str(&a));
	ok(archive_s3_presign_url(&g, "GET", "/k", NULL, NULL, EXAMPLE_TIME, 0, &b) ==
			   -PRL_EINVAL &&
		   archive_s3_presign_url(&g, "GET", "/k", NULL, NULL, EXAMPLE_TIME, 604801, &b) ==
			   -PRL_EINVAL &&
		   b.len == 0,
	   "an expiry of 0 s or of more than 7 days is refused, nothing written");
	g.base = "nothing";
	ok(archive_s3_presign_url(&g, "GET", "/k", NULL, NULL, EXAMPLE_TIME, 300, &b) ==
		   -PRL_EINVAL,
	   "an endpoint without a host is refused");
	prl_buf_release(&a);
	prl_buf_release(&b);
}

int main(void)
{
	aws_example();
	signed_differently();
	path_style();
	return done_testing();
}
