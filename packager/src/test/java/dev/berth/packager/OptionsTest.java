package dev.berth.packager;

import dev.berth.registry.AliasTarget;
import dev.berth.registry.ModelInfo;
import dev.berth.registry.VersionPolicy;
import dev.berth.registry.WeightedVersion;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Option parsing and the small pure parts of the packager. */
class OptionsTest {
    @Test
    void targets() {
        assertEquals(ImageTarget.registry(), ImageTarget.parse("registry"));
        assertEquals(ImageTarget.registry(), ImageTarget.parse(null));
        assertEquals(ImageTarget.docker(), ImageTarget.parse("docker"));
        assertEquals(ImageTarget.tar(Path.of("out/churn.tar")), ImageTarget.parse("tar:out/churn.tar"));
        assertThrows(PackagingException.InvalidOptionException.class, () -> ImageTarget.parse("tar:"));
        assertThrows(PackagingException.InvalidOptionException.class, () -> ImageTarget.parse("oci"));
    }

    @Test
    void baseImages() {
        assertEquals(new BaseImage.Reference("eclipse-temurin:21-jre"), BaseImage.parse(null));
        assertEquals(new BaseImage.Reference("127.0.0.1:5000/base:1"), BaseImage.parse("127.0.0.1:5000/base:1"));
        assertEquals(new BaseImage.Tar(Path.of("/tmp/base.tar")), BaseImage.parse("tar:/tmp/base.tar"));
        assertThrows(PackagingException.InvalidOptionException.class, () -> BaseImage.parse("tar:"));
    }

    @Test
    void imageByDigestDropsTheTagButKeepsTheRegistryPort() {
        String digest = "sha256:" + "0".repeat(64);
        assertEquals("127.0.0.1:5000/team/churn@" + digest, result("127.0.0.1:5000/team/churn:3", digest).imageByDigest());
        assertEquals("127.0.0.1:5000/churn@" + digest, result("127.0.0.1:5000/churn", digest).imageByDigest());
        assertEquals("churn@" + digest, result("churn:latest", digest).imageByDigest());
    }

    private static PackageResult result(String image, String digest) {
        return new PackageResult(image, digest, digest, ImageTarget.registry(), "churn", 3, Map.of(), 0, 0, 0);
    }

    @Test
    void jibMessagesBecomeOneLine() {
        String jib = "Tried to push BLOB for 127.0.0.1:1234/x/churn with digest sha256:abc but failed because: registry returned "
                + "error code 405; possible causes include invalid or wrong reference. Actual error output follows:\n"
                + "{\"errors\":[{\"code\":\"UNSUPPORTED\",\"message\":\"The operation is unsupported.\"}]}\n";
        assertEquals("registry returned error code 405 (UNSUPPORTED: The operation is unsupported.)", JibFailures.firstLine(jib));
        assertEquals("manifest unknown", JibFailures.firstLine("Tried to pull image manifest for r/x:1 but failed because: manifest unknown"));
        assertEquals("first", JibFailures.firstLine("first\nsecond"));
        assertEquals("no details", JibFailures.firstLine(null));
    }

    @Test
    void imageKeepsOnlyAliasesOfThePackagedVersion() {
        ModelInfo info = new ModelInfo("churn", "d", Map.of(
                "production", AliasTarget.single(3),
                "staging", AliasTarget.single(4),
                "canary", new AliasTarget(List.of(new WeightedVersion(3, 90), new WeightedVersion(4, 10)))),
                VersionPolicy.latest(1), null);
        ModelInfo packed = ImageLayers.imageModelInfo(info, 3);
        assertEquals(Map.of("production", AliasTarget.single(3)), packed.aliases());
        assertEquals(VersionPolicy.all(), packed.versionPolicy());
        assertEquals("d", packed.description());
    }

    @Test
    void versionFilesLeaveOutMonitoringReportsAndWorkInProgress(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("model.onnx"), "m");
        Files.createDirectories(dir.resolve("data"));
        Files.writeString(dir.resolve("data/sample.csv"), "a,b");
        Files.createDirectories(dir.resolve("monitoring"));
        Files.writeString(dir.resolve("monitoring/2026-01-01.json"), "{}");
        Files.writeString(dir.resolve(".manifest.json.tmp"), "{}");
        List<String> files = ImageLayers.versionFiles(dir).stream().map(p -> dir.relativize(p).toString()).toList();
        assertEquals(List.of("data/sample.csv", "model.onnx"), files);
    }

    @Test
    void jarsAreDescribedByTheirMavenCoordinates() throws Exception {
        Path picocli = Path.of(picocli.CommandLine.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        DependencyManifest.Jar jar = DependencyManifest.describe(picocli, "/app/lib/" + picocli.getFileName());
        // picocli's jar carries no Maven metadata: the file name gives artifact and version
        assertEquals(null, jar.groupId());
        assertEquals("picocli", jar.artifactId());
        assertEquals("4.7.7", jar.version());
        assertEquals(DependencyManifest.sha256(picocli), jar.sha256());
        assertEquals(Files.size(picocli), jar.size());

        Path databind = Path.of(com.fasterxml.jackson.databind.ObjectMapper.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        DependencyManifest.Jar described = DependencyManifest.describe(databind, "/app/lib/x.jar");
        assertEquals("com.fasterxml.jackson.core", described.groupId());
        assertEquals("jackson-databind", described.artifactId());
        assertEquals(com.fasterxml.jackson.databind.cfg.PackageVersion.VERSION.toString(), described.version());
    }
}
