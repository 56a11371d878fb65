package dev.berth.cli;

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

/** {@code berth serve} as a real process: serves a registered model, answers, and stops cleanly on SIGTERM. */
class ServeCommandIT {
    @TempDir
    Path tmp;

    @Test
    void servesTheRegistryAndStopsOnSigterm() throws Exception {
        Path models = tmp.resolve("models");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = BerthMain.run(new PrintWriter(out), new PrintWriter(err), "register",
                Samples.copy(Samples.CHURN, tmp.resolve("churn")).toString(), "--name", "churn", "--models", models.toString());
        assertEquals(0, code, err.toString());

        try (ServeProcess serve = ServeProcess.start(models)) {
            byte[] example = Files.readAllBytes(models.resolve("churn").resolve("1").resolve("example_request.json"));
            HttpResponse<String> infer = serve.infer("churn", example);
            assertEquals(200, infer.statusCode(), infer.body());
            assertTrue(infer.body().contains("\"probabilities\""), infer.body());
            serve.stop();
        }
    }

    @Test
    void anEmptyOrMisplacedRegistryIsRefusedWithTheFolderMeant() throws Exception {
        Path models = tmp.resolve("models");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertEquals(0, BerthMain.run(new PrintWriter(out), new PrintWriter(err), "register",
                Samples.copy(Samples.CHURN, tmp.resolve("churn")).toString(), "--name", "churn", "--models", models.toString()), err.toString());
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertRefused(empty, "the registry " + empty.toAbsolutePath() + " holds no model; give --allow-empty to serve it anyway");
        assertRefused(models.resolve("churn"), "(did you mean --models " + models.toAbsolutePath() + "?)");
        assertRefused(models.resolve("churn").resolve("1"), "(did you mean --models " + models.toAbsolutePath() + "?)");
        assertRefused(tmp, "(did you mean --models " + models.toAbsolutePath() + "?)");
        // allowed explicitly: it serves, and says it is not ready
        try (ServeProcess serve = ServeProcess.startUnready(empty, "--allow-empty")) {
            HttpResponse<String> ready = serve.get("/v2/health/ready");
            assertEquals(200, ready.statusCode(), "an empty registry served on purpose is ready: " + ready.body());
            serve.stop();
        }
    }

    @Test
    void aModelThatFailsToLoadKeepsTheServerUnreadyAndSaysSo() throws Exception {
        Path models = tmp.resolve("models");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertEquals(0, BerthMain.run(new PrintWriter(out), new PrintWriter(err), "register",
                Samples.copy(Samples.CHURN, tmp.resolve("churn")).toString(), "--name", "churn", "--models", models.toString()), err.toString());
        Files.createDirectories(models.resolve("broken/1"));
        Files.writeString(models.resolve("broken/1/model.onnx"), "not a model");
        try (ServeProcess serve = ServeProcess.startUnready(models)) {
            HttpResponse<String> ready = serve.get("/v2/health/ready");
            assertEquals(503, ready.statusCode(), ready.body());
            assertTrue(ready.body().contains("model 'broken' version 1 failed to load"), ready.body());
            String warning = "berth: warning: not ready (/v2/health/ready answers 503): model 'broken' version 1";
            String log = serve.awaitOutput(warning);
            assertTrue(log.contains(warning), log);
            HttpResponse<String> unload = serve.post("/v2/repository/models/broken/unload");
            assertEquals(403, unload.statusCode(), "no token, API not opened: " + unload.body());
            serve.stop();
        }
        try (ServeProcess serve = ServeProcess.start(models, "--lenient-readiness", "--open-repository-api")) {
            assertEquals(200, serve.post("/v2/repository/models/broken/unload").statusCode());
            serve.stop();
        }
    }

    private void assertRefused(Path models, String expected) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = BerthMain.run(new PrintWriter(out), new PrintWriter(err), "serve", "--models", models.toString(), "--port", "0");
        assertEquals(ErrorHandler.MISUSE, code, err.toString());
        assertEquals(1, err.toString().strip().lines().count(), err.toString());
        assertTrue(err.toString().contains(expected), err.toString());
    }

    @Test
    void missingRegistryFolderIsAOneLineError() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = BerthMain.run(new PrintWriter(out), new PrintWriter(err), "serve", "--models", tmp.resolve("nope").toString());
        assertEquals(ErrorHandler.MISUSE, code);
        assertEquals(1, err.toString().strip().lines().count(), err.toString());
        assertTrue(err.toString().contains("no registry folder"), err.toString());
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"))) {
            StringWriter busyErr = new StringWriter();
            int busy = BerthMain.run(new PrintWriter(out), new PrintWriter(busyErr), "serve", "--models", tmp.toString(),
                    "--allow-empty", "--port", Integer.toString(taken.getLocalPort()));
            assertEquals(ErrorHandler.FAILURE, busy);
            assertEquals(1, busyErr.toString().strip().lines().count(), busyErr.toString());
            assertTrue(busyErr.toString().contains("cannot listen"), busyErr.toString());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        int badPort = BerthMain.run(new PrintWriter(out), new PrintWriter(err), "serve", "--models", tmp.toString(), "--allow-empty", "--port", "99999");
        assertEquals(ErrorHandler.MISUSE, badPort);
    }
}
