package dev.berth.registry;

import java.util.Objects;

/** A file stored in a model version's folder: its path relative to that folder, size and sha256 (hex). */
public record FileEntry(String path, long size, String sha256) {
    public FileEntry {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(sha256, "sha256");
    }
}
