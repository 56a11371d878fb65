package dev.berth.packager;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.LocalDateTime;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import java.util.stream.Stream;

/**
 * ONNX Runtime's jar carries native libraries (and macOS debug symbols) for every platform it
 * supports: about 60 of its 72 MB are for macOS and Windows, which a Linux image never loads. The
 * image gets the Linux natives (x64 and aarch64) as plain files under
 * {@code /app/native/<platform>/}, which the server loads in place ({@code onnxruntime.native.path},
 * see {@code OrtNatives}) instead of copying them into a temp folder at every start, and a copy of
 * the jar without any natives. Both are written deterministically (same entries in the same
 * order, fixed timestamps) so the image digest stays reproducible.
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

    /** Whether a jar entry stays in the image's copy: everything but the natives. */
    static boolean keep(String entryName) {
        return !entryName.startsWith(NATIVE);
    }

    /** Whether an entry is a Linux native library, extracted for the image. */
    static boolean isLinuxNative(String entryName) {
        return entryName.startsWith(NATIVE + "linux-") && !entryName.endsWith("/");
    }

    /**
     * The jar without natives, under {@code cacheDir/<size>-<mtime of the original>/}; made once per
     * original and reused, so Jib's layer cache also recognises it. (Size and time identify a jar in
     * a Maven repository well enough, and hashing 72 MB on every run would cost seconds.)
     */
    static Path withoutNatives(Path jar, Path cacheDir) throws IOException {
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

    /**
     * The jar's Linux natives as files, {@code <platform>/<library>} relative to the returned
     * folder ({@code cacheDir/<size>-<mtime>/native}); extracted once per original, atomically.
     */
    static Path linuxNatives(Path jar, Path cacheDir) throws IOException {
        Path dir = cacheDir.resolve(Files.size(jar) + "-" + Files.getLastModifiedTime(jar).toMillis());
        Path natives = dir.resolve("native");
        if (Files.isDirectory(natives)) {
            return natives;
        }
        Files.createDirectories(dir);
        Path partial = Files.createTempDirectory(dir, ".native-");
        try {
            try (ZipFile source = new ZipFile(jar.toFile())) {
                Enumeration<? extends ZipEntry> entries = source.entries();
                while (entries.hasMoreElements()) {
                    ZipEntry entry = entries.nextElement();
                    if (!isLinuxNative(entry.getName())) {
                        continue;
                    }
                    Path target = partial.resolve(entry.getName().substring(NATIVE.length())).normalize();
                    if (!target.startsWith(partial)) {
                        throw new IOException("unexpected entry " + entry.getName());
                    }
                    Files.createDirectories(target.getParent());
                    try (InputStream in = source.getInputStream(entry)) {
                        Files.copy(in, target);
                    }
                }
            }
            try {
                Files.move(partial, natives, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                if (!Files.isDirectory(natives)) {
                    throw e;
                }
                // another packaging run extracted the same jar first
            }
        } finally {
            if (Files.exists(partial)) {
                try (Stream<Path> walk = Files.walk(partial)) {
                    for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        }
        return natives;
    }

    /** The natives' files under {@code natives}, sorted, each with its path relative to it. */
    static List<Path> files(Path natives) throws IOException {
        try (Stream<Path> walk = Files.walk(natives)) {
            return walk.filter(Files::isRegularFile).sorted().toList();
        }
    }
}
