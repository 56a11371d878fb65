package dev.berth.server;

import io.restassured.RestAssured;
import io.restassured.response.Response;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Stop refuses new work, lets the request in flight finish, then stops listening and closes the core. */
class GracefulShutdownTest {
    // own threads: the common pool may have a single worker on a small machine
    private static final java.util.concurrent.Executor THREADS = r -> Thread.ofPlatform().daemon().start(r);

    @Test
    void inFlightRequestFinishesWhileNewOnesAreRefused() throws Exception {
        FakeCore core = new FakeCore();
        BerthServer server = BerthServer.builder().inferenceService(core).port(0).build().start();
        int port = server.port();
        String body = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}";
        CompletableFuture<Response> inFlight = CompletableFuture.supplyAsync(() -> RestAssured.given().baseUri("http://127.0.0.1")
                .port(port).contentType("application/json").body(body).post("/v2/models/gate/infer"), THREADS);
        assertTrue(core.gateEntered.await(20, TimeUnit.SECONDS), "request reached the core");

        CompletableFuture<Void> stopping = CompletableFuture.runAsync(server::stop, THREADS);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        Response ready;
        do {
            ready = RestAssured.given().baseUri("http://127.0.0.1").port(port).get("/v2/health/ready");
        } while (ready.statusCode() == 200 && System.nanoTime() < deadline);
        assertEquals(503, ready.statusCode(), "not ready while draining");
        Response refused = RestAssured.given().baseUri("http://127.0.0.1").port(port).contentType("application/json")
                .body(body).post("/v2/models/echo/infer");
        assertEquals(503, refused.statusCode());
        assertTrue(refused.asString().contains("shutting down"), refused.asString());
        assertFalse(stopping.isDone(), "stop waits for the request in flight");
        assertFalse(core.closed.get(), "the core stays open while a request runs");

        core.gateRelease.countDown();
        assertEquals(200, inFlight.get(20, TimeUnit.SECONDS).statusCode(), "the request in flight completed");
        stopping.get(20, TimeUnit.SECONDS);
        assertTrue(core.closed.get());
        assertFalse(server.isRunning());
    }
}
