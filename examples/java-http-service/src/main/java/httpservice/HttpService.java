package httpservice;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.vireo.Database;
import io.vireo.Expr;
import io.vireo.Field;
import io.vireo.ForeignKeyAction;
import io.vireo.Model;
import io.vireo.SqliteDatabase;
import io.vireo.Where;
import io.vireo.exception.DoesNotExistException;
import io.vireo.exception.UniqueViolationException;
import io.vireo.exception.VireoException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.lang.reflect.RecordComponent;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small JSON-over-HTTP service on the JDK's {@link HttpServer}: accounts
 * (create, list, read, update, delete) and transfers between them, each
 * transfer one Vireo transaction.
 *
 * <pre>
 * GET    /accounts                  every account
 * POST   /accounts                  {"name": "ann", "balance": 100}        201
 * GET    /accounts/{id}             the account, or 404
 * PUT    /accounts/{id}             {"name": "…"} and/or {"balance": n}    200, or 404
 * DELETE /accounts/{id}             204 (its transfers go with it), or 404
 * GET    /accounts/{id}/transfers   the transfers it paid or received
 * POST   /transfers                 {"from": 1, "to": 2, "amount": 30}     201; 404 for a missing
 *                                   account, 409 when the payer cannot afford it: nothing changes
 * </pre>
 *
 * <p>Rows are records, read and written through typed models
 * ({@code Model<Account>}, {@code Model<Transfer>}); field references are
 * method references the compiler checks ({@code Account::balance}).
 *
 * <p>Handlers never block: each request builds a chain of Vireo futures, and
 * the response is written on the service's executor once it completes (not
 * on the Vert.x event loop that completes Vireo's futures).
 */
public final class HttpService implements AutoCloseable {
  /** An account: its id is the auto-increment key (null until created). */
  public record Account(Long id, String name, long balance) {}

  /** A transfer of {@code amount} from account {@code payer} to account {@code payee}. */
  public record Transfer(Long id, long payer, long payee, long amount) {}

  private final Database db;
  private final Model<Account> account;
  private final Model<Transfer> transfer;
  private final HttpServer server;
  private final ExecutorService executor;

  private HttpService(Database db, HttpServer server, ExecutorService executor) {
    this.db = db;
    this.server = server;
    this.executor = executor;
    account = Model.builder(Account.class)
        .database(db)
        .field(Account::name, Field.charField(60).unique())
        .build();
    transfer = Model.builder(Transfer.class)
        .database(db)
        .field(Transfer::payer, Field.foreignKey(account).backref("payments").onDelete(ForeignKeyAction.CASCADE))
        .field(Transfer::payee, Field.foreignKey(account).backref("receipts").onDelete(ForeignKeyAction.CASCADE))
        .build();
  }

  /**
   * Creates the tables if they are missing and starts serving on the
   * loopback interface.
   *
   * @param db the database (the service does not close it)
   * @param port the port, or 0 for a free one (see {@link #port()})
   * @return the running service
   * @throws IOException when the port cannot be bound
   */
  public static HttpService start(Database db, int port) throws IOException {
    AtomicInteger threads = new AtomicInteger();
    ExecutorService executor = Executors.newFixedThreadPool(4, r -> {
      Thread t = new Thread(r, "http-service-" + threads.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
    HttpService service = new HttpService(db, server, executor);
    db.aioCreateTables(true, service.account, service.transfer).join();
    server.setExecutor(executor);
    server.createContext("/", service::handle);
    server.start();
    return service;
  }

  /**
   * The port the service listens on.
   *
   * @return the bound port
   */
  public int port() {
    return server.getAddress().getPort();
  }

  /** Stops serving (requests in flight get up to a second) and the executor; the database stays open. */
  @Override
  public void close() {
    server.stop(1);
    executor.shutdown();
  }

  /**
   * Runs the service until the JVM is stopped.
   *
   * @param args a database URL (default: the SQLite file vireo-http-service.db) and a port (default 8080)
   * @throws IOException when the port cannot be bound
   */
  public static void main(String[] args) throws IOException {
    Database db = args.length > 0 ? Database.fromUrl(args[0]) : new SqliteDatabase("vireo-http-service.db");
    int port = args.length > 1 ? Integer.parseInt(args[1]) : 8080;
    HttpService service = start(db, port);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      service.close();
      db.aioClose().join();
    }));
    System.out.println("Listening on http://127.0.0.1:" + service.port() + "/accounts");
    // the server's dispatcher thread keeps the JVM running until it is stopped (Ctrl-C)
  }

  // ------------------------------------------------------------------ routing

  /** A response: a status and a JSON body (null for none). */
  record Response(int status, Object body) {}

  /** An error answered with its status and message. */
  static final class HttpError extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final int status;

    HttpError(int status, String message) {
      super(message);
      this.status = status;
    }
  }

  private void handle(HttpExchange exchange) {
    CompletableFuture<Response> response;
    try {
      response = route(exchange.getRequestMethod(), exchange.getRequestURI().getPath(), readBody(exchange));
    } catch (RuntimeException | IOException e) {
      response = CompletableFuture.failedFuture(e);
    }
    // Vireo completes its futures on an event-loop thread: write on the executor
    response.handleAsync((r, e) -> e == null ? r : errorResponse(e), executor)
        .thenAcceptAsync(r -> send(exchange, r), executor);
  }

  private CompletableFuture<Response> route(String method, String path, String body) {
    String[] parts = path.replaceAll("^/+|/+$", "").split("/");
    if (parts.length == 1 && parts[0].equals("accounts")) {
      return switch (method) {
        case "GET" -> account.select().orderBy(Account::id).aioExecute()
            .thenApply(rows -> new Response(200, rows.stream().map(HttpService::json).toList()));
        case "POST" -> createAccount(Json.readObject(body));
        default -> notAllowed(method, path);
      };
    }
    if (parts.length == 2 && parts[0].equals("accounts")) {
      long id = id(parts[1]);
      return switch (method) {
        case "GET" -> getAccount(id).thenApply(a -> new Response(200, json(a)));
        case "PUT" -> updateAccount(id, Json.readObject(body));
        case "DELETE" -> getAccount(id).thenCompose(account::aioDeleteInstance)
            .thenApply(n -> new Response(204, null));
        default -> notAllowed(method, path);
      };
    }
    if (parts.length == 3 && parts[0].equals("accounts") && parts[2].equals("transfers") && method.equals("GET")) {
      long id = id(parts[1]);
      return getAccount(id)
          .thenCompose(a -> transfer.select()
              .where(Where.or(Where.eq(Transfer::payer, id), Where.eq(Transfer::payee, id)))
              .orderBy(Transfer::id)
              .aioExecute())
          .thenApply(rows -> new Response(200, rows.stream().map(HttpService::json).toList()));
    }
    if (parts.length == 1 && parts[0].equals("transfers")) {
      return method.equals("POST") ? createTransfer(Json.readObject(body)) : notAllowed(method, path);
    }
    throw new HttpError(404, "no such resource: " + path);
  }

  private CompletableFuture<Response> createAccount(Map<String, Object> body) {
    checkKeys(body, List.of("name", "balance"));
    Account created = new Account(null, string(body, "name"), body.containsKey("balance") ? number(body, "balance") : 0);
    return account.aioCreate(created).thenApply(a -> new Response(201, json(a)));
  }

  private CompletableFuture<Response> updateAccount(long id, Map<String, Object> body) {
    checkKeys(body, List.of("name", "balance"));
    return getAccount(id).thenCompose(a -> account.aioSave(new Account(a.id(),
            body.containsKey("name") ? string(body, "name") : a.name(),
            body.containsKey("balance") ? number(body, "balance") : a.balance())))
        .thenApply(a -> new Response(200, json(a)));
  }

  /**
   * One transaction: debit the payer, credit the payee, record the transfer,
   * then refuse a negative balance. Any failure (a missing account, the
   * payer's balance) rolls back the statements already run.
   */
  private CompletableFuture<Response> createTransfer(Map<String, Object> body) {
    checkKeys(body, List.of("from", "to", "amount"));
    long from = number(body, "from");
    long to = number(body, "to");
    long amount = number(body, "amount");
    if (amount <= 0) {
      throw new HttpError(400, "amount must be positive, got " + amount);
    }
    if (from == to) {
      throw new HttpError(400, "from and to are the same account");
    }
    return db.aioAtomic(tx -> addToBalance(from, -amount)
            .thenCompose(n -> addToBalance(to, amount))
            .thenCompose(n -> transfer.aioCreate(new Transfer(null, from, to, amount)))
            .thenCompose(t -> account.aioGet(from).thenApply(payer -> {
              long balance = payer.balance();
              if (balance < 0) {
                throw new HttpError(409, "insufficient funds: account " + from + " has " + (balance + amount)
                    + ", the transfer needs " + amount);
              }
              return t;
            })))
        .thenApply(t -> new Response(201, json(t)));
  }

  private CompletableFuture<Long> addToBalance(long id, long delta) {
    return account.update(Map.of("balance", Expr.call("+", Expr.field(Account::balance), delta)))
        .where(Where.eq(Account::id, id))
        .aioExecute()
        .thenApply(n -> {
          if (n == 0) {
            throw new HttpError(404, "no account " + id);
          }
          return n;
        });
  }

  private CompletableFuture<Account> getAccount(long id) {
    return account.aioGetOrNone(id).thenApply(a -> {
      if (a == null) {
        throw new HttpError(404, "no account " + id);
      }
      return a;
    });
  }

  // ------------------------------------------------------------------ helpers

  private static CompletableFuture<Response> notAllowed(String method, String path) {
    throw new HttpError(405, method + " is not allowed on " + path);
  }

  private static Map<String, Object> json(Record row) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (RecordComponent c : row.getClass().getRecordComponents()) {
      try {
        out.put(c.getName(), c.getAccessor().invoke(row));
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException(e);
      }
    }
    return out;
  }

  private static long id(String segment) {
    try {
      return Long.parseLong(segment);
    } catch (NumberFormatException e) {
      throw new HttpError(404, "no account " + segment);
    }
  }

  private static void checkKeys(Map<String, Object> body, List<String> allowed) {
    for (String key : body.keySet()) {
      if (!allowed.contains(key)) {
        throw new HttpError(400, "unknown field \"" + key + "\" (expected " + String.join(", ", allowed) + ")");
      }
    }
  }

  private static String string(Map<String, Object> body, String key) {
    if (!(body.get(key) instanceof String s) || s.isBlank()) {
      throw new HttpError(400, "\"" + key + "\" must be a non-empty string");
    }
    return s;
  }

  private static long number(Map<String, Object> body, String key) {
    if (!(body.get(key) instanceof Long n)) {
      throw new HttpError(400, "\"" + key + "\" must be an integer");
    }
    return n;
  }

  private static String readBody(HttpExchange exchange) throws IOException {
    try (InputStream in = exchange.getRequestBody()) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static Response errorResponse(Throwable error) {
    Throwable e = VireoException.unwrap(error);
    if (e instanceof HttpError h) {
      return new Response(h.status, Map.of("error", h.getMessage()));
    } else if (e instanceof Json.BadJson) {
      return new Response(400, Map.of("error", e.getMessage()));
    } else if (e instanceof UniqueViolationException) {
      return new Response(409, Map.of("error", "an account with that name exists"));
    } else if (e instanceof DoesNotExistException) {
      return new Response(404, Map.of("error", "not found"));
    }
    // not the client's fault: log it, answer without internals
    System.err.println("http-service: internal error: " + e);
    return new Response(500, Map.of("error", "internal error"));
  }

  private static void send(HttpExchange exchange, Response response) {
    try {
      if (response.body() == null) {
        exchange.sendResponseHeaders(response.status(), -1);
      } else {
        byte[] bytes = Json.write(response.body()).getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        exchange.sendResponseHeaders(response.status(), bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(bytes);
        }
      }
    } catch (IOException e) {
      System.err.println("http-service: could not send a response: " + e);
    } finally {
      exchange.close();
    }
  }
}
