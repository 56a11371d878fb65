package dev.berth.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** An image's main class: {@code berth serve} and nothing else, with the command line's messages and exit codes. */
class ServeMainTest {
    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = ServeMain.run(new PrintWriter(out), new PrintWriter(err), args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void knowsServeAndHelpOnly() {
        Run help = run("--help");
        assertEquals(0, help.code(), help.err());
        assertTrue(help.out().contains("serve") && help.out().contains("help"), help.out());
        assertFalse(help.out().contains("package") || help.out().contains("register"), help.out());

        Run other = run("package", "churn:1", "--image", "x");
        assertEquals(ErrorHandler.MISUSE, other.code());
        assertTrue(other.err().startsWith("berth: unknown command 'package'"), other.err());
    }

    @Test
    void serveTakesTheCommandLinesArgumentsAndErrors(@TempDir Path tmp) {
        Run help = run("serve", "--help");
        assertEquals(0, help.code(), help.err());
        assertTrue(help.out().contains("--grpc-port") && help.out().contains("--models"), help.out());

        Run missing = run("serve", "--models", tmp.resolve("nope").toString());
        assertEquals(ErrorHandler.MISUSE, missing.code(), missing.err());
        assertTrue(missing.err().contains("no registry folder at"), missing.err());
        assertEquals(1, missing.err().lines().count(), "one line, no stack trace: " + missing.err());
    }
}
