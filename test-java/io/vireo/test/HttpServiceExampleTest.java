package io.vireo.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import httpservice.HttpService;
import httpservice.Json;
import io.vireo.Database;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * examples/java-http-service, started in this JVM on a free loopback port
 * and driven over HTTP as a client would: CRUD on accounts, a transfer (one
 * transaction), a failing transfer whose statements roll back, 404s. On
 * every backend (test-java/run compiles the example with Maven first).
 */
class HttpServiceExampleTest {
  private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30)).build();

  @Test
  void sqlite() throws Exception {
    exercise(Backends.sqlite("http-service"));
  }

  @Test
  void postgresql() throws Exception {
    exercise(Backends.pg());
  }

  @Test
  void mysql() throws Exception {
    exercise(Backends.mysql());
  }

  record Reply(int status, Object body) {
    @SuppressWarnings("unchecked")
    Map<String, Object> map() {
      return (Map<String, Object>) body;
    }

    List<?> list() {
      return (List<?>) body;
    }
  }

  Reply call(int port, String method, String path, String json) throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofMinutes(1));
    b.method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
    HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    return new Reply(r.statusCode(), r.body().isEmpty() ? null : Json.read(r.body()));
  }

  long balance(int port, Object id) throws IOException, InterruptedException {
    Reply r = call(port, "GET", "/accounts/" + id, null);
    assertEquals(200, r.status(), String.valueOf(r.body()));
    return (Long) r.map().get("balance");
  }

  long count(Database db, String table) {
    Object n = db.aioExecuteSql("SELECT COUNT(*) AS n FROM " + table).join().rows().get(0).get("n");
    return ((Number) n).longValue();
  }

  void exercise(Database db) throws Exception {
    try {
      // a previous run's tables (server databases keep them)
      db.aioExecuteSql("DROP TABLE IF EXISTS transfer").join();
      db.aioExecuteSql("DROP TABLE IF EXISTS account").join();
      try (HttpService service = HttpService.start(db, 0)) {
        int port = service.port();

        // create
        Reply ann = call(port, "POST", "/accounts", "{\"name\": \"ann\", \"balance\": 100}");
        assertEquals(201, ann.status(), String.valueOf(ann.body()));
        Object annId = ann.map().get("id");
        assertEquals("ann", ann.map().get("name"));
        Reply bob = call(port, "POST", "/accounts", "{\"name\": \"bob\", \"balance\": 20}");
        assertEquals(201, bob.status());
        Object bobId = bob.map().get("id");
        Reply dup = call(port, "POST", "/accounts", "{\"name\": \"ann\"}");
        assertEquals(409, dup.status(), String.valueOf(dup.body()));
        Reply bad = call(port, "POST", "/accounts", "{\"name\": ");
        assertEquals(400, bad.status());
        assertTrue(((String) bad.map().get("error")).startsWith("invalid JSON"), String.valueOf(bad.body()));
        assertEquals(400, call(port, "POST", "/accounts", "{\"name\": \"cy\", \"colour\": \"red\"}").status());

        // read
        Reply read = call(port, "GET", "/accounts/" + annId, null);
        assertEquals(200, read.status());
        assertEquals(Map.of("id", annId, "name", "ann", "balance", 100L), read.map());
        assertEquals(2, call(port, "GET", "/accounts", null).list().size());

        // update
        Reply renamed = call(port, "PUT", "/accounts/" + bobId, "{\"name\": \"bo\"}");
        assertEquals(200, renamed.status());
        assertEquals("bo", call(port, "GET", "/accounts/" + bobId, null).map().get("name"));

        // a transfer: one transaction
        Reply paid = call(port, "POST", "/transfers", "{\"from\": " + annId + ", \"to\": " + bobId + ", \"amount\": 30}");
        assertEquals(201, paid.status(), String.valueOf(paid.body()));
        assertEquals(70L, balance(port, annId));
        assertEquals(50L, balance(port, bobId));
        assertEquals(1L, count(db, "transfer"));

        // a transfer bo cannot afford: debit, credit and the transfer row ran, then rolled back
        Reply refused = call(port, "POST", "/transfers", "{\"from\": " + bobId + ", \"to\": " + annId + ", \"amount\": 500}");
        assertEquals(409, refused.status(), String.valueOf(refused.body()));
        assertTrue(((String) refused.map().get("error")).startsWith("insufficient funds"));
        assertEquals(70L, balance(port, annId));
        assertEquals(50L, balance(port, bobId));
        assertEquals(1L, count(db, "transfer"));

        // to a missing account: ann's debit ran, then rolled back
        Reply missing = call(port, "POST", "/transfers", "{\"from\": " + annId + ", \"to\": 999999, \"amount\": 5}");
        assertEquals(404, missing.status(), String.valueOf(missing.body()));
        assertEquals(70L, balance(port, annId));
        assertEquals(1L, count(db, "transfer"));
        assertEquals(1, call(port, "GET", "/accounts/" + bobId + "/transfers", null).list().size());

        // 404s and delete
        assertEquals(404, call(port, "GET", "/accounts/999999", null).status());
        assertEquals(404, call(port, "PUT", "/accounts/999999", "{\"name\": \"x\"}").status());
        assertEquals(404, call(port, "GET", "/nothing", null).status());
        assertEquals(204, call(port, "DELETE", "/accounts/" + bobId, null).status());
        assertEquals(404, call(port, "GET", "/accounts/" + bobId, null).status());
        assertEquals(404, call(port, "DELETE", "/accounts/" + bobId, null).status());
        assertEquals(0L, count(db, "transfer"));   // bo's transfers went with bo (ON DELETE CASCADE)
        assertEquals(List.of(), call(port, "GET", "/accounts/" + annId + "/transfers", null).list());
      }
    } finally {
      db.aioClose().join();
    }
  }
}
