package dev.berth.server;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Python {@code grpcio} client, built on gRPC's C core like tritonclient and KServe's SDK, against
 * the gRPC port with the churn model on the real core: src/test/python/grpcio_client.py. Helidon's
 * HTTP/2 refused every call from this client (GOAWAY, error 1, on a {@code :path} header sent with a
 * literal name); this is the regression test for that.
 *
 * <p>The client runs in a virtual environment under target/ made once with pip from
 * src/test/python/requirements.txt; its stubs are generated with grpc_tools from berth's .proto
 * files and grpc-services' health.proto.
 */
class GrpcioClientIT {
    private static final Path PYTHON_DIR = Path.of("src/test/python");
    private static final Path VENV = Path.of("target/grpcio-venv");
    @TempDir
    static Path work;
    private static BerthServer server;
    private static Path stubs;

    @BeforeAll
    static void setUp() throws Exception {
        Path python = venvPython();
        stubs = generateStubs(python);
        Path models = work.resolve("models");
        Cases.copy("churn/model.onnx", models.resolve("churn").resolve("1").resolve("model.onnx"));
        server = BerthServer.builder().models(models).port(0).build().start();
        Cases.awaitReady(server, 120);
    }

    @AfterAll
    static void tearDown() {
        if (server != null) {
            server.stop();
        }
    }

    /** Runs a command, returns its output; fails the test naming the command when it fails. */
    private static String run(List<String> command, int timeoutSeconds) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        byte[] out;
        try (InputStream in = p.getInputStream()) {
            out = in.readAllBytes();
        }
        boolean done = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly();
        }
        String text = new String(out, StandardCharsets.UTF_8);
        assertTrue(done && p.exitValue() == 0, String.join(" ", command) + " failed:\n" + text);
        return text;
    }

    private static Path venvPython() throws IOException, InterruptedException {
        Path python = VENV.resolve("bin").resolve("python");
        Path marker = VENV.resolve("requirements.txt");
        byte[] wanted = Files.readAllBytes(PYTHON_DIR.resolve("requirements.txt"));
        if (Files.isExecutable(python) && Files.exists(marker) && java.util.Arrays.equals(wanted, Files.readAllBytes(marker))) {
            return python;
        }
        run(List.of("python3", "-m", "venv", "--clear", VENV.toString()), 120);
        // --retries 0: where pip's default index is unreachable, fall through to the configured local ones at once
        run(List.of(python.toString(), "-m", "pip", "install", "--quiet", "--retries", "0", "--disable-pip-version-check",
                "-r", PYTHON_DIR.resolve("requirements.txt").toString()), 600);
        Files.write(marker, wanted);
        return python;
    }

    private static Path generateStubs(Path python) throws IOException, InterruptedException {
        Path protos = work.resolve("protos");
        Path out = work.resolve("stubs");
        Files.createDirectories(protos);
        Files.createDirectories(out);
        // health.proto as grpc-java ships it; at the top level so that the generated module does not shadow grpcio's package
        try (InputStream in = GrpcioClientIT.class.getClassLoader().getResourceAsStream("grpc/health/v1/health.proto")) {
            Files.copy(in, protos.resolve("health.proto"));
        }
        List<String> command = new ArrayList<>(List.of(python.toString(), "-m", "grpc_tools.protoc",
                // Triton's model configuration is the registry module's copy, which the server's definition imports
                "-I", Path.of("src/main/protobuf").toString(), "-I", Path.of("../registry/src/main/protobuf").toString(),
                "-I", protos.toString(), "--python_out=" + out, "--grpc_python_out=" + out,
                "open_inference_grpc.proto", "triton/model_config.proto", "health.proto"));
        run(command, 120);
        return out;
    }

    @Test
    void grpcioClientCallsEveryCoreRpc() throws Exception {
        String output = run(List.of(VENV.resolve("bin").resolve("python").toString(),
                PYTHON_DIR.resolve("grpcio_client.py").toString(), stubs.toString(),
                "127.0.0.1:" + server.grpcPort(), "churn"), 120);
        for (String check : List.of("ServerLive", "ServerReady", "ModelMetadata", "ModelInfer[NoCompression]",
                "ModelInfer[Gzip]", "ModelStreamInfer", "ModelConfig", "ModelMetadata[unknown]", "Health.Check")) {
            assertTrue(output.contains("ok " + check + " "), check + " passed:\n" + output);
        }
        assertEquals(-1, output.indexOf("FAIL"), output);
    }
}
