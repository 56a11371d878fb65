package dev.berth.packager;

import ai.onnxruntime.OrtEnvironment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
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
    void theJarCopyKeepsEverythingButNatives() {
        assertTrue(OnnxRuntimeJar.keep("ai/onnxruntime/OrtSession.class"));
        assertTrue(OnnxRuntimeJar.keep("META-INF/MANIFEST.MF"));
        assertFalse(OnnxRuntimeJar.keep("ai/onnxruntime/native/linux-x64/libonnxruntime.so"));
        assertFalse(OnnxRuntimeJar.keep("ai/onnxruntime/native/osx-aarch64/libonnxruntime.dylib"));
        assertTrue(OnnxRuntimeJar.isLinuxNative("ai/onnxruntime/native/linux-aarch64/libonnxruntime4j_jni.so"));
        assertFalse(OnnxRuntimeJar.isLinuxNative("ai/onnxruntime/native/linux-x64/"));
        assertFalse(OnnxRuntimeJar.isLinuxNative("ai/onnxruntime/native/win-x64/onnxruntime.dll"));
        assertTrue(OnnxRuntimeJar.isOnnxRuntime(Path.of("lib/onnxruntime-1.29.0.jar")));
        assertFalse(OnnxRuntimeJar.isOnnxRuntime(Path.of("lib/onnxruntime-extensions-0.13.0.jar")));
    }

    @Test
    void theCopyWithoutNativesIsSmallAndByteForByteRepeatable(@TempDir Path dir) throws Exception {
        Path original = ortJar();
        Path first = OnnxRuntimeJar.withoutNatives(original, dir.resolve("a"));
        Path second = OnnxRuntimeJar.withoutNatives(original, dir.resolve("b"));
        assertEquals(original.getFileName(), first.getFileName());
        assertArrayEquals(Files.readAllBytes(first), Files.readAllBytes(second), "deterministic, so image digests stay reproducible");
        assertEquals(first, OnnxRuntimeJar.withoutNatives(original, dir.resolve("a")), "made once, then reused");
        assertTrue(Files.size(first) < Files.size(original) / 10, Files.size(first) + " of " + Files.size(original));
        List<String> expected = names(original).stream().filter(OnnxRuntimeJar::keep).toList();
        assertEquals(expected, names(first), "every other entry, in the original order");
    }

    @Test
    void theLinuxNativesComeOutAsTheSameBytesPerPlatform(@TempDir Path dir) throws Exception {
        Path original = ortJar();
        Path natives = OnnxRuntimeJar.linuxNatives(original, dir);
        assertEquals(natives, OnnxRuntimeJar.linuxNatives(original, dir), "extracted once, then reused");
        List<String> files = OnnxRuntimeJar.files(natives).stream().map(p -> natives.relativize(p).toString()).toList();
        assertTrue(files.contains("linux-x64/libonnxruntime.so"), files.toString());
        assertTrue(files.contains("linux-x64/libonnxruntime4j_jni.so"), files.toString());
        assertTrue(files.stream().allMatch(f -> f.startsWith("linux-")), files.toString());
        try (ZipFile zip = new ZipFile(original.toFile());
             InputStream in = zip.getInputStream(zip.getEntry("ai/onnxruntime/native/linux-x64/libonnxruntime.so"))) {
            assertArrayEquals(in.readAllBytes(), Files.readAllBytes(natives.resolve("linux-x64/libonnxruntime.so")));
        }
    }

    private static Path ortJar() throws Exception {
        return Path.of(OrtEnvironment.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    private static List<String> names(Path jar) throws IOException {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            return zip.stream().map(ZipEntry::getName).toList();
        }
    }
}
