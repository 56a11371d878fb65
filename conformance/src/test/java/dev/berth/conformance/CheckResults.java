package dev.berth.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.DynamicTest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The JSON result a client script wrote ({@code {suite, complete, passed, failed, checks: [{name,
 * ok, detail}]}}), as one JUnit test per named check, so a failure names the check and the reason.
 */
final class CheckResults {
    private static final ObjectMapper JSON = new ObjectMapper();

    private CheckResults() {
    }

    /**
     * One test per check, and a first test that the script ran to its end: a script that
     * stopped early (or wrote no result) fails even if every check it reached passed.
     *
     * @param minimumChecks fewer checks than this means the script skipped some: a failure
     */
    static Stream<DynamicTest> tests(Path result, Clients.Run run, int minimumChecks) throws IOException {
        if (!Files.isRegularFile(result)) {
            return Stream.of(DynamicTest.dynamicTest("result written", () ->
                    fail("no result file " + result + "; the script's output:\n" + run.output())));
        }
        JsonNode root = JSON.readTree(result.toFile());
        List<DynamicTest> tests = new ArrayList<>();
        int checks = root.path("checks").size();
        tests.add(DynamicTest.dynamicTest("ran to completion", () -> {
            assertTrue(root.path("complete").asBoolean(), "the script stopped early; its output:\n" + run.output());
            assertTrue(checks >= minimumChecks, checks + " checks, at least " + minimumChecks + " expected");
            assertEquals(root.path("failed").asInt() == 0 ? 0 : 1, run.exitCode(), "exit code against the result");
        }));
        for (JsonNode check : root.path("checks")) {
            String name = check.path("name").asText();
            boolean ok = check.path("ok").asBoolean();
            String detail = check.path("detail").asText();
            tests.add(DynamicTest.dynamicTest(name, () -> assertTrue(ok, name + ": " + detail)));
        }
        return tests.stream();
    }
}
