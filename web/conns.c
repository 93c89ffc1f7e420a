/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The connections the server holds, so that slow or idle clients cannot
 * take every place: each connection is tracked from MHD's notification
 * that it started to the one that it closed, with what it is doing --
 * waiting for a request (idle), sending the head of one (head), or being
 * answered (busy) -- and since when.  A reaper thread ends a head that
 * takes longer than its deadline and an idle connection past the idle
 * timeout; and when the connections come near the server's limit, the
 * oldest idle or head-incomplete ones are ended at once, so that a new
 * visitor always finds a place.  A connection being answered (a download,
 * an export) is never ended here.
 *
 * Ending one: shutdown(fd, SHUT_RDWR) on its socket.  MHD owns the socket
 * and its closing; it sees the end at its next read and drops the
 * connection.  The descriptor cannot be closed and reused while the list
 * names it: MHD tells that a connection closed before it closes the
 * socket, and that notification takes the list's lock.
 *
 * Always holds: the list is in the order of each connection's last change
 * of state, oldest first, so the first non-busy one is the one to shed;
 * every change is O(1) under one mutex.
 *
 * Expected workload: a few changes per request (tens of thousands a
 * second), a walk of the list twice a second, and a burst of shedding when
 * someone opens connections by the thousand.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "web-internal.h"

/* The reaper's period. */
#define REAP_EVERY_MS 250

enum conn_state {
	CONN_NEW = 0, /* accepted; its first request line not in yet */
	CONN_HEAD,    /* the request line is in, the headers are coming */
	CONN_BUSY,    /* the head is in: being answered */
	CONN_IDLE,    /* answered, kept alive for the next request */
};

struct web_conn {
	struct web_conn *prev, *next; /* the list, oldest change first */
	int fd;			      /* MHD's socket (not ours to close) */
	enum conn_state state;
	int64_t since_ms; /* when the state began (the head: its first byte) */
	int shed;	  /* shut down already: MHD drops it at its next read */
};

struct web_conns {
	pthread_mutex_t lock;  /* guards everything below */
	struct web_conn *head; /* oldest */
	struct web_conn *tail; /* newest */
	size_t count;	       /* connections in the list, shed ones included */
	size_t shed;	       /* of them, shut down and not yet closed by MHD */
	size_t high;	       /* past this many live ones, the oldest are shed... */
	size_t low;	       /* ...until this many are left */
	int64_t head_ms;       /* the deadline of a request head */
	int64_t idle_ms;       /* how long a kept-alive connection may wait */
	pthread_t reaper;      /* the thread ending late heads and idle connections */
	pthread_cond_t wake;   /* the reaper's sleep, cut short at shutdown */
	int stopping;	       /* the reaper ends */
	int started;	       /* the reaper runs */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void unlink_conn(struct web_conns *cs, struct web_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		cs->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		cs->tail = c->prev;
	c->prev = c->next = NULL;
}

static void append_conn(struct web_conns *cs, struct web_conn *c)
{
	c->prev = cs->tail;
	c->next = NULL;
	if (cs->tail)
		cs->tail->next = c;
	else
		cs->head = c;
	cs->tail = c;
}

/* Ends c (under the lock). */
static void shed_conn(struct web_conns *cs, struct web_conn *c)
{
	if (c->shed)
		return;
	c->shed = 1;
	cs->shed++;
	shutdown(c->fd, SHUT_RDWR);
}

/* Under pressure, ends the oldest connections that are not being answered
 * until no more than cs->low are live (under the lock). */
static void shed_oldest(struct web_conns *cs)
{
	if (cs->count - cs->shed <= cs->high)
		return;
	for (struct web_conn *c = cs->head; c && cs->count - cs->shed > cs->low; c = c->next)
		if (c->state != CONN_BUSY)
			shed_conn(cs, c);
}

static void *reaper_main(void *arg)
{
	struct web_conns *cs = arg;
	struct timespec until;

	pthread_mutex_lock(&cs->lock);
	while (!cs->stopping) {
		int64_t now = now_ms();

		for (struct web_conn *c = cs->head; c; c = c->next) {
			int64_t age = now - c->since_ms;

			if ((c->state == CONN_NEW || c->state == CONN_HEAD) && age > cs->head_ms)
				shed_conn(cs, c);
			else if (c->state == CONN_IDLE && age > cs->idle_ms)
				shed_conn(cs, c);
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += REAP_EVERY_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&cs->wake, &cs->lock, &until);
	}
	pthread_mutex_unlock(&cs->lock);
	return NULL;
}

int web_conns_new(struct web_conns **out, unsigned max_connections, unsigned head_timeout_s,
		  unsigned idle_timeout_s)
{
	struct web_conns *cs = calloc(1, sizeof(*cs));

	if (!cs)
		return -PRL_ENOMEM;
	pthread_mutex_init(&cs->lock, NULL);
	pthread_cond_init(&cs->wake, NULL);
	/* MHD refuses connections past its limit without a word: shed before
	 * it comes to that, and leave room for a burst of new visitors */
	cs->high = max_connections > 64 ? max_connections - max_connections / 16 : max_connections;
	cs->low = max_connections > 64 ? max_connections - max_connections / 8 : max_connections;
	cs->head_ms = (int64_t)head_timeout_s * 1000;
	cs->idle_ms = (int64_t)idle_timeout_s * 1000;
	if (pthread_create(&cs->reaper, NULL, reaper_main, cs) != 0) {
		web_conns_free(&cs);
		return -PRL_ENOMEM;
	}
	cs->started = 1;
	*out = cs;
	return 0;
}

void web_conns_free(struct web_conns **pcs)
{
	struct web_conns *cs = pcs ? *pcs : NULL;

	if (!cs)
		return;
	if (cs->started) {
		pthread_mutex_lock(&cs->lock);
		cs->stopping = 1;
		pthread_cond_signal(&cs->wake);
		pthread_mutex_unlock(&cs->lock);
		pthread_join(cs->reaper, NULL);
	}
	/* MHD stopped first: every connection told us it closed */
	while (cs->head) {
		struct web_conn *c = cs->head;

		unlink_conn(cs, c);
		free(c);
	}
	pthread_cond_destroy(&cs->wake);
	pthread_mutex_destroy(&cs->lock);
	free(cs);
	*pcs = NULL;
}

void web_conns_notify(void *cls, struct MHD_Connection *con, void **socket_context,
		      enum MHD_ConnectionNotificationCode code)
{
	struct web_conns *cs = ((struct web_server *)cls)->conns;
	struct web_conn *c = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *info =
			MHD_get_connection_info(con, MHD_CONNECTION_INFO_CONNECTION_FD);

		if (!info || !(c = calloc(1, sizeof(*c))))
			return; /* untracked: MHD's own timeout still applies */
		c->fd = info->connect_fd;
		c->state = CONN_NEW;
		c->since_ms = now_ms();
		pthread_mutex_lock(&cs->lock);
		append_conn(cs, c);
		cs->count++;
		shed_oldest(cs);
		pthread_mutex_unlock(&cs->lock);
		*socket_context = c;
		return;
	}
	if (!c)
		return;
	pthread_mutex_lock(&cs->lock);
	unlink_conn(cs, c);
	cs->count--;
	if (c->shed)
		cs->shed--;
	pthread_mutex_unlock(&cs->lock);
	free(c);
	*socket_context = NULL;
}

struct web_conn *web_conn_of(struct MHD_Connection *con)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(con, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return info ? info->socket_context : NULL;
}

void web_conn_state(struct web_conns *cs, struct web_conn *c, enum web_conn_event e)
{
	if (!c)
		return;
	pthread_mutex_lock(&cs->lock);
	switch (e) {
	case WEB_CONN_REQUEST_LINE:
		/* a first request's head began when the connection did */
		if (c->state != CONN_NEW)
			c->since_ms = now_ms();
		c->state = CONN_HEAD;
		break;
	case WEB_CONN_HEAD_DONE:
		c->state = CONN_BUSY;
		c->since_ms = now_ms();
		break;
	case WEB_CONN_ANSWERED:
		c->state = CONN_IDLE;
		c->since_ms = now_ms();
		break;
	}
	unlink_conn(cs, c);
	append_conn(cs, c);
	pthread_mutex_unlock(&cs->lock);
}
