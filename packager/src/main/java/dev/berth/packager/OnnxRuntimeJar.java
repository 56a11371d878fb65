package dev.berth.packager;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.LocalDateTime;
import java.util.Enumeration;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * ONNX Runtime's jar carries native libraries (and macOS debug symbols) for every platform it
 * supports: about 60 of its 72 MB are for macOS and Windows, which a Linux image never loads.
 * The image gets a copy with only the Linux natives (x64 and aarch64), written deterministically
 * (same entries in the same order, fixed timestamps) so the image digest stays reproducible.
 */
final class OnnxRuntimeJar {
    static final String ARTIFACT = "onnxruntime";
    private static final String NATIVE = "ai/onnxruntime/native/";
    /** Fixed entry time; a DOS time after 1980 so no extended-time field is written. */
    private static final LocalDateTime ENTRY_TIME = LocalDateTime.of(2000, 1, 1, 0, 0);

    private OnnxRuntimeJar() {
    }

    static boolean isOnnxRuntime(Path jar) {
        return jar.getFileName().toString().matches(ARTIFACT + "-\\d[^/]*\\.jar");
    }

    static boolean keep(String entryName) {
        return !entryName.startsWith(NATIVE) || entryName.equals(NATIVE) || entryName.startsWith(NATIVE + "linux-");
    }

    /**
     * The jar without non-Linux natives, under {@code cacheDir/<size>-<mtime of the original>/}; made
     * once per original and reused, so Jib's layer cache also recognises it. (Size and time identify
     * a jar in a Maven repository well enough, and hashing 72 MB on every run would cost seconds.)
     */
    static Path linuxOnly(Path jar, Path cacheDir) throws IOException {
        Path dir = cacheDir.resolve(Files.size(jar) + "-" + Files.getLastModifiedTime(jar).toMillis());
        Path trimmed = dir.resolve(jar.getFileName().toString());
        if (Files.isRegularFile(trimmed)) {
            return trimmed;
        }
        Files.createDirectories(dir);
        Path partial = Files.createTempFile(dir, ".trim-", ".jar");
        try {
            try (ZipFile source = new ZipFile(jar.toFile());
                 ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(partial))) {
                Enumeration<? extends ZipEntry> entries = source.entries();
                while (entries.hasMoreElements()) {
                    ZipEntry entry = entries.nextElement();
                    if (!keep(entry.getName())) {
                        continue;
                    }
                    ZipEntry copy = new ZipEntry(entry.getName());
                    copy.setTimeLocal(ENTRY_TIME);
                    out.putNextEntry(copy);
                    if (!entry.isDirectory()) {
                        try (InputStream in = source.getInputStream(entry)) {
                            in.transferTo(out);
                        }
                    }
                    out.closeEntry();
                }
            }
            Files.move(partial, trimmed, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(partial);
        }
        return trimmed;
    }
}
