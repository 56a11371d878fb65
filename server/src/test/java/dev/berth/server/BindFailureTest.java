package dev.berth.server;

import org.junit.jupiter.api.Test;

import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.ServerSocket;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A port that cannot be bound fails start() instead of leaving a server that listens nowhere. */
class BindFailureTest {
    @Test
    void portInUse() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            FakeCore core = new FakeCore();
            BerthServer server = BerthServer.builder().inferenceService(core).port(taken.getLocalPort()).build();
            UncheckedIOException e = assertThrows(UncheckedIOException.class, server::start);
            assertInstanceOf(BindException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains(Integer.toString(taken.getLocalPort())), e.getCause().getMessage());
            assertTrue(core.closed.get());
        }
    }
}
