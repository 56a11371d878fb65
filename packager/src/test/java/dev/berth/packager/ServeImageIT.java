package dev.berth.packager;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged image runs: podman pulls it from the loopback registry, starts it as its
 * non-root user on the port given by {@code PORT}, and it answers the churn example request with
 * what ONNX Runtime computes for the same model in this JVM.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServeImageIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    private LocalOciRegistry registry;
    private Podman podman;
    private Path temp;
    private Path models;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @BeforeAll
    void setUp() throws IOException {
        temp = Files.createTempDirectory("berth-serve-image-");
        models = temp.resolve("models");
        ChurnRegistry.create(models);
        registry = LocalOciRegistry.start();
        podman = Podman.start(List.of(registry.address()));
    }

    @AfterAll
    void tearDown() {
        if (podman != null) {
            podman.close();
        }
        if (registry != null) {
            registry.close();
        }
        Cmd.deleteTree(temp);
    }

    @Test
    void packagedImageServesCorrectPredictions() throws Exception {
        String base = OfflineBaseImage.pushTo(registry, "berth-test/base:1");
        String image = registry.address() + "/models/churn:1";
        Cli.Run run = Cli.packageCommand("churn:1", "--image", image, "--base-image", base, "--insecure-registry",
                "--models", models.toString(), "--work-dir", temp.resolve("work").toString());
        assertEquals(0, run.exitCode(), run.describe());
        String digest = run.lastLine();

        int port = LocalOciRegistry.freePort();
        String byDigest = registry.address() + "/models/churn@" + digest;
        String container = podman.run("run", "-d", "--name", "berth-churn-" + port, "--env", "PORT=" + port, byDigest).trim();
        try {
            String base0 = "http://127.0.0.1:" + port;
            awaitReady(base0 + "/v2/health/ready", container);
            assertEquals(200, get(base0 + "/v2/health/live").statusCode());

            String user = podman.run("inspect", "--format", "{{.Config.User}}", container).trim();
            assertEquals("65532:65532", user);
            String hostUser = podman.run("top", container, "huser").lines().skip(1).findFirst().orElse("").trim();
            assertEquals("65532", hostUser, "the server process runs as the image's numeric user");

            JsonNode metadata = JSON.readTree(get(base0 + "/v2/models/churn").body());
            assertEquals("[\"1\"]", metadata.path("versions").toString(), "the image serves exactly the packaged version");

            byte[] request = ChurnRegistry.resource("example_request.json");
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(base0 + "/v2/models/churn/infer"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(request)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode(), response.body());
            JsonNode outputs = JSON.readTree(response.body()).path("outputs");
            Map<String, Object> expected = expectedOutputs(JSON.readTree(request), models.resolve("churn/1/model.onnx"));
            float[][] probabilities = (float[][]) expected.get("probabilities");
            long[] labels = (long[]) expected.get("label");
            JsonNode probs = output(outputs, "probabilities");
            JsonNode label = output(outputs, "label");
            assertEquals("[" + probabilities.length + ",2]", probs.path("shape").toString());
            for (int row = 0; row < probabilities.length; row++) {
                for (int col = 0; col < 2; col++) {
                    assertEquals(probabilities[row][col], (float) probs.path("data").get(row * 2 + col).asDouble(), 1e-6,
                            "probability row " + row + " class " + col);
                }
                assertEquals(labels[row], label.path("data").get(row).asLong(), "label row " + row);
            }
        } finally {
            podman.exec("rm", "--force", "--time", "2", container);
        }
    }

    private static JsonNode output(JsonNode outputs, String name) {
        for (JsonNode o : outputs) {
            if (o.path("name").asText().equals(name)) {
                return o;
            }
        }
        throw new AssertionError("no output " + name + " in " + outputs);
    }

    /** Runs the example through ONNX Runtime in this JVM: what the image must answer. */
    private static Map<String, Object> expectedOutputs(JsonNode request, Path model) throws Exception {
        JsonNode input = request.path("inputs").get(0);
        int rows = input.path("shape").get(0).asInt();
        int cols = input.path("shape").get(1).asInt();
        float[] data = new float[rows * cols];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) input.path("data").get(i).asDouble();
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(model.toString(), new OrtSession.SessionOptions());
             OnnxTensor tensor = OnnxTensor.createTensor(env, FloatBuffer.wrap(data), new long[] {rows, cols});
             OrtSession.Result result = session.run(Map.of(input.path("name").asText(), tensor))) {
            return Map.of("probabilities", result.get("probabilities").orElseThrow().getValue(),
                    "label", result.get("label").orElseThrow().getValue());
        }
    }

    private void awaitReady(String url, String container) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (get(url).statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            String state = podman.run("inspect", "--format", "{{.State.Status}}", container).trim();
            if (!state.equals("running") && !state.equals("created")) {
                throw new AssertionError("container " + state + ":\n" + podman.exec("logs", container).out() + podman.exec("logs", container).err());
            }
            Thread.sleep(200);
        }
        throw new AssertionError("not ready within 60 s:\n" + podman.exec("logs", container).err());
    }

    private HttpResponse<String> get(String url) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
