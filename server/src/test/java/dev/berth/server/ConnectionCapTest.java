package dev.berth.server;

import dev.berth.server.grpc.proto.GRPCInferenceServiceGrpc;
import dev.berth.server.grpc.proto.ServerLiveRequest;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * max-connections on real sockets: a REST connection over the cap gets its request answered 503 with a
 * JSON error, Retry-After and Connection: close (not a silent close, not a hang in the backlog); a gRPC
 * connection over it gets UNAVAILABLE naming the limit; a place that comes free is taken again.
 */
class ConnectionCapTest {
    private static final String LIVE = "GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n";

    @Test
    void restConnectionsOverTheCapAreAnswered503() throws Exception {
        try (BerthServer server = BerthServer.builder().inferenceService(new FakeCore()).port(0).maxConnections(2).build().start();
             RawHttp first = new RawHttp(server.port());
             RawHttp second = new RawHttp(server.port())) {
            assertEquals(200, first.send(LIVE).read().status());
            assertEquals(200, second.send(LIVE).read().status());
            try (RawHttp third = new RawHttp(server.port())) {
                RawHttp.Answer over = third.send(LIVE).read();
                assertEquals(503, over.status(), over.text());
                assertTrue(over.header("content-type").startsWith("application/json"), over.headers().toString());
                assertEquals("1", over.header("retry-after"));
                assertTrue(over.text().contains("max-connections") && over.text().contains("2 connections"), over.text());
                assertTrue(third.closedByServer(5000), "the connection over the cap is closed after its answer");
            }
            // the two admitted connections keep working
            assertEquals(200, first.send(LIVE).read().status());
            second.close();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            int status;
            do {
                try (RawHttp again = new RawHttp(server.port())) {
                    status = again.send(LIVE).read().status();
                }
            } while (status != 200 && System.nanoTime() < deadline);
            assertEquals(200, status, "a closed connection frees its place");
        }
    }

    @Test
    void http2ConnectionsOverTheCapGet503Json() throws Exception {
        try (BerthServer server = BerthServer.builder().inferenceService(new FakeCore()).port(0).maxConnections(1).build().start();
             RawHttp holder = new RawHttp(server.port())) {
            assertEquals(200, holder.send(LIVE).read().status());
            // curl speaks HTTP/2 with prior knowledge, as sidecar proxies do
            Process curl = new ProcessBuilder("curl", "-s", "-i", "--http2-prior-knowledge", "--max-time", "10",
                    "http://127.0.0.1:" + server.port() + "/v2/health/live").redirectErrorStream(true).start();
            String out = new String(curl.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertTrue(curl.waitFor(20, TimeUnit.SECONDS));
            assertTrue(out.startsWith("HTTP/2 503"), out);
            assertTrue(out.toLowerCase(java.util.Locale.ROOT).contains("retry-after: 1"), out);
            assertTrue(out.contains("application/json") && out.contains("max-connections"), out);
            holder.close();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            String again;
            do {
                Process next = new ProcessBuilder("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--http2-prior-knowledge",
                        "--max-time", "10", "http://127.0.0.1:" + server.port() + "/v2/health/live").start();
                again = new String(next.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                next.waitFor(20, TimeUnit.SECONDS);
            } while (!again.equals("200") && System.nanoTime() < deadline);
            assertEquals("200", again, "a freed place is taken by the next HTTP/2 connection");
        }
    }

    @Test
    void grpcConnectionsOverTheCapGetUnavailable() throws Exception {
        try (BerthServer server = BerthServer.builder().inferenceService(new FakeCore()).port(0).maxConnections(1).build().start()) {
            ManagedChannel a = ManagedChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
            ManagedChannel b = ManagedChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
            try {
                assertTrue(live(a));
                StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> live(b));
                assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
                assertTrue(e.getStatus().getDescription().contains("max-connections"), e.getStatus().getDescription());
                assertTrue(live(a), "the admitted connection keeps working");
                a.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                boolean served = false;
                while (!served && System.nanoTime() < deadline) {
                    try {
                        served = live(b);
                    } catch (StatusRuntimeException again) {
                        assertEquals(Status.Code.UNAVAILABLE, again.getStatus().getCode());
                        Thread.sleep(50);
                    }
                }
                assertTrue(served, "the waiting connection is served once the other one closed");
            } finally {
                a.shutdownNow();
                b.shutdownNow();
            }
        }
    }

    @Test
    void noCapWithZero() throws Exception {
        try (BerthServer server = BerthServer.builder().inferenceService(new FakeCore()).port(0).maxConnections(0).build().start()) {
            RawHttp[] many = new RawHttp[20];
            try {
                for (int i = 0; i < many.length; i++) {
                    many[i] = new RawHttp(server.port());
                    assertEquals(200, many[i].send(LIVE).read().status());
                }
                assertFalse(many[0].closedByServer(100));
            } finally {
                for (RawHttp r : many) {
                    if (r != null) {
                        r.close();
                    }
                }
            }
        }
    }

    private static boolean live(ManagedChannel channel) {
        return GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                .serverLive(ServerLiveRequest.getDefaultInstance()).getLive();
    }
}
