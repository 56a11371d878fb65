package dev.berth.registry;

import dev.berth.registry.testing.Samples;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** model.json as a person edits it: a partial serving block is complete, a wrong key or value is named with what it accepts. */
class ModelJsonTest {
    @TempDir
    Path tmp;
    LocalRegistry registry;
    Path file;

    @BeforeEach
    void setUp() throws IOException {
        Path root = tmp.resolve("models");
        Files.createDirectories(root.resolve("churn/1"));
        Files.copy(Samples.copy(Samples.CHURN, tmp.resolve("s")).resolve("model.onnx"), root.resolve("churn/1/model.onnx"));
        registry = LocalRegistry.open(root);
        file = root.resolve("churn/model.json");
    }

    @Test
    void aPartialServingBlockTakesTheDefaultsForWhatItLeavesOut() throws IOException {
        Files.writeString(file, "{\"serving\": {\"sessions\": 2, \"preferred_batch_sizes\": [4]}}");
        ServingConfig s = registry.info("churn").servingFor(null);
        assertEquals(ServingConfig.defaults().toBuilder().sessions(2).preferredBatchSizes(List.of(4)).build(), s);
        // and what berth writes reads back the same
        ModelInfo written = RegistryJson.mapper().readValue(RegistryJson.mapper().writeValueAsBytes(registry.info("churn")), ModelInfo.class);
        assertEquals(s, written.serving());
    }

    @Test
    void aLayoutIsFixedWhereTheFileSetsSessionsOrThreadsAndAutoOtherwise() throws IOException {
        record Case(String serving, String layout, int sessions) {
        }
        for (Case c : List.of(new Case("{}", "auto", 1), new Case("{\"dynamic_batching\": false}", "auto", 1),
                new Case("{\"sessions\": 2}", "fixed", 2), new Case("{\"intra_op_threads\": 0}", "fixed", 1),
                new Case("{\"inter_op_threads\": 2}", "fixed", 1),
                // the key, where given, wins in either order (berth writes it with every value)
                new Case("{\"layout\": \"auto\", \"sessions\": 2}", "auto", 2), new Case("{\"sessions\": 2, \"layout\": \"auto\"}", "auto", 2),
                new Case("{\"layout\": \"fixed\"}", "fixed", 1))) {
            Files.writeString(file, "{\"serving\": " + c.serving() + "}");
            ServingConfig s = registry.info("churn").serving();
            assertEquals(c.layout(), s.layout(), c.serving());
            assertEquals(c.sessions(), s.sessions(), c.serving());
            assertEquals(s, RegistryJson.mapper().readValue(RegistryJson.mapper().writeValueAsBytes(registry.info("churn")), ModelInfo.class)
                    .serving(), "written and read back: " + c.serving());
        }
    }

    @Test
    void everyWrongValueNamesTheKeyAndWhatItAccepts() throws IOException {
        record Case(String json, String expected) {
        }
        for (Case c : List.of(
                new Case("{\"serving\": {\"sessions\": 0}}", "serving.sessions must be a whole number, 1 or more, got 0"),
                new Case("{\"serving\": {\"sessions\": \"two\"}}", "serving.sessions must be a whole number, 1 or more, got \"two\""),
                new Case("{\"serving\": {\"optimisation_level\": \"all\"}}", "serving: unknown key 'optimisation_level'; the keys are layout, sessions, intra_op_threads"),
                new Case("{\"serving\": {\"layout\": \"measured\"}}", "serving.layout must be one of auto, fixed, got \"measured\""),
                new Case("{\"serving\": {\"optimization_level\": \"max\"}}", "serving.optimization_level must be one of disabled, basic, extended, all, got \"max\""),
                new Case("{\"serving\": {\"dynamic_batching\": \"yes\"}}", "serving.dynamic_batching must be true or false, got \"yes\""),
                new Case("{\"serving\": {\"max_batch_size\": 4, \"preferred_batch_sizes\": [8]}}",
                        "serving: preferred_batch_sizes must lie between 1 and max_batch_size (4), got 8"),
                new Case("{\"serving\": {\"inputs\": [{\"name\": \"x\", \"datatype\": \"FLOAT\"}]}}", "serving.inputs[].datatype must be one of [BOOL"),
                new Case("{\"serving\": 3}", "serving must be a JSON object with the keys layout, sessions"),
                new Case("{\"version_policy\": {\"kind\": \"NEWEST\"}}", "version_policy.kind must be one of ALL, LATEST, SPECIFIC, got 'NEWEST'"),
                new Case("{\"version_policy\": {\"kind\": \"LATEST\", \"latest\": 0}}", "version_policy: version policy 'latest' needs a count of 1 or more"),
                new Case("{\"version_policy\": {\"kind\": \"ALL\", \"latest\": \"x\"}}", "version_policy.latest must be a whole number"))) {
            Files.writeString(file, c.json());
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> registry.info("churn"), c.json());
            assertEquals(file + ": " + e.getMessage().substring(file.toString().length() + 2), e.getMessage(), "names the file");
            assertTrue(e.getMessage().contains(c.expected()), c.json() + " -> " + e.getMessage());
            assertFalse(e.getMessage().contains("com.fasterxml") || e.getMessage().contains("`") || e.getMessage().contains("reference chain")
                    || e.getMessage().contains("Cannot construct"), "no Jackson internals: " + e.getMessage());
        }
        Files.writeString(file, "{\"serving\": {\"sessions\": 2,}}");
        RegistryException syntax = assertThrows(RegistryException.class, () -> registry.info("churn"));
        assertTrue(syntax.getMessage().startsWith(file + " is not valid JSON: "), syntax.getMessage());
        assertTrue(syntax.getMessage().contains("(line 1, column"), syntax.getMessage());
    }
}
