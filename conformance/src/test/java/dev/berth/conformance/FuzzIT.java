package dev.berth.conformance;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The seeded fuzzer ({@code conformance/python/fuzz.py}) against one {@code berth serve}, REST and
 * gRPC, with models berth never saw: the fuzzer writes them, this test registers and serves them,
 * then lets the fuzzer run for {@code conformance.fuzz.seconds} (60 in CI) with the fixed
 * {@code conformance.fuzz.seed}. Each case class is one test (it fails naming the seed and case
 * number of every violation, which {@code fuzz.py run --seed S --only CLASS:N} replays), then the
 * after-run checks: every model still answers right over both protocols, the server is live, its
 * resident memory did not keep climbing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FuzzIT {
    /** The fuzzer's models, as {@code fuzz_models.py} names them. */
    private static final List<String> MODELS = List.of("fuzz_dynamic", "fuzz_gate", "fuzz_intdiv", "fuzz_text", "fuzz_widths");

    private final long seconds = Long.getLong("conformance.fuzz.seconds", 60);
    private final long seed = Long.getLong("conformance.fuzz.seed", 20261207);

    private Clients clients;
    private ServeProcess serve;
    private Path models;
    private Path out;

    @BeforeAll
    void startServer() throws Exception {
        clients = Clients.setUp();
        out = TestRegistry.fresh(clients.out.resolve("fuzz"));
        models = out.resolve("models");
        Clients.Run made = clients.python("fuzz.py", Duration.ofMinutes(2), out.resolve("fuzz-models.out"), "models",
                models.toString());
        assertEquals(0, made.exitCode(), "fuzz.py models failed:\n" + made.output());
        Map<String, String> refused = TestRegistry.registerCases(models, MODELS, out.resolve("registry"));
        assertTrue(refused.isEmpty(), "berth refused to register the fuzzer's models: " + refused);
        // a fixed heap, every page resident from the start: RSS growth then is the memory outside the Java heap
        // (a heap still touching its committed pages raised RSS by 40 MiB in a CI run with no leak)
        serve = ServeProcess.start(ServeProcess.PRETOUCHED_HEAP, out.resolve("registry"), out.resolve("berth-serve.log"), Duration.ofSeconds(90), null);
    }

    @AfterAll
    void stopServer() {
        if (serve != null) {
            serve.close();
        }
    }

    @TestFactory
    @Order(1)
    Stream<DynamicTest> fuzz() throws Exception {
        Path result = out.resolve("fuzz.json");
        // the budget, plus the after-run checks and a margin for a slow machine: a hang fails, never blocks the build
        Duration limit = Duration.ofSeconds(seconds + 180);
        Clients.Run run = clients.python("fuzz.py", limit, out.resolve("fuzz.out"), "run",
                "--url", serve.rest().toString(), "--grpc", serve.grpcTarget(), "--stubs", clients.stubs.toString(),
                "--models", models.toString(), "--seed", Long.toString(seed), "--seconds", Long.toString(seconds),
                "--pid", Long.toString(serve.pid()), "--heap-pretouched", "--out", result.toString());
        // 23 classes, live, two after-run checks per model, RSS
        return CheckResults.tests(result, run, 23 + 1 + 2 * MODELS.size() + 1);
    }

    @Test
    @Order(2)
    void serverSurvivedTheFuzzer() {
        assertTrue(serve.aliveAndLive(), "berth serve is " + serve.state() + " after the fuzzer; log: " + serve.log()
                + "\n" + serve.tail());
    }
}
