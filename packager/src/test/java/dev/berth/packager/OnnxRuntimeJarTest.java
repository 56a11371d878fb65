package dev.berth.packager;

import ai.onnxruntime.OrtEnvironment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OnnxRuntimeJarTest {
    @Test
    void keepsLinuxNativesAndEverythingElse() {
        assertTrue(OnnxRuntimeJar.keep("ai/onnxruntime/OrtSession.class"));
        assertTrue(OnnxRuntimeJar.keep("META-INF/MANIFEST.MF"));
        assertTrue(OnnxRuntimeJar.keep("ai/onnxruntime/native/"));
        assertTrue(OnnxRuntimeJar.keep("ai/onnxruntime/native/linux-x64/libonnxruntime.so"));
        assertTrue(OnnxRuntimeJar.keep("ai/onnxruntime/native/linux-aarch64/libonnxruntime4j_jni.so"));
        assertFalse(OnnxRuntimeJar.keep("ai/onnxruntime/native/osx-aarch64/libonnxruntime.dylib"));
        assertFalse(OnnxRuntimeJar.keep("ai/onnxruntime/native/win-x64/onnxruntime.dll"));
        assertTrue(OnnxRuntimeJar.isOnnxRuntime(Path.of("lib/onnxruntime-1.23.2.jar")));
        assertFalse(OnnxRuntimeJar.isOnnxRuntime(Path.of("lib/onnxruntime-extensions-0.13.0.jar")));
    }

    @Test
    void theLinuxOnlyCopyIsSmallerCompleteForLinuxAndByteForByteRepeatable(@TempDir Path dir) throws Exception {
        Path original = Path.of(OrtEnvironment.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path first = OnnxRuntimeJar.linuxOnly(original, dir.resolve("a"));
        Path second = OnnxRuntimeJar.linuxOnly(original, dir.resolve("b"));
        assertEquals(original.getFileName(), first.getFileName());
        assertArrayEquals(Files.readAllBytes(first), Files.readAllBytes(second), "deterministic, so image digests stay reproducible");
        assertEquals(first, OnnxRuntimeJar.linuxOnly(original, dir.resolve("a")), "made once, then reused");
        assertTrue(Files.size(first) < Files.size(original) / 2, Files.size(first) + " of " + Files.size(original));

        List<String> kept = names(first);
        List<String> expected = names(original).stream().filter(OnnxRuntimeJar::keep).toList();
        assertEquals(expected, kept, "every other entry, in the original order");
        assertTrue(kept.contains("ai/onnxruntime/native/linux-x64/libonnxruntime.so"));
        assertTrue(kept.stream().noneMatch(n -> n.contains("/osx-") || n.contains("/win-")));
        try (ZipFile a = new ZipFile(original.toFile()); ZipFile b = new ZipFile(first.toFile())) {
            ZipEntry so = a.getEntry("ai/onnxruntime/native/linux-x64/libonnxruntime.so");
            assertEquals(so.getCrc(), b.getEntry(so.getName()).getCrc(), "the native library itself is unchanged");
        }
    }

    private static List<String> names(Path jar) throws IOException {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            return zip.stream().map(ZipEntry::getName).toList();
        }
    }
}
