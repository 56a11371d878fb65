package dev.berth.packager;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad input to {@code berth package}: each gives exit code 1 (2 for a malformed option), exactly
 * one line on stderr, no digest on stdout, and nothing tagged in the target registry.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PackageErrorsIT {
    private PackagingFixture fixture;
    private LocalOciRegistry registry;
    private Path temp;
    private Path models;
    private String base;

    @BeforeAll
    void setUp() throws IOException {
        fixture = PackagingFixture.start("berth-package-errors-", true, false);
        temp = fixture.temp();
        models = fixture.models();
        registry = fixture.registry();
        base = fixture.baseImage();
    }

    @AfterAll
    void tearDown() {
        if (fixture != null) {
            fixture.close();
        }
    }

    private Cli.Run pack(String model, String image, String... extra) {
        List<String> args = new ArrayList<>(List.of(model, "--image", image, "--insecure-registry",
                "--models", models.toString(), "--work-dir", temp.resolve("work").toString()));
        args.addAll(List.of(extra));
        return Cli.packageCommand(args.toArray(String[]::new));
    }

    private static String failsWithOneLine(Cli.Run run, int exitCode) {
        assertEquals(exitCode, run.exitCode(), run.describe());
        // progress lines may come first; the failure itself is one line, the last, and no stack trace
        List<String> errLines = run.err().lines().filter(l -> !l.isBlank()).toList();
        List<String> failures = errLines.stream().filter(l -> l.startsWith("berth package: ")).toList();
        assertEquals(1, failures.size(), "exactly one failure line on stderr:\n" + run.describe());
        assertEquals(failures.get(0), errLines.get(errLines.size() - 1), run.describe());
        assertFalse(run.err().contains("\tat ") || run.err().contains("Exception"), "no stack trace:\n" + run.describe());
        assertFalse(run.out().contains("sha256:"), "no digest reported:\n" + run.describe());
        return failures.get(0);
    }

    private void assertNotTagged(LocalOciRegistry where, String repository, String tag) throws IOException {
        assertEquals(404, where.get("/v2/" + repository + "/manifests/" + tag, LocalOciRegistry.OCI_MANIFEST).statusCode(),
                repository + ":" + tag + " must not exist");
    }

    @Test
    void unknownModel() throws IOException {
        String line = failsWithOneLine(pack("nope:1", registry.address() + "/x/nope:1", "--base-image", base), 1);
        assertTrue(line.contains("no model 'nope'"), line);
        assertNotTagged(registry, "x/nope", "1");
    }

    @Test
    void unknownVersionAndAlias() throws IOException {
        String line = failsWithOneLine(pack("churn:7", registry.address() + "/x/churn:7", "--base-image", base), 1);
        assertTrue(line.contains("no version 7"), line);
        line = failsWithOneLine(pack("churn@nightly", registry.address() + "/x/churn:7", "--base-image", base), 1);
        assertTrue(line.contains("no alias 'nightly'"), line);
        assertNotTagged(registry, "x/churn", "7");
    }

    @Test
    void unreachableRegistryFailsFast() throws IOException {
        int closed = LocalOciRegistry.freePort();
        long start = System.nanoTime();
        String line = failsWithOneLine(pack("churn:1", "127.0.0.1:" + closed + "/x/churn:1", "--base-image", base), 1);
        long seconds = (System.nanoTime() - start) / 1_000_000_000L;
        assertTrue(line.contains("cannot reach target registry 127.0.0.1:" + closed), line);
        assertTrue(seconds < 15, "failed within seconds, took " + seconds + " s");
    }

    @Test
    void plainHttpRegistryWithoutInsecureFlagIsOneLineWithinSeconds() throws IOException {
        long start = System.nanoTime();
        Cli.Run run = Cli.packageCommand("churn:1", "--image", registry.address() + "/x/plain:1",
                "--base-image", "tar:" + OfflineBaseImage.dockerArchive(),
                "--models", models.toString(), "--work-dir", temp.resolve("work").toString());
        long seconds = (System.nanoTime() - start) / 1_000_000_000L;
        String line = failsWithOneLine(run, 1);
        assertTrue(line.contains("target registry " + registry.address() + " does not speak HTTPS")
                && line.contains("--insecure-registry"), line);
        assertTrue(seconds < 15, "failed within seconds, took " + seconds + " s");
        assertNotTagged(registry, "x/plain", "1");
    }

    @Test
    void aliasThatSplitsTrafficIsRefusedWithTheReason() throws IOException {
        dev.berth.registry.LocalRegistry.open(models).setAlias("churn", "canary", new dev.berth.registry.AliasTarget(List.of(
                new dev.berth.registry.WeightedVersion(1, 90), new dev.berth.registry.WeightedVersion(2, 10))));
        try {
            String line = failsWithOneLine(pack("churn@canary", registry.address() + "/x/canary:1", "--base-image", base), 2);
            assertTrue(line.contains("alias 'canary' of 'churn' splits traffic (version 1 weight 90, version 2 weight 10)")
                    && line.contains("package churn:1 and churn:2"), line);
            assertNotTagged(registry, "x/canary", "1");
        } finally {
            dev.berth.registry.LocalRegistry.open(models).deleteAlias("churn", "canary");
        }
    }

    @Test
    void rejectedPush() throws IOException {
        try (LocalOciRegistry readOnly = LocalOciRegistry.start(true)) {
            String line = failsWithOneLine(pack("churn:1", readOnly.address() + "/x/churn:1", "--base-image", base), 1);
            assertTrue(line.contains("push to " + readOnly.address() + "/x/churn rejected"), line);
            assertNotTagged(readOnly, "x/churn", "1");
        }
    }

    @Test
    void missingBaseImage() throws IOException {
        String line = failsWithOneLine(pack("churn:1", registry.address() + "/x/churn:1",
                "--base-image", registry.address() + "/berth-test/no-such-base:1"), 1);
        assertTrue(line.contains("base image " + registry.address() + "/berth-test/no-such-base:1"), line);
        assertNotTagged(registry, "x/churn", "1");

        line = failsWithOneLine(pack("churn:1", registry.address() + "/x/churn:1", "--base-image", "tar:" + temp.resolve("missing.tar")), 1);
        assertTrue(line.contains("missing.tar does not exist"), line);
    }

    @Test
    void baseTarballInTheWrongFormatLeavesNoOutput() throws IOException {
        Path ociArchive = temp.resolve("base-oci.tar");
        Cmd.run("skopeo", "copy", "-q", "oci:" + OfflineBaseImage.ociLayout() + ":" + OfflineBaseImage.TAG, "oci-archive:" + ociArchive);
        Path out = Files.createDirectories(temp.resolve("out")).resolve("churn.tar");
        String line = failsWithOneLine(pack("churn:1", "berth-test/churn:1", "--to", "tar:" + out, "--base-image", "tar:" + ociArchive), 1);
        assertTrue(line.contains("base-oci.tar"), line);
        try (var files = Files.list(out.getParent())) {
            assertEquals(List.of(), files.toList(), "neither the tarball nor a partial one is left");
        }
    }

    @Test
    void dockerTargetWithoutDaemon() {
        // these machines run no Docker engine (some have the docker command); where one runs, this case does not arise
        Assumptions.assumeTrue(DockerDaemon.problem() != null, "a Docker daemon answers here");
        long start = System.nanoTime();
        String line = failsWithOneLine(pack("churn:1", "berth-test/churn:1", "--to", "docker", "--base-image", base), 1);
        assertTrue(line.contains("--to docker needs a running Docker daemon: "), line);
        assertTrue(System.nanoTime() - start < 15_000_000_000L, "fails before building anything");
    }

    @Test
    void malformedOptionsAreUsageErrors() {
        String line = failsWithOneLine(pack("churn:1", registry.address() + "/x/churn:1", "--to", "ftp:somewhere"), 2);
        assertTrue(line.contains("'ftp:somewhere' is not a target"), line);
        line = failsWithOneLine(pack("churn:1", "Not A Reference", "--base-image", base), 2);
        assertTrue(line.contains("not a valid image reference"), line);
    }
}
