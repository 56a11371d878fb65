package dev.berth.cli;

import dev.berth.registry.FileEntry;
import dev.berth.registry.ModelManifest;
import dev.berth.registry.Registration;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** What a registration stored, file by file with the role each file plays, for {@code berth register} to list. */
final class StoredFiles {
    record Row(String path, String role, long size) {
    }

    private StoredFiles() {
    }

    static List<Row> of(ModelManifest m, Registration r) {
        List<Row> rows = new ArrayList<>();
        m.files().forEach(f -> rows.add(new Row(f.path(), "model", f.size())));
        for (FileEntry f : m.artifacts()) {
            rows.add(new Row(f.path(), roleOf(f.path(), r), f.size()));
        }
        for (ModelManifest.DataRef d : m.lineage().data()) {
            if (d.path() != null) {
                rows.add(new Row(d.path(), "data", d.size() == null ? -1 : d.size()));
            }
        }
        if (m.lineage().code() != null && m.lineage().code().path() != null) {
            rows.add(new Row(m.lineage().code().path(), "code", -1));
        }
        return rows;
    }

    private static String roleOf(String stored, Registration r) {
        if (named(r.metricsFile(), stored)) {
            return "metrics";
        }
        if (named(r.paramsFile(), stored)) {
            return "params";
        }
        if (named(r.requirementsFile(), stored)) {
            return "requirements";
        }
        if (named(r.signatureFile(), stored)) {
            return "signature";
        }
        return "artifact";
    }

    private static boolean named(Optional<Path> file, String stored) {
        return file.map(Path::getFileName).map(Path::toString).filter(stored::equals).isPresent();
    }
}
