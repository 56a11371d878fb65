package dev.berth.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.server.grpc.proto.GRPCInferenceServiceGrpc;
import dev.berth.server.grpc.proto.InferTensorContents;
import dev.berth.server.grpc.proto.ModelInferRequest;
import dev.berth.server.grpc.proto.ModelInferResponse;
import dev.berth.server.grpc.proto.ModelReadyRequest;
import dev.berth.server.grpc.proto.ServerLiveRequest;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * nginx (the Debian package) in front of {@code berth serve}, configured by the shipped example
 * {@code deploy/nginx/berth.conf} with only its addresses changed: REST through nginx's default
 * proxy settings (HTTP/1.0 to berth, one connection per request) and gRPC through
 * {@code grpc_pass}. Clients are curl (HTTP/1.1 to nginx) and grpc-java.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NginxIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path EXAMPLE = Path.of("../deploy/nginx/berth.conf");

    private ServeProcess serve;
    private Process nginx;
    private Path work;
    private int restPort;
    private int grpcPort;

    @BeforeAll
    void start() throws Exception {
        Clients clients = Clients.setUp();
        work = TestRegistry.fresh(clients.out.resolve("nginx"));
        TestRegistry.registerTestModels(work.resolve("testing"), work.resolve("registry"));
        serve = ServeProcess.start(work.resolve("registry"), work.resolve("berth-serve.log"), Duration.ofSeconds(90));

        int[] ports = freePorts();
        restPort = ports[0];
        grpcPort = ports[1];
        String example = Files.readString(EXAMPLE);
        String site = replaceOnce(example, "server 127.0.0.1:8080;", "server " + serve.rest().getAuthority() + ";");
        site = replaceOnce(site, "server 127.0.0.1:8081;", "server " + serve.grpcTarget() + ";");
        site = replaceOnce(site, "listen 8000;", "listen 127.0.0.1:" + restPort + ";");
        site = replaceOnce(site, "listen 8001 http2;", "listen 127.0.0.1:" + grpcPort + " http2;");
        Files.writeString(work.resolve("berth.conf"), site);
        // a main config of nginx's defaults, with every file it writes under the test's folder
        Files.writeString(work.resolve("nginx.conf"), """
                worker_processes 1;
                pid %1$s/nginx.pid;
                error_log %1$s/error.log warn;
                events { worker_connections 256; }
                http {
                    access_log %1$s/access.log;
                    client_body_temp_path %1$s/body;
                    proxy_temp_path %1$s/proxy;
                    fastcgi_temp_path %1$s/fastcgi;
                    uwsgi_temp_path %1$s/uwsgi;
                    scgi_temp_path %1$s/scgi;
                    include %1$s/berth.conf;
                }
                """.formatted(work));
        nginx = new ProcessBuilder(nginxBinary(), "-p", work.toString(), "-c", work.resolve("nginx.conf").toString(),
                "-e", work.resolve("error.log").toString(), "-g", "daemon off;")
                .redirectErrorStream(true).redirectOutput(work.resolve("nginx.out").toFile()).start();
        awaitListening(restPort);
        awaitListening(grpcPort);
    }

    @AfterAll
    void stop() throws Exception {
        if (nginx != null) {
            nginx.destroy();
            nginx.waitFor(10, TimeUnit.SECONDS);
            nginx.destroyForcibly();
        }
        if (serve != null) {
            serve.close();
        }
    }

    @Test
    void restThroughNginxDefaultsIsAnswered() throws Exception {
        Curl ready = curl("-sS", "http://127.0.0.1:" + restPort + "/v2/health/ready");
        assertEquals(200, ready.status(), ready.toString());
        Curl metadata = curl("-sS", "http://127.0.0.1:" + restPort + "/v2/models/multi_io");
        assertEquals(200, metadata.status(), metadata.toString());
        assertEquals("multi_io", JSON.readTree(metadata.body()).path("name").asText());

        String infer = """
                {"inputs": [
                  {"name": "ids", "datatype": "INT64", "shape": [1, 4], "data": [4355, 22981, 10043, 2031]},
                  {"name": "mask", "datatype": "BOOL", "shape": [1, 4], "data": [true, false, true, true]},
                  {"name": "scale", "datatype": "FP32", "shape": [1, 1], "data": [0.5]}],
                 "outputs": [{"name": "count"}]}""";
        for (int i = 0; i < 20; i++) { // one upstream connection per request: each one must be answered
            Curl answer = curl("-sS", "-H", "Content-Type: application/json", "--data-binary", infer,
                    "http://127.0.0.1:" + restPort + "/v2/models/multi_io/infer");
            assertEquals(200, answer.status(), answer.toString());
            JsonNode out = JSON.readTree(answer.body()).path("outputs").get(0);
            assertEquals("count", out.path("name").asText());
            assertEquals(3, out.path("data").get(0).asInt(), answer.body());
        }
        Curl bad = curl("-sS", "-H", "Content-Type: application/json", "--data-binary", "{\"inputs\": 7}",
                "http://127.0.0.1:" + restPort + "/v2/models/multi_io/infer");
        assertEquals(400, bad.status(), bad.toString());
        assertTrue(JSON.readTree(bad.body()).hasNonNull("error"), bad.body());
        assertTrue(serve.aliveAndLive());
    }

    @Test
    void aBodyOverNginxsDefaultLimitReachesBerth() throws Exception {
        // 2 MB of JSON: nginx's default client_max_body_size (1 MiB) would answer 413 itself
        StringBuilder body = new StringBuilder("{\"inputs\": [{\"name\": \"ids\", \"datatype\": \"INT64\", \"shape\": [1, 400000], \"data\": [");
        for (int i = 0; i < 400_000; i++) {
            body.append(i == 0 ? "1" : ",1");
        }
        body.append("]}]}");
        Path file = Files.writeString(work.resolve("big.json"), body);
        Curl answer = curl("-sS", "-H", "Content-Type: application/json", "--data-binary", "@" + file,
                "http://127.0.0.1:" + restPort + "/v2/models/multi_io/infer");
        assertEquals(400, answer.status(), "berth's answer (inputs missing), not nginx's 413: " + answer);
        assertTrue(JSON.readTree(answer.body()).path("error").asText().contains("mask")
                || JSON.readTree(answer.body()).path("error").asText().contains("input"), answer.body());
    }

    @Test
    void curlHttp10DirectlyAtBerthIsAnswered() throws Exception {
        Curl ready = curl("-sS", "-0", serve.rest() + "/v2/health/ready");
        assertEquals(200, ready.status(), ready.toString());
        Curl meta = curl("-sS", "-0", serve.rest() + "/v2");
        assertEquals(200, meta.status(), meta.toString());
        assertTrue(JSON.readTree(meta.body()).hasNonNull("name"), meta.body());
    }

    @Test
    void grpcThroughNginxGrpcPass() throws Exception {
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().build();
        try {
            var stub = GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
            assertTrue(stub.serverLive(ServerLiveRequest.getDefaultInstance()).getLive());
            assertTrue(stub.modelReady(ModelReadyRequest.newBuilder().setName("multi_io").build()).getReady());
            ModelInferResponse answer = stub.modelInfer(ModelInferRequest.newBuilder().setModelName("multi_io")
                    .addInputs(tensor("ids", "INT64", InferTensorContents.newBuilder().addAllInt64Contents(List.of(4355L, 22981L, 10043L, 2031L))))
                    .addInputs(tensor("mask", "BOOL", InferTensorContents.newBuilder().addAllBoolContents(List.of(true, false, true, true))))
                    .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("scale").setDatatype("FP32").addShape(1).addShape(1)
                            .setContents(InferTensorContents.newBuilder().addFp32Contents(0.5f)))
                    .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("count"))
                    .build());
            assertEquals("count", answer.getOutputs(0).getName());
            int count = answer.getRawOutputContentsCount() > 0
                    ? answer.getRawOutputContents(0).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).getInt()
                    : answer.getOutputs(0).getContents().getIntContents(0);
            assertEquals(3, count);
            var e = assertThrows(StatusRuntimeException.class,
                    () -> stub.modelInfer(ModelInferRequest.newBuilder().setModelName("no_such_model").build()));
            assertEquals(io.grpc.Status.Code.NOT_FOUND, e.getStatus().getCode(), e.toString());
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        assertTrue(serve.aliveAndLive());
    }

    private static ModelInferRequest.InferInputTensor.Builder tensor(String name, String type, InferTensorContents.Builder contents) {
        return ModelInferRequest.InferInputTensor.newBuilder().setName(name).setDatatype(type).addShape(1).addShape(4).setContents(contents);
    }

    /** curl's answer: status (from -w) and body. */
    record Curl(int status, String body, String stderr) {
    }

    private Curl curl(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("curl", "--max-time", "30", "-o", "-", "-w", "\n%{http_code}"));
        command.addAll(List.of(args));
        Path err = Files.createTempFile(work, "curl", ".err");
        Process p = new ProcessBuilder(command).redirectError(err.toFile()).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "curl finished");
        int cut = out.lastIndexOf('\n');
        int status = Integer.parseInt(out.substring(cut + 1).trim());
        return new Curl(status, out.substring(0, cut), Files.readString(err) + " nginx log: " + tail(work.resolve("error.log")));
    }

    private static String tail(Path file) {
        try {
            String s = Files.readString(file);
            return s.substring(Math.max(0, s.length() - 2000));
        } catch (IOException e) {
            return "(none)";
        }
    }

    private static String replaceOnce(String text, String what, String with) {
        int at = text.indexOf(what);
        assertNotEquals(-1, at, "deploy/nginx/berth.conf no longer contains '" + what + "'");
        return text.substring(0, at) + with + text.substring(at + what.length());
    }

    private static String nginxBinary() {
        for (String candidate : List.of("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx")) {
            if (Files.isExecutable(Path.of(candidate))) {
                return candidate;
            }
        }
        return "nginx"; // from the PATH; a missing nginx fails the start with the OS's message
    }

    private void awaitListening(int port) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (!nginx.isAlive()) {
                throw new AssertionError("nginx exited with " + nginx.exitValue() + ": " + Files.readString(work.resolve("nginx.out"))
                        + tail(work.resolve("error.log")));
            }
            try (Socket s = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException notYet) {
                Thread.sleep(100);
            }
        }
        throw new AssertionError("nginx does not listen on " + port + ": " + tail(work.resolve("error.log")));
    }

    private static int[] freePorts() throws IOException {
        try (ServerSocket a = new ServerSocket(0); ServerSocket b = new ServerSocket(0)) {
            return new int[] {a.getLocalPort(), b.getLocalPort()};
        }
    }
}
