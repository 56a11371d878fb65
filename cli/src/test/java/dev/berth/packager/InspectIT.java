package dev.berth.packager;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.registry.LocalRegistry;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code berth inspect} on images {@code berth package} really built: pushed to Debian's
 * docker-registry on loopback and written as a docker-archive tarball; then a tarball whose model
 * layer was altered after packaging, and a registry whose copy of the version differs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InspectIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private PackagingFixture fixture;
    private Path tar;
    private String pushed;

    @BeforeAll
    void packageTwice() throws IOException {
        fixture = PackagingFixture.start("berth-inspect-it-", true, false);
        pushed = fixture.registry().address() + "/models/churn:1";
        Cli.Run push = Cli.packageCommand("churn:1", "--image", pushed, "--base-image", fixture.baseImage(), "--insecure-registry",
                "--models", fixture.models().toString(), "--work-dir", fixture.work().toString());
        assertEquals(0, push.exitCode(), push.describe());
        tar = fixture.temp().resolve("churn-1.tar");
        Cli.Run toTar = Cli.packageCommand("churn:1", "--image", "berth-test/churn:1", "--to", "tar:" + tar,
                "--base-image", "tar:" + OfflineBaseImage.dockerArchive(), "--models", fixture.models().toString(),
                "--work-dir", fixture.work().toString());
        assertEquals(0, toTar.exitCode(), toTar.describe());
    }

    @AfterAll
    void tearDown() {
        if (fixture != null) {
            fixture.close();
        }
    }

    @Test
    void pushedImageMatchesItsManifestAndTheRegistryFolder() throws IOException {
        Cli.Run run = Cli.berth("inspect", pushed, "--insecure-registry", "--against", fixture.models().toString());
        assertEquals(0, run.exitCode(), run.describe());
        String modelSha = sha256(fixture.models().resolve("churn/1/model.onnx"));
        assertTrue(run.out().lines().anyMatch(l -> l.matches("model file +model.onnx sha256:" + modelSha)), run.describe());
        assertTrue(run.out().lines().anyMatch(l -> l.startsWith("model.onnx ") && l.contains(modelSha.substring(0, 12)) && l.endsWith(" ok")),
                run.describe());
        // training data is left out of images by default: reported as such, not as missing
        assertTrue(run.out().lines().anyMatch(l -> l.startsWith("data/") && l.endsWith("left out (data)")), run.describe());
        assertTrue(run.out().lines().anyMatch(l -> l.matches(" +onnxruntime +1\\.\\d+\\.\\d+")), "dependencies shown: " + run.describe());
        assertTrue(run.lastLine().startsWith("churn:1: the image holds what its manifest records (")
                && run.lastLine().endsWith("and matches " + fixture.models()), run.describe());
        assertTrue(run.out().contains("@sha256:"), "the image digest is shown: " + run.describe());
    }

    @Test
    void tarballAsJson() throws IOException {
        Cli.Run run = Cli.berth("inspect", "tar:" + tar, "--json");
        assertEquals(0, run.exitCode(), run.describe());
        JsonNode doc = JSON.readTree(run.out());
        assertEquals("churn", doc.path("manifest").path("name").asText());
        assertEquals(1, doc.path("manifest").path("version").asInt());
        assertEquals("churn", doc.path("labels").path("dev.berth.model.name").asText());
        boolean modelOk = false;
        for (JsonNode f : doc.path("files")) {
            if (f.path("path").asText().equals("model.onnx")) {
                modelOk = f.path("state").asText().equals("ok")
                        && f.path("sha256").asText().equals(sha256(fixture.models().resolve("churn/1/model.onnx")));
            }
        }
        assertTrue(modelOk, run.out());
        assertEquals(0, doc.path("problems").size(), run.out());
    }

    @Test
    void ociArchiveWrittenBySkopeo() throws Exception {
        Path oci = fixture.temp().resolve("churn-1-oci.tar");
        Process p = new ProcessBuilder("skopeo", "copy", "--quiet", "docker-archive:" + tar, "oci-archive:" + oci)
                .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), log);
        Cli.Run run = Cli.berth("inspect", oci.toString());
        assertEquals(0, run.exitCode(), run.describe());
        assertTrue(run.out().lines().anyMatch(l -> l.startsWith("model.onnx ") && l.endsWith(" ok")), run.describe());
    }

    @Test
    void aModelChangedInsideTheTarballIsNamed() throws IOException {
        Path altered = fixture.temp().resolve("altered.tar");
        rewriteModelLayer(tar, altered);
        Cli.Run run = Cli.berth("inspect", altered.toString());
        assertEquals(1, run.exitCode(), run.describe());
        assertTrue(run.err().lines().anyMatch(l -> l.startsWith("DIFFERS model.onnx: sha256 ") && l.contains("in the manifest")), run.describe());
        assertTrue(run.out().lines().anyMatch(l -> l.startsWith("model.onnx ") && l.endsWith("CHANGED")), run.describe());
        assertEquals("churn:1: 1 difference", run.lastLine(), run.describe());
    }

    @Test
    void aRegistryWhoseCopyDiffersIsNamed() throws IOException {
        // another registry where churn:1 is a different model (the digits sample registered under the same name)
        Path other = fixture.temp().resolve("other-models");
        Cli.Run reg = Cli.berth("register", dev.berth.registry.testing.Samples.copy(dev.berth.registry.testing.Samples.DIGITS,
                fixture.temp().resolve("digits")).toString(), "--name", "churn", "--models", other.toString());
        assertEquals(0, reg.exitCode(), reg.describe());
        Cli.Run run = Cli.berth("inspect", "tar:" + tar, "--against", other.toString());
        assertEquals(1, run.exitCode(), run.describe());
        assertTrue(run.err().lines().anyMatch(l -> l.startsWith("DIFFERS model.onnx: sha256 ") && l.contains("in the registry")), run.describe());
        assertTrue(LocalRegistry.open(other).versions("churn").contains(1));
    }

    @Test
    void notAnImageIsOneLine() throws IOException {
        Path notTar = Files.writeString(fixture.temp().resolve("plain.tar"), "not a tarball at all");
        Cli.Run run = Cli.berth("inspect", notTar.toString());
        assertEquals(2, run.exitCode(), run.describe());
        assertEquals(1, run.err().lines().count(), run.describe());
        assertTrue(run.err().startsWith("berth inspect: "), run.describe());
    }

    /** Copies a docker-archive tarball, flipping one byte of model.onnx inside its last (model) layer. */
    private static void rewriteModelLayer(Path from, Path to) throws IOException {
        JsonNode manifest;
        try (TarArchiveInputStream in = new TarArchiveInputStream(Files.newInputStream(from))) {
            manifest = null;
            for (TarArchiveEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                if (e.getName().equals("manifest.json")) {
                    manifest = JSON.readTree(in.readAllBytes());
                }
            }
        }
        assertTrue(manifest != null, "docker-archive manifest");
        JsonNode layers = manifest.path(0).path("Layers");
        String modelLayer = layers.get(layers.size() - 1).asText();
        try (TarArchiveInputStream in = new TarArchiveInputStream(Files.newInputStream(from));
             TarArchiveOutputStream out = new TarArchiveOutputStream(Files.newOutputStream(to))) {
            out.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (TarArchiveEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                byte[] content = in.readAllBytes();
                if (e.getName().equals(modelLayer)) {
                    content = alterModel(content);
                }
                TarArchiveEntry copy = new TarArchiveEntry(e.getName());
                copy.setSize(content.length);
                out.putArchiveEntry(copy);
                out.write(content);
                out.closeArchiveEntry();
            }
        }
    }

    private static byte[] alterModel(byte[] layer) throws IOException {
        boolean gzip = layer.length > 2 && (layer[0] & 0xff) == 0x1f && (layer[1] & 0xff) == 0x8b;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        try (InputStream raw = gzip ? new GZIPInputStream(new ByteArrayInputStream(layer)) : new ByteArrayInputStream(layer);
             TarArchiveInputStream in = new TarArchiveInputStream(raw);
             OutputStream sink = gzip ? new GZIPOutputStream(buffer) : buffer;
             TarArchiveOutputStream out = new TarArchiveOutputStream(sink)) {
            out.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (TarArchiveEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                byte[] content = e.isFile() ? in.readAllBytes() : new byte[0];
                if (e.getName().endsWith("models/churn/1/model.onnx")) {
                    content[content.length - 1] ^= 1;
                }
                out.putArchiveEntry(e);
                if (e.isFile()) {
                    out.write(content);
                }
                out.closeArchiveEntry();
            }
        }
        return buffer.toByteArray();
    }

    private static String sha256(Path file) throws IOException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
