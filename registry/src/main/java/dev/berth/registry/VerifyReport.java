package dev.berth.registry;

import java.util.List;

/**
 * The outcome of re-hashing the files that manifests list.
 *
 * @param versions every version looked at, with how many files were checked
 * @param problems each file that changed or is missing, and each manifest that could not be read
 */
public record VerifyReport(List<Checked> versions, List<Problem> problems) {
    public VerifyReport {
        versions = List.copyOf(versions);
        problems = List.copyOf(problems);
    }

    /** True when every listed file is present with its recorded size and sha256. */
    public boolean ok() {
        return problems.isEmpty();
    }

    /**
     * One version that was verified.
     *
     * @param hasManifest false for a version laid down without berth (only its model file's presence is checked)
     */
    public record Checked(String model, int version, int files, boolean hasManifest) {
    }

    /** What is wrong with one file. */
    public enum Kind { CHANGED, MISSING, UNREADABLE_MANIFEST, UNLOADABLE_MODEL }

    /**
     * One file that does not match its manifest.
     *
     * @param path     relative to the version folder
     * @param expected the recorded sha256 (null for an unreadable manifest)
     * @param actual   the sha256 found now (null when missing)
     * @param detail   a short human explanation
     */
    public record Problem(String model, int version, String path, Kind kind, String expected, String actual, String detail) {
    }
}
