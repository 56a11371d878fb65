package dev.berth.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ONNX project's backend node tests through berth: the cases are generated in memory from
 * the onnx wheel, kept where Python onnxruntime agrees with ONNX's reference outputs, registered
 * in a fresh registry, served by one {@code berth serve} and called over REST and gRPC by
 * {@code python/onnx_node_tests.py}. Passes when at least 98 % of the cases pass on each protocol
 * and the server stayed alive throughout. A seeded sample of {@code conformance.onnx.sample}
 * cases (150) by default; {@code -Dconformance.onnx.all=true} (the {@code onnx-node-tests --all}
 * script) runs every one. The report (JSON, markdown, a chart as PNG and SVG) lands in
 * {@code target/conformance/onnx-node/}.
 */
class OnnxNodeTestsIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void nodeTestCasesPassOverRestAndGrpc() throws Exception {
        Clients clients = Clients.setUp();
        Path work = TestRegistry.fresh(clients.out.resolve("onnx-node"));
        boolean all = Boolean.getBoolean("conformance.onnx.all");
        String sample = System.getProperty("conformance.onnx.sample", "150");
        String seed = System.getProperty("conformance.onnx.seed", "20260101");

        List<String> prepare = new ArrayList<>(List.of("prepare", "--work", work.toString(), "--seed", seed));
        prepare.addAll(all ? List.of("--all") : List.of("--sample", sample));
        Clients.Run prepared = clients.python("onnx_node_tests.py", Duration.ofMinutes(5), work.resolve("prepare.out"),
                prepare.toArray(String[]::new));
        assertEquals(0, prepared.exitCode(), "preparing the node test cases failed:\n" + prepared.output());
        JsonNode plan = JSON.readTree(work.resolve("plan.json").toFile());
        List<String> names = new ArrayList<>();
        plan.path("selected").forEach(n -> names.add(n.asText()));
        if (!all) {
            assertEquals(Math.min(Integer.parseInt(sample), plan.path("onnxruntime_passes").asInt()), names.size(),
                    "cases selected");
        }

        Map<String, String> refused = TestRegistry.registerCases(work.resolve("cases"), names, work.resolve("registry"));
        JSON.writerWithDefaultPrettyPrinter().writeValue(work.resolve("registration.json").toFile(), Map.of("failed", refused));

        // every version loads (and warms up) before ready: allow for hundreds of models on two cores
        Duration ready = Duration.ofSeconds(Math.max(120, names.size() / 2));
        try (ServeProcess serve = ServeProcess.start(work.resolve("registry"), work.resolve("berth-serve.log"), ready)) {
            Clients.Run run = clients.python("onnx_node_tests.py", Duration.ofMinutes(all ? 10 : 4), work.resolve("run.out"),
                    "run", "--work", work.toString(), "--rest", serve.rest().toString(), "--grpc", serve.grpcTarget(),
                    "--stubs", clients.stubs.toString(), "--pid", Long.toString(serve.pid()));
            assertEquals(0, run.exitCode(), "the node test client failed:\n" + run.output());
            JsonNode report = JSON.readTree(work.resolve("report.json").toFile());
            JsonNode s = report.path("summary");
            String failures = failures(report);
            System.out.println(run.output().strip() + "\nreport: " + work.resolve("report.md"));

            assertTrue(s.path("server_alive_throughout").asBoolean() && serve.aliveAndLive(),
                    "berth serve died or stopped answering during the node tests (" + serve.state() + "); log: "
                            + serve.log() + "\n" + serve.tail());
            double target = s.path("target").asDouble();
            assertTrue(s.path("rest_rate").asDouble() >= target && s.path("grpc_rate").asDouble() >= target,
                    String.format("pass rates REST %.1f %%, gRPC %.1f %% of %d cases, target %.0f %%; failing cases:%n%s",
                            100 * s.path("rest_rate").asDouble(), 100 * s.path("grpc_rate").asDouble(), s.path("cases").asInt(),
                            100 * target, failures));
        }
        assertTrue(Files.isRegularFile(work.resolve("report.md")), "markdown report written");
    }

    private static String failures(JsonNode report) {
        StringBuilder b = new StringBuilder();
        for (JsonNode f : report.path("failures")) {
            b.append("  ").append(f.path("name").asText()).append("\n    REST: ").append(f.path("rest").asText("ok"))
                    .append("\n    gRPC: ").append(f.path("grpc").asText("ok")).append('\n');
        }
        return b.toString();
    }
}
