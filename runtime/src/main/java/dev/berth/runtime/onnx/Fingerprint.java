package dev.berth.runtime.onnx;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.TimeUnit;

/** Identifies a version's (or model.json's) files on disk: size and modification time; -1 where a file is missing. */
record Fingerprint(long modelSize, long modelTime, long manifestSize, long manifestTime) {
    /** The fingerprint of {@code model} and {@code manifest} (null: none) as they are now on disk. */
    static Fingerprint of(Path model, Path manifest) {
        long[] m = stat(model);
        long[] f = manifest == null ? new long[] {-1, -1} : stat(manifest);
        return new Fingerprint(m[0], m[1], f[0], f[1]);
    }

    private static long[] stat(Path file) {
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            return new long[] {a.size(), a.lastModifiedTime().to(TimeUnit.NANOSECONDS)};
        } catch (IOException e) {
            return new long[] {-1, -1};
        }
    }
}
