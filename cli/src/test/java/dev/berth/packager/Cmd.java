package dev.berth.packager;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs an external command for tests: output captured, a time limit, a clear failure. */
final class Cmd {
    record Result(int exitCode, String out, String err) {
    }

    private Cmd() {
    }

    static Result exec(Map<String, String> env, Duration timeout, List<String> command) {
        try {
            Path outFile = Files.createTempFile("cmd-out", ".txt");
            Path errFile = Files.createTempFile("cmd-err", ".txt");
            try {
                ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(outFile.toFile()).redirectError(errFile.toFile());
                pb.environment().putAll(env);
                Process p = pb.start();
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                    p.waitFor(10, TimeUnit.SECONDS);
                    throw new AssertionError("timed out after " + timeout + ": " + String.join(" ", command));
                }
                return new Result(p.exitValue(), Files.readString(outFile, StandardCharsets.UTF_8), Files.readString(errFile, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(outFile);
                Files.deleteIfExists(errFile);
            }
        } catch (IOException e) {
            throw new AssertionError("cannot run " + command + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted: " + command, e);
        }
    }

    /** Runs the command and returns its stdout; fails the test with stderr when it exits non-zero. */
    static String run(Map<String, String> env, Duration timeout, String... command) {
        Result r = exec(env, timeout, List.of(command));
        if (r.exitCode() != 0) {
            throw new AssertionError("'" + String.join(" ", command) + "' exited " + r.exitCode() + ":\n" + r.err() + r.out());
        }
        return r.out();
    }

    static String run(String... command) {
        return run(Map.of(), Duration.ofMinutes(2), command);
    }

    static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new AssertionError("cannot delete " + dir + ": " + e.getMessage(), e);
        }
    }
}
