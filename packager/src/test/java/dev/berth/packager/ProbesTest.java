package dev.berth.packager;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The checks made before Jib starts: registry reachability and the base tarball's format. */
class ProbesTest {
    @Test
    void aListeningRegistryPortPassesAndAClosedOneFailsAtOnce() throws IOException {
        // behind an HTTP proxy the probe stands aside (a direct connection proves nothing there)
        Assumptions.assumeFalse(RegistryProbe.proxied(), "an HTTP proxy is configured");
        try (ServerSocket open = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            assertDoesNotThrow(() -> RegistryProbe.requireReachable("127.0.0.1:" + open.getLocalPort(), true, Duration.ofSeconds(2), "target"));
        }
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        long start = System.nanoTime();
        var e = assertThrows(PackagingException.RegistryUnreachableException.class,
                () -> RegistryProbe.requireReachable("127.0.0.1:" + closed, false, Duration.ofSeconds(2), "target"));
        assertTrue(e.getMessage().startsWith("cannot reach target registry 127.0.0.1:" + closed + " ("), e.getMessage());
        assertTrue(System.nanoTime() - start < 2_000_000_000L);
        var unknown = assertThrows(PackagingException.RegistryUnreachableException.class,
                () -> RegistryProbe.requireReachable("no-such-host.invalid", false, Duration.ofSeconds(2), "base image"));
        assertTrue(unknown.getMessage().contains("(unknown host)"), unknown.getMessage());
    }

    @Test
    void dockerArchivesAreRecognisedByTheirManifestPlainOrGzipped(@TempDir Path dir) throws IOException {
        byte[] docker = tar("layer.tar", "x".repeat(700), "manifest.json", "[]");
        byte[] oci = tar("oci-layout", "{}", "index.json", "{}");
        Files.write(dir.resolve("docker.tar"), docker);
        Files.write(dir.resolve("oci.tar"), oci);
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (OutputStream out = new GZIPOutputStream(gz)) {
            out.write(docker);
        }
        Files.write(dir.resolve("docker.tar.gz"), gz.toByteArray());
        Files.writeString(dir.resolve("text.tar"), "not a tarball");
        assertTrue(DockerArchive.hasManifest(dir.resolve("docker.tar")));
        assertTrue(DockerArchive.hasManifest(dir.resolve("docker.tar.gz")));
        assertFalse(DockerArchive.hasManifest(dir.resolve("oci.tar")));
        assertFalse(DockerArchive.hasManifest(dir.resolve("text.tar")));
    }

    /** A ustar archive of (name, content) pairs, written by hand so the test needs no tar library. */
    private static byte[] tar(String... namesAndContents) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < namesAndContents.length; i += 2) {
            byte[] content = namesAndContents[i + 1].getBytes(StandardCharsets.UTF_8);
            byte[] header = new byte[512];
            put(header, 0, namesAndContents[i]);
            put(header, 100, "0000644");
            put(header, 108, "0000000");
            put(header, 116, "0000000");
            put(header, 124, String.format("%011o", content.length));
            put(header, 136, "00000000000");
            header[156] = '0';
            put(header, 257, "ustar");
            put(header, 263, "00");
            for (int k = 148; k < 156; k++) {
                header[k] = ' ';
            }
            int sum = 0;
            for (byte b : header) {
                sum += b & 0xff;
            }
            put(header, 148, String.format("%06o", sum));
            header[154] = 0;
            out.write(header);
            out.write(content);
            out.write(new byte[(512 - content.length % 512) % 512]);
        }
        out.write(new byte[1024]);
        return out.toByteArray();
    }

    private static void put(byte[] header, int offset, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(bytes, 0, header, offset, bytes.length);
    }
}
