package dev.berth.server;

import dev.berth.server.grpc.proto.GRPCInferenceServiceGrpc;
import dev.berth.server.grpc.proto.RepositoryModelUnloadRequest;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.restassured.RestAssured;
import io.restassured.response.Response;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a new user relies on without reading the docs, on a real server over the real churn models:
 * readiness is false while a model marked to load failed, or when nothing is served; load and
 * unload are refused unless a token is set or the API is opened; and behind a split alias every
 * error names the version that answered it.
 */
class ServingHonestyTest {
    private static final String WRONG_SHAPE =
            "{\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[1,3],\"data\":[1,2,3]}]}";
    private static final Pattern VERSION = Pattern.compile("\\bversion ([12])\\b");

    @TempDir
    Path models;

    private void copyChurn() throws IOException {
        Path source = Churn.CHURN;
        Path target = models.resolve("churn");
        try (var files = Files.walk(source)) {
            for (Path p : files.toList()) {
                Path to = target.resolve(source.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(to);
                } else if (!p.toString().contains("/monitoring/")) {
                    Files.copy(p, to);
                }
            }
        }
    }

    private static Response get(BerthServer server, String path) {
        return RestAssured.given().baseUri("http://127.0.0.1").port(server.port()).get(path);
    }

    @Test
    void readinessIsStrictAndSaysWhy() throws Exception {
        copyChurn();
        Path broken = models.resolve("broken").resolve("1");
        Files.createDirectories(broken);
        Files.writeString(broken.resolve("model.onnx"), "not an onnx model");
        try (BerthServer server = BerthServer.builder().models(models).port(0).openRepositoryApi(true).build().start()) {
            awaitLoads(server);
            Response ready = get(server, "/v2/health/ready");
            assertEquals(503, ready.statusCode(), ready.asString());
            assertTrue(ready.jsonPath().getString("error").startsWith("server is not ready: model 'broken' version 1 failed to load"),
                    ready.asString());
            assertEquals(200, get(server, "/v2/models/churn/ready").statusCode(), "the healthy model still answers");
            // the broken model unloaded: no longer marked to load, so it no longer holds readiness back
            RestAssured.given().baseUri("http://127.0.0.1").port(server.port()).post("/v2/repository/models/broken/unload")
                    .then().statusCode(200);
            assertEquals(200, get(server, "/v2/health/ready").statusCode());
            // the only healthy model unloaded too: nothing is served, which is not ready
            RestAssured.given().baseUri("http://127.0.0.1").port(server.port()).post("/v2/repository/models/churn/unload")
                    .then().statusCode(200);
            Response empty = get(server, "/v2/health/ready");
            assertEquals(503, empty.statusCode());
            assertEquals("server is not ready: no model version is loaded", empty.jsonPath().getString("error"));
        }
        try (BerthServer lenient = BerthServer.builder().models(models).port(0).strictReadiness(false).build().start()) {
            awaitLoads(lenient);
            assertEquals(200, get(lenient, "/v2/health/ready").statusCode(), "lenient readiness ignores the broken model");
        }
    }

    @Test
    void anEmptyRegistryIsReadyOnlyWhenAllowed() throws Exception {
        try (BerthServer server = BerthServer.builder().models(models).port(0).build().start()) {
            awaitLoads(server);
            Response ready = get(server, "/v2/health/ready");
            assertEquals(503, ready.statusCode());
            assertTrue(ready.jsonPath().getString("error").contains("holds no model"), ready.asString());
        }
        try (BerthServer server = BerthServer.builder().models(models).port(0).allowEmpty(true).build().start()) {
            awaitLoads(server);
            assertEquals(200, get(server, "/v2/health/ready").statusCode());
        }
    }

    @Test
    void loadAndUnloadNeedATokenOrAnExplicitlyOpenApi() throws Exception {
        copyChurn();
        try (BerthServer server = BerthServer.builder().models(models).port(0).build().start()) {
            awaitLoads(server);
            Response unload = RestAssured.given().baseUri("http://127.0.0.1").port(server.port())
                    .post("/v2/repository/models/churn/unload");
            assertEquals(403, unload.statusCode(), unload.asString());
            assertTrue(unload.jsonPath().getString("error").contains("--repository-token"), unload.asString());
            RestAssured.given().baseUri("http://127.0.0.1").port(server.port()).post("/v2/repository/models/churn/load")
                    .then().statusCode(403);
            // the index only reads, and stays open without a token
            RestAssured.given().baseUri("http://127.0.0.1").port(server.port()).post("/v2/repository/index").then().statusCode(200);
            ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
            try {
                var stub = GRPCInferenceServiceGrpc.newBlockingStub(channel);
                StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                        () -> stub.repositoryModelUnload(RepositoryModelUnloadRequest.newBuilder().setModelName("churn").build()));
                assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode());
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
            assertEquals(200, get(server, "/v2/models/churn/ready").statusCode(), "nothing was unloaded");
        }
    }

    @Test
    void behindASplitAliasEveryErrorNamesTheVersionThatAnswered() throws Exception {
        copyChurn();
        String info = Files.readString(models.resolve("churn/model.json"));
        Files.writeString(models.resolve("churn/model.json"), info.replace("\"aliases\" : {", """
                "aliases" : {
                    "canary" : { "targets" : [ { "version" : 1, "weight" : 50 }, { "version" : 2, "weight" : 50 } ] },"""));
        try (BerthServer server = BerthServer.builder().models(models).port(0).build().start()) {
            awaitLoads(server);
            Set<String> named = new HashSet<>();
            for (int i = 0; i < 60 && named.size() < 2; i++) {
                Response r = RestAssured.given().baseUri("http://127.0.0.1").port(server.port())
                        .contentType("application/json").body(WRONG_SHAPE).post("/v2/models/churn/versions/canary/infer");
                assertEquals(400, r.statusCode(), r.asString());
                String error = r.jsonPath().getString("error");
                Matcher m = VERSION.matcher(error);
                assertTrue(m.find(), "the error names the version that answered: " + error);
                named.add(m.group(1));
            }
            assertEquals(Set.of("1", "2"), named, "both versions of the 50/50 split answered and were named");
        }
    }

    private static void awaitLoads(BerthServer server) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!server.inferenceService().loadsTried()) {
            assertTrue(System.nanoTime() < deadline, "models did not load within 60 s");
            Thread.sleep(20);
        }
    }
}
