package dev.berth.server;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The served registry changes under load: a new version takes over, the old one goes, no request fails. */
class HotReloadTest {
    @TempDir
    Path models;

    @Test
    void newVersionTakesOverWithoutFailedRequests() throws Exception {
        Cases.copy("testing/scalar_io/model.onnx", models.resolve("sq").resolve("1").resolve("model.onnx"));
        try (BerthServer server = BerthServer.builder().models(models).port(0).build().start()) {
            HttpClient http = HttpClient.newHttpClient();
            URI infer = URI.create("http://127.0.0.1:" + server.port() + "/v2/models/sq/infer");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!server.inferenceService().ready()) {
                assertTrue(System.nanoTime() < deadline, "loaded in time");
                Thread.sleep(20);
            }
            AtomicBoolean running = new AtomicBoolean(true);
            // every failure carries its time and the registry events before it, so a rare one can be placed
            long start = System.nanoTime();
            List<String> events = new CopyOnWriteArrayList<>();
            List<String> failures = new CopyOnWriteArrayList<>();
            Set<String> versions = ConcurrentHashMap.newKeySet();
            List<Thread> clients = new java.util.ArrayList<>();
            for (int c = 0; c < 3; c++) {
                clients.add(Thread.ofPlatform().start(() -> {
                    while (running.get()) {
                        try {
                            HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(infer)
                                    .POST(HttpRequest.BodyPublishers.ofString(
                                            "{\"inputs\":[{\"name\":\"x\",\"shape\":[],\"datatype\":\"FP32\",\"data\":[3]}]}")).build(),
                                    HttpResponse.BodyHandlers.ofByteArray());
                            JsonNode body = Cases.JSON.readTree(r.body());
                            if (r.statusCode() != 200 || body.get("outputs").get(0).get("data").get(0).asDouble() != 9.0) {
                                failures.add(at(start) + " after " + events + ": " + r.statusCode() + " " + new String(r.body()));
                            } else {
                                versions.add(body.get("model_version").asText());
                            }
                        } catch (Exception e) {
                            failures.add(at(start) + " after " + events + ": " + e);
                        }
                    }
                }));
            }
            try {
                // version 1 answers first (a cold JVM on a busy machine may take seconds for its first answer)
                while (!versions.contains("1")) {
                    assertTrue(System.nanoTime() < deadline, "version 1 answered in time; failures: " + failures);
                    Thread.sleep(20);
                }
                // a new version appears the way the registry writes it: prepared aside, then renamed into place
                Path staging = models.resolve("sq").resolve(".2.tmp");
                Cases.copy("testing/scalar_io/model.onnx", staging.resolve("model.onnx"));
                Files.move(staging, models.resolve("sq").resolve("2"), StandardCopyOption.ATOMIC_MOVE);
                events.add(at(start) + " version 2 added");
                while (!versions.contains("2")) {
                    assertTrue(System.nanoTime() < deadline, "version 2 took over in time; failures: " + failures);
                    Thread.sleep(50);
                }
                Path gone = models.resolve("sq").resolve(".deleted-1");
                Files.move(models.resolve("sq").resolve("1"), gone, StandardCopyOption.ATOMIC_MOVE);
                events.add(at(start) + " version 1 removed");
                Thread.sleep(3000); // more than one registry poll while requests keep running
            } finally {
                running.set(false);
                for (Thread t : clients) {
                    t.join(10_000);
                }
            }
            assertEquals(List.of(), failures);
            assertTrue(versions.containsAll(Set.of("1", "2")), versions.toString());
            var metadata = Cases.JSON.readTree(http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + server.port() + "/v2/models/sq")).build(), HttpResponse.BodyHandlers.ofByteArray()).body());
            assertEquals("[\"2\"]", metadata.get("versions").toString(), "the deleted version is gone from the metadata");
        }
    }

    private static String at(long start) {
        return (System.nanoTime() - start) / 1_000_000 + " ms";
    }
}
