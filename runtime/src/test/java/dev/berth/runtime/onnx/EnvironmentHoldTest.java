package dev.berth.runtime.onnx;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ONNX Runtime's shutdown hook frees the native environment; a session run after it, while the JVM
 * shuts down, dies with SIGSEGV (issue 10). {@link EnvironmentHold} keeps the environment alive
 * until berth lets it go. Each case runs {@link EnvironmentHoldProbe} (a real {@code System.exit}
 * with ONNX Runtime's real hook) in its own JVM, since the failure is a crash.
 */
class EnvironmentHoldTest {
    @TempDir
    Path temp;

    private record Run(int exit, String output) {
    }

    private Run probe(String... args) throws Exception {
        Path out = temp.resolve("probe-" + String.join("-", args) + ".out");
        List<String> command = new java.util.ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "-XX:-CreateCoredumpOnCrash", "-XX:ErrorFile=" + temp.resolve("hs_err_%p.log"),
                "-cp", System.getProperty("java.class.path"), EnvironmentHoldProbe.class.getName()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "probe finished");
        return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
    }

    @Test
    void sessionsSurviveOnnxRuntimesShutdownHook() throws Exception {
        Run held = probe();
        assertEquals(0, held.exit(), held.output());
        assertTrue(held.output().contains("held=true"), held.output());
        assertTrue(held.output().contains("ONNX Runtime's hook ran"), held.output());
        assertTrue(held.output().strip().endsWith("ok"), held.output());
    }

    /** The control: without berth's reference the same steps crash the JVM, so the case above can fail. */
    @Test
    void withoutTheHoldTheHookCrashesTheNextRun() throws Exception {
        Run unheld = probe("unheld");
        assertTrue(unheld.output().contains("ONNX Runtime's hook ran"), unheld.output());
        // with the environment freed the next run either dies in native code (SIGSEGV at ONNX Runtime's
        // default log level) or, at berth's FATAL level, fails for want of the freed logger: never "run ok"
        String afterHook = unheld.output().substring(unheld.output().indexOf("ONNX Runtime's hook ran"));
        assertTrue(!afterHook.contains("run ok"), "a run after ONNX Runtime's hook without berth's reference:\n" + unheld.output());
        assertTrue(unheld.exit() != 0 || afterHook.contains("Exception"), unheld.output());
    }
}
