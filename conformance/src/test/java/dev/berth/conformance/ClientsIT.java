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
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * berth checked from outside by the clients its users run, against one {@code berth serve}
 * process over the test models: Python {@code grpcio} (gRPC's C core, as tritonclient and
 * KServe's client use it) with stubs from the public KServe and Triton protos, Python
 * {@code requests} over REST, and Node {@code @grpc/grpc-js}. Each client check is its own test,
 * named as the script names it; the last test asserts the server survived them all.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClientsIT {
    private static final Duration SCRIPT_LIMIT = Duration.ofMinutes(2);

    private Clients clients;
    private ServeProcess serve;
    private Path models;
    private Path out;

    @BeforeAll
    void startServer() throws Exception {
        clients = Clients.setUp();
        out = TestRegistry.fresh(clients.out.resolve("clients"));
        models = out.resolve("testing");
        Path registry = out.resolve("registry");
        TestRegistry.registerTestModels(models, registry);
        serve = ServeProcess.start(registry, out.resolve("berth-serve.log"), Duration.ofSeconds(90));
    }

    @AfterAll
    void stopServer() {
        if (serve != null) {
            serve.close();
        }
    }

    @TestFactory
    @Order(1)
    Stream<DynamicTest> pythonGrpcioKserveProto() throws Exception {
        return grpcio("kserve", 45);
    }

    @TestFactory
    @Order(2)
    Stream<DynamicTest> pythonGrpcioTritonProto() throws Exception {
        return grpcio("triton", 45);
    }

    private Stream<DynamicTest> grpcio(String api, int minimumChecks) throws Exception {
        Path result = out.resolve("python-grpcio-" + api + ".json");
        Clients.Run run = clients.python("grpc_checks.py", SCRIPT_LIMIT, out.resolve("python-grpcio-" + api + ".out"),
                "--api", api, "--target", serve.grpcTarget(), "--stubs", clients.stubs.toString(),
                "--models", models.toString(), "--out", result.toString());
        return CheckResults.tests(result, run, minimumChecks);
    }

    @TestFactory
    @Order(3)
    Stream<DynamicTest> pythonRequestsRest() throws Exception {
        return rest("requests");
    }

    /** The same checks through httpx, the KServe Python SDK's HTTP client, over one HTTP/1.1 connection. */
    @TestFactory
    @Order(3)
    Stream<DynamicTest> pythonHttpxRest() throws Exception {
        return rest("httpx");
    }

    /** ... and over HTTP/2 without TLS (h2c with prior knowledge): every request a stream on one connection. */
    @TestFactory
    @Order(3)
    Stream<DynamicTest> pythonHttpxHttp2Rest() throws Exception {
        return rest("httpx-h2");
    }

    private Stream<DynamicTest> rest(String client) throws Exception {
        Path result = out.resolve("python-" + client + "-rest.json");
        Clients.Run run = clients.python("rest_checks.py", SCRIPT_LIMIT, out.resolve("python-" + client + "-rest.out"),
                "--url", serve.rest().toString(), "--models", models.toString(), "--client", client, "--out", result.toString());
        return CheckResults.tests(result, run, 40);
    }

    @TestFactory
    @Order(4)
    Stream<DynamicTest> nodeGrpcJs() throws Exception {
        Path result = out.resolve("node-grpc-js.json");
        Clients.Run run = clients.node("grpc_checks.js", SCRIPT_LIMIT, out.resolve("node-grpc-js.out"),
                "--target", serve.grpcTarget(), "--protos", clients.protos.toString(), "--models", models.toString(),
                "--out", result.toString());
        return CheckResults.tests(result, run, 20);
    }

    @Test
    @Order(5)
    void serverSurvivedEveryClient() {
        assertTrue(serve.aliveAndLive(), "berth serve is " + serve.state() + " after the client checks; log: " + serve.log()
                + "\n" + serve.tail());
    }
}
