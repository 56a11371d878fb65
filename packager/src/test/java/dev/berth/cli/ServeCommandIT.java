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
                    "--port", Integer.toString(taken.getLocalPort()));
            assertEquals(ErrorHandler.FAILURE, busy);
            assertEquals(1, busyErr.toString().strip().lines().count(), busyErr.toString());
            assertTrue(busyErr.toString().contains("cannot listen"), busyErr.toString());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        int badPort = BerthMain.run(new PrintWriter(out), new PrintWriter(err), "serve", "--models", tmp.toString(), "--port", "99999");
        assertEquals(ErrorHandler.MISUSE, badPort);
    }
}
