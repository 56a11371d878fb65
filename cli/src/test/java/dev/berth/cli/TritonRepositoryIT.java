package dev.berth.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.registry.testing.Samples;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Triton model repository ({@code <model>/config.pbtxt}, {@code <model>/<version>/model.onnx}, no
 * berth files at all) served by a real {@code berth serve} process as Triton would serve it: the
 * version policy, batch limit, dynamic batching and instance count of its config.pbtxt, warnings for
 * what berth ignores, a load failure for declared tensors the model lacks, and a refused start for a
 * malformed file.
 */
class TritonRepositoryIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void servesATritonRepositoryAsTritonWould() throws Exception {
        Path sample = Samples.copy(Samples.CHURN, tmp.resolve("sample"));
        Path repo = tmp.resolve("repo");
        for (int v = 1; v <= 2; v++) {
            Files.createDirectories(repo.resolve("churn/" + v));
            Files.copy(sample.resolve("model.onnx"), repo.resolve("churn/" + v + "/model.onnx"));
        }
        Files.writeString(repo.resolve("churn/config.pbtxt"), """
                name: "churn"
                platform: "onnxruntime_onnx"
                max_batch_size: 16
                input [ { name: "features", data_type: TYPE_FP32, dims: [ 8 ] } ]
                output [ { name: "probabilities", data_type: TYPE_FP32, dims: [ 2 ] } ]
                dynamic_batching { max_queue_delay_microseconds: 300 }
                instance_group [ { count: 2, kind: KIND_CPU } ]
                optimization { input_pinned_memory { enable: true } }
                """);

        try (ServeProcess serve = ServeProcess.start(repo)) {
            // no version_policy: Triton serves the latest version only
            assertEquals(200, serve.get("/v2/models/churn/versions/2/ready").statusCode());
            assertTrue(serve.get("/v2/models/churn/versions/1/ready").statusCode() != 200);

            JsonNode config = JSON.readTree(serve.get("/v2/models/churn/config").body());
            assertEquals(16, config.get("max_batch_size").asInt(), config.toString());
            assertEquals(300, config.get("dynamic_batching").get("max_queue_delay_microseconds").asInt(), config.toString());
            assertEquals(2, config.get("instance_group").get(0).get("count").asInt(), config.toString());
            assertTrue(config.get("version_policy").has("latest"), config.toString());

            byte[] example = Files.readAllBytes(sample.resolve("example_request.json"));
            HttpResponse<String> infer = serve.infer("churn", example);
            assertEquals(200, infer.statusCode(), infer.body());
            String log = serve.awaitOutput("optimization");
            assertTrue(log.contains("berth: warning: " + repo.resolve("churn/config.pbtxt") + ": line 8: field 'optimization' is not used by berth; ignored"), log);
            serve.stop();
        }
    }

    @Test
    void declaredTensorsTheModelLacksFailItsLoadAndAMalformedFileStopsTheStart() throws Exception {
        Path sample = Samples.copy(Samples.DIGITS, tmp.resolve("sample"));
        Path repo = tmp.resolve("repo");
        Files.createDirectories(repo.resolve("digits/1"));
        Files.copy(sample.resolve("model.onnx"), repo.resolve("digits/1/model.onnx"));
        Files.writeString(repo.resolve("digits/config.pbtxt"),
                "max_batch_size: 8\ninput [ { name: \"features\", data_type: TYPE_FP32, dims: [ 8 ] } ]\n");
        try (ServeProcess serve = ServeProcess.startUnready(repo)) {
            HttpResponse<String> ready = serve.get("/v2/health/ready");
            assertEquals(503, ready.statusCode(), ready.body());
            HttpResponse<String> model = serve.get("/v2/models/digits/versions/1/ready");
            assertTrue(model.statusCode() != 200, model.body());
            String log = serve.awaitOutput("declared input 'features' is not in the model");
            assertTrue(log.contains("the model does not match its configuration: declared input 'features' is not in the model (its inputs: [pixels])"), log);
            serve.stop();
        }

        Files.writeString(repo.resolve("digits/config.pbtxt"), "max_batch_size: 8\ninstance_group [ { count: two } ]\n");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = BerthMain.run(new PrintWriter(out), new PrintWriter(err), "serve", "--models", repo.toString(), "--port", "0");
        assertEquals(ErrorHandler.MISUSE, code, err.toString());
        assertEquals(1, err.toString().strip().lines().count(), err.toString());
        assertTrue(err.toString().startsWith("berth serve: " + repo.resolve("digits/config.pbtxt") + ": line 2, column 27 (field 'count'): Couldn't parse integer: \"two\""), err.toString());
    }
}
