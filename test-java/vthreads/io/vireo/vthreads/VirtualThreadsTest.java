package io.vireo.vthreads;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vireo.AllowSync;
import io.vireo.Database;
import io.vireo.DatabaseOptions;
import io.vireo.Field;
import io.vireo.Instance;
import io.vireo.Model;
import io.vireo.PostgresqlDatabase;
import io.vireo.SqliteDatabase;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jdk.jfr.Event;
import jdk.jfr.Name;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Thousands of virtual threads each {@code join()} Vireo futures and use the
 * blocking API inside {@code allowSync} (also a blocking transaction), on
 * SQLite and PostgreSQL. Compiled with {@code --release 21} and run on JDK 25
 * by test-java/run. Nothing deadlocks (every thread finishes, waited for with
 * a generous bound) and no virtual thread pins its carrier but while the JVM
 * loads a class (once per class, whatever the code): a JFR stream records
 * every {@code jdk.VirtualThreadPinned} event (threshold 0), read up to a
 * marker event committed after the work, so no event can be missed.
 */
class VirtualThreadsTest {
  static final int THREADS = 2000;

  static String env(String name, String dflt) {
    String v = System.getenv(name);
    return v == null || v.isEmpty() ? dflt : v;
  }

  static void assumeBackend(String backend) {
    Assumptions.assumeTrue(Arrays.asList(env("VIREO_TEST_BACKENDS", "pg,mysql,sqlite").split(",")).contains(backend),
        backend + " not in VIREO_TEST_BACKENDS");
  }

  /** Committed after the work: once the stream has seen it, it has seen every event before it. */
  @Name("io.vireo.vthreads.Marker")
  static final class Marker extends Event {}

  @Test
  void sqlite() throws Exception {
    assumeBackend("sqlite");
    exercise(sqliteDatabase("vthreads"));
  }

  @Test
  void postgresql() throws Exception {
    assumeBackend("pg");
    exercise(new PostgresqlDatabase(env("VIREO_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/vireo_test"),
        DatabaseOptions.create().maxSize(8)));
  }

  /** A pinned event, as the frames that say why: the top two, and the first of Vireo's. */
  static String describe(RecordedEvent e) {
    List<RecordedFrame> frames = e.getStackTrace() == null ? List.of() : e.getStackTrace().getFrames();
    StringBuilder b = new StringBuilder();
    if (e.hasField("pinnedReason") && e.getString("pinnedReason") != null) {
      b.append('[').append(e.getString("pinnedReason")).append("] ");
    }
    for (int i = 0; i < frames.size(); i++) {
      RecordedFrame f = frames.get(i);
      String where = f.getMethod().getType().getName() + "." + f.getMethod().getName();
      if (i < 2 || where.startsWith("vireo.") || where.startsWith("io.vireo.")) {
        b.append(where).append(" < ");
        if (i >= 2) {
          break;
        }
      }
    }
    return b.toString();
  }

  static String normalise(String code) {
    StringBuilder b = new StringBuilder();
    for (String line : code.split("\n")) {
      String t = line.strip();
      if (!t.isEmpty()) {
        b.append(t).append('\n');
      }
    }
    return b.toString();
  }

  /** docs/java.md's virtual-thread example (Java 21, so here and not in DocExamplesTest), run on SQLite. */
  @Test
  void guideExample() throws Exception {
    assumeBackend("sqlite");
    String guide = Files.readString(Path.of("docs/java.md"), StandardCharsets.UTF_8);
    Matcher block = Pattern.compile("```\\n(.*?)```", Pattern.DOTALL).matcher(guide);
    assertTrue(block.find(guide.indexOf("\n## Virtual threads\n")), "no code block under docs/java.md's Virtual threads");
    String self = Files.readString(Path.of("test-java/vthreads/io/vireo/vthreads/VirtualThreadsTest.java"),
        StandardCharsets.UTF_8);
    assertTrue(normalise(self).contains(normalise(block.group(1))),
        "docs/java.md's virtual-thread example is not in VirtualThreadsTest.java:\n" + block.group(1));

    Database db = sqliteDatabase("vthreads-guide");
    try {
      Model<Instance> Author = Model.builder("Author").database(db).table("java_vthread_author")
          .field("name", Field.charField(40))
          .build();
      Author.aioCreateTable(true).join();

      try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
        Future<Instance> found = threads.submit(() -> {
          Instance made = Author.aioCreate(Map.of("name", "vt")).join();   // parks the virtual thread
          try (AllowSync sync = db.allowSync()) {
            return Author.get(made.getId());                                // blocking, allowed here
          }
        });
        System.out.println(found.get().getString("name"));
      }

      assertEquals(List.of("vt"), Author.select().aioExecute().join().stream().map(a -> a.getString("name")).toList());
    } finally {
      db.aioClose().join();
    }
  }

  /** A fresh SQLite file under target/java-test. */
  static Database sqliteDatabase(String name) {
    File dir = new File("target/java-test");
    dir.mkdirs();
    for (String suffix : new String[] {"", "-wal", "-shm"}) {
      new File(dir, name + ".db" + suffix).delete();
    }
    // a generous busy timeout: thousands of writers take turns for SQLite's one write lock
    return new SqliteDatabase(new File(dir, name + ".db").getPath(),
        DatabaseOptions.create().busyTimeout(Duration.ofMinutes(2)));
  }

  /** One virtual thread's task (one call site, so the warm-up loads its class too). */
  static Callable<Long> task(Database db, Model<Instance> note, int worker) {
    return () -> {
      assertTrue(Thread.currentThread().isVirtual());
      return work(db, note, worker);
    };
  }

  /** One thread's work; returns the rows of `worker` (2 every tenth worker, else 1). */
  static long work(Database db, Model<Instance> note, int worker) {
    // join() a Vireo future: on a virtual thread it parks, and the carrier moves on
    Instance made = note.aioCreate(Map.of("worker", worker, "step", "async")).join();
    // the blocking API, allowed for this thread
    try (AllowSync sync = db.allowSync()) {
      assertEquals(worker, note.get(made.getId()).getInt("worker"));
      if (worker % 10 == 0) {
        db.atomic(tx -> note.create(Map.of("worker", worker, "step", "atomic")));
      }
      return note.select().where(Map.of("worker", worker)).count();
    }
  }

  void exercise(Database db) throws Exception {
    try {
      Model<Instance> note = Model.builder("VirtualThreadNote").database(db).table("java_vthread_note")
          .field("worker", Field.integer())
          .field("step", Field.charField(10))
          .build();
      note.aioDropTable(true).join();
      note.aioCreateTable(true).join();

      // once first, before recording: the JVM loads a class the first time it
      // is used, and a virtual thread loading one pins its carrier meanwhile
      // (the JDK's doing, whatever the code: the test's own lambda did too)
      try (ExecutorService warmUp = Executors.newVirtualThreadPerTaskExecutor()) {
        assertEquals(2L, warmUp.submit(task(db, note, THREADS)).get(5, TimeUnit.MINUTES));
      }

      List<String> pinned = new CopyOnWriteArrayList<>();
      CountDownLatch marker = new CountDownLatch(1);
      try (RecordingStream events = new RecordingStream()) {
        events.enable("jdk.VirtualThreadPinned").withThreshold(Duration.ZERO).withStackTrace();
        events.enable(Marker.class);
        events.onEvent("jdk.VirtualThreadPinned", e -> pinned.add(describe(e)));
        events.onEvent("io.vireo.vthreads.Marker", e -> marker.countDown());
        events.startAsync();

        List<Future<Long>> done = new ArrayList<>();
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
          for (int i = 0; i < THREADS; i++) {
            done.add(threads.submit(task(db, note, i)));
          }
          for (int i = 0; i < THREADS; i++) {
            // a bound, not a timing: a deadlock fails here instead of hanging the suite
            long rows = done.get(i).get(5, TimeUnit.MINUTES);
            assertEquals(i % 10 == 0 ? 2L : 1L, rows, "worker " + i);
          }
        }
        assertEquals((long) THREADS + THREADS / 10 + 2, note.select().aioCount().join());

        new Marker().commit();
        assertTrue(marker.await(2, TimeUnit.MINUTES), "the JFR stream never delivered the marker event");
        // loading or initializing a class pins (the JDK's one-time doing: a path the
        // warm-up did not take can still load one, and a thread waiting for another
        // to initialize a class waits in the VM). HotSpot reports those as a failed
        // freeze in a critical section (2) or with a native/VM frame on the stack (3);
        // Vireo calls no native code and holds no such section, so any other reason
        // (a monitor held, 4, …) is a failure
        List<String> other = pinned.stream()
            .filter(p -> !p.contains("ClassLoader.loadClass") && !p.contains("VM frame")
                && !p.contains("failed (2)]") && !p.contains("failed (3)]"))
            .toList();
        System.out.println(db + ": " + THREADS + " virtual threads, " + (pinned.size() - other.size())
            + " pinned while loading or initializing a class, " + other.size() + " pinned otherwise: " + pinned);
        assertEquals(List.of(), other, "virtual threads pinned their carrier");
      }
      note.aioDropTable(true).join();
    } finally {
      db.aioClose().join();
    }
  }
}
