/* health.c — GET /v1/health (see health.h): 200 {"status": "ok"} while the
 * server runs, 503 {"status": "stopping"} once it stops, and whether the
 * queue's disk has room for mail (queue.min_free). */
#include "http/health.h"

#include "net/server.h"

void http_health(http_req *r)
{
	server *srv = http_req_server(r);
	bool room = srv->q != NULL && queue_has_room(srv->q, 0);
	json_t *j = json_object();
	json_object_set_new(j, "status", json_string(srv->stopping ? "stopping" : "ok"));
	json_object_set_new(j, "accepting_mail", json_boolean(room && !srv->stopping));
	http_reply_json(r, srv->stopping ? 503 : 200, j);
}
