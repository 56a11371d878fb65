package dev.berth.registry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Re-hashes every file a version's manifest lists: model files, artifacts, copied data and code. */
final class Verifier {
    private final LocalRegistry registry;
    /** Reads a model file of a version without a manifest (no hash to compare it with); null: presence only. */
    private final SignatureReader modelReader;
    private final List<VerifyReport.Checked> checked = new ArrayList<>();
    private final List<VerifyReport.Problem> problems = new ArrayList<>();

    Verifier(LocalRegistry registry, SignatureReader modelReader) {
        this.registry = registry;
        this.modelReader = modelReader;
    }

    VerifyReport report() {
        return new VerifyReport(checked, problems);
    }

    void verify(String model, int version) {
        Path dir = registry.versionDir(model, version);
        ModelManifest manifest;
        try {
            manifest = registry.storedManifest(model, version).orElse(null);
        } catch (RegistryException e) {
            problems.add(new VerifyReport.Problem(model, version, LocalRegistry.MANIFEST_FILE, VerifyReport.Kind.UNREADABLE_MANIFEST,
                    null, null, "manifest cannot be read: " + e.getMessage()));
            checked.add(new VerifyReport.Checked(model, version, 0, true));
            return;
        }
        if (manifest == null) {
            Path file = dir.resolve(LocalRegistry.MODEL_FILE);
            if (!Files.isRegularFile(file)) {
                problems.add(new VerifyReport.Problem(model, version, LocalRegistry.MODEL_FILE, VerifyReport.Kind.MISSING,
                        null, null, "missing"));
            } else if (modelReader != null) {
                // no recorded hash says this is the file that loaded once: the file itself must parse
                try {
                    modelReader.read(file);
                } catch (RuntimeException e) {
                    problems.add(new VerifyReport.Problem(model, version, LocalRegistry.MODEL_FILE, VerifyReport.Kind.UNLOADABLE_MODEL,
                            null, null, firstLine(e.getMessage())));
                }
            }
            checked.add(new VerifyReport.Checked(model, version, 0, false));
            return;
        }
        List<FileEntry> files = new ArrayList<>(manifest.files());
        files.addAll(manifest.artifacts());
        for (ModelManifest.DataRef d : manifest.lineage().data()) {
            if (d.path() != null) {
                files.add(new FileEntry(d.path(), d.size() == null ? -1 : d.size(), d.sha256()));
            }
        }
        ModelManifest.CodeRef code = manifest.lineage().code();
        if (code != null && code.path() != null && code.sha256() != null) {
            files.add(new FileEntry(code.path(), -1, code.sha256()));
        }
        for (FileEntry f : files) {
            check(model, version, dir, f);
        }
        checked.add(new VerifyReport.Checked(model, version, files.size(), true));
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "unknown error";
        }
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }

    private void check(String model, int version, Path dir, FileEntry f) {
        Path file = dir.resolve(f.path()).normalize();
        if (!file.startsWith(dir) || !Files.isRegularFile(file)) {
            problems.add(new VerifyReport.Problem(model, version, f.path(), VerifyReport.Kind.MISSING, f.sha256(), null, "missing"));
            return;
        }
        try {
            String actual = AtomicFiles.sha256(file);
            long size = Files.size(file);
            if (!actual.equalsIgnoreCase(f.sha256())) {
                String detail = f.size() >= 0 && size != f.size()
                        ? "size " + f.size() + " -> " + size + " bytes" : "content changed (same size)";
                problems.add(new VerifyReport.Problem(model, version, f.path(), VerifyReport.Kind.CHANGED, f.sha256(), actual, detail));
            }
        } catch (IOException e) {
            problems.add(new VerifyReport.Problem(model, version, f.path(), VerifyReport.Kind.MISSING, f.sha256(), null,
                    "unreadable: " + e.getMessage()));
        }
    }
}
