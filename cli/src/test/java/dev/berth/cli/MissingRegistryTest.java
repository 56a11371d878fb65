package dev.berth.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Finding of the outside check: with a mistyped {@code --models}, {@code berth list} printed "no
 * models" and {@code berth verify} reported "all match", both exiting 0. Commands that work on an
 * existing registry now refuse a missing folder like {@code berth serve} does.
 */
class MissingRegistryTest {
    @TempDir
    Path tmp;

    @Test
    void commandsOnAMissingRegistryFolderFailWithOneLine() {
        Path missing = tmp.resolve("no-such-registry");
        List<List<String>> commands = List.of(
                List.of("list"), List.of("list", "--json"), List.of("verify"), List.of("verify", "churn"),
                List.of("show", "churn"), List.of("diff", "churn:1", "churn:2"),
                List.of("alias", "churn", "production", "1"), List.of("delete", "churn:1"));
        for (List<String> command : commands) {
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            String[] args = java.util.stream.Stream.concat(command.stream(), java.util.stream.Stream.of("--models", missing.toString()))
                    .toArray(String[]::new);
            int code = BerthMain.run(new PrintWriter(out), new PrintWriter(err), args);
            String what = command + " -> " + code + " " + err;
            assertEquals(2, code, what);
            assertEquals(1, err.toString().lines().count(), what);
            assertTrue(err.toString().startsWith("berth " + command.get(0) + ": no registry folder at " + missing), what);
            assertFalse(Files.exists(missing), "nothing is created: " + what);
        }
    }

    @Test
    void anEmptyRegistryFolderIsStillAValidEmptyRegistry() throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        StringWriter out = new StringWriter();
        int code = BerthMain.run(new PrintWriter(out), new PrintWriter(new StringWriter()), "verify", "--models", empty.toString());
        assertEquals(0, code);
        code = BerthMain.run(new PrintWriter(out), new PrintWriter(new StringWriter()), "list", "--models", empty.toString());
        assertEquals(0, code);
    }
}
