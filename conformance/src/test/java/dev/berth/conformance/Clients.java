package dev.berth.conformance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The third-party clients of the conformance checks: the Python venv and the Node packages that
 * {@code conformance/setup} installs (it is run once per JVM; it does nothing when they are in
 * place), and the scripts in {@code conformance/python} and {@code conformance/node}.
 */
final class Clients {
    private static Clients installed;

    /** The module folder: failsafe runs the tests there. */
    final Path module = Path.of("").toAbsolutePath();
    final Path python = module.resolve("target/venv/bin/python");
    final Path stubs = module.resolve("target/venv/stubs");
    final Path scripts = module.resolve("python");
    final Path node = module.resolve("node");
    final Path protos = module.resolve("protos");
    /** Where the tests write logs, results and reports. */
    final Path out = module.resolve("target/conformance");

    private Clients() {
    }

    /** Runs {@code conformance/setup} (first call only) and fails with its message if it cannot install the clients. */
    static synchronized Clients setUp() throws IOException, InterruptedException {
        if (installed == null) {
            Clients c = new Clients();
            Files.createDirectories(c.out);
            Run setup = c.run(List.of("bash", c.module.resolve("setup").toString()), Duration.ofMinutes(5), c.out.resolve("setup.out"));
            if (setup.exitCode() != 0) {
                throw new AssertionError("conformance/setup could not install the clients (exit " + setup.exitCode() + "):\n"
                        + setup.output());
            }
            installed = c;
        }
        return installed;
    }

    /** The outcome of a finished command: exit code and its combined output. */
    record Run(int exitCode, String output) {
    }

    /** Runs a command in the module folder, output to {@code log}; a command over {@code limit} is killed and fails. */
    Run run(List<String> command, Duration limit, Path log) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(module.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        // C-core's own logging would bury the checks' lines
        pb.environment().putAll(Map.of("GRPC_VERBOSITY", "ERROR", "PYTHONUNBUFFERED", "1", "PYTHONDONTWRITEBYTECODE", "1"));
        Process p = pb.start();
        if (!p.waitFor(limit.toSeconds(), TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError(String.join(" ", command) + " ran past " + limit.toSeconds() + " s; output in " + log
                    + "\n" + Files.readString(log));
        }
        return new Run(p.exitValue(), Files.readString(log));
    }

    /** {@code python SCRIPT ARGS...} with the venv's interpreter. */
    Run python(String script, Duration limit, Path log, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(python.toString(), scripts.resolve(script).toString()));
        command.addAll(List.of(args));
        return run(command, limit, log);
    }

    /** {@code node SCRIPT ARGS...} in {@code conformance/node}. */
    Run node(String script, Duration limit, Path log, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("node", node.resolve(script).toString()));
        command.addAll(List.of(args));
        return run(command, limit, log);
    }
}
