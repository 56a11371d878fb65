package dev.berth.packager;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Checks on a running berth server in a container: readiness, and churn predictions equal to ONNX Runtime's own. */
final class ServingChecks {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private ServingChecks() {
    }

    static HttpResponse<String> get(String url) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode getJson(String url) throws IOException, InterruptedException {
        HttpResponse<String> r = get(url);
        assertEquals(200, r.statusCode(), url + ": " + r.body());
        return JSON.readTree(r.body());
    }

    /** Waits until {@code baseUrl/v2/health/ready} answers 200 while the container keeps running. */
    static void awaitReady(Podman podman, String container, String baseUrl) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (get(baseUrl + "/v2/health/ready").statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            String state = podman.run("inspect", "--format", "{{.State.Status}}", container).trim();
            if (!state.equals("running") && !state.equals("created")) {
                Cmd.Result logs = podman.exec("logs", container);
                throw new AssertionError("container " + state + ":\n" + logs.out() + logs.err());
            }
            Thread.sleep(200);
        }
        throw new AssertionError("not ready within 60 s:\n" + podman.exec("logs", container).err());
    }

    /** Posts the churn example request and asserts the answer equals ONNX Runtime's for {@code model}. */
    /**
     * What the generated manifests' readiness probe asks: grpc.health.v1 Check on the gRPC port, for
     * the server ("") and for the churn model.
     */
    static void assertGrpcServing(int grpcPort) throws InterruptedException {
        ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().build();
        try {
            var health = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
            for (String service : new String[] {"", "churn"}) {
                assertEquals(HealthCheckResponse.ServingStatus.SERVING,
                        health.check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus(), "'" + service + "'");
            }
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    static void assertChurnPredictions(String baseUrl, Path model) throws Exception {
        byte[] request = ChurnRegistry.resource("example_request.json");
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(baseUrl + "/v2/models/churn/infer"))
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(request)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        JsonNode outputs = JSON.readTree(response.body()).path("outputs");
        Map<String, Object> expected = expectedOutputs(JSON.readTree(request), model);
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
    }

    private static JsonNode output(JsonNode outputs, String name) {
        for (JsonNode o : outputs) {
            if (o.path("name").asText().equals(name)) {
                return o;
            }
        }
        throw new AssertionError("no output " + name + " in " + outputs);
    }

    /** Runs the example through ONNX Runtime in this JVM: what the container must answer. */
    private static Map<String, Object> expectedOutputs(JsonNode request, Path model) throws Exception {
        JsonNode input = request.path("inputs").get(0);
        int rows = input.path("shape").get(0).asInt();
        int cols = input.path("shape").get(1).asInt();
        float[] data = new float[rows * cols];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) input.path("data").get(i).asDouble();
        }
        OrtEnvironment env = dev.berth.runtime.onnx.OrtNatives.environment();
        try (OrtSession session = env.createSession(model.toString(), new OrtSession.SessionOptions());
             OnnxTensor tensor = OnnxTensor.createTensor(env, FloatBuffer.wrap(data), new long[] {rows, cols});
             OrtSession.Result result = session.run(Map.of(input.path("name").asText(), tensor))) {
            return Map.of("probabilities", result.get("probabilities").orElseThrow().getValue(),
                    "label", result.get("label").orElseThrow().getValue());
        }
    }
}
