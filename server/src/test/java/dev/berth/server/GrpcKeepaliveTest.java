package dev.berth.server;

import io.helidon.config.Config;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The keepalive settings, set through berth's configuration (YAML file, environment, flags) and
 * watched on the wire with a bare HTTP/2 client, which can leave a ping unanswered or ping too often
 * as no gRPC library will.
 */
class GrpcKeepaliveTest {
    private static final int SETTINGS = 0x4;
    private static final int PING = 0x6;
    private static final int GOAWAY = 0x7;
    private static final int ACK = 0x1;
    private static final int ENHANCE_YOUR_CALM = 0xb;

    private record Frame(int type, int flags, int stream, byte[] payload) {
    }

    /** An HTTP/2 connection driven frame by frame. */
    private static final class RawHttp2 implements AutoCloseable {
        private final Socket socket;
        private final DataInputStream in;
        private final OutputStream out;

        RawHttp2(int port) throws IOException {
            socket = new Socket("127.0.0.1", port);
            in = new DataInputStream(socket.getInputStream());
            out = socket.getOutputStream();
            out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            write(SETTINGS, 0, new byte[0]);
        }

        void write(int type, int flags, byte[] payload) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(9 + payload.length);
            b.put((byte) (payload.length >>> 16)).put((byte) (payload.length >>> 8)).put((byte) payload.length);
            b.put((byte) type).put((byte) flags).putInt(0).put(payload);
            out.write(b.array());
            out.flush();
        }

        void ping(long data) throws IOException {
            write(PING, 0, ByteBuffer.allocate(8).putLong(data).array());
        }

        /** The next frame within the time; null when the server closed the connection. Acknowledges SETTINGS. */
        Frame read(int timeoutMillis) throws IOException {
            socket.setSoTimeout(timeoutMillis);
            try {
                int length = (in.readUnsignedByte() << 16) | (in.readUnsignedByte() << 8) | in.readUnsignedByte();
                int type = in.readUnsignedByte();
                int flags = in.readUnsignedByte();
                int stream = in.readInt() & 0x7fffffff;
                byte[] payload = new byte[length];
                in.readFully(payload);
                if (type == SETTINGS && (flags & ACK) == 0) {
                    write(SETTINGS, ACK, new byte[0]);
                }
                return new Frame(type, flags, stream, payload);
            } catch (EOFException e) {
                return null;
            }
        }

        /** Reads until a frame of the type arrives (null: the connection closed first). */
        Frame await(int type, int timeoutMillis) throws IOException {
            long deadline = System.currentTimeMillis() + timeoutMillis;
            while (true) {
                int left = (int) Math.max(1, deadline - System.currentTimeMillis());
                Frame f = read(left);
                if (f == null || f.type == type) {
                    return f;
                }
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static BerthServer serve(Config settings) {
        return BerthServer.builder().inferenceService(new FakeCore()).config(settings).port(0).grpcPort(0).build().start();
    }

    @Test
    void serverPingsAQuietConnectionAndClosesItWhenThePingGoesUnanswered(@TempDir Path dir) throws IOException {
        Path yaml = dir.resolve("berth.yaml");
        // 10 s is the shortest interval gRPC lets a server ping at
        Files.writeString(yaml, "berth:\n  grpc-keepalive-time: 10s\n");
        Config settings = ServeSettings.load(yaml, Map.of("BERTH_GRPC_KEEPALIVE_TIMEOUT", "500ms"), Map.of());
        try (BerthServer server = serve(settings); RawHttp2 client = new RawHttp2(server.grpcPort())) {
            long start = System.nanoTime();
            Frame ping = client.await(PING, 20_000);
            assertNotNull(ping, "the server pinged");
            assertEquals(0, ping.flags & ACK, "a ping, not an answer to one");
            long pingedAfterMillis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(pingedAfterMillis > 8000 && pingedAfterMillis < 15_000,
                    "pinged after the configured 10s (give or take), not gRPC's 2h: " + pingedAfterMillis);
            // left unanswered: the server gives up on the connection after the timeout
            Frame next;
            do {
                next = client.read(5000);
            } while (next != null && next.type != GOAWAY);
            assertTrue(next == null || next.type == GOAWAY, "the connection was closed");
        }
    }

    @Test
    void clientPingsWithoutCallsAreRefusedByDefault() throws IOException {
        try (BerthServer server = serve(ServeSettings.load(null, Map.of(), Map.of()));
             RawHttp2 client = new RawHttp2(server.grpcPort())) {
            for (int i = 0; i < 5; i++) {
                client.ping(i);
            }
            Frame goaway = client.await(GOAWAY, 5000);
            assertNotNull(goaway, "GOAWAY for pinging too often");
            assertEquals(ENHANCE_YOUR_CALM, ByteBuffer.wrap(goaway.payload, 4, 4).getInt());
        }
    }

    @Test
    void clientPingsArePermittedWhenConfigured() throws IOException {
        Config settings = ServeSettings.load(null, Map.of("BERTH_GRPC_PERMIT_KEEPALIVE_WITHOUT_CALLS", "true"),
                Map.of("grpc-permit-keepalive-time", "0s"));
        try (BerthServer server = serve(settings); RawHttp2 client = new RawHttp2(server.grpcPort())) {
            int acks = 0;
            for (int i = 0; i < 5; i++) {
                client.ping(i);
                Frame f = client.await(PING, 5000);
                assertNotNull(f, "connection open after ping " + i);
                if ((f.flags & ACK) != 0) {
                    acks++;
                }
            }
            assertEquals(5, acks, "every ping answered");
            assertThrows(SocketTimeoutException.class, () -> client.await(GOAWAY, 500), "and no GOAWAY");
        }
    }

    @Test
    void badValuesAreRefusedNamingTheSetting() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BerthServer.builder()
                .inferenceService(new FakeCore()).config(ServeSettings.load(null, Map.of(), Map.of("grpc-keepalive-time", "soon"))));
        assertTrue(e.getMessage().contains("grpc-keepalive-time 'soon' is not a duration"), e.getMessage());
        IllegalArgumentException small = assertThrows(IllegalArgumentException.class, () -> BerthServer.builder()
                .inferenceService(new FakeCore()).config(ServeSettings.load(null, Map.of(), Map.of("grpc-keepalive-time", "1s"))).build());
        assertTrue(small.getMessage().contains("keepalive time must be at least 10s"), small.getMessage());
    }
}
