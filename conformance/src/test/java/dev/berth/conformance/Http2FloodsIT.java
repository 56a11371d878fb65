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
 * The HTTP/2 denial-of-service shapes ({@code conformance/python/h2_floods.py}: rapid reset, CONTINUATION
 * chains, streams without a body, PING, SETTINGS and empty DATA floods) against one {@code berth serve}, on
 * the REST port (h2c) and the gRPC port. Each flood is one test: the ones berth promises to end must end with
 * GOAWAY, and after each both ports answer an ordinary client; then the memory outside the heap stayed bounded.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class Http2FloodsIT {
    private Clients clients;
    private ServeProcess serve;
    private Path out;

    @BeforeAll
    void startServer() throws Exception {
        clients = Clients.setUp();
        out = TestRegistry.fresh(clients.out.resolve("h2-floods"));
        TestRegistry.registerTestModels(out.resolve("testing"), out.resolve("registry"));
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
    Stream<DynamicTest> floods() throws Exception {
        Path result = out.resolve("h2-floods.json");
        Clients.Run run = clients.python("h2_floods.py", Duration.ofMinutes(5), out.resolve("h2-floods.out"),
                "--rest", Integer.toString(serve.rest().getPort()), "--grpc", serve.grpcTarget().replaceAll(".*:", ""),
                "--pid", Long.toString(serve.pid()), "--out", result.toString());
        // six floods on each of the two ports, and the memory check
        return CheckResults.tests(result, run, 13);
    }

    @Test
    @Order(2)
    void serverSurvivedTheFloods() {
        assertTrue(serve.aliveAndLive(), "berth serve is " + serve.state() + " after the floods; log: " + serve.log()
                + "\n" + serve.tail());
    }
}
