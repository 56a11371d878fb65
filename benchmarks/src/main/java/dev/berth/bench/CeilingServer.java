package dev.berth.bench;

import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The transport ceiling: a Helidon 4 SE server with the same (default) web server settings as
 * berth, which reads each request body in full and answers a recorded berth response, byte for
 * byte, without inference. Responses are recorded by {@code bench/run} with
 * {@code curl -D PREFIX.headers -o PREFIX.body} and served for the path they were recorded on.
 */
public final class CeilingServer implements AutoCloseable {
    /** Headers Helidon writes itself or that describe the old connection. */
    private static final Set<String> SKIPPED = Set.of("content-length", "date", "connection", "transfer-encoding", "keep-alive");

    private final WebServer server;

    private CeilingServer(WebServer server) {
        this.server = server;
    }

    /** A fixed answer: body and the headers to send with it. */
    public record Recorded(byte[] body, Map<String, String> headers) {
        /** Reads {@code PREFIX.body} and the headers from {@code PREFIX.headers} (curl's -D format). */
        public static Recorded read(Path prefix) throws IOException {
            byte[] body = Files.readAllBytes(Path.of(prefix + ".body"));
            Map<String, String> headers = new LinkedHashMap<>();
            List<String> lines = Files.readAllLines(Path.of(prefix + ".headers"), StandardCharsets.ISO_8859_1);
            for (String line : lines) {
                int colon = line.indexOf(':');
                if (line.startsWith("HTTP/") || colon <= 0) {
                    continue;
                }
                String name = line.substring(0, colon).trim();
                if (!SKIPPED.contains(name.toLowerCase(Locale.ROOT))) {
                    headers.put(name, line.substring(colon + 1).trim());
                }
            }
            return new Recorded(body, headers);
        }
    }

    /** Starts on 127.0.0.1:{@code port} (0: any free port) answering {@code responses} by path. */
    public static CeilingServer start(int port, Map<String, Recorded> responses) {
        WebServer server = WebServer.builder()
                .host("127.0.0.1")
                .port(port)
                .routing(routing -> {
                    routing.get("/v2/health/ready", (req, res) -> res.send());
                    responses.forEach((path, recorded) -> routing.post(path, (req, res) -> answer(req, res, recorded)));
                })
                .build()
                .start();
        return new CeilingServer(server);
    }

    private static void answer(ServerRequest req, ServerResponse res, Recorded recorded) throws IOException {
        // read the whole body, as berth must, so the ceiling pays the same receive cost
        try (InputStream in = req.content().inputStream()) {
            in.transferTo(OutputStream.nullOutputStream());
        }
        recorded.headers().forEach(res::header);
        res.send(recorded.body());
    }

    public int port() {
        return server.port();
    }

    @Override
    public void close() {
        server.stop();
    }

    /**
     * {@code ceiling-server [--port N] [--port-file F] PATH=PREFIX...}: serves until killed; writes
     * the bound port to the port file once listening.
     */
    static void main(List<String> args) throws IOException {
        int port = 0;
        Path portFile = null;
        Map<String, Recorded> responses = new LinkedHashMap<>();
        List<String> rest = new ArrayList<>(args);
        while (!rest.isEmpty()) {
            String arg = rest.remove(0);
            switch (arg) {
                case "--port" -> port = Integer.parseInt(rest.remove(0));
                case "--port-file" -> portFile = Path.of(rest.remove(0));
                default -> {
                    int eq = arg.indexOf('=');
                    if (eq <= 0) {
                        throw new IllegalArgumentException("expected PATH=PREFIX, got '" + arg + "'");
                    }
                    responses.put(arg.substring(0, eq), Recorded.read(Path.of(arg.substring(eq + 1))));
                }
            }
        }
        CeilingServer server = start(port, responses);
        if (portFile != null) {
            Path tmp = Path.of(portFile + ".tmp");
            Files.writeString(tmp, Integer.toString(server.port()));
            Files.move(tmp, portFile, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(server::close));
    }
}
