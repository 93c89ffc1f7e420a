/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A client for S3-compatible object storage (AWS, Ceph RGW, Garage,
 * MinIO...): PUT a file, GET an object or a byte range of it into a file
 * or a hash, HEAD, DELETE.  libcurl speaks HTTP and signs every request
 * with AWS Signature Version 4 (CURLOPT_AWS_SIGV4); nothing here builds a
 * request line.  Objects are addressed path-style (endpoint/bucket/key),
 * which every S3-compatible store answers.  The one signature made here is
 * a presigned URL (SigV4 in the query string: X-Amz-Algorithm, -Credential,
 * -Date, -Expires, -SignedHeaders=host, -Signature), which libcurl has no
 * call for: a URL the server hands to a client so that the client fetches
 * the object itself, for a few minutes.
 *
 * Always holds: a PUT sends the payload's SHA-256 as x-amz-content-sha256,
 * so the store refuses bytes that are not the ones hashed; a GET into a
 * file writes only what a 200 or 206 answer carried, and reports any other
 * status as an error with the store's own words.  Workload: one request
 * per file ingested, rebuilt, checked, backed up or fetched into the
 * read-through cache; one connection kept alive per handle.
 */
#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "archive-internal.h"
#include "parlers/transcode.h"

struct archive_s3 {
	char *endpoint; /* "http://host:port", no trailing slash */
	char *bucket;	/* the bucket's name */
	char *prefix;	/* "" or "some/prefix/" */
	char *region;	/* signing region, "us-east-1" when unset */
	char *userpwd;	/* "ACCESS_KEY:SECRET_KEY" */
	long timeout;	/* seconds without progress before a request is given up */
	CURL *curl;	/* reused: keeps the connection alive */
};

static void s3_free_fields(struct archive_s3 *s)
{
	free(s->endpoint);
	free(s->bucket);
	free(s->prefix);
	free(s->region);
	free(s->userpwd);
}

void archive_s3_free(struct archive_s3 *s)
{
	if (!s)
		return;
	if (s->curl)
		curl_easy_cleanup(s->curl);
	s3_free_fields(s);
	free(s);
}

/* v when set, else NAME's value in the credentials file (lines
 * NAME=VALUE), else NULL.  The caller frees. */
static char *setting(const char *v, const char *name, const char *file_text)
{
	const char *p;
	size_t n = strlen(name);

	if (v && *v)
		return strdup(v);
	for (p = file_text; p && *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len > n && !strncmp(p, name, n) && p[n] == '=') {
			size_t vl = len - n - 1;

			while (vl && (p[n + 1 + vl - 1] == '\r' || p[n + 1 + vl - 1] == ' '))
				vl--;
			return strndup(p + n + 1, vl);
		}
		p = eol ? eol + 1 : p + len;
	}
	return NULL;
}

static int read_text(const char *path, struct prl_buf *out, struct prl_buf *err)
{
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "r");

	if (!f) {
		prl_buf_addf(err, "%s: %s", path, strerror(errno));
		return -PRL_EIO;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && out->len < 65536)
		prl_buf_add(out, chunk, n);
	fclose(f);
	return 0;
}

int archive_s3_open(const char *url, const struct prl_store_config *c, struct archive_s3 **out,
		    struct prl_buf *err)
{
	static const struct prl_store_config none;
	struct prl_buf file = PRL_BUF_INIT, up = PRL_BUF_INIT;
	struct archive_s3 *s;
	const char *rest, *slash, *cred_file;
	char *access = NULL, *secret = NULL, *timeout = NULL;
	int ret = -PRL_EINVAL;

	if (!c)
		c = &none;
	cred_file = c->credentials_file;
	if (!(s = calloc(1, sizeof(*s))))
		return -PRL_ENOMEM;
	if (strncmp(url, "s3://", 5) != 0 || !url[5] || url[5] == '/') {
		prl_buf_addf(err, "'%s' is not an object store address (s3://bucket/prefix)", url);
		goto fail;
	}
	rest = url + 5;
	if (strspn(rest, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/-") !=
	    strlen(rest)) {
		prl_buf_addf(err,
			     "'%s': a bucket and prefix are made of letters, digits, '.', '_', "
			     "'-' and '/'",
			     url);
		goto fail;
	}
	slash = strchr(rest, '/');
	s->bucket = slash ? strndup(rest, (size_t)(slash - rest)) : strdup(rest);
	if (slash && slash[1]) {
		size_t pl = strlen(slash + 1);

		s->prefix = malloc(pl + 2);
		if (s->prefix)
			snprintf(s->prefix, pl + 2, "%s%s", slash + 1, slash[pl] == '/' ? "" : "/");
	} else {
		s->prefix = strdup("");
	}
	if (cred_file && *cred_file && (ret = read_text(cred_file, &file, err)) < 0)
		goto fail;
	s->endpoint = setting(c->endpoint, "PARLERS_S3_ENDPOINT", file.data);
	s->region = setting(c->region, "AWS_REGION", file.data);
	access = setting(c->access_key, "AWS_ACCESS_KEY_ID", file.data);
	secret = setting(c->secret_key, "AWS_SECRET_ACCESS_KEY", file.data);
	timeout = setting(NULL, "PARLERS_S3_TIMEOUT", file.data);
	if (!s->region)
		s->region = strdup("us-east-1");
	if (!s->endpoint)
		s->endpoint = strdup("https://s3.amazonaws.com");
	if (!access || !secret) {
		ret = -PRL_EINVAL;
		prl_buf_addf(err,
			     "%s: no credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
			     "or name a file of them in PARLERS_S3_CREDENTIALS)",
			     url);
		goto fail;
	}
	s->timeout = c->timeout_s > 0 ? c->timeout_s : timeout ? strtol(timeout, NULL, 10) : 30;
	if (s->timeout <= 0)
		s->timeout = 30;
	prl_buf_addf(&up, "%s:%s", access, secret);
	s->userpwd = prl_buf_detach(&up, NULL);
	if (!s->bucket || !s->prefix || !s->endpoint || !s->region || !s->userpwd ||
	    !(s->curl = curl_easy_init())) {
		ret = -PRL_ENOMEM;
		goto fail;
	}
	{
		size_t el = strlen(s->endpoint);

		while (el && s->endpoint[el - 1] == '/')
			s->endpoint[--el] = '\0';
	}
	*out = s;
	s = NULL;
	ret = 0;
fail:
	archive_s3_free(s);
	free(access);
	free(secret);
	free(timeout);
	prl_buf_release(&file);
	prl_buf_release(&up);
	return ret;
}

/* What a request's body goes into. */
struct sink {
	FILE *f;	      /* a file, or NULL */
	EVP_MD_CTX *md;	      /* a running SHA-256, or NULL */
	struct prl_buf *body; /* an error's text: the first bytes of a non-2xx answer */
	long status;	      /* filled from the first write on */
	CURL *curl;
	int64_t bytes; /* of a 2xx body */
};

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
	struct sink *k = ctx;
	size_t len = size * n;

	if (!k->status)
		curl_easy_getinfo(k->curl, CURLINFO_RESPONSE_CODE, &k->status);
	if (k->status / 100 != 2) {
		if (k->body->len < 1024)
			prl_buf_add(k->body, data, len);
		return len;
	}
	if (k->f && fwrite(data, 1, len, k->f) != len)
		return 0;
	if (k->md && EVP_DigestUpdate(k->md, data, len) != 1)
		return 0;
	k->bytes += (int64_t)len;
	return len;
}

/* The text of <Code> in an S3 error answer, for a message. */
static void error_code(const struct prl_buf *body, struct prl_buf *out)
{
	const char *b = prl_buf_str(body), *c = strstr(b, "<Code>"), *e;

	if (c && (e = strstr(c, "</Code>")))
		prl_buf_addf(out, " (%.*s)", (int)(e - c - 6), c + 6);
}

/* One request: method, key (NULL: the bucket), an upload file and its
 * hash, a range, and where the body goes.  Returns 0, -PRL_ENOTFOUND on a
 * 404, -PRL_EACCESS on 401/403, -PRL_EIO otherwise, with err saying. */
static int request(struct archive_s3 *s, const char *method, const char *key, FILE *upload,
		   int64_t upload_bytes, const char *payload_sha, const char *range, struct sink *k,
		   int64_t *length, struct prl_buf *err)
{
	struct prl_buf url = PRL_BUF_INIT, sig = PRL_BUF_INIT, hdr = PRL_BUF_INIT;
	struct prl_buf body = PRL_BUF_INIT;
	struct curl_slist *headers = NULL;
	struct sink none = {NULL, NULL, NULL, 0, NULL, 0};
	CURL *c = s->curl;
	CURLcode rc;
	long status = 0;
	int ret = 0;

	if (!k)
		k = &none;
	k->body = &body;
	k->curl = c;
	k->status = 0;
	curl_easy_reset(c);
	prl_buf_addf(&url, "%s/%s/", s->endpoint, s->bucket);
	/* sent as they are: the prefix is made of [A-Za-z0-9._/-] (checked
	 * when the address is read) and keys are media/xx/<sha256>.<ext> */
	if (key)
		prl_buf_addf(&url, "%s%s", s->prefix, key);
	prl_buf_addf(&sig, "aws:amz:%s:s3", s->region);
	curl_easy_setopt(c, CURLOPT_URL, url.data);
	curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sig.data);
	curl_easy_setopt(c, CURLOPT_USERPWD, s->userpwd);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, s->timeout);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, s->timeout);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, k);
	prl_buf_addf(&hdr, "x-amz-content-sha256: %s",
		     payload_sha
			     ? payload_sha
			     : "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	headers = curl_slist_append(headers, hdr.data);
	if (range) {
		prl_buf_reset(&hdr);
		prl_buf_addf(&hdr, "Range: bytes=%s", range);
		headers = curl_slist_append(headers, hdr.data);
	}
	if (upload) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READDATA, upload);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)upload_bytes);
		headers = curl_slist_append(headers, "Expect:");
	} else if (!strcmp(method, "HEAD")) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && status / 100 != 2)) {
		ret = rc == CURLE_WRITE_ERROR ? -PRL_ENOSPC : -PRL_EIO;
		prl_buf_addf(err, "object store %s: %s %s: %s", s->endpoint, method,
			     key ? key : s->bucket, curl_easy_strerror(rc));
		goto end;
	}
	if (status / 100 != 2) {
		ret = status == 404		       ? -PRL_ENOTFOUND
		      : status == 401 || status == 403 ? -PRL_EACCESS
						       : -PRL_EIO;
		prl_buf_addf(err, "object store %s: %s %s: HTTP %ld", s->endpoint, method,
			     key ? key : s->bucket, status);
		error_code(&body, err);
		if (ret == -PRL_EACCESS)
			prl_buf_addstr(err, ": check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
		goto end;
	}
	if (length) {
		curl_off_t cl = -1;

		curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
		*length = (int64_t)cl;
	}
end:
	curl_slist_free_all(headers);
	prl_buf_release(&url);
	prl_buf_release(&sig);
	prl_buf_release(&hdr);
	prl_buf_release(&body);
	return ret;
}

int archive_s3_check(struct archive_s3 *s, struct prl_buf *err)
{
	return request(s, "HEAD", NULL, NULL, 0, NULL, NULL, NULL, NULL, err);
}

int archive_s3_put(struct archive_s3 *s, const char *key, const char *path, const char *sha256,
		   struct prl_buf *err)
{
	struct stat sb;
	FILE *f = fopen(path, "rb");
	int ret;

	if (!f || fstat(fileno(f), &sb) != 0) {
		prl_buf_addf(err, "%s: %s", path, strerror(errno));
		if (f)
			fclose(f);
		return -PRL_EIO;
	}
	ret = request(s, "PUT", key, f, (int64_t)sb.st_size, sha256, NULL, NULL, NULL, err);
	fclose(f);
	return ret;
}

int archive_s3_head(struct archive_s3 *s, const char *key, int64_t *bytes, struct prl_buf *err)
{
	int64_t len = -1;
	int ret = request(s, "HEAD", key, NULL, 0, NULL, NULL, NULL, &len, err);

	if (ret == 0 && bytes)
		*bytes = len;
	return ret;
}

int archive_s3_get(struct archive_s3 *s, const char *key, FILE *to, int64_t from, int64_t count,
		   char hex[65], int64_t *got, struct prl_buf *err)
{
	struct sink k = {to, NULL, NULL, 0, NULL, 0};
	char range[48];
	unsigned char d[32];
	unsigned int dl = 0;
	int ret;

	if (hex && !(k.md = EVP_MD_CTX_new()))
		return -PRL_ENOMEM;
	if (k.md && EVP_DigestInit_ex(k.md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(k.md);
		return -PRL_ENOMEM;
	}
	if (count >= 0)
		snprintf(range, sizeof(range), "%lld-%lld", (long long)from,
			 (long long)(from + count - 1));
	ret = request(s, "GET", key, NULL, 0, NULL, count >= 0 ? range : NULL, &k, NULL, err);
	if (ret == 0 && to && fflush(to) != 0) {
		ret = errno == ENOSPC ? -PRL_ENOSPC : -PRL_EIO;
		prl_buf_addf(err, "writing %s: %s", key, strerror(errno));
	}
	if (ret == 0 && k.md) {
		EVP_DigestFinal_ex(k.md, d, &dl);
		prl_sha256_hex(d, hex);
	}
	if (ret == 0 && got)
		*got = k.bytes;
	EVP_MD_CTX_free(k.md);
	return ret;
}

int archive_s3_delete(struct archive_s3 *s, const char *key, struct prl_buf *err)
{
	int ret = request(s, "DELETE", key, NULL, 0, NULL, NULL, NULL, NULL, err);

	return ret == -PRL_ENOTFOUND ? 0 : ret;
}

/* ---- presigned URLs (AWS Signature Version 4, query-string signing) ---- */

/* Appends s URI-encoded as SigV4 wants it: the unreserved characters
 * (A-Z a-z 0-9 - . _ ~) as they are, '/' as it is in a path (keep_slash)
 * and %2F in a query value, every other byte as %XX in capitals. */
static void uri_encode(struct prl_buf *out, const char *s, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~' ||
		    (*p == '/' && keep_slash)) {
			prl_buf_addch(out, (char)*p);
		} else {
			char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};

			prl_buf_add(out, e, 3);
		}
	}
}

static void hex_of(const unsigned char *d, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[2 * n] = '\0';
}

/* out = HMAC-SHA256(key, text); 0 or -PRL_ENOMEM. */
static int hmac(const unsigned char *key, size_t key_len, const char *text, unsigned char out[32])
{
	unsigned int len = 0;

	return HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)text, strlen(text), out,
		    &len) && len == 32
		       ? 0
		       : -PRL_ENOMEM;
}

/* The Host header a client sends to base ("scheme://host[:port][/...]"):
 * host[:port], the port left out when it is the scheme's own. */
static int host_of(const char *base, struct prl_buf *host)
{
	const char *h = strstr(base, "://"), *end;
	size_t n;

	if (!h)
		return -PRL_EINVAL;
	h += 3;
	end = h + strcspn(h, "/?#");
	n = (size_t)(end - h);
	if (!strncmp(base, "http://", 7) && n > 3 && !memcmp(end - 3, ":80", 3))
		n -= 3;
	else if (!strncmp(base, "https://", 8) && n > 4 && !memcmp(end - 4, ":443", 4))
		n -= 4;
	if (!n)
		return -PRL_EINVAL;
	return prl_buf_add(host, h, n);
}

int archive_s3_presign_url(const struct archive_s3_signer *g, const char *method, const char *path,
			   const char *content_type, const char *disposition, time_t now,
			   long expires_s, struct prl_buf *out)
{
	struct prl_buf canon = PRL_BUF_INIT, query = PRL_BUF_INIT, host = PRL_BUF_INIT;
	struct prl_buf scope = PRL_BUF_INIT, sts = PRL_BUF_INIT, key = PRL_BUF_INIT;
	unsigned char d[32], k[32];
	char day[9], stamp[17], hex[65];
	struct tm tm;
	int ret = -PRL_EINVAL;

	if (!gmtime_r(&now, &tm) || expires_s < 1 || expires_s > 604800 || path[0] != '/' ||
	    host_of(g->base, &host) < 0)
		goto end;
	strftime(day, sizeof(day), "%Y%m%d", &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	prl_buf_addf(&scope, "%s/%s/s3/aws4_request", day, g->region);

	/* the parameters in the order of their names, as they are signed */
	prl_buf_addstr(&query, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=");
	uri_encode(&query, g->access_key, 0);
	prl_buf_addstr(&query, "%2F");
	uri_encode(&query, prl_buf_str(&scope), 0);
	prl_buf_addf(&query, "&X-Amz-Date=%s&X-Amz-Expires=%ld&X-Amz-SignedHeaders=host", stamp,
		     expires_s);
	/* the headers the store answers with, whatever it was given at PUT
	 * (GetObject's response-content-*, in the order of their names;
	 * 'r' sorts after 'X') */
	if (disposition) {
		prl_buf_addstr(&query, "&response-content-disposition=");
		uri_encode(&query, disposition, 0);
	}
	if (content_type) {
		prl_buf_addstr(&query, "&response-content-type=");
		uri_encode(&query, content_type, 0);
	}

	prl_buf_addf(&canon, "%s\n", method);
	uri_encode(&canon, path, 1);
	prl_buf_addf(&canon, "\n%s\nhost:%s\n\nhost\nUNSIGNED-PAYLOAD", prl_buf_str(&query),
		     prl_buf_str(&host));
	if (EVP_Digest(canon.data, canon.len, d, NULL, EVP_sha256(), NULL) != 1) {
		ret = -PRL_ENOMEM;
		goto end;
	}
	hex_of(d, 32, hex);
	prl_buf_addf(&sts, "AWS4-HMAC-SHA256\n%s\n%s\n%s", stamp, prl_buf_str(&scope), hex);

	/* the signing key: the secret, then the day, region, service and
	 * the request type, each the key of the next HMAC */
	prl_buf_addf(&key, "AWS4%s", g->secret_key);
	if ((ret = hmac((const unsigned char *)key.data, key.len, day, k)) < 0 ||
	    (ret = hmac(k, 32, g->region, k)) < 0 || (ret = hmac(k, 32, "s3", k)) < 0 ||
	    (ret = hmac(k, 32, "aws4_request", k)) < 0 ||
	    (ret = hmac(k, 32, prl_buf_str(&sts), d)) < 0)
		goto end;
	hex_of(d, 32, hex);

	prl_buf_addstr(out, g->base);
	uri_encode(out, path, 1);
	prl_buf_addf(out, "?%s&X-Amz-Signature=%s", prl_buf_str(&query), hex);
	ret = 0;
end:
	OPENSSL_cleanse(k, sizeof(k));
	if (key.data)
		OPENSSL_cleanse(key.data, key.len);
	prl_buf_release(&canon);
	prl_buf_release(&query);
	prl_buf_release(&host);
	prl_buf_release(&scope);
	prl_buf_release(&sts);
	prl_buf_release(&key);
	return ret;
}

int archive_s3_presign(struct archive_s3 *s, const char *method, const char *key,
		       const char *content_type, const char *disposition, time_t now,
		       long expires_s, struct prl_buf *out)
{
	struct prl_buf path = PRL_BUF_INIT, access = PRL_BUF_INIT;
	const char *colon = strchr(s->userpwd, ':');
	struct archive_s3_signer g;
	int ret;

	/* userpwd is "ACCESS:SECRET"; an access key id has no ':' */
	prl_buf_add(&access, s->userpwd, (size_t)(colon - s->userpwd));
	g.base = s->endpoint;
	g.region = s->region;
	g.access_key = prl_buf_str(&access);
	g.secret_key = colon + 1;
	prl_buf_addf(&path, "/%s/%s%s", s->bucket, s->prefix, key);
	ret = archive_s3_presign_url(&g, method, prl_buf_str(&path), content_type, disposition, now,
				     expires_s, out);
	prl_buf_release(&path);
	prl_buf_release(&access);
	return ret;
}
