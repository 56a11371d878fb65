package dev.berth.cli;

import dev.berth.registry.testing.Samples;
import dev.berth.registry.testing.TreeSnapshot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Finding of the outside check: {@code berth alias churn 5 1} and {@code register --alias 7} were
 * accepted, but the protocol takes a version or an alias in one field ({@code /versions/5},
 * gRPC {@code model_version}), so a numeric alias is shadowed by, or mistaken for, a version.
 */
class NumericAliasTest {
    @TempDir
    Path tmp;

    private record Result(int code, String err) {
    }

    private static Result berth(String... args) {
        StringWriter err = new StringWriter();
        int code = BerthMain.run(new PrintWriter(new StringWriter()), new PrintWriter(err), args);
        return new Result(code, err.toString());
    }

    @Test
    void aliasesThatAreNumbersAreRefused() throws Exception {
        Path churn = Samples.copy(Samples.CHURN, tmp.resolve("samples/churn"));
        String models = tmp.resolve("models").toString();
        assertEquals(0, berth("register", churn.toString(), "--name", "churn", "--models", models).code());
        Map<String, String> before = TreeSnapshot.of(tmp.resolve("models"));

        for (String[] args : new String[][]{
                {"alias", "churn", "5", "1", "--models", models},
                {"alias", "churn", "007", "1=50", "--models", models},
                {"register", churn.toString(), "--name", "churn", "--alias", "2", "--models", models}}) {
            Result r = berth(args);
            assertEquals(2, r.code(), String.join(" ", args) + " -> " + r);
            assertEquals(1, r.err().lines().count(), r.err());
            assertTrue(r.err().contains("must not be a number"), r.err());
            assertEquals(before, TreeSnapshot.of(tmp.resolve("models")), "registry unchanged after " + String.join(" ", args));
        }
        // names that merely contain digits stay valid
        assertEquals(0, berth("alias", "churn", "v2", "1", "--models", models).code());
        assertEquals(0, berth("alias", "churn", "2024-q1", "1", "--models", models).code());
    }
}
