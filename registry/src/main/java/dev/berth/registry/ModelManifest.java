package dev.berth.registry;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Everything the registry records about one model version ({@code <name>/<version>/manifest.json}).
 * The on-disk format is documented in {@code docs/registry-format.md}; that document and this
 * record change together.
 *
 * @param format       format marker and revision, {@value #FORMAT}
 * @param name         model name
 * @param version      version number, 1, 2, 3, ...
 * @param created      registration time, UTC
 * @param author       who registered it (may be empty)
 * @param description  free text (may be empty)
 * @param tags         key=value labels
 * @param files        the model file(s), relative to the version folder; the first is the entry point
 * @param signature    inputs and outputs read from the model, enriched where a signature was supplied
 * @param metrics      evaluation metrics as registered (JSON object)
 * @param params       hyperparameters / configuration as registered (JSON object)
 * @param dependencies training requirements and the runtime the version was registered with
 * @param lineage      data fingerprints and code reference
 * @param artifacts    further files copied in (plots, logs, data samples), relative to the version folder
 * @param serving      per-version serving configuration; null means the model's (or the default)
 */
public record ModelManifest(String format, String name, int version, Instant created, String author, String description,
                            Map<String, String> tags, List<FileEntry> files, Signature signature,
                            Map<String, Object> metrics, Map<String, Object> params, Dependencies dependencies,
                            Lineage lineage, List<FileEntry> artifacts, ServingConfig serving) {
    public static final String FORMAT = "berth.model-version/1";

    public ModelManifest {
        Objects.requireNonNull(name, "name");
        format = format == null ? FORMAT : format;
        author = author == null ? "" : author;
        description = description == null ? "" : description;
        tags = tags == null ? Map.of() : Map.copyOf(tags);
        files = files == null ? List.of() : List.copyOf(files);
        metrics = metrics == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
        params = params == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(params));
        dependencies = dependencies == null ? Dependencies.none() : dependencies;
        lineage = lineage == null ? Lineage.none() : lineage;
        artifacts = artifacts == null ? List.of() : List.copyOf(artifacts);
    }

    /** The model file the runtime loads. */
    public FileEntry modelFile() {
        return files.get(0);
    }

    /**
     * Every file the version folder stores and this manifest hashes, each path once, in the order
     * model files, artifacts, copied data, copied code ({@code manifest.json} itself and monitoring
     * reports excluded). Size is -1 where the manifest does not record it (a code file).
     */
    public List<FileEntry> storedFiles() {
        LinkedHashMap<String, FileEntry> byPath = new LinkedHashMap<>();
        files.forEach(f -> byPath.putIfAbsent(f.path(), f));
        artifacts.forEach(f -> byPath.putIfAbsent(f.path(), f));
        for (DataRef d : lineage.data()) {
            if (d.path() != null && d.sha256() != null) {
                byPath.putIfAbsent(d.path(), new FileEntry(d.path(), d.size() == null ? -1 : d.size(), d.sha256()));
            }
        }
        if (lineage.code() != null && lineage.code().path() != null && lineage.code().sha256() != null) {
            byPath.putIfAbsent(lineage.code().path(), new FileEntry(lineage.code().path(), -1, lineage.code().sha256()));
        }
        return List.copyOf(byPath.values());
    }

    /**
     * A headline metric for listings: accuracy, else ROC AUC, F1, RMSE, else the first numeric metric.
     * Null when the version has no numeric metric.
     */
    public Map.Entry<String, Number> headlineMetric() {
        for (String key : List.of("accuracy", "roc_auc", "f1", "f1_macro", "rmse", "mae", "r2")) {
            if (metrics.get(key) instanceof Number n) {
                return Map.entry(key, n);
            }
        }
        return metrics.entrySet().stream()
                .filter(e -> e.getValue() instanceof Number)
                .map(e -> Map.entry(e.getKey(), (Number) e.getValue()))
                .findFirst().orElse(null);
    }

    /**
     * Requirements the model was trained with and the runtime it was registered with.
     *
     * @param requirementsFile path of the stored requirements file relative to the version folder, or null
     * @param requirements     its non-comment lines, e.g. {@code numpy==2.4.6}
     * @param runtime          what registered it: {@code onnxruntime=1.23.2}, {@code java=21.0.5}, {@code berth=0.1.0}
     */
    public record Dependencies(String requirementsFile, List<String> requirements, Map<String, String> runtime) {
        public Dependencies {
            requirements = requirements == null ? List.of() : List.copyOf(requirements);
            runtime = runtime == null ? Map.of() : Map.copyOf(runtime);
        }

        public static Dependencies none() {
            return new Dependencies(null, List.of(), Map.of());
        }
    }

    /**
     * Where the version came from.
     *
     * @param data  data files (copied in, {@code path} relative to the version folder) or external URIs, with sha256 where known
     * @param code  the training code: a file hash, a git commit or a URL; null when unknown
     * @param extra further lineage facts as supplied (for example a split file's hash)
     */
    public record Lineage(List<DataRef> data, CodeRef code, Map<String, Object> extra) {
        public Lineage {
            data = data == null ? List.of() : List.copyOf(data);
            extra = extra == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(extra));
        }

        public static Lineage none() {
            return new Lineage(List.of(), null, Map.of());
        }
    }

    /**
     * One data set: {@code path} when the file was copied into the version, {@code uri} when it lives elsewhere.
     * {@code sha256} is the content hash (null for an URI that could not be read).
     */
    public record DataRef(String name, String path, String uri, String sha256, Long size) {
    }

    /**
     * The code that trained the version: a file (hashed), a git commit, or a URL. Any field may be null.
     *
     * @param path      where a copy is stored, relative to the version folder
     * @param uri       where the code lives elsewhere (a repository or file URL)
     * @param sha256    content hash of the code file
     * @param gitCommit the commit the version was trained from
     * @param file      the code file's name as the training project knows it (for example from {@code lineage.json})
     */
    public record CodeRef(String path, String uri, String sha256, String gitCommit, String file) {
        /** The original four-field form, kept so existing callers compile. */
        public CodeRef(String path, String uri, String sha256, String gitCommit) {
            this(path, uri, sha256, gitCommit, null);
        }
    }
}
