package dev.berth.cli;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's two set-up commands, as a new user reads them: the block holds exactly two, CI runs
 * the second (through {@code .ci/readme-commands}, the same reader), and the first, run as written
 * from the checkout, serves the shipped {@code models/} and says where as its last start-up line.
 */
class ReadmeSetupIT {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @Test
    void theReadmeHoldsTwoCommandsAndCiRunsTheSecond() throws Exception {
        List<String> commands = readmeCommands("");
        assertEquals(2, commands.size(), "the set-up block holds two commands: " + commands);
        assertEquals("./berth serve", commands.get(0));
        assertEquals(commands.get(1), readmeCommands("test").get(0));
        String test = commands.get(1).split(" ")[0];
        assertTrue(Files.isExecutable(ROOT.resolve(test)), test + " is an executable script in the checkout");
        String ci = Files.readString(ROOT.resolve(".ci/run"));
        assertTrue(ci.contains("readme-commands test") && ci.contains("eval \"$test_command\""),
                ".ci/run runs the command it reads from the README");
        assertTrue(Files.readString(ROOT.resolve(test)).contains("./mvnw -B verify"), "the test command runs every test");
    }

    @Test
    void theModuleTableNamesEveryModuleAndTheLauncherRunsTheCliModulesJar() throws Exception {
        String pom = Files.readString(ROOT.resolve("pom.xml"));
        List<String> modules = Pattern.compile("<module>([^<]+)</module>").matcher(pom).results().map(m -> m.group(1)).toList();
        String readme = Files.readString(ROOT.resolve("README.md"));
        List<String> rows = Pattern.compile("(?m)^\\| `([a-z-]+)` \\| ").matcher(readme.substring(readme.indexOf("| module | job |")))
                .results().map(m -> m.group(1)).takeWhile(modules::contains).toList();
        assertEquals(modules.stream().sorted().toList(), rows.stream().sorted().toList(),
                "the README's module table has a row for each module of the build, and only those");
        String launcher = Files.readString(ROOT.resolve("berth"));
        assertTrue(launcher.contains("$root/cli/target/berth.jar") && launcher.contains("$root/cli/target/lib"),
                "./berth runs the cli module's jar");
        assertTrue(Files.isRegularFile(ROOT.resolve("cli/target/berth.jar")), "the build wrote the jar the launcher runs");
    }

    @Test
    void theFirstCommandServesTheShippedModels() throws Exception {
        String serve = readmeCommands("serve").get(0);
        int port = freePort();
        int grpcPort = freePort();
        // the README's command as written, run from the checkout; only the ports move, because other
        // servers of this build may hold the defaults
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", serve + " --port " + port + " --grpc-port " + grpcPort)
                .directory(ROOT.toFile()).redirectErrorStream(true);
        pb.environment().remove("BERTH_MODELS");
        pb.environment().remove("BERTH_PORT");
        pb.environment().remove("PORT");
        Process process = pb.start();
        List<String> output = new CopyOnWriteArrayList<>();
        Thread reader = Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                lines.lines().forEach(output::add);
            } catch (IOException ignored) {
                // the process ended
            }
        });
        try {
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            URI base = URI.create("http://127.0.0.1:" + port);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            int ready = 0;
            while (ready != 200 && System.nanoTime() < deadline && process.isAlive()) {
                try {
                    ready = http.send(HttpRequest.newBuilder(base.resolve("/v2/health/ready")).build(),
                            HttpResponse.BodyHandlers.discarding()).statusCode();
                } catch (IOException notYet) {
                    ready = 0;
                }
                if (ready != 200) {
                    Thread.sleep(200);
                }
            }
            assertEquals(200, ready, "ready on the README's first command:\n" + String.join("\n", output));

            byte[] example = Files.readAllBytes(ROOT.resolve("models/churn/1/example_request.json"));
            HttpResponse<String> infer = http.send(HttpRequest.newBuilder(base.resolve("/v2/models/churn/infer"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(example)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, infer.statusCode(), infer.body());
            HttpResponse<String> digits = http.send(HttpRequest.newBuilder(base.resolve("/v2/models/digits/ready")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, digits.statusCode(), "every shipped model serves: " + digits.body());

            // the line may trail readiness by one poll of the command; then nothing more is printed
            while (output.stream().noneMatch(l -> l.startsWith("berth serving")) && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            Thread.sleep(500);
            List<String> startUp = new ArrayList<>(output);
            // Helidon prints its feature banner from a thread of its own, at a moment of its choosing:
            // not berth's output, so it may come before or after berth's line
            startUp.removeIf(l -> l.contains("io.helidon.common.features.HelidonFeatures") || l.matches("INFO: Helidon SE .* features: .*"));
            String last = startUp.isEmpty() ? "" : startUp.get(startUp.size() - 1);
            assertTrue(last.startsWith("berth serving") && last.contains("http://127.0.0.1:" + port),
                    "the line saying where it serves comes last:\n" + String.join("\n", startUp));
        } finally {
            process.destroy();
            boolean stopped = process.waitFor(30, TimeUnit.SECONDS);
            if (!stopped) {
                process.destroyForcibly();
            }
            reader.join(5000);
            assertTrue(stopped, "stopped within 30 s of SIGTERM");
        }
    }

    private static List<String> readmeCommands(String which) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("bash", ROOT.resolve(".ci/readme-commands").toString(), which)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        return out.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
