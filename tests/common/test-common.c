/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of the common buffer and the JSON/XML escapers every output uses. */
#include <stdlib.h>
#include <string.h>

#include "parlers/common.h"
#include "tap.h"

static void test_buf(void)
{
	struct prl_buf b = PRL_BUF_INIT;
	char *s;
	size_t len;
	int i;

	is_str(prl_buf_str(&b), "", "an empty buffer reads as \"\"");
	for (i = 0; i < 10000; i++)
		prl_buf_addch(&b, (char)('a' + i % 26));
	is_int(b.len, 10000, "10,000 single-byte appends");
	is_int(b.data[b.len], 0, "the buffer stays NUL-terminated");
	prl_buf_reset(&b);
	prl_buf_addf(&b, "%d-%s", 42, "mézoun");
	is_str(b.data, "42-mézoun", "formatted append");
	s = prl_buf_detach(&b, &len);
	is_str(s, "42-mézoun", "detach hands the bytes over");
	is_int(len, strlen("42-mézoun"), "detach reports the length");
	ok(b.data == NULL && b.len == 0, "detach leaves the buffer empty");
	free(s);
	s = prl_buf_detach(&b, NULL);
	is_str(s, "", "detaching an empty buffer gives \"\"");
	free(s);
	prl_buf_release(NULL);
	ok(1, "release accepts NULL");
}

static void test_json(void)
{
	struct prl_buf b = PRL_BUF_INIT;

	prl_json_str(&b, "l'vuus \"ch'est\" \\ \n\t\x01");
	is_str(b.data, "\"l'vuus \\\"ch'est\\\" \\\\ \\n\\t\\u0001\"",
	       "JSON escapes quotes, "
	       "backslashes and control characters");
	prl_buf_reset(&b);
	prl_json_str(&b, "œ ə \xe2\x80\x99");
	is_str(b.data, "\"œ ə \xe2\x80\x99\"", "JSON keeps valid UTF-8 as is");
	prl_buf_reset(&b);
	prl_json_str(&b, "a\xff"
			 "b\xc3");
	is_str(b.data,
	       "\"a\xef\xbf\xbd"
	       "b\xef\xbf\xbd\"",
	       "invalid UTF-8 becomes U+FFFD");
	prl_buf_reset(&b);
	prl_json_str(&b, "\xe2\x80\xa8");
	is_str(b.data, "\"\\u2028\"", "U+2028 is escaped for script contexts");
	prl_buf_reset(&b);
	prl_json_str(&b, NULL);
	is_str(b.data, "null", "NULL is null");
	prl_buf_release(&b);
}

static void test_xml(void)
{
	struct prl_buf b = PRL_BUF_INIT;

	prl_xml_escape(&b, "<v A&B> \"'\x02");
	is_str(b.data, "&lt;v A&amp;B&gt; &quot;&apos;\xef\xbf\xbd",
	       "XML escapes markup and replaces forbidden control characters");
	prl_buf_release(&b);
}

static void test_utf8(void)
{
	ok(prl_utf8_valid("mézoun", strlen("mézoun")), "valid UTF-8 is accepted");
	ok(!prl_utf8_valid("\xc0\xaf", 2), "an overlong encoding is refused");
	ok(!prl_utf8_valid("\xed\xa0\x80", 3), "a surrogate is refused");
	ok(!prl_utf8_valid("\xe9t\xe9", 3), "Latin-1 is not UTF-8");
}

static void test_utf8_out(void)
{
	struct prl_buf b = PRL_BUF_INIT;

	prl_buf_add_utf8(&b, 'a');
	prl_buf_add_utf8(&b, 0xe9);
	prl_buf_add_utf8(&b, 0x20ac);
	prl_buf_add_utf8(&b, 0x1f3b5);
	is_str(prl_buf_str(&b), "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x8e\xb5",
	       "code points of one to four bytes are encoded");
	prl_buf_reset(&b);
	prl_buf_add_utf8(&b, 0xd800);
	prl_buf_add_utf8(&b, 0x110000);
	is_str(prl_buf_str(&b), "\xef\xbf\xbd\xef\xbf\xbd",
	       "a surrogate and a value past U+10FFFF become U+FFFD");
	prl_buf_reset(&b);
	prl_buf_add_utf8_or_latin1(&b, "m\xc3\xa9zoun", 7);
	is_str(prl_buf_str(&b), "m\xc3\xa9zoun", "valid UTF-8 is kept as it is");
	prl_buf_reset(&b);
	prl_buf_add_utf8_or_latin1(&b, "m\xe9zoun\xff", 7);
	is_str(prl_buf_str(&b), "m\xc3\xa9zoun\xc3\xbf", "anything else is read as Latin-1");
	prl_buf_release(&b);
}

int main(void)
{
	test_buf();
	test_json();
	test_xml();
	test_utf8();
	test_utf8_out();
	is_str(prl_strerror(-PRL_EFORMAT), "not in the expected format", "errors have sentences");
	return done_testing();
}
