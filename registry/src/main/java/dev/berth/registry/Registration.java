package dev.berth.registry;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What to register as a new model version: the model file and everything that explains it.
 * Immutable; build one with {@link #builder(String, Path)} or, for a folder laid out like the
 * shipped samples, {@link #fromFolder(String, Path)}. Files are checked when the registry stages
 * them, not here, so a request can be built before its files exist.
 *
 * @param name             model name ({@code [A-Za-z0-9][A-Za-z0-9_.-]*})
 * @param modelFile        the ONNX file; stored as {@code model.onnx}
 * @param description      free text, empty when none
 * @param author           who registers it, empty when unknown
 * @param tags             key=value labels
 * @param metricsFile      evaluation metrics, a JSON object
 * @param paramsFile       hyperparameters / configuration, a JSON or YAML object
 * @param requirementsFile the training dependencies (requirements.txt or similar)
 * @param signatureFile    a supplied signature (column names, class labels), either the signature object
 *                         itself or a {@code lineage.json} that holds one under {@code "signature"}
 * @param data             data files (copied in) or URIs (referenced), in order
 * @param code             the training code: a file (copied in and hashed), a git commit or a URL
 * @param artifacts        further files (plots, logs, samples) copied in, each under the name it is stored as
 * @param alias            an alias to point at the new version, if any
 * @param runtime          facts about the registering runtime, e.g. {@code onnxruntime -> 1.23.2}
 * @param serving          per-version serving configuration; absent means the model's
 * @param allowDuplicate   register even when a version with exactly this content exists already
 */
public record Registration(String name, Path modelFile, String description, String author, Map<String, String> tags,
                           Optional<Path> metricsFile, Optional<Path> paramsFile, Optional<Path> requirementsFile,
                           Optional<Path> signatureFile, List<String> data, Optional<String> code, List<Artifact> artifacts,
                           Optional<String> alias, Map<String, String> runtime, Optional<ServingConfig> serving,
                           boolean allowDuplicate) {

    /**
     * A further file kept with the version.
     *
     * @param source   the caller's file
     * @param storedAs its path inside the version folder ({@code /}-separated, relative)
     */
    public record Artifact(Path source, String storedAs) {
        /** Stored under its own file name. */
        public static Artifact of(Path source) {
            return new Artifact(source, source.getFileName() == null ? "" : source.getFileName().toString());
        }
    }

    /** Names {@link #fromFolder} looks for, in order of preference where several mean the same thing. */
    public static final List<String> METRICS_NAMES = List.of("metrics.json");
    public static final List<String> PARAMS_NAMES = List.of("hyperparameters.json", "hyperparameters.yaml",
            "hyperparameters.yml", "params.json", "params.yaml", "params.yml");
    public static final List<String> REQUIREMENTS_NAMES = List.of("requirements.txt");
    public static final List<String> SIGNATURE_NAMES = List.of("lineage.json", "signature.json");
    public static final String DATA_DIR = "data";

    public Registration {
        description = description == null ? "" : description;
        author = author == null ? "" : author;
        tags = tags == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(tags));
        data = data == null ? List.of() : List.copyOf(data);
        artifacts = artifacts == null ? List.of() : List.copyOf(artifacts);
        runtime = runtime == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(runtime));
    }

    public static Builder builder(String name, Path modelFile) {
        return new Builder().name(name).modelFile(modelFile);
    }

    /** {@link #fromFolder(String, Path, List)} keeping every file. */
    public static Builder fromFolder(String name, Path folder) {
        return fromFolder(name, folder, List.of());
    }

    /**
     * A request pre-filled from a folder: {@code model.onnx} is the model; the first of
     * {@link #METRICS_NAMES}, {@link #PARAMS_NAMES}, {@link #REQUIREMENTS_NAMES} and
     * {@link #SIGNATURE_NAMES} found at the top level take those roles; every file under
     * {@code data/} is data; <em>every other file</em>, at any depth, is an artifact stored under
     * its path relative to the folder. Hidden files and folders (a name starting with {@code .})
     * are skipped, as are files matching one of {@code excludes} (see {@link FolderFilter}).
     * The returned builder can still override anything.
     *
     * @throws InvalidArgumentException when the folder holds no {@code model.onnx} (or it is excluded)
     */
    public static Builder fromFolder(String name, Path folder, List<String> excludes) {
        FolderFilter filter = FolderFilter.of(excludes);
        Path model = folder.resolve(LocalRegistry.MODEL_FILE);
        if (!Files.isRegularFile(model)) {
            throw new InvalidArgumentException("folder " + folder + " has no " + LocalRegistry.MODEL_FILE);
        }
        if (filter.excludes(LocalRegistry.MODEL_FILE)) {
            throw new InvalidArgumentException("--exclude leaves out " + LocalRegistry.MODEL_FILE + ", the model itself");
        }
        List<String> files = filter.files(folder);
        Builder b = builder(name, model);
        Set<String> used = new HashSet<>(Set.of(LocalRegistry.MODEL_FILE));
        first(files, METRICS_NAMES).ifPresent(f -> { used.add(f); b.metricsFile(folder.resolve(f)); });
        first(files, PARAMS_NAMES).ifPresent(f -> { used.add(f); b.paramsFile(folder.resolve(f)); });
        first(files, REQUIREMENTS_NAMES).ifPresent(f -> { used.add(f); b.requirementsFile(folder.resolve(f)); });
        first(files, SIGNATURE_NAMES).ifPresent(f -> { used.add(f); b.signatureFile(folder.resolve(f)); });
        for (String f : files) {
            if (used.contains(f)) {
                continue;
            }
            if (f.startsWith(DATA_DIR + "/")) {
                b.data(folder.resolve(f).toString());
            } else {
                b.artifact(folder.resolve(f), f);
            }
        }
        return b;
    }

    private static Optional<String> first(List<String> files, List<String> names) {
        return names.stream().filter(files::contains).findFirst();
    }

    /** Builder; {@link #build()} reports every missing or malformed field at once. */
    public static final class Builder {
        private String name;
        private Path modelFile;
        private String description;
        private String author;
        private final Map<String, String> tags = new LinkedHashMap<>();
        private Path metricsFile;
        private Path paramsFile;
        private Path requirementsFile;
        private Path signatureFile;
        private final List<String> data = new ArrayList<>();
        private String code;
        private final List<Artifact> artifacts = new ArrayList<>();
        private String alias;
        private final Map<String, String> runtime = new LinkedHashMap<>();
        private ServingConfig serving;
        private boolean allowDuplicate;

        private Builder() {
        }

        public Builder name(String v) { name = v; return this; }
        public Builder modelFile(Path v) { modelFile = v; return this; }
        public Builder description(String v) { description = v; return this; }
        public Builder author(String v) { author = v; return this; }
        public Builder tag(String key, String value) { tags.put(key, value); return this; }
        public Builder tags(Map<String, String> v) { tags.putAll(v); return this; }
        public Builder metricsFile(Path v) { metricsFile = v; return this; }
        public Builder paramsFile(Path v) { paramsFile = v; return this; }
        public Builder requirementsFile(Path v) { requirementsFile = v; return this; }
        public Builder signatureFile(Path v) { signatureFile = v; return this; }
        /** Adds a data file (copied in) or URI (referenced). */
        public Builder data(String fileOrUri) { data.add(fileOrUri); return this; }
        /** Replaces the data list, e.g. when the command line names data explicitly over a folder's {@code data/}. */
        public Builder replaceData(List<String> v) { data.clear(); data.addAll(v); return this; }
        public Builder code(String fileCommitOrUri) { code = fileCommitOrUri; return this; }
        public Builder artifact(Path v) { artifacts.add(Artifact.of(v)); return this; }
        /** Adds a further file stored under {@code storedAs}, a relative {@code /}-separated path. */
        public Builder artifact(Path v, String storedAs) { artifacts.add(new Artifact(v, storedAs)); return this; }
        /** Registers even when a version with identical content exists (default: refused). */
        public Builder allowDuplicate(boolean v) { allowDuplicate = v; return this; }
        public Builder alias(String v) { alias = v; return this; }
        public Builder runtime(String key, String value) { runtime.put(key, value); return this; }
        public Builder runtime(Map<String, String> v) { runtime.putAll(v); return this; }
        public Builder serving(ServingConfig v) { serving = v; return this; }

        public Registration build() {
            List<String> problems = new ArrayList<>();
            if (!ModelRef.isValidName(name)) {
                problems.add("invalid model name '" + name + "': use letters, digits, '_', '.', '-', starting with a letter or digit");
            }
            if (modelFile == null) {
                problems.add("no model file given");
            }
            if (alias != null) {
                try {
                    ModelRef.requireValidAlias(alias);
                } catch (InvalidArgumentException e) {
                    problems.add(e.getMessage());
                }
            }
            tags.forEach((k, v) -> {
                if (k == null || k.isBlank() || k.contains("=") || v == null) {
                    problems.add("invalid tag '" + k + "=" + v + "': use KEY=VALUE with a non-empty key");
                }
            });
            if (!problems.isEmpty()) {
                throw new InvalidArgumentException(String.join("; ", problems));
            }
            return new Registration(name, modelFile, description, author, tags, Optional.ofNullable(metricsFile),
                    Optional.ofNullable(paramsFile), Optional.ofNullable(requirementsFile), Optional.ofNullable(signatureFile),
                    data, Optional.ofNullable(code), artifacts, Optional.ofNullable(alias), runtime, Optional.ofNullable(serving),
                    allowDuplicate);
        }
    }
}
