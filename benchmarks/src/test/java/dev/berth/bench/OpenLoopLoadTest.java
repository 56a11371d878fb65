package dev.berth.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The open-loop client keeps its schedule, frames real answers, and times a stall against every request it delays. */
class OpenLoopLoadTest {
    @TempDir
    Path dir;

    @Test
    void sendsAtTheRateOverRealConnections() throws Exception {
        Files.writeString(dir.resolve("r.body"), "{\"outputs\":[]}");
        Files.writeString(dir.resolve("r.headers"), "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n");
        try (CeilingServer server = CeilingServer.start(0, Map.of("/v2/models/m/infer", CeilingServer.Recorded.read(dir.resolve("r"))))) {
            byte[] request = OpenLoopLoad.post("127.0.0.1", server.port(), "/v2/models/m/infer", "{\"inputs\":[]}".getBytes(StandardCharsets.UTF_8));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            new OpenLoopLoad("127.0.0.1", server.port(), List.of(request), 400, 4, 2, 500_000_000L, 1000,
                    new PrintStream(out, true, StandardCharsets.UTF_8), null).run();
            String[] lines = out.toString(StandardCharsets.UTF_8).strip().split("\n");
            assertEquals(2, lines.length, out.toString(StandardCharsets.UTF_8));
            for (int i = 0; i < 2; i++) {
                String[] f = lines[i].split("\t");
                assertEquals("OPEN", f[0]);
                assertEquals(Integer.toString(i + 1), f[1]);
                assertEquals("200", f[2], "400 req/s for 0.5 s: " + lines[i]);
                assertEquals("0", f[6], "no errors: " + lines[i]);
            }
        }
    }

    @Test
    void aStallCountsAgainstEveryRequestScheduledDuringIt() throws Exception {
        Path slow = dir.resolve("slow.tsv");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread server = Thread.ofPlatform().daemon().start(() -> serveStallingOnce(listener, 10, 300));
            byte[] request = OpenLoopLoad.post("127.0.0.1", listener.getLocalPort(), "/x", new byte[] {'{', '}'});
            try (PrintStream slowLog = new PrintStream(Files.newOutputStream(slow), true, StandardCharsets.UTF_8)) {
                // one connection, 100 requests a second for 1 s: the 10th answer comes 300 ms late
                new OpenLoopLoad("127.0.0.1", listener.getLocalPort(), List.of(request), 100, 1, 1, 1_000_000_000L, 100,
                        new PrintStream(out, true, StandardCharsets.UTF_8), slowLog).run();
            }
            server.interrupt();
        }
        String[] f = out.toString(StandardCharsets.UTF_8).strip().split("\t");
        assertEquals("100", f[2], out.toString(StandardCharsets.UTF_8));
        assertTrue(Double.parseDouble(f[8]) >= 290, "the stalled request took 300 ms: " + out);
        List<String> slowRequests = Files.readAllLines(slow).stream().filter(l -> !l.startsWith("#")).toList();
        // a closed-loop client would time one slow request; the ones scheduled while it waited were late too
        assertTrue(slowRequests.size() >= 15, "requests over 100 ms: " + slowRequests);
    }

    /** A one-connection HTTP/1.1 server answering {@code {}}; the {@code nth} answer waits {@code stallMillis}. */
    private static void serveStallingOnce(ServerSocket listener, int nth, long stallMillis) {
        try (Socket s = listener.accept()) {
            InputStream in = new BufferedInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            for (int n = 1; ; n++) {
                int length = 0;
                StringBuilder line = new StringBuilder();
                int b;
                while ((b = in.read()) >= 0) {
                    if (b == '\n') {
                        String l = line.toString().strip();
                        if (l.isEmpty()) {
                            break;
                        }
                        if (l.toLowerCase().startsWith("content-length:")) {
                            length = Integer.parseInt(l.substring(15).trim());
                        }
                        line.setLength(0);
                    } else {
                        line.append((char) b);
                    }
                }
                if (b < 0) {
                    return;
                }
                in.readNBytes(length);
                if (n == nth) {
                    Thread.sleep(stallMillis);
                }
                out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}".getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
            }
        } catch (IOException | InterruptedException e) {
            // the test is over
        }
    }
}
